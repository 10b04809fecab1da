"""Appointment reminders (issue #9, P7) and the outbox of messages to send
(migration 0017).

- ``reminder_rules``: "N days before at HH:MM" by SMS or email, several per user
  (a patient's or a guardian's account). A user without rules has the default one
  (1 day before at 12:00 by SMS), which is not stored.
- ``notification_settings``: one row per user who changed something; ``reminders``
  False is the opt-out.
- ``outbox``: every message to send (reminders, and the SMS of cabinet.sms), written
  in the transaction that decides to send it, delivered after commit or by the
  worker (cabinet.outbox). ``dedup_key`` is unique: the same reminder can never be
  queued twice, whoever computes it.
"""
from datetime import datetime

from sqlalchemy import (
    Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from .meta import Base


class ReminderRule(Base):
    __tablename__ = "reminder_rules"
    __table_args__ = (UniqueConstraint("user_id", "days_before", "at_time", "channel",
                                       name="uq_reminder_rules_user_rule"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    days_before: Mapped[int] = mapped_column(Integer, default=1)
    at_time: Mapped[str] = mapped_column(String(5), default="12:00")   # HH:MM, local
    channel: Mapped[str] = mapped_column(String(10), default="sms")    # sms, email
    created: Mapped[datetime] = mapped_column(DateTime)


class NotificationSetting(Base):
    __tablename__ = "notification_settings"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    reminders: Mapped[bool] = mapped_column(Boolean, default=True)
    updated: Mapped[datetime] = mapped_column(DateTime)


class OutboxMessage(Base):
    """``pending`` until delivered (``sent``), retried on a gateway error until
    ``failed``; ``sending`` while claimed by one process; ``cancelled`` when its
    reason went away (a cancelled appointment, an opt-out) before it was sent."""
    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("dedup_key", name="uq_outbox_dedup_key"),
        Index("ix_outbox_state_due", "state", "due"),   # the worker: what is due
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="sms")  # sms, mail, reminder
    channel: Mapped[str] = mapped_column(String(10), default="sms")  # sms, email
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200), default="")
    text: Mapped[str] = mapped_column(Text)
    due: Mapped[datetime] = mapped_column(DateTime)                  # UTC
    state: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(String(2000), default="")
    dedup_key: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="SET NULL"), index=True)
    created: Mapped[datetime] = mapped_column(DateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
