"""Questionnaire template versions (issue #5, Q1).

A template's questions are kept per version. A version that no response uses yet is
edited in place; once a response was sent with it, an edit adds version ``n + 1`` and
the template's ``current_version`` moves to it, so that every response keeps the exact
questions it was sent with (``QuestionnaireResponse.template_version_id``).

``questions`` is a list of objects ``{"id", "type", "text", "help", "required",
"options", "min", "max", "show_if": {"question", "equals"}}``; the rules they must
follow live with the code that checks them, not here.
"""
from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .meta import Base


class TemplateVersion(Base):
    __tablename__ = "questionnaire_template_versions"
    __table_args__ = (
        UniqueConstraint("template_id", "number",
                         name="uq_questionnaire_template_versions_template_id_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(
        ForeignKey("questionnaire_templates.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(500), default="")
    description: Mapped[str] = mapped_column(String(2000), default="")
    questions: Mapped[list] = mapped_column(JSON, default=list)
    created: Mapped[datetime] = mapped_column(DateTime)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
