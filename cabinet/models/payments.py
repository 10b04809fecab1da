"""Patient payments (issue #9, P2; migration 0015).

- ``CareItem`` ("prestation"): what a patient owes for one care, a node under the
  record (``<patient>/payments/<item>``) so that its ACL comes from the record's
  local roles (the patient, a guardian of a minor, the cabinet's people). Amounts
  are ``Numeric(10, 2)`` (euros, never floats); ``amount_paid`` only grows through
  approved payments (cabinet.payments), or is set by the cabinet's people.
- ``OnlinePayment``: one "payer en ligne" attempt of a record: ``pending`` until
  the provider's signed callback says ``approved`` (the amount is then spread over
  the record's care items) or ``declined``; ``refused`` when its approval would
  have paid more than is due (a concurrent payment was approved first). The
  reference is the random id the provider knows it by.
"""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, DateTime, ForeignKey, Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column
from zope.interface import implementer

from cabinet import interfaces as i
from . import nodes
from .meta import Base

Money = Numeric(10, 2, asdecimal=True)


@implementer(i.ICareItem)
class CareItem(nodes.Node):
    __tablename__ = "care_items"
    id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"),
                                    primary_key=True)
    patient_id: Mapped[int | None] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True)
    care_date: Mapped[date | None] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    amount_due: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    amount_paid: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))

    __mapper_args__ = {"polymorphic_identity": "care_item"}
    portal_type = "CareItem"
    workflow_name = "care_item"
    permission_prefix = "payment"
    #: the amounts are checked together by cabinet.views.care_items (hooks)
    fields = ("care_date", "due_date")


class OnlinePayment(Base):
    __tablename__ = "online_payments"
    __table_args__ = (Index("ix_online_payments_patient_id_created", "patient_id",
                            "created"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    #: paying one care item only (None: the record's balance)
    care_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("care_items.id", ondelete="SET NULL"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    amount: Mapped[Decimal] = mapped_column(Money)
    email: Mapped[str] = mapped_column(String(254), default="")
    state: Mapped[str] = mapped_column(String(20), default="pending")
    created: Mapped[datetime] = mapped_column(DateTime)
    processed_at: Mapped[datetime | None] = mapped_column(DateTime)
    message: Mapped[str] = mapped_column(String(500), default="")


# a content type like those of cabinet.models.nodes (kept here: nodes.py is long)
nodes.CONTENT_TYPES[CareItem.portal_type] = CareItem
nodes.SEARCHABLE_TYPES = nodes.SEARCHABLE_TYPES + (CareItem.portal_type,)
