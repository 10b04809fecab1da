"""Appointment types, questionnaire auto-send rules, their scheduled sends, and the
worker's job status (issue #5; migration 0011).

Appointment types are a plain table, not nodes: like document types they are
settings of one cabinet (a name, a title, a duration), with no workflow and no ACL
of their own; whoever may configure the cabinet (``appointment:configure``) manages
them, and appointments and rules refer to them by id within the cabinet.

The appointments themselves are nodes (cabinet.models.nodes.Appointment).
"""
from datetime import date, datetime

from sqlalchemy import (
    Boolean, Date, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from .meta import Base


class AppointmentType(Base):
    """A kind of appointment of a cabinet (Consultation, Contrôle...) and its usual
    duration, which a new appointment's end defaults to."""
    __tablename__ = "appointment_types"
    __table_args__ = (UniqueConstraint("cabinet_id", "name",
                                       name="uq_appointment_types_cabinet_id_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cabinet_id: Mapped[int] = mapped_column(ForeignKey("cabinets.id", ondelete="CASCADE"),
                                            index=True)
    name: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(200), default="")
    duration: Mapped[int] = mapped_column(Integer, default=30)   # minutes
    #: P1: the patient presents their Carte Vitale (health insurance card) at this
    #: kind of appointment; the portal's home shows it (migration 0018)
    carte_vitale_required: Mapped[bool] = mapped_column(Boolean, default=False)


class AutosendRule(Base):
    """Q2: template T is sent to the patient ``days_before`` days before an
    appointment booked with practitioner P (None: any) and type A (None: any)."""
    __tablename__ = "autosend_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    cabinet_id: Mapped[int] = mapped_column(ForeignKey("cabinets.id", ondelete="CASCADE"),
                                            index=True)
    template_id: Mapped[int] = mapped_column(
        ForeignKey("questionnaire_templates.id", ondelete="CASCADE"), index=True)
    practitioner_id: Mapped[int | None] = mapped_column(
        ForeignKey("professionals.id", ondelete="CASCADE"))
    appointment_type_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointment_types.id", ondelete="CASCADE"))
    days_before: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[datetime] = mapped_column(DateTime)


class ScheduledSend(Base):
    """One send of a rule for one appointment: ``pending`` until its due date, then
    ``sent`` (with the response), or ``cancelled`` with the appointment, or
    ``failed`` (the error kept; the worker tries again the next run). The unique
    constraint makes a second send for the same appointment and rule impossible."""
    __tablename__ = "scheduled_sends"
    __table_args__ = (
        UniqueConstraint("appointment_id", "rule_id",
                         name="uq_scheduled_sends_appointment_id_rule_id"),
        # the worker: what is due
        Index("ix_scheduled_sends_state_due_date", "state", "due_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE"))
    rule_id: Mapped[int] = mapped_column(ForeignKey("autosend_rules.id", ondelete="CASCADE"),
                                         index=True)
    due_date: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(20), default="pending")
    response_id: Mapped[int | None] = mapped_column(
        ForeignKey("questionnaire_responses.id", ondelete="SET NULL"))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    error: Mapped[str] = mapped_column(String(2000), default="")


class WorkerJob(Base):
    """The last run of each job of ``cabinet_worker`` (shown to administrators)."""
    __tablename__ = "worker_jobs"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    last_run: Mapped[datetime | None] = mapped_column(DateTime)
    last_success: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[datetime | None] = mapped_column(DateTime)
    last_error_message: Mapped[str] = mapped_column(String(2000), default="")
    last_result: Mapped[str] = mapped_column(String(500), default="")
