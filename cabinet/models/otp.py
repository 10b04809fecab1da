"""One-time codes sent by SMS (cabinet/otp.py) and the accounts of people of the
cabinet directory who log in with one (cabinet/patient_login.py)."""
from datetime import date, datetime

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .meta import Base


class OneTimeCode(Base):
    """A 6-digit code, stored as an HMAC-SHA256 with a per-code salt, bound to its
    purpose, to its object (a node, or a login challenge) and to the user and phone it
    was sent to. Single use (``used``), dies after the maximum of wrong ``tries``."""
    __tablename__ = "one_time_codes"
    __table_args__ = (Index("ix_one_time_codes_binding", "purpose", "node_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(30))
    node_id: Mapped[int | None] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: SHA-256 of the login challenge (the object a login code is bound to)
    challenge_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    phone: Mapped[str] = mapped_column(String(32))
    salt: Mapped[str] = mapped_column(String(32))
    code_hash: Mapped[str] = mapped_column(String(64))
    created: Mapped[datetime] = mapped_column(DateTime)
    expires: Mapped[datetime] = mapped_column(DateTime)
    tries: Mapped[int] = mapped_column(Integer, default=0)
    used: Mapped[datetime | None] = mapped_column(DateTime)
    #: what the code confirms (a login: the details typed in, to identify again)
    details: Mapped[dict | None] = mapped_column(JSON)


class OneTimeCodeSend(Base):
    """One SMS sent for a code: resending is limited per minute and per hour."""
    __tablename__ = "one_time_code_sends"
    __table_args__ = (Index("ix_one_time_code_sends_key_sent", "key", "sent_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    sent_at: Mapped[datetime] = mapped_column(DateTime)


class DirectoryAccount(Base):
    """The account of a person of the cabinet directory (a patient, a parent, a
    financial guarantor), identified by phone (E.164), names (compared without case
    and accents) and birth date. The records naming that person give the account its
    roles (cabinet.patient_login)."""
    __tablename__ = "directory_accounts"
    __table_args__ = (UniqueConstraint("phone", "last_name_key", "first_name_key",
                                       "birth_date", name="uq_directory_accounts_person"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    phone: Mapped[str] = mapped_column(String(32))
    last_name_key: Mapped[str] = mapped_column(String(200))
    first_name_key: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[date] = mapped_column(Date)
