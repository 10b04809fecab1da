"""Questionnaire auto-send rules (Q2): "template T is sent to the patient N days
before an appointment booked with practitioner P (or any) and type A (or any)".

Whenever an appointment is created, moved or cancelled (by a page or the JSON API,
cabinet.appointments), ``sync_sends`` brings its scheduled sends in line with the
rules: one row per (appointment, rule), unique, due on the appointment's day minus
N days. A send due today or earlier goes at once, in the same transaction; later
ones are sent by ``cabinet_worker`` (cabinet.worker) on their day. Cancelling the
appointment cancels its pending sends.

A send is claimed by one conditional UPDATE (``pending``/``failed`` -> ``sent``)
before the questionnaire is created, so two processes (a request moving the
appointment, a worker) can never both send it; the unique constraint keeps one row
per appointment and rule.
"""
import logging
from datetime import timedelta

from sqlalchemy import or_, select, update

from cabinet import errors
from cabinet.appointments import Invalid, local_now, today, type_named
from cabinet.interfaces import IAfterTransition, IAppointment, IClock
from cabinet.i18n import N_
from cabinet.models import (
    Appointment, AppointmentType, AutosendRule, Node, Patient, Professional,
    QuestionnaireTemplate, ScheduledSend,
)
from cabinet.questionnaire_responses import (
    create_response, current_version, practitioner_named, send_response, template_named,
)

log = logging.getLogger(__name__)
OPEN = ("pending", "failed")
MAX_DAYS = 365


# -- rules ---------------------------------------------------------------------------

def cabinet_rules(session, cabinet):
    return list(session.scalars(select(AutosendRule).where(
        AutosendRule.cabinet_id == cabinet.id).order_by(AutosendRule.id)))


def rule_in(session, cabinet, raw_id):
    """The rule ``raw_id`` of ``cabinet`` (never one of another cabinet), or None."""
    if isinstance(raw_id, str) and raw_id.isdigit() and len(raw_id) < 10:
        raw_id = int(raw_id)
    if isinstance(raw_id, bool) or not isinstance(raw_id, int):
        return None
    return session.scalar(select(AutosendRule).where(
        AutosendRule.id == raw_id, AutosendRule.cabinet_id == cabinet.id))


def check_rule(session, cabinet, data, current=None):
    """The checked values of a rule (``template``: a template's id in the cabinet;
    ``practitioner`` and ``appointment_type``: names in the cabinet or empty for
    any; ``days_before``: 0 to 365), or Invalid."""
    values, problems = {}, {}
    if "template" in data or current is None:
        template = template_named(session, cabinet, data.get("template"))
        if template is None:
            problems["template"] = "Choisissez un modèle de questionnaire de ce cabinet."
        values["template_id"] = template.id if template else None
    if "practitioner" in data or current is None:
        name = data.get("practitioner") or ""
        practitioner = practitioner_named(session, cabinet, name) if name else None
        if name and practitioner is None:
            problems["practitioner"] = "Ce praticien n'exerce pas dans ce cabinet."
        values["practitioner_id"] = practitioner.id if practitioner else None
    if "appointment_type" in data or current is None:
        name = data.get("appointment_type") or ""
        kind = type_named(session, cabinet, name) if name else None
        if name and kind is None:
            problems["appointment_type"] = "Type de rendez-vous inconnu dans ce cabinet."
        values["appointment_type_id"] = kind.id if kind else None
    if "days_before" in data or current is None:
        days = data.get("days_before")
        if isinstance(days, str) and days.strip().isdigit():
            days = int(days.strip())
        if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_DAYS:
            problems["days_before"] = f"Nombre de jours avant le rendez-vous, de 0 à {MAX_DAYS}."
        values["days_before"] = days
    if problems:
        raise Invalid(problems)
    merged = {key: values.get(key, getattr(current, key, None))
              for key in ("template_id", "practitioner_id", "appointment_type_id",
                          "days_before")}
    same = select(AutosendRule.id).where(
        AutosendRule.cabinet_id == cabinet.id, *[
            (getattr(AutosendRule, key).is_(None) if value is None
             else getattr(AutosendRule, key) == value)
            for key, value in merged.items()])
    if current is not None:
        same = same.where(AutosendRule.id != current.id)
    if session.scalar(same) is not None:
        raise errors.conflict(N_("Une règle identique existe déjà."))
    return values


def add_rule(request, cabinet, values):
    rule = AutosendRule(cabinet_id=cabinet.id, created=request.registry.getUtility(
        IClock).now(), **values)
    request.dbsession.add(rule)
    request.dbsession.flush()
    return rule


def rule_json(session, rule):
    template = session.get(QuestionnaireTemplate, rule.template_id)
    practitioner = (session.get(Professional, rule.practitioner_id)
                    if rule.practitioner_id else None)
    kind = (session.get(AppointmentType, rule.appointment_type_id)
            if rule.appointment_type_id else None)
    return {"id": rule.id,
            "template": {"id": template.name, "title": template.title} if template else None,
            "practitioner": ({"id": practitioner.name, "title": practitioner.title}
                             if practitioner else None),
            "appointment_type": ({"id": kind.name, "title": kind.title} if kind else None),
            "days_before": rule.days_before}


# -- an appointment's sends ------------------------------------------------------------

def matching_rules(session, appointment):
    return list(session.scalars(select(AutosendRule).where(
        AutosendRule.cabinet_id == appointment.cabinet_id,
        or_(AutosendRule.practitioner_id.is_(None),
            AutosendRule.practitioner_id == appointment.practitioner_id),
        or_(AutosendRule.appointment_type_id.is_(None),
            AutosendRule.appointment_type_id == appointment.appointment_type_id))))


def sends_of(session, appointment):
    return list(session.scalars(select(ScheduledSend).where(
        ScheduledSend.appointment_id == appointment.id).order_by(ScheduledSend.id)))


def due_date(appointment, rule):
    return appointment.start.date() - timedelta(days=rule.days_before)


def sync_sends(request, appointment):
    """Bring the appointment's sends in line with the rules (see the module)."""
    session = request.dbsession
    if appointment.state != "scheduled" or appointment.start is None:
        cancel_sends(request, appointment)
        return
    rules = {rule.id: rule for rule in matching_rules(session, appointment)}
    sends = {send.rule_id: send for send in sends_of(session, appointment)}
    for rule_id, send in sends.items():
        if send.state in OPEN:
            if rule_id in rules:
                send.due_date = due_date(appointment, rules[rule_id])
            else:
                send.state = "cancelled"
    for rule in rules.values():
        if rule.id not in sends:
            sends[rule.id] = ScheduledSend(appointment_id=appointment.id, rule_id=rule.id,
                                           due_date=due_date(appointment, rule),
                                           state="pending", error="")
            session.add(sends[rule.id])
    session.flush()
    now_day = today(request)
    for rule_id, send in sends.items():
        if send.state in OPEN and send.due_date <= now_day and rule_id in rules:
            deliver(request, send, rules[rule_id], appointment)


def cancel_sends(request, appointment):
    request.dbsession.execute(
        update(ScheduledSend).where(ScheduledSend.appointment_id == appointment.id,
                                    ScheduledSend.state.in_(OPEN))
        .values(state="cancelled").execution_options(synchronize_session="fetch"))


def deliver(request, send, rule, appointment):
    """Claim ``send`` and send its questionnaire to the appointment's patient; the
    response when sent, None when someone else had claimed it or the template has
    no questions yet (then the send is ``failed`` and tried again later)."""
    session = request.dbsession
    now = request.registry.getUtility(IClock).now()
    claimed = session.execute(
        update(ScheduledSend).where(ScheduledSend.id == send.id,
                                    ScheduledSend.state.in_(OPEN))
        .values(state="sent", sent_at=now, error="")
        .execution_options(synchronize_session=False)).rowcount
    session.expire(send)
    if claimed != 1:
        return None
    template = session.get(QuestionnaireTemplate, rule.template_id)
    version = current_version(session, template) if template is not None else None
    if version is None or not version.questions:
        fail(session, send.id, f"Le modèle « {template.title if template else '?'} » "
                               "n'a pas de questions.")
        return None
    patient = session.get(Patient, appointment.patient_id)
    practitioner = (session.get(Professional, appointment.practitioner_id)
                    if appointment.practitioner_id else None)
    response = create_response(request, patient, template, practitioner=practitioner)
    send_response(request, response, automatic=True,
                  comment=f"Envoi automatique avant le rendez-vous du "
                          f"{appointment.start:%d/%m/%Y à %H:%M}.")
    session.execute(update(ScheduledSend).where(ScheduledSend.id == send.id)
                    .values(response_id=response.id)
                    .execution_options(synchronize_session=False))
    session.expire(send)
    return response


def fail(session, send_id, message):
    session.execute(update(ScheduledSend).where(ScheduledSend.id == send_id)
                    .values(state="failed", error=message[:2000], sent_at=None)
                    .execution_options(synchronize_session=False))


# -- the worker ------------------------------------------------------------------------

def due_send_ids(request):
    """Ids of the open sends due today or earlier whose appointment is scheduled."""
    nodes = Node.__table__
    return list(request.dbsession.scalars(
        select(ScheduledSend.id)
        .join(nodes, nodes.c.id == ScheduledSend.appointment_id)
        .where(ScheduledSend.state.in_(OPEN), ScheduledSend.due_date <= today(request),
               nodes.c.state == "scheduled")
        .order_by(ScheduledSend.due_date, ScheduledSend.id).limit(1000)))


def send_due(request, send_id):
    """Send one due send (the worker, in its own transaction): True when sent. The
    row is locked, skipped if another worker holds it (PostgreSQL); an appointment
    already over is not sent to any more (``missed``)."""
    session = request.dbsession
    send = session.scalar(select(ScheduledSend).where(ScheduledSend.id == send_id)
                          .with_for_update(skip_locked=True))
    if send is None or send.state not in OPEN:
        return False
    appointment = session.get(Appointment, send.appointment_id)
    rule = session.get(AutosendRule, send.rule_id)
    if appointment is None or rule is None or appointment.state != "scheduled":
        send.state = "cancelled"
        return False
    if appointment.end is not None and appointment.end <= local_now(request):
        send.state = "missed"
        return False
    return deliver(request, send, rule, appointment) is not None


# -- cancelling ------------------------------------------------------------------------

def after_transition(event):
    """A cancelled (or done) appointment sends nothing more; the cancel's comment is
    its reason."""
    appointment = event.object
    if not IAppointment.providedBy(appointment):
        return
    if event.transition == "cancel":
        appointment.cancel_reason = (event.history.comment or "")[:2000]
    if event.to_state != "scheduled":
        cancel_sends(event.request, appointment)


def includeme(config):
    config.add_subscriber(after_transition, IAfterTransition)
