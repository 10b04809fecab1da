"""The console's statistics (issue #10, K5): each day's figures against counts made
here, independently, from events placed on known days with a moved clock (around
midnight in Luxembourg, across the change to summer time); the totals; bad periods
(nothing changed); the SVG charts (well-formed, one bar or point per day, with their
data table); a constant number of queries; who may see them."""
import re
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, select

from cabinet.models import (
    Cabinet, HistoryEntry, Node, OnlinePayment, Patient, PortalLogin, Signature,
)
from cabinet.resources import get_root
from cabinet.scripts.demo import _child
from cabinet.periods import PeriodError
from cabinet.statistics import offset_stretches, read_period
from tests.conftest import LEA, Api, login, patient_token

PARC = "/cabinets/parc"
LEROY = f"{PARC}/patients/leroy"
SVG = "{http://www.w3.org/2000/svg}"
LUXEMBOURG = ZoneInfo("Europe/Luxembourg")
#: the period of the tests: it holds the change to summer time (29 March 2026)
START, END = date(2026, 3, 25), date(2026, 4, 2)
SCHMIT = {"phone": "+352 621 000 004", "last_name": "Schmit", "first_name": "Marc",
          "birth_date": "1990-06-30"}


def local_day(utc):
    """The Luxembourg day of a naive UTC time, computed here without the code."""
    return utc.replace(tzinfo=timezone.utc).astimezone(LUXEMBOURG).date()


def days():
    return [START + timedelta(days=n) for n in range((END - START).days + 1)]


def node_id(request, path):
    return request.dbsession.scalar(select(Node.id).where(Node.path == path + "/"))


def stats(client, start=START, end=END, **kw):
    return client.get(f"{PARC}/@statistics?start={start}&end={end}", **kw)


# -- the events -------------------------------------------------------------------------------

#: naive UTC times: around the local midnight in winter (UTC+1) and summer (UTC+2),
#: just outside the period on both ends
LOGINS_BY_HTTP = [(datetime(2026, 3, 25, 10, 0), LEA),
                  (datetime(2026, 3, 25, 23, 30), SCHMIT),     # local 26th, 00:30
                  (datetime(2026, 3, 29, 22, 30), LEA)]        # local 30th, 00:30 (summer)
LOGIN_ROWS = [datetime(2026, 3, 24, 22, 59),     # local 24th 23:59: before the period
              datetime(2026, 3, 24, 23, 0),      # local 25th 00:00
              datetime(2026, 3, 29, 21, 30),     # local 29th 23:30
              datetime(2026, 4, 2, 21, 59),      # local 2 April 23:59: the last minute
              datetime(2026, 4, 2, 22, 0)]       # local 3 April: after the period
SIGNATURES = [datetime(2026, 3, 26, 8, 0), datetime(2026, 3, 26, 23, 15),
              datetime(2026, 3, 29, 0, 30), datetime(2026, 3, 31, 12, 0),
              datetime(2026, 3, 20, 12, 0)]          # before the period (in the total)
PAYMENTS = [(datetime(2026, 3, 27, 9, 0), "approved", "45.50"),
            (datetime(2026, 3, 27, 23, 5), "approved", "20.00"),   # local 28th
            (datetime(2026, 3, 27, 10, 0), "declined", "99.00"),   # never counted
            (datetime(2026, 3, 30, 12, 0), "approved", "0.99"),
            (datetime(2026, 4, 10, 12, 0), "approved", "10.00")]   # after (in the total)
#: (time, document or questionnaire, transition)
HISTORY = [(datetime(2026, 3, 28, 7, 0), "suivi", "fill"),
           (datetime(2026, 3, 28, 22, 45), "suivi", "fill"),       # local 29th 23:45
           (datetime(2026, 3, 28, 8, 0), "suivi", "validate"),     # not a fill
           (datetime(2026, 3, 25, 8, 0), "devis", "send"),
           (datetime(2026, 3, 31, 22, 10), "devis", "send"),       # again: local 1 April
           (datetime(2026, 4, 1, 9, 0), "ordonnance", "send"),
           (datetime(2026, 4, 1, 9, 30), "ordonnance", "withdraw")]


def place_events(testapp, registry, clock, db):
    """Every event of the lists above, at its time: logins through the patient login
    itself (the clock moved), the rest as the rows their features write. Also events
    of the other cabinet, which Parc's figures must not count."""
    for at, who in LOGINS_BY_HTTP:
        clock.set(at)
        patient_token(testapp, registry, who)
    with db() as request:
        session = request.dbsession
        root = get_root(request)
        other = _child(request, root["cabinets"], "Cabinet", "gare", "Cabinet de la Gare")
        _child(request, other["patients"], "Patient", "durand", "Paul Durand",
               first_name="Paul", last_name="Durand", birth_date=date(1970, 1, 1))
        session.flush()
        parc = session.scalar(select(Cabinet.id).where(Cabinet.path == PARC + "/"))
        gare = other.id
        leroy = node_id(request, LEROY)
        document = node_id(request, f"{LEROY}/documents/consentement")
        gare_record = node_id(request, "/cabinets/gare/patients/durand")
        for at in LOGIN_ROWS:
            session.add(PortalLogin(cabinet_id=parc, at=at))
        session.add(PortalLogin(cabinet_id=gare, at=datetime(2026, 3, 27, 10, 0)))
        for at in SIGNATURES:
            session.add(Signature(document_id=document, signed_at=at))
        session.add(Signature(document_id=gare_record, signed_at=datetime(2026, 3, 27, 9)))
        for n, (at, state, amount) in enumerate(PAYMENTS):
            session.add(OnlinePayment(reference=f"stat-{n}", patient_id=leroy,
                                      amount=Decimal(amount), state=state,
                                      created=at - timedelta(minutes=2), processed_at=at))
        paths = {"suivi": f"{LEROY}/questionnaires/suivi",
                 "devis": f"{LEROY}/documents/devis",
                 "ordonnance": f"{LEROY}/documents/ordonnance"}
        for at, name, transition in HISTORY:
            session.add(HistoryEntry(node_id=node_id(request, paths[name]), when=at,
                                     action="transition", transition=transition))
        session.add(HistoryEntry(node_id=gare_record, when=datetime(2026, 3, 27, 9),
                                 action="transition", transition="send"))


def expected_days():
    """{series: {day: figure}} counted from the lists above, in Luxembourg days."""
    period = set(days())
    counts = defaultdict(Counter)
    amounts = Counter()

    def count(series, at, by=1):
        if local_day(at) in period:
            counts[series][local_day(at)] += by

    for at, _who in LOGINS_BY_HTTP:
        count("logins", at)
    for at in LOGIN_ROWS:
        count("logins", at)
    for at in SIGNATURES:
        count("signatures", at)
    for at, state, amount in PAYMENTS:
        if state == "approved":
            count("payments", at)
            if local_day(at) in period:
                amounts[local_day(at)] += Decimal(amount)
    for at, name, transition in HISTORY:
        if transition == "fill":
            count("questionnaires", at)
        elif transition == "send":
            count("documents", at)
    out = {series: {d: counts[series][d] for d in days()}
           for series in ("logins", "signatures", "payments", "questionnaires",
                          "documents")}
    out["payments_amount"] = {d: f"{amounts[d]:.2f}" for d in days()}
    return out


# -- the figures -------------------------------------------------------------------------------

def test_each_day_and_the_totals_match_the_events(admin, api, testapp, registry, clock,
                                                  db):
    before = stats(admin).json
    assert all(day[s] in (0, "0.00") for day in before["days"] for s in day if s != "date"), \
        "the demo has no event in the test's period"
    place_events(testapp, registry, clock, db)
    admin = api("admin")               # (a token of the moved clock's time)

    data = stats(admin).json
    expected = expected_days()
    assert [d["date"] for d in data["days"]] == [d.isoformat() for d in days()]
    for series, by_day in expected.items():
        assert {date.fromisoformat(d["date"]): d[series] for d in data["days"]} == by_day, \
            series
        total = sum(by_day.values()) if series != "payments_amount" \
            else f"{sum(Decimal(v) for v in by_day.values()):.2f}"
        assert data["period_totals"][series] == total, series
    # a few figures written out, so that the independent count is checked too
    logins = {d["date"]: d["logins"] for d in data["days"]}
    assert logins["2026-03-25"] == 2          # 10:00 UTC and the local midnight
    assert logins["2026-03-26"] == 1          # 23:30 UTC in winter
    assert logins["2026-03-29"] == 1 and logins["2026-03-30"] == 1   # summer time
    assert logins["2026-04-02"] == 1
    assert data["period_totals"]["payments_amount"] == "66.49"
    assert data["timezone"] == "Europe/Luxembourg"

    # the demo's totals, counted here from its rows
    with db() as request:
        session = request.dbsession
        parc_nodes = {n.id: n.path for n in session.scalars(
            select(Node).where(Node.path.startswith(PARC + "/")))}
        linked = [p for p in session.scalars(select(Patient)) if p.user_id is not None]
        signed = list(session.scalars(select(Signature.document_id)))
    assert before["totals"]["portal_patients"] == sum(
        1 for p in linked if p.path.startswith(PARC + "/")) - 1    # Schmit is new
    assert before["totals"]["signatures"] == sum(1 for d in signed if d in parc_nodes) \
        - len(SIGNATURES)
    # the cabinet's totals since the start grew by what was added in Parc
    grown = {k: data["totals"][k] for k in ("portal_patients", "payments",
                                            "documents_sent", "signatures")}
    was = before["totals"]
    assert grown == {
        "portal_patients": was["portal_patients"] + 1,       # Marc Schmit's first login
        "payments": was["payments"] + 4,                    # approved ones, any day
        "documents_sent": was["documents_sent"] + 2,        # devis and ordonnance, once
        "signatures": was["signatures"] + len(SIGNATURES)}
    assert Decimal(data["totals"]["payments_amount"]) == \
        Decimal(was["payments_amount"]) + Decimal("76.49")


def test_a_portal_login_is_recorded_per_cabinet_at_the_clock_time(demo, testapp, registry,
                                                                  clock, db):
    clock.set(datetime(2026, 3, 12, 16, 45))
    patient_token(testapp, registry)            # Léa: her record and Hugo's, in Parc
    with db() as request:
        rows = request.dbsession.execute(
            select(PortalLogin.at, Node.path, PortalLogin.user_id)
            .join(Node, Node.id == PortalLogin.cabinet_id)
            .where(PortalLogin.at >= datetime(2026, 3, 11))).all()   # (not the demo's)
        lea = request.dbsession.scalar(select(Patient.user_id).where(
            Patient.path == LEROY + "/"))
    assert rows == [(datetime(2026, 3, 12, 16, 45), PARC + "/", lea)]


def test_days_without_events_are_zero_and_the_default_is_the_last_30_days(admin, clock):
    clock.set(datetime(2026, 3, 10, 9, 0))
    data = admin.get(f"{PARC}/@statistics").json
    assert (data["start"], data["end"]) == ("2026-02-09", "2026-03-10")
    assert len(data["days"]) == 30
    assert all(isinstance(d["logins"], int) for d in data["days"])


def test_the_number_of_queries_does_not_grow_with_the_period(admin, app):
    engine = app.registry["db_engine"]
    statements = []

    def count(*_args):
        statements.append(1)
    event.listen(engine, "before_cursor_execute", count)
    try:
        stats(admin, date(2026, 3, 1), date(2026, 3, 7))
        short = len(statements)
        statements.clear()
        stats(admin, date(2024, 3, 11), date(2026, 3, 10))      # two years
        long = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert short == long


def test_summer_time_stretches():
    lo, hi = datetime(2025, 12, 31, 23), datetime(2026, 12, 31, 23)
    assert offset_stretches(lo, hi, LUXEMBOURG) == [
        (datetime(2026, 3, 29, 1), 60), (datetime(2026, 10, 25, 1), 120), (None, 60)]


# -- bad periods ---------------------------------------------------------------------------------

@pytest.mark.parametrize("query, field, words", [
    ("start=2026-03-10&end=2026-03-09", "end", "avant de commencer"),
    ("start=2024-01-01&end=2026-01-01", "end", "deux ans"),
    ("start=2026-13-01&end=2026-03-09", "start", "Date invalide"),
    ("start=hier", "start", "Date invalide"),
    ("start=2026-03-01&end=2026-3-9", "end", "Date invalide"),
    ("start=2026-03-01&end=%C3%A9t%C3%A9-2026", "end", "Date invalide"),
])
def test_a_bad_period_is_refused_with_a_clear_message(admin, testapp, query, field, words):
    error = admin.get(f"{PARC}/@statistics?{query}", status=422).json
    assert error["type"] == "ValidationError"
    assert error["field"] == field and words in error["message"]
    assert words in error["errors"][field]
    login(testapp, "admin")
    page = testapp.get(f"{PARC}/@@statistics?{query}", status=422)
    message = page.html.select_one(f"#e-{field}")
    assert message is not None and words in message.get_text()
    assert page.html.select("svg") == []          # no figures for a period refused


def test_two_years_exactly_are_accepted(admin):
    data = stats(admin, date(2024, 1, 1), date(2025, 12, 31)).json
    assert len(data["days"]) == 731


def test_read_period_rules():
    today = date(2026, 3, 10)
    assert read_period({"start": "2026-03-01"}, today).end == today
    assert read_period({"end": "2026-02-28"}, today).start == date(2026, 1, 30)
    with pytest.raises(PeriodError):
        read_period({"start": "2024-02-29", "end": "2026-02-28"}, today)
    assert read_period({"start": "2024-02-29", "end": "2026-02-27"}, today)


# -- the page and its charts ------------------------------------------------------------------

def test_the_page_draws_a_chart_per_figure_with_a_bar_per_day(demo, api, testapp, registry,
                                                            clock, db):
    place_events(testapp, registry, clock, db)
    admin = api("admin")
    login(testapp, "admin")
    page = testapp.get(f"{PARC}/@@statistics?start={START}&end={END}")
    data = stats(admin).json
    figures = page.html.select("figure.chart-figure")
    assert [f["data-series"] for f in figures] == [
        "logins", "signatures", "payments", "payments_amount", "questionnaires",
        "documents"]
    for figure in figures:
        series = figure["data-series"]
        svg = ET.fromstring(str(figure.select_one("svg")))       # well-formed XML
        assert svg.tag == f"{SVG}svg"
        assert svg.get("role") == "img" and svg.get("aria-label")
        title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
        assert title is not None and title.text == svg.get("aria-label")
        assert desc is not None and desc.text
        assert svg.get("aria-describedby") == desc.get("id")
        marks = [e for e in svg.iter() if e.get("class") in ("bar", "point")]
        assert len(marks) == len(days())
        values = [d[series] for d in data["days"]]
        assert [m.get("data-value") for m in marks] == [str(v) for v in values]
        # the same figures in the data table next to the chart
        rows = figure.select("table tbody tr")
        assert len(rows) == len(days())
        if series != "payments_amount":
            assert [int(r.td.get_text()) for r in rows] == values
    bars = [e for e in ET.fromstring(str(figures[0].select_one("svg"))).iter()
            if e.get("class") == "bar"]
    heights = [float(b.get("height")) for b in bars]
    assert heights[0] == max(heights) and min(heights) == 0     # 25 March: 2 logins
    totals = page.html.select_one("#cabinet-totals")
    assert totals.select_one('[data-total="signatures"]').get_text() == \
        str(data["totals"]["signatures"])
    assert re.search(r"66,49\s€", page.html.select_one(
        'figure[data-series="payments_amount"] .period-total').get_text())


def test_the_cabinet_page_links_to_the_statistics(demo, testapp):
    login(testapp, "admin")
    page = testapp.get(PARC)
    assert page.html.select_one(f'a[href$="{PARC}/@@statistics"]') is not None


# -- who may see them ----------------------------------------------------------------------------

def test_the_cabinet_people_see_them_patients_and_other_cabinets_do_not(
        demo, testapp, registry, api):
    assert stats(api("dr.martin")).status_int == 200
    assert stats(api("sec.dupont")).status_int == 200
    lea = Api(testapp, patient_token(testapp, registry))
    assert stats(lea, status=403).json["type"] == "Forbidden"
    # nor from her own record, inside the cabinet
    assert lea.get(f"{LEROY}/@statistics", status=403).json["type"] == "Forbidden"
    assert api("dr.martin").get(f"{LEROY}/@statistics").json["@id"].endswith(
        f"{PARC}/@statistics")
    testapp.reset()
    assert testapp.get(f"{PARC}/@statistics", headers={"Accept": "application/json"},
                       status=401).json["type"] == "Unauthorized"


def test_the_demo_has_portal_logins_to_draw(admin, clock):
    data = admin.get(f"{PARC}/@statistics").json          # the last 30 days
    assert data["period_totals"]["logins"] == 6
    assert sum(1 for d in data["days"] if d["logins"]) == 5
