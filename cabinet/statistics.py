"""The console's statistics (issue #10, K5): for one cabinet, per day over a period,
the portal logins (patients and guardians), the signatures, the online payments
(count and amount), the questionnaires filled and the documents sent; and the
cabinet's totals since the start: patients using the portal, payments, documents
sent, signatures.

Where each figure comes from:

- portal logins: ``portal_logins`` (one row per cabinet for each SMS-code login,
  cabinet.patient_login.record_portal_login);
- signatures: ``signatures`` (the evidence row of each signed document or
  questionnaire response), by ``signed_at``;
- payments: ``online_payments`` approved by the provider, by ``processed_at``;
- questionnaires filled, documents sent: the ``history`` of the ``fill`` transitions
  of questionnaire responses and of the ``send`` transitions of documents (a
  document sent again after being withdrawn counts again on that day; the total
  counts each document once);
- patients using the portal: the cabinet's patient records linked to a portal
  account (linked at the person's first login).

Days are the cabinet's calendar days (setting ``cabinet.timezone``, by default
Europe/Luxembourg) while the database keeps UTC: each figure is one SQL query
grouped by the local day of its time (PostgreSQL converts with its own time zone
data; SQLite adds the UTC offset of each stretch of the period between two changes
of the offset, computed here). Days without events are 0. The whole page is five
queries whatever the length of the period.
"""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import Date, String, and_, case, cast, func, literal, select

from cabinet.models import (
    HistoryEntry, Node, OnlinePayment, Patient, PortalLogin, Signature,
)
from cabinet.periods import check_period, parse_day

DEFAULT_DAYS = 30
#: the nodes table itself: joining the Node entity would outer-join every subtype
N = Node.__table__
#: the daily series, in the order of the page
SERIES = ("logins", "signatures", "payments", "payments_amount", "questionnaires",
          "documents")


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    @property
    def days(self):
        return [self.start + timedelta(days=n)
                for n in range((self.end - self.start).days + 1)]


def read_period(params, today):
    """The Period of ``params`` (``start``, ``end``: YYYY-MM-DD, each optional), by
    default the last 30 days up to ``today``; raises PeriodError."""
    start_raw, end_raw = params.get("start") or "", params.get("end") or ""
    end = parse_day(end_raw, "end") if end_raw else today
    start = parse_day(start_raw, "start") if start_raw \
        else end - timedelta(days=DEFAULT_DAYS - 1)
    check_period(start, end, "end")
    return Period(start, end)


# -- local days in SQL -------------------------------------------------------------------

def subtree(path):
    """Rows of ``nodes`` at or below ``path`` (cabinet.search.subtree, on the table)."""
    return and_(N.c.path >= path, N.c.path < path[:-1] + "0")


def zone_of(registry):
    return ZoneInfo(registry.settings.get("cabinet.timezone") or "Europe/Luxembourg")


def utc_of_local_midnight(day, zone):
    """The naive UTC time at which ``day`` starts in ``zone``."""
    local = datetime.combine(day, time.min, tzinfo=zone)
    return local.astimezone(timezone.utc).replace(tzinfo=None)


def _offset_minutes(utc, zone):
    return int(utc.replace(tzinfo=timezone.utc).astimezone(zone).utcoffset()
               .total_seconds() // 60)


def offset_stretches(lo, hi, zone):
    """[(until, minutes)]: from ``lo`` to ``hi`` (naive UTC), the UTC offset of
    ``zone`` in minutes, each valid until the next one's start (the last one's
    ``until`` is None). The period is scanned by day (a zone changes its offset at
    most once a day), the minute of a change found by bisection."""
    minute = timedelta(minutes=1)
    stretches, current, cursor = [], _offset_minutes(lo, zone), lo
    while cursor < hi:
        following = min(cursor + timedelta(days=1), hi)
        if _offset_minutes(following, zone) != current:
            before, after = cursor, following
            while after - before > minute:
                middle = before + minute * ((after - before) // minute // 2)
                if _offset_minutes(middle, zone) == current:
                    before = middle
                else:
                    after = middle
            stretches.append((after, current))
            current = _offset_minutes(after, zone)
        cursor = following
    stretches.append((None, current))
    return stretches


def local_day(column, dialect, zone, lo, hi):
    """SQL: the date, in ``zone``, of the naive UTC time ``column`` (between ``lo``
    and ``hi``)."""
    if dialect == "postgresql":
        utc = func.timezone(literal("UTC", String), column)
        return cast(func.timezone(literal(zone.key, String), utc), Date)
    stretches = offset_stretches(lo, hi, zone)
    modifiers = [(until, f"{minutes:+d} minutes") for until, minutes in stretches]
    if len(modifiers) == 1:
        return func.date(column, literal(modifiers[0][1], String))
    shift = case(*[(column < until, literal(text, String))
                   for until, text in modifiers[:-1]],
                 else_=literal(modifiers[-1][1], String))
    return func.date(column, shift)


def _as_date(value):
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


# -- the figures ----------------------------------------------------------------------------

@dataclass
class Statistics:
    period: Period
    #: {series: {day: number}} (every day of the period, 0 when nothing happened)
    daily: dict
    #: {series: number} over the period
    period_totals: dict
    #: the cabinet's totals since the start
    totals: dict


def compute(request, cabinet, period):
    """The Statistics of ``cabinet`` over ``period``: five queries."""
    session = request.dbsession
    dialect = session.get_bind().dialect.name
    zone = zone_of(request.registry)
    lo = utc_of_local_midnight(period.start, zone)
    hi = utc_of_local_midnight(period.end + timedelta(days=1), zone)
    inside = subtree(cabinet.path)

    def day(column):
        return local_day(column, dialect, zone, lo, hi).label("day")

    daily = {name: {d: 0 for d in period.days} for name in SERIES}
    daily["payments_amount"] = {d: Decimal("0.00") for d in period.days}

    def collect(rows, *names):
        for row in rows:
            d = _as_date(row.day)
            if d in daily[names[0]]:
                for name, value in zip(names, row[1:]):
                    daily[name][d] += value if value is not None else 0

    logins_day = day(PortalLogin.at)
    collect(session.execute(
        select(logins_day, func.count())
        .where(PortalLogin.cabinet_id == cabinet.id, PortalLogin.at >= lo,
               PortalLogin.at < hi).group_by("day")), "logins")

    signed_day = day(Signature.signed_at)
    collect(session.execute(
        select(signed_day, func.count())
        .join(N, N.c.id == Signature.document_id)
        .where(inside, Signature.signed_at >= lo, Signature.signed_at < hi)
        .group_by("day")), "signatures")

    paid_day = day(OnlinePayment.processed_at)
    collect(session.execute(
        select(paid_day, func.count(), func.sum(OnlinePayment.amount))
        .join(N, N.c.id == OnlinePayment.patient_id)
        .where(inside, OnlinePayment.state == "approved",
               OnlinePayment.processed_at >= lo, OnlinePayment.processed_at < hi)
        .group_by("day")), "payments", "payments_amount")

    history_day = day(HistoryEntry.when)
    filled = and_(HistoryEntry.transition == "fill", N.c.type == "questionnaire")
    sent = and_(HistoryEntry.transition == "send", N.c.type == "document")
    collect(session.execute(
        select(history_day, func.sum(case((filled, 1), else_=0)),
               func.sum(case((sent, 1), else_=0)))
        .join(N, N.c.id == HistoryEntry.node_id)
        .where(inside, filled | sent, HistoryEntry.when >= lo, HistoryEntry.when < hi)
        .group_by("day")), "questionnaires", "documents")

    daily["payments_amount"] = {d: Decimal(v).quantize(Decimal("0.01"))
                                for d, v in daily["payments_amount"].items()}
    period_totals = {name: sum(values.values()) for name, values in daily.items()}
    period_totals["payments_amount"] = Decimal(period_totals["payments_amount"]) \
        .quantize(Decimal("0.01"))
    return Statistics(period, daily, period_totals, cabinet_totals(session, cabinet))


def cabinet_totals(session, cabinet):
    """The cabinet's totals since the start, in one query: patients using the portal,
    approved payments (count, amount), documents sent (each once), signatures."""
    inside = subtree(cabinet.path)
    P = Patient.__table__
    patients = select(func.count()).select_from(N.join(P, P.c.id == N.c.id)) \
        .where(inside, P.c.user_id.is_not(None)).scalar_subquery()
    payments = select(func.count(), func.coalesce(func.sum(OnlinePayment.amount), 0)) \
        .join(N, N.c.id == OnlinePayment.patient_id) \
        .where(inside, OnlinePayment.state == "approved").subquery()
    documents = select(func.count(func.distinct(HistoryEntry.node_id))) \
        .join(N, N.c.id == HistoryEntry.node_id) \
        .where(inside, HistoryEntry.transition == "send", N.c.type == "document") \
        .scalar_subquery()
    signatures = select(func.count()).select_from(Signature) \
        .join(N, N.c.id == Signature.document_id).where(inside).scalar_subquery()
    cols = list(payments.c)
    row = session.execute(select(patients.label("patients"), cols[0], cols[1],
                                 documents.label("documents"),
                                 signatures.label("signatures"))).one()
    return {"portal_patients": int(row[0] or 0), "payments": int(row[1] or 0),
            "payments_amount": Decimal(row[2] or 0).quantize(Decimal("0.01")),
            "documents_sent": int(row[3] or 0), "signatures": int(row[4] or 0)}

