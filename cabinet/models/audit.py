"""The audit trail (issue #6): security events in an append-only, hash-chained table.

Each event keeps, copied at the time (so that renaming or deleting a user changes
nothing): who acted, for whom, on what, what happened and how it ended, when (UTC) and
from which address. ``seq`` numbers the events without gaps; ``hash`` is an HMAC of
the previous event's hash and this event's content (cabinet.audit), with a key that
is not in the database: editing, deleting or inserting a row breaks the chain at that
row, and whoever can write to the database cannot rebuild it.
"""
from datetime import datetime

from sqlalchemy import JSON, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .meta import Base


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    action: Mapped[str] = mapped_column(String(50), index=True)
    outcome: Mapped[str] = mapped_column(String(20), default="ok")
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor_login: Mapped[str] = mapped_column(String(100), default="")
    acting_for_login: Mapped[str] = mapped_column(String(100), default="")
    object_path: Mapped[str] = mapped_column(String(1000), default="")
    address: Mapped[str] = mapped_column(String(45), default="")
    details: Mapped[dict | None] = mapped_column(JSON)
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """One row: the last event's number and hash, locked by each append."""
    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64), default="")
