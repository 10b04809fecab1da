"""iCalendar for patients and guardians (issue #9, P1): the .ics of one appointment
("ajouter à mon agenda"), the map link of the cabinet ("aller au cabinet"), and the
private calendar feed (``/@calendar/<token>.ics``) a phone calendar subscribes to.

Nothing in an event tells anything of the patient's health: the summary is
"Rendez-vous — <cabinet>", the time and the cabinet's address (Cabinet.address, its
title when the cabinet has none); no type, practitioner, place or notes. Times are
the cabinet's wall-clock times (cabinet.appointments), written with their time zone
(TZID and its VTIMEZONE). An event's UID is made of the appointment's id, so that
the .ics and the feed describe the same event.

The feed's URL holds a random token (secrets.token_urlsafe, 256 bits) of which only
the SHA-256 is stored (CalendarFeed.token_hash, as API tokens); one feed per user;
revoking deletes it, and the old URL answers 404.
"""
import secrets
from datetime import timedelta, timezone
from urllib.parse import quote_plus

from icalendar import Calendar, Event
from sqlalchemy import and_, delete, or_, select

from cabinet.appointments import local_now, zone
from cabinet.interfaces import IClock
from cabinet.models import Appointment, Cabinet, CalendarFeed, LocalRole, Node
from cabinet.search import viewable_states
from cabinet.security import token_hash

#: the feed shows the appointments of the last 90 days and every coming one
FEED_PAST_DAYS = 90
FEED_MAX_EVENTS = 1000
MAP_URL = "https://www.openstreetmap.org/search?query="
PRODID = "-//Cabinet//Rendez-vous//FR"


# -- the cabinet's address -----------------------------------------------------------

def cabinet_path_of(patient_path):
    """'/cabinets/parc/patients/leroy/' -> '/cabinets/parc/'."""
    head, sep, _tail = patient_path.rpartition("/patients/")
    return head + "/" if sep else None


def cabinets_by_path(session, paths):
    """{path: (title, address)} of the cabinets at ``paths``: one query."""
    paths = sorted({p for p in paths if p})
    if not paths:
        return {}
    return {path: (title, address) for path, title, address in session.execute(
        select(Cabinet.path, Cabinet.title, Cabinet.address)
        .where(Cabinet.path.in_(paths)))}


def location(cabinet):
    """The cabinet's address, or its title when it has none."""
    title, address = cabinet
    return (address or "").strip() or title


def map_url(place):
    return MAP_URL + quote_plus(place)


# -- iCalendar -----------------------------------------------------------------------------

def summary(cabinet_title):
    return f"Rendez-vous — {cabinet_title}"


def new_calendar(name=None):
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if name:
        calendar.add("x-wr-calname", name)
    return calendar


def event(registry, appointment_id, start, end, cabinet, stamp):
    """One VEVENT: the cabinet's name and address, the time; nothing else."""
    tz = zone(registry)
    item = Event()
    item.add("uid", f"appointment-{appointment_id}@cabinet")
    item.add("dtstamp", stamp.replace(tzinfo=timezone.utc))
    item.add("dtstart", start.replace(tzinfo=tz))
    item.add("dtend", end.replace(tzinfo=tz))
    item.add("summary", summary(cabinet[0]))
    item.add("location", location(cabinet))
    item.add("transp", "OPAQUE")
    return item


def to_ics(calendar):
    calendar.add_missing_timezones()      # the VTIMEZONE of each TZID
    return calendar.to_ical()


def appointment_ics(request, appointment, cabinet):
    calendar = new_calendar()
    calendar.add_component(event(request.registry, appointment.id, appointment.start,
                                 appointment.end, cabinet,
                                 request.registry.getUtility(IClock).now()))
    return to_ics(calendar)


# -- the private feed ---------------------------------------------------------------------

def feed_of(session, user_id):
    return session.scalar(select(CalendarFeed).where(CalendarFeed.user_id == user_id))


def feed_by_token(session, token):
    if not token or len(token) > 200:
        return None
    return session.scalar(select(CalendarFeed).where(
        CalendarFeed.token_hash == token_hash(token)))


def create_feed(request, user):
    """A new secret token for ``user`` (the former URL, if any, stops working)."""
    session = request.dbsession
    session.execute(delete(CalendarFeed).where(CalendarFeed.user_id == user.id))
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed(user_id=user.id, token_hash=token_hash(token),
                        created=request.registry.getUtility(IClock).now())
    session.add(feed)
    session.flush()
    return token, feed


def revoke_feed(request, user):
    """True when there was a feed."""
    result = request.dbsession.execute(
        delete(CalendarFeed).where(CalendarFeed.user_id == user.id))
    return bool(result.rowcount)


def feed_url(request, token):
    return f"{request.application_url}/@calendar/{token}.ics"


def managed_records(request, user_id):
    """{patient path: roles} of the records whose patient or guardian the feed's
    owner is: the local roles granted to the user (no session here: the token
    stands for the user) and, as cabinet.patient_login.guardian_roles computes them
    for a signed-in guardian, the minors they are responsible for."""
    from cabinet.patient_login import guarded_minors
    session = request.dbsession
    records = {}
    for path, role in session.execute(
            select(Node.path, LocalRole.role).join(Node, Node.id == LocalRole.node_id)
            .where(LocalRole.principal == f"user:{user_id}",
                   LocalRole.role.in_(("patient", "guardian")), Node.type == "patient")):
        records.setdefault(path, set()).add(role)
    today = request.registry.getUtility(IClock).today()
    for patient, _relation in guarded_minors(session, user_id, today):
        records.setdefault(patient.path, set()).add("guardian")
    return records


def _appointments_on(session, records):
    """The record paths whose cabinet offers appointments and whose portal is open
    (cabinet.modules)."""
    from cabinet import modules
    from cabinet.models import Patient
    if not records:
        return set()
    cabinets = {c.path: c for c in session.scalars(select(Cabinet).where(
        Cabinet.path.in_({cabinet_path_of(p) for p in records})))}
    on = set()
    for patient in session.scalars(select(Patient).where(Patient.path.in_(records))):
        cabinet = cabinets.get(cabinet_path_of(patient.path))
        if cabinet is not None and modules.enabled(cabinet, "appointments") \
                and not modules.portal_closed(session, cabinet, patient):
            on.add(patient.path)
    return on


def feed_ics(request, feed):
    """The feed's calendar: the appointments (not cancelled) of the last 90 days and
    the coming ones of the records the user manages, those the user may view."""
    session = request.dbsession
    branches = []
    records = managed_records(request, feed.user_id)
    switched_on = _appointments_on(session, records)      # issue #10, K2
    for path, roles in sorted(records.items()):
        if path not in switched_on:
            continue
        states = [s for s in viewable_states(request.workflows, Appointment, roles)
                  if s != "cancelled"]
        if states:
            branches.append(and_(Appointment.path >= path,
                                 Appointment.path < path[:-1] + "0",   # subtree(path)
                                 Appointment.state.in_(states)))
    calendar = new_calendar("Rendez-vous")
    if branches:
        since = local_now(request) - timedelta(days=FEED_PAST_DAYS)
        rows = session.execute(
            select(Appointment.id, Appointment.start, Appointment.end, Appointment.path)
            .where(or_(*branches),
                   Appointment.start >= since, Appointment.end.is_not(None))
            .order_by(Appointment.start, Appointment.id).limit(FEED_MAX_EVENTS)).all()
        cabinets = cabinets_by_path(session, [cabinet_path_of(r.path) for r in rows])
        stamp = request.registry.getUtility(IClock).now()
        for row in rows:
            cabinet = cabinets.get(cabinet_path_of(row.path), ("Cabinet", ""))
            calendar.add_component(event(request.registry, row.id, row.start, row.end,
                                         cabinet, stamp))
    return to_ics(calendar)
