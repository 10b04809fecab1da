"""Local roles and the history of what happened to each resource."""
from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .meta import Base


class LocalRole(Base):
    """``principal`` (``user:<id>`` or ``group:<id>``) holds ``role`` on ``node``
    and, by inheritance, on everything below it."""
    __tablename__ = "local_roles"
    __table_args__ = (
        UniqueConstraint("node_id", "principal", "role", name="uq_local_roles_grant"),
        Index("ix_local_roles_principal", "principal"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"))
    principal: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(50))


class HistoryEntry(Base):
    """Who did what, when, and for whom (a secretary acting for a professional)."""
    __tablename__ = "history"
    __table_args__ = (Index("ix_history_node_when", "node_id", "when"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"))
    when: Mapped[datetime] = mapped_column(DateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    acting_for_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    delegation_id: Mapped[int | None] = mapped_column(
        ForeignKey("nodes.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(50))
    transition: Mapped[str | None] = mapped_column(String(50))
    from_state: Mapped[str | None] = mapped_column(String(50))
    to_state: Mapped[str | None] = mapped_column(String(50))
    comment: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict | None] = mapped_column(JSON)
