"""Patient messaging (issue #9, P3; migration 0016): one conversation per patient
record with its cabinet, and the cabinet's reply templates (K3).

Plain tables, not nodes: a message belongs to its patient record (``patient_id``) and
is only ever reached through that record's URL (``<patient>/@messages/<id>``), so
the record's ACL decides who reads and writes it. ``side`` says who wrote it
(``patient``: the patient or a guardian; ``cabinet``: its staff); ``read_at`` is set
when the other side has read it. An attachment is a file of the blob storage
(cabinet.blobs), named by its SHA-256."""
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .meta import Base

SIDES = ("patient", "cabinet")


class _Attachment:
    """The columns of an optional file (blob storage)."""
    blob_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    size: Mapped[int | None] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(100), default="")
    file_name: Mapped[str] = mapped_column(String(255), default="")


class Message(_Attachment, Base):
    __tablename__ = "messages"
    __table_args__ = (
        # a conversation, newest first; a cabinet's unread messages of one side
        Index("ix_messages_patient_id_id", "patient_id", "id"),
        Index("ix_messages_cabinet_id_side_read_at", "cabinet_id", "side", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"))
    cabinet_id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"))
    side: Mapped[str] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: the professional a secretary wrote for (D8), through her delegation
    acting_for_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    #: the author's name when written (kept if the account goes)
    author_name: Mapped[str] = mapped_column(String(200), default="")
    created: Mapped[datetime] = mapped_column(DateTime)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: the document this message's attachment was filed into (staff)
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("nodes.id", ondelete="SET NULL"))


class MessageTemplate(_Attachment, Base):
    """A predefined reply of a cabinet: a title, a text and an optional file."""
    __tablename__ = "message_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    cabinet_id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"),
                                            index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    created: Mapped[datetime] = mapped_column(DateTime)
    modified: Mapped[datetime] = mapped_column(DateTime)
