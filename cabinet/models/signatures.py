"""Signature evidence (C4): one row per signed document, written in the transaction
of the ``sign`` transition (cabinet/signatures.py). It keeps what a signature must
prove later, copied at signing time so that renaming a user or deleting a code row
does not change it: the SHA-256 of the exact bytes signed, who signed, for whom,
when, from where, and the one-time-code event that confirmed it."""
from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .meta import Base


class Signature(Base):
    __tablename__ = "signatures"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: a document is signed once (``signed`` is final); should its state be put back
    #: by hand and it be signed again, each signature keeps its row (the last counts)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("nodes.id", ondelete="CASCADE"), index=True)
    history_id: Mapped[int | None] = mapped_column(
        ForeignKey("history.id", ondelete="SET NULL"))
    #: the bytes signed: the document's blob when it was signed
    sha256: Mapped[str | None] = mapped_column(String(64))
    #: the PDF signed with the cabinet's key (cabinet.signed_pdf), a new blob that
    #: the document then references; None when the file is not a PDF it could sign
    signed_sha256: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(100), default="")
    file_name: Mapped[str] = mapped_column(String(255), default="")
    title: Mapped[str] = mapped_column(String(500), default="")
    #: the signer (the user who typed the code) as they were named then
    signer_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True)
    signer_login: Mapped[str] = mapped_column(String(100), default="")
    signer_name: Mapped[str] = mapped_column(String(200), default="")
    #: for whom: a professional through a secretary's delegation (acting_for_id,
    #: delegation_id), a minor through their guardian; ``acting_for`` describes it
    acting_for_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    delegation_id: Mapped[int | None] = mapped_column(
        ForeignKey("nodes.id", ondelete="SET NULL"))
    acting_for: Mapped[dict | None] = mapped_column(JSON)
    signed_at: Mapped[datetime] = mapped_column(DateTime)
    client_ip: Mapped[str] = mapped_column(String(45), default="")
    user_agent: Mapped[str] = mapped_column(String(500), default="")
    #: the one-time code that confirmed it: its row, when it was sent, to which
    #: (masked) phone, when it was verified
    otp_id: Mapped[int | None] = mapped_column(
        ForeignKey("one_time_codes.id", ondelete="SET NULL"))
    otp_sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    otp_phone: Mapped[str] = mapped_column(String(32), default="")
    otp_verified_at: Mapped[datetime | None] = mapped_column(DateTime)


class SigningKey(Base):
    """A cabinet's key and self-signed certificate for signing PDFs (PEM), made with
    the cabinet (cabinet.signing_keys). ``key_pem`` is encrypted PKCS#8 (the secret
    ``cabinet.signing_key_secret``); the private key is never served."""
    __tablename__ = "signing_keys"

    cabinet_id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"),
                                            primary_key=True)
    key_pem: Mapped[str] = mapped_column(Text)
    certificate_pem: Mapped[str] = mapped_column(Text)
    created: Mapped[datetime] = mapped_column(DateTime)
