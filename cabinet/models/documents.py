"""Documents (C1, C2): document types with their default sharing, a patient's sharing
settings (overrides, GDPR opt-out) and a cabinet's document settings (the "share only
signed documents" switch). Plain tables, not nodes of the tree: they hold settings
of nodes (cabinet, patient), read by cabinet.document_sharing."""
from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .meta import Base


class DocumentType(Base):
    """A kind of document of a cabinet (Consentement, Devis, ...) and with whom its
    documents are shared by default."""
    __tablename__ = "document_types"
    __table_args__ = (UniqueConstraint("cabinet_id", "name",
                                       name="uq_document_types_cabinet_id_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cabinet_id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"),
                                            index=True)
    name: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200), default="")
    share_patient: Mapped[bool] = mapped_column(Boolean, default=True)
    share_guardian: Mapped[bool] = mapped_column(Boolean, default=True)
    share_correspondent: Mapped[bool] = mapped_column(Boolean, default=False)


class PatientSharing(Base):
    """A patient record's sharing settings: per audience an override of the type
    defaults (None: as the type says), and the GDPR opt-out that hides everything."""
    __tablename__ = "patient_sharing"

    patient_id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"),
                                            primary_key=True)
    share_patient: Mapped[bool | None] = mapped_column(Boolean)
    share_guardian: Mapped[bool | None] = mapped_column(Boolean)
    share_correspondent: Mapped[bool | None] = mapped_column(Boolean)
    opt_out: Mapped[bool] = mapped_column(Boolean, default=False)


class CabinetDocumentSettings(Base):
    """A cabinet's document settings: ``only_signed`` shares nothing but documents
    that are signed or to be signed, whatever the other rules say."""
    __tablename__ = "cabinet_document_settings"

    cabinet_id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"),
                                            primary_key=True)
    only_signed: Mapped[bool] = mapped_column(Boolean, default=False)
