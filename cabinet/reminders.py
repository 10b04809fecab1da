"""Appointment reminders (issue #9, P7): "N days before at HH:MM" by SMS or email.

Each person (a patient's or a guardian's account) has their rules, several if they
wish; without any, the default one: 1 day before at 12:00, by SMS (by email when
the account has no phone). ``N`` is 1 to 60 days; the time is the cabinet's local
time (Europe/Luxembourg), so a reminder is at 12:00 on the clock of its day, on
either side of a daylight-saving change. A person may switch reminders off.

The worker's job ``reminders`` (every minute) queues in the outbox (cabinet.outbox)
the reminders whose time has come (up to ``LATE`` late: a worker stopped for a
while catches up; a rule added or an appointment booked after the time does not
send an old reminder), and the job ``outbox`` sends them in the same run. Each
reminder's ``dedup_key`` names the appointment, its start, the person, the channel
and the rule, and is unique: two workers computing the same reminder at once
queue it once. At send time the reminder is checked again (``stale_reason``).

The text names the cabinet, the date and time and the practitioner: never the
patient, the type or reason of the appointment.
"""
import re
from datetime import datetime, time, timedelta, timezone

from babel.dates import format_date
from sqlalchemy import or_, select

from cabinet import formats, modules
from cabinet.appointments import Invalid, local_now, zone
from cabinet.i18n import LANGUAGES, N_, language_of, translate
from cabinet.interfaces import IClock
from cabinet.models import (
    Appointment, Cabinet, DirectoryAccount, LocalRole, NotificationSetting, Patient,
    Professional, ReminderRule, User,
)
from cabinet.outbox import queue

MIN_DAYS, MAX_DAYS = 1, 60
MAX_RULES = 10
CHANNELS = {"sms": "SMS", "email": "E-mail"}
DEFAULT = (1, "12:00")
LATE = timedelta(hours=2)
TIME_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
#: the reminder, msgids written in the reminded person's language (cabinet.i18n)
SUBJECT = N_("Rappel de rendez-vous")
TEXT = N_("${cabinet} : rappel de votre rendez-vous le ${weekday} ${date} à ${time}. En cas "
          "d'empêchement, merci de prévenir le cabinet.")
TEXT_WITH = N_("${cabinet} : rappel de votre rendez-vous le ${weekday} ${date} à ${time} "
               "avec ${practitioner}. En cas d'empêchement, merci de prévenir le cabinet.")
YOUR_CABINET = N_("Votre cabinet")


# -- rules ---------------------------------------------------------------------------------

def rules_of(session, user_id):
    return list(session.scalars(select(ReminderRule).where(
        ReminderRule.user_id == user_id).order_by(
        ReminderRule.days_before.desc(), ReminderRule.at_time, ReminderRule.id)))


def default_channel(user):
    return "sms" if user.phone else "email" if user.email else None


def effective_rules(session, user, rules=None):
    """[(days, "HH:MM", channel, rule id or None)]: the user's rules, or the default."""
    rules = rules_of(session, user.id) if rules is None else rules
    if rules:
        return [(r.days_before, r.at_time, r.channel, r.id) for r in rules]
    channel = default_channel(user)
    return [(*DEFAULT, channel, None)] if channel else []


def reminders_on(session, user_id):
    setting = session.get(NotificationSetting, user_id)
    return setting is None or setting.reminders


def set_reminders(session, user_id, enabled, now):
    setting = session.get(NotificationSetting, user_id)
    if setting is None:
        setting = NotificationSetting(user_id=user_id)
        session.add(setting)
    setting.reminders, setting.updated = bool(enabled), now
    session.flush()


def check_rule(session, user, data):
    """(days, "HH:MM", channel) from ``data`` (``days_before``, ``time``,
    ``channel``), or Invalid with a message per field."""
    problems = {}
    days = data.get("days_before")
    if isinstance(days, str) and days.strip().isdigit() and len(days.strip()) < 6:
        days = int(days.strip())
    if isinstance(days, bool) or not isinstance(days, int) \
            or not MIN_DAYS <= days <= MAX_DAYS:
        problems["days_before"] = (f"Nombre de jours avant le rendez-vous : de {MIN_DAYS} "
                                   f"à {MAX_DAYS}.")
    raw = data.get("time")
    match = TIME_RE.match(raw.strip()) if isinstance(raw, str) else None
    if match is None:
        problems["time"] = "Heure au format HH:MM, de 00:00 à 23:59."
    at = f"{int(match.group(1)):02d}:{match.group(2)}" if match else None
    channel = data.get("channel", "sms")
    if channel not in CHANNELS:
        problems["channel"] = "Choisissez SMS ou e-mail."
    elif channel == "email" and not user.email:
        problems["channel"] = ("Votre compte n'a pas d'adresse e-mail : choisissez le "
                               "SMS, ou demandez à votre cabinet d'enregistrer votre "
                               "adresse.")
    elif channel == "sms" and not user.phone:
        problems["channel"] = ("Votre compte n'a pas de numéro de téléphone : choisissez "
                               "l'e-mail.")
    if not problems:
        if any((r.days_before, r.at_time, r.channel) == (days, at, channel)
               for r in rules_of(session, user.id)):
            problems["days_before"] = "Vous avez déjà ce rappel."
        elif len(rules_of(session, user.id)) >= MAX_RULES:
            problems["days_before"] = f"{MAX_RULES} rappels au plus."
    if problems:
        raise Invalid(problems)
    return days, at, channel


def add_rule(request, user, values):
    days, at, channel = values
    rule = ReminderRule(user_id=user.id, days_before=days, at_time=at, channel=channel,
                        created=request.registry.getUtility(IClock).now())
    request.dbsession.add(rule)
    request.dbsession.flush()
    return rule


def rule_of(session, user, raw_id):
    """The user's rule ``raw_id`` (never another person's), or None."""
    if isinstance(raw_id, str) and raw_id.isdigit() and len(raw_id) < 10:
        raw_id = int(raw_id)
    if isinstance(raw_id, bool) or not isinstance(raw_id, int):
        return None
    return session.scalar(select(ReminderRule).where(
        ReminderRule.id == raw_id, ReminderRule.user_id == user.id))


# -- time and text ---------------------------------------------------------------------

def due_at(start, days, at, tz):
    """The reminder's time in UTC (naive) for an appointment starting at ``start``
    (local, naive): ``days`` before at ``at`` on the local clock of that day."""
    hours, minutes = (int(part) for part in at.split(":"))
    local = datetime.combine(start.date() - timedelta(days=days), time(hours, minutes))
    return local.replace(tzinfo=tz).astimezone(timezone.utc).replace(tzinfo=None)


def reminder_text(request, lang, cabinet_title, start, practitioner_title):
    """The reminder in ``lang``: the cabinet, the day, the time and the practitioner,
    nothing of the reason."""
    mapping = {"cabinet": cabinet_title or translate(request, YOUR_CABINET, lang),
               "weekday": format_date(start, "EEEE", locale=lang),
               "date": formats.date(lang, start), "time": formats.time(lang, start),
               "practitioner": practitioner_title}
    return translate(request, TEXT_WITH if practitioner_title else TEXT, lang, **mapping)


def dedup_key(appointment, user_id, days, at, channel):
    return (f"reminder:{appointment.id}:{appointment.start:%Y%m%d%H%M}:{user_id}:"
            f"{channel}:{days}d{at.replace(':', '')}")


def _describe(request, appointment, lang):
    session = request.dbsession
    cabinet = session.get(Cabinet, appointment.cabinet_id) if appointment.cabinet_id \
        else None
    practitioner = session.get(Professional, appointment.practitioner_id) \
        if appointment.practitioner_id else None
    return reminder_text(request, lang, cabinet.title if cabinet else "", appointment.start,
                         practitioner.title if practitioner else "")


def portal_off(session, appointment, patient):
    """Why the cabinet's portal reminds nobody of ``appointment``, or None: its
    appointments module is off, or the patient's practitioners all left the portal
    (cabinet.modules, K1/K2)."""
    cabinet = session.get(Cabinet, appointment.cabinet_id) if appointment.cabinet_id \
        else None
    if cabinet is None:
        return None
    if not modules.enabled(cabinet, "appointments"):
        return "Le cabinet n'offre plus les rendez-vous sur le portail."
    if patient is not None and modules.portal_closed(session, cabinet, patient):
        return "Le praticien n'utilise plus le portail."
    return None


# -- who is reminded ---------------------------------------------------------------------

def recipients(request, patient):
    """Ids of the accounts reminded of ``patient``'s appointments: the patient's own,
    and the guardians' of a minor (as cabinet.patient_login computes them, minors'
    access respected)."""
    from cabinet.patient_login import _person_of, is_minor, minors_access
    session = request.dbsession
    ids = set(session.scalars(select(LocalRole.principal).where(
        LocalRole.node_id == patient.id, LocalRole.role == "patient")))
    users = {int(p.split(":", 1)[1]) for p in ids
             if p.startswith("user:") and p[5:].isdigit()}
    if is_minor(patient, request.registry.getUtility(IClock).today()) \
            and minors_access(session, [patient])[patient.id]:
        for relation in ("parent1", "parent2", "guarantor"):
            phone, last, first, born = _person_of(patient, relation)
            if phone and born:
                users |= set(session.scalars(select(DirectoryAccount.user_id).where(
                    DirectoryAccount.phone == phone,
                    DirectoryAccount.last_name_key == last,
                    DirectoryAccount.first_name_key == first,
                    DirectoryAccount.birth_date == born)))
    return sorted(users)


# -- the worker's job ``reminders`` --------------------------------------------------------------

def _window_dates(now, days, at, tz):
    """Local dates D such that D at ``at`` (local) falls in [now - LATE, now]."""
    local_now = now.replace(tzinfo=timezone.utc).astimezone(tz).date()
    found = []
    for offset in (-1, 0):
        day = local_now + timedelta(days=offset)
        due = due_at(datetime.combine(day + timedelta(days=days), time()), days, at, tz)
        if now - LATE <= due <= now:
            found.append(day)
    return found


def candidate_appointments(request, now):
    """Scheduled appointments one rule of someone may remind of now."""
    session = request.dbsession
    tz = zone(request.registry)
    pairs = set(session.execute(select(ReminderRule.days_before, ReminderRule.at_time)
                                .distinct()).all()) | {DEFAULT}
    dates = {day + timedelta(days=days) for days, at in pairs
             for day in _window_dates(now, days, at, tz)}
    if not dates:
        return []
    table = Appointment.__table__
    ranges = [(table.c.starts_at >= datetime.combine(d, time()))
              & (table.c.starts_at < datetime.combine(d + timedelta(days=1), time()))
              for d in sorted(dates)]
    return list(session.scalars(select(Appointment).where(
        Appointment.state == "scheduled", Appointment.start > local_now(request),
        or_(*ranges)).order_by(Appointment.start, Appointment.id)))


def queue_due(request):
    """Queue every reminder due now; the number queued."""
    session = request.dbsession
    now = request.registry.getUtility(IClock).now()
    tz = zone(request.registry)
    queued = 0
    for appointment in candidate_appointments(request, now):
        patient = session.get(Patient, appointment.patient_id)
        if patient is None or portal_off(session, appointment, patient):
            continue
        texts = {}    # language -> text
        for user_id in recipients(request, patient):
            user = session.get(User, user_id)
            if user is None or not user.active or not reminders_on(session, user_id):
                continue
            for days, at, channel, _rule in effective_rules(session, user):
                due = due_at(appointment.start, days, at, tz)
                recipient = user.phone if channel == "sms" else user.email
                if not (now - LATE <= due <= now) or not recipient:
                    continue
                lang = language_of(request, user)
                if lang not in texts:
                    texts[lang] = _describe(request, appointment, lang)
                queued += queue(session, now, kind="reminder", channel=channel,
                                recipient=recipient, text=texts[lang], due=due,
                                subject=translate(request, SUBJECT, lang), user_id=user_id,
                                appointment_id=appointment.id,
                                dedup_key=dedup_key(appointment, user_id, days, at,
                                                    channel)) is not None
    return queued


def reminders_job(registry):
    from cabinet.worker import request_in_transaction
    with request_in_transaction(registry) as request:
        return f"{queue_due(request)} queued"


# -- checked again at send time ----------------------------------------------------------------

def stale_reason(request, row):
    """Why the reminder ``row`` must not leave any more, or None."""
    session = request.dbsession
    appointment = session.get(Appointment, row.appointment_id) \
        if row.appointment_id else None
    if appointment is None or appointment.state != "scheduled":
        return "Rendez-vous annulé."
    if appointment.start is None or appointment.start <= local_now(request):
        return "Rendez-vous passé."
    off = portal_off(session, appointment, session.get(Patient, appointment.patient_id))
    if off:
        return off
    parts = row.dedup_key.split(":")
    if len(parts) != 6 or parts[2] != f"{appointment.start:%Y%m%d%H%M}":
        return "Rendez-vous déplacé."
    user = session.get(User, row.user_id) if row.user_id else None
    # as written when queued, in the person's language then (which they may change)
    if row.text not in {_describe(request, appointment, lang) for lang in LANGUAGES}:
        return "Rendez-vous modifié."
    if user is None or not user.active:
        return "Compte désactivé."
    if not reminders_on(session, user.id):
        return "Rappels désactivés par la personne."
    if user.id not in recipients(request, session.get(Patient, appointment.patient_id)):
        return "Personne plus concernée par ce rendez-vous."
    rule = parts[5]
    if not any(f"{days}d{at.replace(':', '')}" == rule and channel == parts[4]
               for days, at, channel, _id in effective_rules(session, user)):
        return "Rappel supprimé par la personne."
    return None
