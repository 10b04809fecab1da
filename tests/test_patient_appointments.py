"""The patient's and guardian's appointments (issue #9, P1): coming ones and the
history, "ajouter à mon agenda" (.ics parsed back with icalendar), "aller au cabinet"
(map link), and the private calendar feed (create, read without a session, revoke),
with no health data in any calendar and nobody else's appointments."""
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urljoin, urlparse

import pytest
from icalendar import Calendar
from sqlalchemy import select

from cabinet.models import LocalRole, Node, User
from cabinet.scripts.demo import _demo_hash
from tests.conftest import login
from tests.test_appointments import accept_terms, patient_token

PARC = "/cabinets/parc"
LEROY = f"{PARC}/patients/leroy"
HUGO = f"{PARC}/patients/hugo-leroy"
BERNARD = f"{PARC}/patients/bernard"
ADDRESS = "12 rue du Parc, L-1234 Luxembourg"
# the clock stands at 2026-03-10 09:00 UTC (10:00 in Luxembourg); Léa's appointments:
# 13/03 10:00 (coming), 18/02 14:00 (done), 15/03 09:00 (cancelled); Hugo's: 20/03
# 16:00 (coming), 29/01 11:00 (done)
HEALTH_WORDS = ("Consultation", "Contrôle", "Controle", "Martin", "Weber", "Léa", "Hugo",
                "Leroy", "Salle")


@pytest.fixture
def lea(demo, testapp, registry):
    """Léa Leroy, the patient and Hugo's guardian, signed in on the pages."""
    patient_token(testapp, registry)     # her directory account (guardian of Hugo)
    login(testapp, "p.leroy")
    return testapp


def csrf(page):
    return page.html.select_one("input[name=csrf_token]")["value"]


def cards(page):
    return page.html.select("li.appointment")


def events(body):
    calendar = Calendar.from_ical(body)
    return calendar, list(calendar.walk("VEVENT"))


def node_ids(db, *paths):
    with db() as request:
        return {path: request.dbsession.scalar(select(Node.id).where(Node.path == path))
                for path in paths}


def add_patient_user(db, login_name, record):
    """A user who is the patient of ``record``, with the terms accepted."""
    with db() as request:
        session = request.dbsession
        user = User(login=login_name, fullname=login_name, email=f"{login_name}@example.org",
                    password_hash=_demo_hash("demo"))
        session.add(user)
        session.flush()
        node = session.scalar(select(Node).where(Node.path == record + "/"))
        session.add(LocalRole(node_id=node.id, principal=user.principal, role="patient"))
        accept_terms(request)


def book(db, registry, record, name, start):
    """An appointment of ``record`` (through the API's own code path)."""
    from cabinet.appointments import Values, create_appointment
    from cabinet.models import AppointmentType, Professional
    with db() as request:
        session = request.dbsession
        folder = session.scalar(select(Node).where(Node.path == record + "/appointments/"))
        kind = session.scalar(select(AppointmentType).where(
            AppointmentType.name == "consultation"))
        pro = session.scalar(select(Professional).where(Professional.name == "martin"))
        create_appointment(request, folder, Values(kind, pro, start,
                                                   start + timedelta(minutes=30)),
                           name=name)


# -- the page -----------------------------------------------------------------------------

def test_coming_appointments_then_all_in_chronological_order(lea):
    page = lea.get("/@@my-appointments")
    texts = [c.get_text(" ", strip=True) for c in cards(page)]
    assert len(texts) == 2
    assert "13/03/2026 10:00" in texts[0] and "Dr Paul Martin" in texts[0]
    assert "Consultation" in texts[0] and "Pour Léa Leroy" in texts[0]
    assert "20/03/2026 16:00" in texts[1] and "Dr Eva Weber" in texts[1]
    assert "Contrôle" in texts[1] and "Pour Hugo Leroy" in texts[1]
    link = page.html.find("a", string="Tout afficher")
    every = lea.get(urljoin("/@@my-appointments", link["href"]))
    starts = [c.select_one("time")["datetime"] for c in cards(every)]
    assert len(starts) == 5 and starts == sorted(starts)
    assert starts[0].startswith("2026-01-29T11:00") and starts[-1].startswith("2026-03-20")
    assert "Annulé" in every.text
    assert every.html.find("a", string="Prochains rendez-vous")


def test_each_appointment_has_its_calendar_file_and_map_link(lea):
    page = lea.get("/@@my-appointments")
    for card in cards(page):
        ics = card.select_one("a.ics")
        assert ics.get_text(strip=True) == "Ajouter à mon agenda"
        assert ics["href"].endswith("@ics")
        # hers and, as his guardian, Hugo's
        assert lea.get(ics["href"]).content_type == "text/calendar"
        place = card.select_one("a.map")
        assert place.get_text(" ", strip=True).startswith("Aller au cabinet")
        url = urlparse(place["href"])
        assert (url.scheme, url.netloc, url.path) == ("https", "www.openstreetmap.org",
                                                      "/search")
        assert parse_qs(url.query)["query"] == [ADDRESS]


def test_the_ics_parses_back_with_time_zone_address_and_no_health_data(lea, db):
    page = lea.get("/@@my-appointments")
    href = cards(page)[0].select_one("a.ics")["href"]
    response = lea.get(href)
    assert response.content_type == "text/calendar"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert ".ics" in response.headers["Content-Disposition"]
    calendar, found = events(response.body)
    assert len(found) == 1
    event = found[0]
    start, end = event["DTSTART"].dt, event["DTEND"].dt
    assert event["DTSTART"].params["TZID"] == "Europe/Luxembourg"
    assert start.replace(tzinfo=None) == datetime(2026, 3, 13, 10, 0)
    assert end.replace(tzinfo=None) == datetime(2026, 3, 13, 10, 30)
    assert start.utcoffset() == timedelta(hours=1)              # CET in March
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Luxembourg"]
    assert str(event["LOCATION"]) == ADDRESS
    assert str(event["SUMMARY"]) == "Rendez-vous — Cabinet dentaire du Parc"
    path = LEROY + "/appointments/consultation-a-venir/"
    assert str(event["UID"]) == f"appointment-{node_ids(db, path)[path]}@cabinet"
    text = response.body.decode("utf-8")
    for word in HEALTH_WORDS:
        assert word not in text, word
    assert "DESCRIPTION" not in text
    # the same file twice: the same UID (a calendar replaces rather than duplicates)
    assert events(lea.get(href).body)[1][0]["UID"] == event["UID"]


def test_a_summer_appointment_is_in_summer_time(lea, db, registry):
    book(db, registry, LEROY, "ete", datetime(2026, 7, 2, 15, 0))
    event = events(lea.get(LEROY + "/appointments/ete/@ics").body)[1][0]
    assert event["DTSTART"].dt.utcoffset() == timedelta(hours=2)
    assert event["DTSTART"].dt.replace(tzinfo=None) == datetime(2026, 7, 2, 15, 0)


def test_another_patient_cannot_download_this_patients_ics(demo, testapp, db):
    add_patient_user(db, "p.bernard", BERNARD)
    login(testapp, "p.bernard")
    for path in ("/appointments/consultation-a-venir/@ics",):
        response = testapp.get(LEROY + path, status="*")
        assert response.status_int in (403, 404)
        assert "BEGIN:VCALENDAR" not in response.text
    testapp.get(HUGO + "/appointments/controle-hugo/@ics", status=(403, 404))


def test_anonymous_visitors_cannot_download_an_ics(demo, testapp):
    response = testapp.get(LEROY + "/appointments/consultation-a-venir/@ics", status=401)
    assert "VCALENDAR" not in response.text


# -- the private feed -------------------------------------------------------------------------

def create(testapp):
    page = testapp.get("/@@my-appointments")
    form = next(f for f in page.forms.values() if f.action.endswith("/@@calendar-feed"))
    answer = form.submit(status=200)
    return answer, answer.html.select_one("input.feed-url-input")["value"]


def path_of(url):
    return url[len("http://localhost"):]


def test_feed_create_read_revoke(lea, db, testapp):
    page = lea.get("/@@my-appointments")
    assert page.html.find("button", string="Créer mon calendrier privé")
    answer, url = create(lea)
    assert "/@calendar/" in url and url.endswith(".ics")
    assert answer.html.find("button", string="Supprimer le calendrier privé")
    # the URL is shown once: the page afterwards says the feed is active, not its URL
    again = lea.get("/@@my-appointments")
    assert url not in again.text and "Calendrier privé actif depuis le" in again.text
    # read without a session
    lea.reset()
    response = testapp.get(path_of(url))
    assert response.content_type == "text/calendar"
    calendar, found = events(response.body)
    ids = node_ids(db, *(p + "/" for p in (
        LEROY + "/appointments/consultation-a-venir", LEROY + "/appointments/controle-passe",
        LEROY + "/appointments/controle-annule", HUGO + "/appointments/controle-hugo",
        HUGO + "/appointments/consultation-hugo-passee")))
    by_uid = {str(e["UID"]): e for e in found}
    expected = {f"appointment-{ids[p + '/']}@cabinet" for p in (
        LEROY + "/appointments/consultation-a-venir", LEROY + "/appointments/controle-passe",
        HUGO + "/appointments/controle-hugo", HUGO + "/appointments/consultation-hugo-passee")}
    assert set(by_uid) == expected          # the cancelled one is not there
    starts = [e["DTSTART"].dt.replace(tzinfo=None) for e in found]
    assert starts == sorted(starts) and starts[0] == datetime(2026, 1, 29, 11, 0)
    for event in found:
        assert event["DTSTART"].params["TZID"] == "Europe/Luxembourg"
        assert str(event["SUMMARY"]) == "Rendez-vous — Cabinet dentaire du Parc"
        assert str(event["LOCATION"]) == ADDRESS
    text = response.body.decode("utf-8")
    for word in HEALTH_WORDS:
        assert word not in text, word
    # revoke: the old URL answers 404
    login(lea, "p.leroy")
    page = lea.get("/@@my-appointments")
    form = next(f for f in page.forms.values() if f.action.endswith("/@@calendar-feed-revoke"))
    done = form.submit(status=303).follow()
    assert "ne fonctionne plus" in done.text
    assert done.html.find("button", string="Créer mon calendrier privé")
    lea.reset()
    testapp.get(path_of(url), status=404)


def test_feed_older_than_90_days_is_left_out(lea, db, registry, testapp):
    book(db, registry, LEROY, "ancien", datetime(2025, 11, 20, 9, 0))
    _answer, url = create(lea)
    found = events(testapp.get(path_of(url)).body)[1]
    assert len(found) == 4
    assert all(e["DTSTART"].dt.replace(tzinfo=None) >= datetime(2025, 12, 10, 10, 0)
               for e in found)


def test_a_new_url_replaces_the_former_one(lea, testapp):
    _answer, first = create(lea)
    _answer, second = create(lea)
    assert first != second
    testapp.get(path_of(first), status=404)
    assert events(testapp.get(path_of(second)).body)[1]


def test_another_users_feed_never_shows_this_patient(demo, db, testapp, registry):
    add_patient_user(db, "p.bernard", BERNARD)
    book(db, registry, BERNARD, "bernard-rdv", datetime(2026, 3, 16, 8, 0))
    login(testapp, "p.bernard")
    _answer, url = create(testapp)
    testapp.reset()
    found = events(testapp.get(path_of(url)).body)[1]
    ids = node_ids(db, BERNARD + "/appointments/bernard-rdv/")
    assert [str(e["UID"]) for e in found] == [
        f"appointment-{ids[BERNARD + '/appointments/bernard-rdv/']}@cabinet"]
    # and guessing is no way in
    for token in ("x", "0" * 43, "../" + "a" * 40):
        assert testapp.get(f"/@calendar/{token}.ics", status="*").status_int == 404


def test_the_feed_posts_need_the_csrf_token(lea, db):
    from cabinet.models import CalendarFeed
    refused = lea.post("/@@calendar-feed", {}, status=403)
    assert "security token" in refused.text or "jeton" in refused.text
    with db() as request:
        assert request.dbsession.scalar(select(CalendarFeed)) is None
    create(lea)
    lea.post("/@@calendar-feed-revoke", {}, status=403)
    lea.post("/@@calendar-feed-revoke", {"csrf_token": "forged"}, status=403)
    # the JSON API with the session cookie needs the token too (X-CSRF-Token)
    lea.post_json("/@calendar-feed", {}, status=403)
    lea.delete("/@calendar-feed", headers={"Accept": "application/json"}, status=403)
    with db() as request:
        assert request.dbsession.scalar(select(CalendarFeed)) is not None


def test_staff_have_no_feed(demo, testapp):
    login(testapp, "dr.martin")
    page = testapp.get("/@@my-appointments")
    assert not page.html.select("section.calendar-feed")
    testapp.post("/@@calendar-feed", {"csrf_token": csrf(testapp.get("/"))}, status=403)


def test_the_feed_in_json(demo, testapp, registry):
    from tests.conftest import Api
    lea = Api(testapp, patient_token(testapp, registry))
    assert lea.get("/@calendar-feed").json["active"] is False
    created = lea.post("/@calendar-feed", {}, status=201).json
    assert created["active"] is True and created["url"].endswith(".ics")
    assert lea.get("/@calendar-feed").json == {**created, "url": None}
    assert events(testapp.get(path_of(created["url"])).body)[1]
    lea.delete("/@calendar-feed", status=204)
    testapp.get(path_of(created["url"]), status=404)
    lea.delete("/@calendar-feed", status=404)
