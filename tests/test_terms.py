"""Terms of use (A2): versions published by site administrators, acceptances with
version and time, and one mechanism keeping everybody who has not accepted the
current version out of everything except logging in and out, the terms themselves,
static files and the API description."""
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import event, func, select

from cabinet.models import TermsAcceptance, TermsVersion, User
from cabinet.passwords import hash_password
from tests.conftest import Api, api_token, login

DOC = "/cabinets/parc/patients/leroy/documents/consentement"
NEW_TEXT = "Version 2 des conditions.\nDeuxième ligne.\n\n<script>alert(1)</script> & co"


def publish(api, version="2026-02", text=NEW_TEXT, admin_accepts=True, **kw):
    """admin publishes a version (and, unless told otherwise, accepts it)."""
    admin = api("admin")
    response = admin.post("/@terms-admin", {"version": version, "text": text}, **kw)
    if admin_accepts and response.status_int == 201:
        admin.post("/@terms/accept", {"version": version})
    return response


def accept_button(html):
    form = BeautifulSoup(html, "html.parser").select_one("form#terms-accept")
    return form.select_one("button").get_text() if form else None


def add_user(db, login_name):
    with db() as request:
        request.dbsession.add(User(login=login_name, fullname=login_name.title(),
                                   password_hash=hash_password("pw")))


# -- the demo ------------------------------------------------------------------------------

def test_demo_users_have_accepted_the_demo_version(demo, api, clock):
    for name in ("admin", "dr.martin", "dr.weber", "sec.dupont", "p.leroy"):
        data = api(name).get("/@terms").json
        assert data["version"] == "2026-01"
        assert data["accepted"] is True
        assert data["accepted_at"] == "2026-03-10T09:00:00+00:00"
        assert "Conditions particulières" in data["text"]
    assert api("dr.martin").get(DOC).json["title"] == "Consentement éclairé"


def test_demo_is_idempotent(demo, db):
    from cabinet.scripts.demo import load_demo
    with db() as request:
        load_demo(request)
    with db() as request:
        session = request.dbsession
        assert session.scalar(select(func.count()).select_from(TermsVersion)) == 1
        users = session.scalar(select(func.count()).select_from(User))
        assert session.scalar(select(func.count()).select_from(TermsAcceptance)) == users


# -- a new version blocks everybody until accepted ------------------------------------------

def test_admin_publishes_through_the_form_and_must_accept_too(demo, testapp, clock):
    login(testapp, "admin")
    page = testapp.get("/@@terms-admin")
    assert "Publier une nouvelle version" in page.text
    assert "2026-01" in page.text          # the list of published versions
    form = page.forms["terms-publish"]
    form["version"] = "2026-02"
    form["text"] = NEW_TEXT
    response = form.submit()
    assert response.status_int == 303
    assert response.location == "http://localhost/@@terms"
    # the very next request leads to the acceptance page
    home = testapp.get("/")
    assert home.status_int == 303
    assert home.location == "http://localhost/@@terms?came_from=/"
    page = home.follow()
    assert "2026-02" in page.text and accept_button(page.text) == "J'accepte"


def test_html_user_is_sent_to_accept_and_back(demo, api, testapp, clock):
    publish(api)
    login(testapp, "dr.martin")
    response = testapp.get(DOC + "?x=1&y=2")
    assert response.status_int == 303
    parts = urlsplit(response.location)
    assert parts.path == "/@@terms"
    assert parse_qs(parts.query)["came_from"] == [DOC + "?x=1&y=2"]
    page = response.follow()
    soup = BeautifulSoup(page.text, "html.parser")
    text = soup.select_one(".terms-text")
    assert text.get_text() == NEW_TEXT         # line breaks kept (pre-wrap), text intact
    assert "<script>" not in page.text and "&lt;script&gt;" in page.text
    assert soup.select_one(".terms-version").get_text() == "2026-02"
    clock.set(datetime(2026, 3, 10, 14, 30))
    accepted = page.forms["terms-accept"].submit()
    assert accepted.status_int == 303
    assert accepted.location == "http://localhost" + DOC + "?x=1&y=2"
    assert "Consentement éclairé" in accepted.follow().text
    again = testapp.get("/@@terms")
    assert "Vous avez accepté cette version le 10/03/2026 à 14:30" in again.text
    assert accept_button(again.text) is None


def test_api_gets_403_terms_not_accepted_until_accepting(demo, api, clock):
    publish(api)
    martin = api("dr.martin")
    refused = martin.get(DOC, status=403)
    assert refused.json["type"] == "TermsNotAccepted"
    assert refused.json["terms"] == "http://localhost/@terms"
    assert "2026-02" in refused.json["message"]
    # writes are refused the same way, before anything happens
    assert martin.post(f"{DOC}/@workflow/withdraw", status=403).json["type"] == \
        "TermsNotAccepted"
    assert martin.get("/@search", status=403).json["type"] == "TermsNotAccepted"
    terms = martin.get("/@terms").json
    assert terms["version"] == "2026-02" and terms["text"] == NEW_TEXT
    assert terms["accepted"] is False and terms["accepted_at"] is None
    clock.set(datetime(2026, 3, 10, 11, 15))
    accepted = martin.post("/@terms/accept", {"version": "2026-02"}).json
    assert accepted["accepted"] is True and accepted["accepted_at"] == "2026-03-10T11:15:00+00:00"
    assert martin.get(DOC).json["title"] == "Consentement éclairé"
    # accepting again keeps the first time
    clock.set(datetime(2026, 3, 10, 12, 15))
    again = martin.post("/@terms/accept", {"version": "2026-02"}).json
    assert again["accepted_at"] == "2026-03-10T11:15:00+00:00"
    # the others are still held back
    assert api("dr.weber").get(DOC, status=403).json["type"] == "TermsNotAccepted"


def test_html_post_is_sent_to_the_terms_without_acting(demo, api, testapp, db):
    login(testapp, "dr.martin")
    token = testapp.get(DOC).forms[0]["csrf_token"].value
    publish(api)
    response = testapp.post(DOC + "/@@workflow/withdraw", {"csrf_token": token})
    assert response.status_int == 303
    assert response.location == "http://localhost/@@terms"
    with db() as request:
        from cabinet.models import Node
        doc = request.dbsession.scalar(select(Node).where(Node.path == DOC + "/"))
        assert doc.state == "sent"


def test_accepting_an_old_unknown_or_no_version(demo, api):
    publish(api)
    martin = api("dr.martin")
    old = martin.post("/@terms/accept", {"version": "2026-01"}, status=409).json
    assert old["type"] == "Conflict" and old["current_version"] == "2026-02"
    unknown = martin.post("/@terms/accept", {"version": "1999"}, status=409).json
    assert unknown["current_version"] == "2026-02"
    missing = martin.post("/@terms/accept", {}, status=422).json
    assert missing["current_version"] == "2026-02" and "version" in missing["errors"]
    wrong_type = martin.post("/@terms/accept", {"version": 3}, status=422).json
    assert "version" in wrong_type["errors"]
    bad_json = martin.testapp.post("/@terms/accept", "{", headers={
        **martin.headers, "Content-Type": "application/json"}, status=400)
    assert bad_json.json["type"] == "BadRequest"
    assert martin.get(DOC, status=403).json["type"] == "TermsNotAccepted"


def test_html_accept_of_a_stale_form_is_refused(demo, api, testapp):
    publish(api)
    login(testapp, "dr.martin")
    page = testapp.get("/@@terms")
    form = page.forms["terms-accept"]
    publish(api, version="2026-03", text="Troisième version")
    response = form.submit(status=409)
    assert "2026-03" in response.text
    assert testapp.get(DOC).status_int == 303


def test_accept_form_needs_the_csrf_token(demo, api, testapp):
    publish(api)
    login(testapp, "dr.martin")
    response = testapp.post("/@@terms", {"version": "2026-02"}, status=403)
    assert "jeton" in response.text.lower() or "security token" in response.text
    assert testapp.get(DOC).status_int == 303


# -- what stays open ---------------------------------------------------------------------

def test_exempt_login_logout_terms_static_openapi(demo, api, testapp):
    publish(api)
    # a fresh bearer token can still be obtained, @terms read, @logout called
    token = api_token(testapp, "dr.weber")
    weber = Api(testapp, token)
    assert weber.get("/@openapi.json").json["openapi"] == "3.1.0"
    assert weber.get("/@terms").json["accepted"] is False
    assert weber.post("/@logout").json["message"]
    # HTML: login, static files, the terms page, logout
    login(testapp, "dr.martin")
    assert testapp.get("/login").status_int == 200
    assert testapp.get("/static/cabinet.css").status_int == 200
    assert accept_button(testapp.get("/@@terms").text) == "J'accepte"
    csrf = testapp.get("/@@terms").forms["terms-accept"]["csrf_token"].value
    assert testapp.post("/logout", {"csrf_token": csrf}).status_int == 303
    # once logged out: the login flow, not the terms
    response = testapp.get(DOC)
    assert response.location.startswith("http://localhost/login?came_from=")


def test_exempt_names_only_on_the_root(demo, api, testapp):
    publish(api)
    martin = api("dr.martin")
    assert martin.get("/cabinets/parc/@terms", status=403).json["type"] == \
        "TermsNotAccepted"
    # publishing is not a way around: @terms-admin is not exempt
    admin = api("admin")
    publish(api, version="2026-03", admin_accepts=False)
    assert admin.post("/@terms-admin", {"version": "2026-09", "text": "x"},
                      status=403).json["type"] == "TermsNotAccepted"
    assert admin.get("/@terms-admin", status=403).json["type"] == "TermsNotAccepted"


def test_anonymous_visitors_go_to_the_login(demo, api, testapp):
    publish(api)
    response = testapp.get("/")
    assert response.status_int == 302
    assert response.location.startswith("http://localhost/login")
    assert testapp.get("/@terms", headers={"Accept": "application/json"},
                       status=401).json["type"] == "Unauthorized"


def test_without_published_terms_nothing_is_asked(app, db, testapp):
    add_user(db, "solo")
    api = Api(testapp, api_token(testapp, "solo", "pw"))
    assert api.get("/").json["@type"] == "Site"
    assert api.get("/@terms", status=404).json["type"] == "NotFound"
    assert api.post("/@terms/accept", {"version": "x"}, status=404).json["type"] == \
        "NotFound"
    login(testapp, "solo", "pw")
    assert "Aucune condition" in testapp.get("/@@terms").text


def test_a_new_user_must_accept_the_current_version(demo, db, testapp):
    add_user(db, "nouveau")
    api = Api(testapp, api_token(testapp, "nouveau", "pw"))
    assert api.get("/", status=403).json["type"] == "TermsNotAccepted"
    api.post("/@terms/accept", {"version": "2026-01"})
    assert api.get("/").json["@type"] == "Site"


# -- publishing -----------------------------------------------------------------------------

def test_only_site_administrators_publish(demo, api, testapp):
    for name in ("dr.martin", "sec.dupont", "p.leroy"):
        client = api(name)
        assert client.post("/@terms-admin", {"version": "x1", "text": "t"},
                           status=403).json["type"] == "Forbidden"
        assert client.get("/@terms-admin", status=403).json["type"] == "Forbidden"
    login(testapp, "dr.martin")
    assert testapp.get("/@@terms-admin", status=403).status_int == 403
    assert "Publier une nouvelle version" not in testapp.get("/@@terms").text
    assert api("dr.martin").get("/@terms").json["version"] == "2026-01"


def test_publish_json_and_list(demo, api, clock, db):
    clock.set(datetime(2026, 4, 1, 10, 0))
    created = publish(api, status=201).json
    assert created["version"] == "2026-02" and created["published"] == "2026-04-01T10:00:00+00:00"
    api_admin = api("admin")
    api_admin.post("/@terms/accept", {"version": "2026-02"})
    items = api_admin.get("/@terms-admin").json["items"]
    assert [i["version"] for i in items] == ["2026-02", "2026-01"]
    assert items[0]["current"] is True and items[0]["acceptances"] == 1
    assert items[0]["published_by"] == "Anne Admin"
    with db() as request:               # every demo user accepted the demo's version
        users = request.dbsession.scalar(select(func.count()).select_from(User))
    assert items[1]["acceptances"] == users >= 5


@pytest.mark.parametrize("body, status, field", [
    ({"version": "2026-01", "text": "déjà"}, 409, "version"),
    ({"version": "", "text": "x"}, 422, "version"),
    ({"version": "a b/c", "text": "x"}, 422, "version"),
    ({"version": "x" * 51, "text": "x"}, 422, "version"),
    ({"version": "2026-05", "text": "   "}, 422, "text"),
    ({"version": "2026-05"}, 422, "text"),
    ({"version": ["2026"], "text": {"a": 1}}, 422, "version"),
])
def test_publish_rejects_bad_input_and_writes_nothing(demo, api, db, body, status, field):
    data = api("admin").post("/@terms-admin", body, status=status).json
    assert field in data["errors"]
    with db() as request:
        assert request.dbsession.scalar(select(func.count()).select_from(TermsVersion)) == 1


def test_publish_form_shows_errors_next_to_the_fields(demo, testapp):
    login(testapp, "admin")
    form = testapp.get("/@@terms-admin").forms["terms-publish"]
    form["version"] = "2026-01"
    form["text"] = ""
    response = form.submit(status=422)
    soup = BeautifulSoup(response.text, "html.parser")
    assert "existe déjà" in soup.select_one("#e-version").get_text()
    assert "obligatoire" in soup.select_one("#e-text").get_text()
    assert soup.select_one("#f-version")["value"] == "2026-01"


# -- cost ------------------------------------------------------------------------------------

def count_queries(engine, testapp, url):
    statements = []

    def before(conn, cursor, statement, *args):
        statements.append(statement)
    event.listen(engine, "before_cursor_execute", before)
    try:
        testapp.get(url, status=200)
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return statements


def test_the_check_costs_no_query_of_its_own(demo, testapp, db, engine):
    """Whether the user has terms left to accept is read with the user (an identity
    fact): the page costs as many statements with published terms as without."""
    login(testapp, "dr.martin")
    testapp.get(DOC)                    # warm up
    with_terms = count_queries(engine, testapp, DOC)
    with db() as request:               # the same page on a site without terms
        request.dbsession.execute(TermsAcceptance.__table__.delete())
        request.dbsession.execute(TermsVersion.__table__.delete())
    without_terms = count_queries(engine, testapp, DOC)
    for statements in (with_terms, without_terms):
        reading_terms = [s for s in statements if "terms_" in s]
        assert len(reading_terms) == 1 and "FROM users" in reading_terms[0]
    assert len(with_terms) == len(without_terms)
