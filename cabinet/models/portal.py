"""The patient portal's own tables (issue #9; migration 0018).

``InformationProposal`` (P4): what a patient or a guardian proposes to change in a
patient record (name, email, phone, address; a guardian's own name and phone). The
record is never changed by the proposal itself: staff accept it (all of it or field
by field) or reject it (cabinet.my_information), and accepting writes a history row
on the record."""
from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .meta import Base


class InformationProposal(Base):
    __tablename__ = "information_proposals"
    __table_args__ = (Index("ix_information_proposals_patient_id_state",
                            "patient_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    proposed_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    created: Mapped[datetime] = mapped_column(DateTime)
    #: {column of Patient: proposed value}; the values the record had then in ``before``
    values: Mapped[dict] = mapped_column(JSON)
    before: Mapped[dict | None] = mapped_column(JSON)
    #: pending, accepted (all), partial (some fields), rejected
    state: Mapped[str] = mapped_column(String(20), default="pending")
    decided: Mapped[datetime | None] = mapped_column(DateTime)
    decided_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    #: the fields accepted (a subset of ``values``' keys)
    accepted_fields: Mapped[list | None] = mapped_column(JSON)
