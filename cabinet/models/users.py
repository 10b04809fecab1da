"""Accounts, groups and API tokens."""
from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .meta import Base, utcnow


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(100), unique=True)
    fullname: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: serial number (20 digits) of the user's LuxTrust certificate: what space
    #: invitations name (migration 0004)
    certificate_serial: Mapped[str | None] = mapped_column(String(20), unique=True)
    #: national identification number (13 digits): what a delegation names, to
    #: find the account of a secretary (migration 0006)
    matricule: Mapped[str | None] = mapped_column(String(13), unique=True)
    created: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: a session cookie names the generation it was issued in; logging out moves to
    #: the next, so that a copy of any earlier cookie is refused (migration 0013)
    session_generation: Mapped[int] = mapped_column(Integer, default=0)
    #: the language the user chose (fr, de, en; issue #10, A4), None until they choose:
    #: pages follow it over the browser's (cabinet.i18n; migration 0019)
    language: Mapped[str | None] = mapped_column(String(5))

    groups: Mapped[list["Group"]] = relationship(
        secondary="group_members", back_populates="members")

    @property
    def principal(self):
        return f"user:{self.id}"

    def __repr__(self):
        return f"<User {self.login}>"


class Group(Base):
    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(200), default="")

    members: Mapped[list[User]] = relationship(
        secondary="group_members", back_populates="groups")

    @property
    def principal(self):
        return f"group:{self.id}"


class GroupMember(Base):
    __tablename__ = "group_members"
    __table_args__ = (UniqueConstraint("group_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)


class ApiToken(Base):
    """A bearer token. Only its SHA-256 is stored; it expires and is revoked at logout."""
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created: Mapped[datetime] = mapped_column(DateTime)
    expires: Mapped[datetime] = mapped_column(DateTime)
    revoked: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship(lazy="joined")
