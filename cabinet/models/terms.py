"""Terms of use (A2): published versions and who accepted which one, when."""
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .meta import Base


class TermsVersion(Base):
    """One published version of the terms of use. The current version is the one
    published last (highest id); versions are never edited (a change is a new version)."""
    __tablename__ = "terms_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(50), unique=True)
    text: Mapped[str] = mapped_column(Text)
    published: Mapped[datetime] = mapped_column(DateTime)
    published_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))

    published_by = relationship("User", lazy="joined")


class TermsAcceptance(Base):
    """``user`` accepted ``version`` at ``accepted`` (at most once per version)."""
    __tablename__ = "terms_acceptances"
    __table_args__ = (UniqueConstraint("version_id", "user_id",
                                       name="uq_terms_acceptances_version_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("terms_versions.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    accepted: Mapped[datetime] = mapped_column(DateTime)
