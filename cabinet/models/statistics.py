"""What the console's statistics and status read that no other table keeps
(issue #10, K1/K5; migration 0020).

- ``PortalLogin``: one row per cabinet for each login to the patient portal (a
  patient or a guardian confirming the SMS code, cabinet.patient_login): the
  statistics count them per day. A person named by records of two cabinets logs in
  once and counts once in each.
- ``GatewayStatus``: per outgoing gateway (``mail``, ``sms``) the time of the last
  message it accepted and of the last error, with that error, kept by the outbox
  (cabinet.gateway_status) and shown on the cabinet settings page.
"""
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .meta import Base


class PortalLogin(Base):
    __tablename__ = "portal_logins"
    __table_args__ = (Index("ix_portal_logins_cabinet_id_at", "cabinet_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cabinet_id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime)                  # UTC


class GatewayStatus(Base):
    __tablename__ = "gateway_status"

    gateway: Mapped[str] = mapped_column(String(20), primary_key=True)
    last_success: Mapped[datetime | None] = mapped_column(DateTime)     # UTC
    last_error: Mapped[datetime | None] = mapped_column(DateTime)       # UTC
    last_error_message: Mapped[str] = mapped_column(String(2000), default="")
