"""A user's private calendar feed (issue #9, P1; migration 0014).

One feed per user: the secret token of its URL (``/@calendar/<token>.ics``) is kept
only as its SHA-256 (cabinet.security.token_hash), like API tokens; revoking the feed
deletes the row, and the old URL then answers 404."""
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .meta import Base


class CalendarFeed(Base):
    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created: Mapped[datetime] = mapped_column(DateTime)
