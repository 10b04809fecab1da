"""Appointments (issue #5): a cabinet's appointment types, checking and applying an
appointment's values (type, practitioner, start, end), and the listings (a cabinet's
agenda, a patient's appointments).

Times are the cabinet's wall-clock time (setting ``cabinet.timezone``), naive, as
people type and read them; ``local_now`` turns the clock's UTC time into it.

A practitioner is never booked twice at once: before checking for an overlapping
scheduled appointment, the practitioner's node is locked (cabinet.locks), so of two
requests booking the same slot the second sees the first's appointment (409).
"""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select

from cabinet import errors
from cabinet.content import add_node
from cabinet.interfaces import IClock
from cabinet.locks import lock_node
from cabinet.models import Appointment, AppointmentType, Node
from cabinet.questionnaire_responses import (
    cabinet_of, cabinet_practitioners, patient_of, practitioner_named,
)
from cabinet.search import readable_filter, subtree, user_grants
from cabinet.workflow import record_history
from cabinet.i18n import N_

FOLDER = "appointments"
#: the most appointments a patient's list shows
MAX_LISTED = 500
TYPE_NAME_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789-_"
DOUBLE_BOOKED = ("{practitioner} a déjà un rendez-vous qui chevauche ce créneau "
                 "({start:%d/%m/%Y %H:%M} – {end:%H:%M}) : choisissez un autre horaire.")


class Invalid(Exception):
    """Values refused: ``errors`` maps each field to its message (422)."""

    def __init__(self, errors_):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors_.items()))
        self.errors = errors_


# -- time ----------------------------------------------------------------------------

def zone(registry):
    return ZoneInfo(registry.settings.get("cabinet.timezone", "Europe/Luxembourg")
                    if registry.settings else "Europe/Luxembourg")


def local_now(request):
    """The clock's time (naive UTC) as the cabinet's wall-clock time (naive)."""
    now = request.registry.getUtility(IClock).now()
    return now.replace(tzinfo=timezone.utc).astimezone(zone(request.registry)) \
        .replace(tzinfo=None, microsecond=0)


def utc_day_bounds(registry, first, last=None):
    """The naive UTC times between which the cabinet's calendar days ``first`` to
    ``last`` (by default ``first`` alone) run: [first's local midnight, the local
    midnight after ``last``). In Luxembourg a day starts at 22:00 or 23:00 UTC the
    day before, and a day of a daylight-saving change lasts 23 or 25 hours."""
    place = zone(registry)

    def midnight(day):
        return datetime.combine(day, time.min, tzinfo=place).astimezone(
            timezone.utc).replace(tzinfo=None)
    return midnight(first), midnight((last or first) + timedelta(days=1))


def local_isoformat(request, value):
    """An appointment's wall-clock time (naive, in the cabinet's zone) with the zone's
    offset of that day: ``2026-03-10T09:00:00+01:00``, ``2026-07-10T09:00:00+02:00``."""
    if value is None:
        return None
    return value.replace(tzinfo=zone(request.registry), microsecond=0).isoformat()


def today(request):
    return request.registry.getUtility(IClock).today()


def parse_datetime(request, raw):
    """``2026-03-12T10:30`` (or with a space, seconds, an offset) -> naive local
    time, or None. A time with an offset is converted to the cabinet's zone."""
    if isinstance(raw, datetime):
        value = raw
    elif isinstance(raw, str) and 10 <= len(raw.strip()) <= 40:
        try:
            value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        if len(raw.strip()) == 10:      # a date alone is no appointment time
            return None
    else:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(zone(request.registry)).replace(tzinfo=None)
    if not 1900 < value.year < 2200:
        return None
    return value.replace(microsecond=0)


def parse_date(raw):
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat((raw or "").strip())
    except ValueError:
        return None


# -- appointment types -----------------------------------------------------------------

def appointment_types(session, cabinet):
    return list(session.scalars(select(AppointmentType).where(
        AppointmentType.cabinet_id == cabinet.id).order_by(AppointmentType.title)))


def type_named(session, cabinet, name):
    if not isinstance(name, str) or not name or cabinet is None:
        return None
    return session.scalar(select(AppointmentType).where(
        AppointmentType.cabinet_id == cabinet.id, AppointmentType.name == name))


def check_type(session, cabinet, data, current=None):
    """(values, errors) of an appointment type's ``id`` (new types only), ``title``
    and ``duration`` (minutes, 5 to 480)."""
    values, problems = {}, {}
    if current is None:
        name = data.get("id")
        if (not isinstance(name, str) or not name or len(name) > 100
                or any(c not in TYPE_NAME_CHARS for c in name)):
            problems["id"] = ("Identifiant requis : minuscules, chiffres, « - » ou "
                              "« _ » (100 au plus).")
        elif type_named(session, cabinet, name) is not None:
            problems["id"] = f"Le type « {name} » existe déjà."
        else:
            values["name"] = name
    if "title" in data or current is None:
        title = data.get("title")
        if not isinstance(title, str) or not title.strip() or len(title) > 200:
            problems["title"] = "Titre requis (200 caractères au plus)."
        else:
            values["title"] = title.strip()
    if "duration" in data or current is None:
        duration = data.get("duration")
        if isinstance(duration, str) and duration.strip().isdigit():
            duration = int(duration.strip())
        if isinstance(duration, bool) or not isinstance(duration, int) \
                or not 5 <= duration <= 480:
            problems["duration"] = "Durée en minutes, de 5 à 480."
        else:
            values["duration"] = duration
    if "carte_vitale_required" in data:          # issue #9, P1 (migration 0018)
        vitale = data["carte_vitale_required"]       # a form's checkbox: "1" or absent
        vitale = vitale == "1" if vitale in ("1", "") else vitale
        if isinstance(vitale, bool):
            values["carte_vitale_required"] = vitale
        else:
            problems["carte_vitale_required"] = "true ou false."
    return values, problems


def type_json(appointment_type):
    return {"id": appointment_type.name, "title": appointment_type.title,
            "duration": appointment_type.duration,
            "carte_vitale_required": bool(appointment_type.carte_vitale_required)}


# -- an appointment's values ------------------------------------------------------------

@dataclass
class Values:
    appointment_type: AppointmentType | None
    practitioner: object          # a Professional node
    start: datetime
    end: datetime


def check_values(request, cabinet, data, current=None):
    """The checked values of an appointment from ``data`` (``appointment_type``,
    ``practitioner``: names within ``cabinet``; ``start``, ``end``: local times),
    or Invalid. When moving (``current``), what is not given stays as it is, and a
    new start without an end keeps the duration."""
    session = request.dbsession
    problems = {}
    kind = None
    if current is not None and current.appointment_type_id is not None:
        kind = session.get(AppointmentType, current.appointment_type_id)
    if "appointment_type" in data or current is None:
        kind = type_named(session, cabinet, data.get("appointment_type"))
        if kind is None:
            problems["appointment_type"] = ("Type de rendez-vous inconnu dans ce cabinet."
                                            if data.get("appointment_type")
                                            else "Choisissez le type de rendez-vous.")
    practitioner = None
    if current is not None and current.practitioner_id is not None:
        practitioner = next((p for p in cabinet_practitioners(session, cabinet)
                             if p.id == current.practitioner_id), None)
    if "practitioner" in data or current is None:
        practitioner = practitioner_named(session, cabinet, data.get("practitioner"))
        if practitioner is None:
            problems["practitioner"] = ("Ce praticien n'exerce pas dans ce cabinet."
                                        if data.get("practitioner")
                                        else "Choisissez le praticien.")
    elif practitioner is None:
        problems["practitioner"] = "Ce praticien n'exerce plus dans ce cabinet."
    start = current.start if current is not None else None
    if "start" in data or current is None:
        start = parse_datetime(request, data.get("start"))
        if start is None:
            problems["start"] = "Début requis, au format AAAA-MM-JJTHH:MM."
    end = None
    if data.get("end") not in (None, ""):
        end = parse_datetime(request, data.get("end"))
        if end is None:
            problems["end"] = "Fin au format AAAA-MM-JJTHH:MM."
    elif start is not None:
        if current is not None and current.start and current.end:
            end = start + (current.end - current.start)   # moved: same duration
        elif kind is not None:
            end = start + timedelta(minutes=kind.duration)
        elif "appointment_type" not in problems:
            problems["end"] = "Fin requise."
    if start is not None and end is not None and end <= start:
        problems["end"] = "La fin doit être après le début."
    if end is not None and start is not None and end - start > timedelta(hours=24):
        problems["end"] = "Un rendez-vous dure au plus 24 heures."
    if problems:
        raise Invalid(problems)
    return Values(kind, practitioner, start, end)


def refuse_double_booking(request, values, exclude_id=None):
    """409 when the practitioner has a scheduled appointment overlapping the slot
    (anywhere: a practitioner is in one place at a time). Locks the practitioner."""
    session = request.dbsession
    lock_node(session, values.practitioner.id)
    table = Appointment.__table__
    nodes = Node.__table__
    conditions = [table.c.practitioner_id == values.practitioner.id,
                  table.c.starts_at < values.end, table.c.ends_at > values.start,
                  nodes.c.state == "scheduled"]
    if exclude_id is not None:
        conditions.append(table.c.id != exclude_id)
    clash = session.execute(
        select(table.c.starts_at, table.c.ends_at)
        .join(nodes, nodes.c.id == table.c.id).where(*conditions)
        .order_by(table.c.starts_at).limit(1)).first()
    if clash is not None:
        raise errors.conflict(
            DOUBLE_BOOKED.format(practitioner=values.practitioner.title,
                                 start=clash.starts_at, end=clash.ends_at),
            field="start", errors={"start": N_("Créneau déjà occupé pour ce praticien.")})


def make_title(values):
    kind = values.appointment_type.title if values.appointment_type else "Rendez-vous"
    return (f"{kind} — {values.start:%d/%m/%Y %H:%M} — "
            f"{values.practitioner.title}")[:500]


def apply(appointment, values, cabinet, patient):
    appointment.cabinet_id = cabinet.id
    appointment.patient_id = patient.id
    appointment.practitioner_id = values.practitioner.id
    appointment.appointment_type_id = (values.appointment_type.id
                                       if values.appointment_type else None)
    appointment.start, appointment.end = values.start, values.end


def create_appointment(request, folder, values, *, place="", title="", name=None):
    """A new scheduled appointment under ``folder`` (a patient's appointments), its
    history, and the questionnaires its cabinet's rules send (cabinet.autosend)."""
    from cabinet.autosend import sync_sends
    patient = folder.__parent__
    cabinet = cabinet_of(patient)
    refuse_double_booking(request, values)
    node = add_node(request.dbsession, request.registry, folder, "Appointment",
                    name=name, title=title or make_title(values), owner=request.identity,
                    place=place)
    apply(node, values, cabinet, patient)
    request.dbsession.flush()
    grant = request.has_permission("appointment:add", folder)
    record_history(request, node, "create", grant=grant, to_state=node.state)
    sync_sends(request, node)
    return node


def move_appointment(request, appointment, values, place=None):
    """New times (practitioner, type) for a scheduled appointment; pending sends of
    questionnaires move with it. Returns the names of what changed."""
    from cabinet.autosend import sync_sends
    if appointment.state != "scheduled":
        raise errors.conflict(N_("Seul un rendez-vous prévu peut être déplacé."),
                              review_state=appointment.state)
    patient = patient_of(appointment)
    cabinet = cabinet_of(patient)
    refuse_double_booking(request, values, exclude_id=appointment.id)
    before = (appointment.start, appointment.end, appointment.practitioner_id,
              appointment.appointment_type_id, appointment.place)
    generated = appointment.title == make_title_of(request, appointment)
    apply(appointment, values, cabinet, patient)
    if place is not None:
        appointment.place = place
    after = (appointment.start, appointment.end, appointment.practitioner_id,
             appointment.appointment_type_id, appointment.place)
    names = ("start", "end", "practitioner", "appointment_type", "place")
    changed = [n for n, b, a in zip(names, before, after) if b != a]
    if changed and generated:
        appointment.title = make_title(values)
    if changed:
        request.dbsession.flush()
        sync_sends(request, appointment)
    return changed


def make_title_of(request, appointment):
    """The title generated from the appointment's stored values."""
    from cabinet.models import Professional
    session = request.dbsession
    practitioner = (session.get(Professional, appointment.practitioner_id)
                    if appointment.practitioner_id else None)
    if practitioner is None or appointment.start is None:
        return None
    kind = (session.get(AppointmentType, appointment.appointment_type_id)
            if appointment.appointment_type_id else None)
    return make_title(Values(kind, practitioner, appointment.start, appointment.end))


# -- listings ------------------------------------------------------------------------

_nodes = Node.__table__
_appts = Appointment.__table__
_types = AppointmentType.__table__


def _columns():
    patient, pro = _nodes.alias("patient"), _nodes.alias("practitioner")
    columns = (_nodes.c.id, _nodes.c.name, _nodes.c.path, _nodes.c.title, _nodes.c.state,
               _appts.c.starts_at, _appts.c.ends_at, _appts.c.place,
               _appts.c.cancel_reason, _types.c.name.label("type_name"),
               _types.c.title.label("type_title"), pro.c.name.label("practitioner_name"),
               pro.c.title.label("practitioner_title"),
               patient.c.title.label("patient_title"),
               patient.c.path.label("patient_path"))
    joins = (_nodes.join(_appts, _appts.c.id == _nodes.c.id)
             .outerjoin(_types, _types.c.id == _appts.c.appointment_type_id)
             .outerjoin(pro, pro.c.id == _appts.c.practitioner_id)
             .join(patient, patient.c.id == _appts.c.patient_id))
    return columns, joins


@dataclass
class AgendaQuery:
    start: date
    end: date                  # inclusive
    practitioner: str = ""     # a professional's name
    state: str = ""            # scheduled, cancelled, done or "" (all)
    b_start: int = 0
    b_size: int = 50


def agenda(request, cabinet, query):
    """(rows, total): the appointments of ``cabinet`` the user may view starting on
    the days of ``query``, in time order."""
    columns, joins = _columns()
    conditions = [_appts.c.cabinet_id == cabinet.id,
                  _appts.c.starts_at >= datetime.combine(query.start, time()),
                  _appts.c.starts_at < datetime.combine(query.end + timedelta(days=1),
                                                        time()),
                  readable_filter(request, ("Appointment",))]
    if query.practitioner:
        pro = _nodes.alias("chosen")
        conditions.append(_appts.c.practitioner_id == select(pro.c.id).where(
            pro.c.type == "professional", pro.c.name == query.practitioner)
            .scalar_subquery())
    if query.state:
        conditions.append(_nodes.c.state == query.state)
    rows = request.dbsession.execute(
        select(*columns).select_from(joins).where(*conditions)
        .order_by(_appts.c.starts_at, _nodes.c.id)
        .offset(query.b_start).limit(query.b_size)).all()
    if query.b_start == 0 and len(rows) < query.b_size:
        return rows, len(rows)
    total = request.dbsession.scalar(
        select(func.count()).select_from(_nodes.join(_appts, _appts.c.id == _nodes.c.id))
        .where(*conditions))
    return rows, total


def patient_appointments(request, patient_paths, when="coming"):
    """The appointments the user may view of the records at ``patient_paths``:
    ``coming`` (scheduled, not over) or ``all``, in chronological order."""
    if not patient_paths:
        return []
    columns, joins = _columns()
    conditions = [readable_filter(request, ("Appointment",)),
                  or_(*[subtree(path) for path in patient_paths])]
    if when == "coming":
        conditions += [_nodes.c.state == "scheduled",
                       _appts.c.ends_at > local_now(request)]
    return request.dbsession.execute(
        select(*columns).select_from(joins).where(*conditions)
        .order_by(_appts.c.starts_at, _nodes.c.id).limit(MAX_LISTED)).all()


def my_records(request):
    """Paths of the patient records where the user is the patient or a guardian."""
    return sorted(path for path, roles in user_grants(request).items()
                  if roles & {"patient", "guardian"} and "/patients/" in path)


def row_json(request, row):
    from cabinet.views.base import isoformat, node_url
    return {"@id": node_url(request, row.path), "@type": "Appointment", "id": row.name,
            "title": row.title, "review_state": row.state,
            "start": local_isoformat(request, row.starts_at),
            "end": local_isoformat(request, row.ends_at),
            "place": row.place, "cancel_reason": row.cancel_reason or None,
            "appointment_type": ({"id": row.type_name, "title": row.type_title}
                                 if row.type_name else None),
            "practitioner": ({"id": row.practitioner_name,
                              "title": row.practitioner_title}
                             if row.practitioner_name else None),
            "patient": {"@id": node_url(request, row.patient_path),
                        "title": row.patient_title}}
