"""Logging in and out: the HTML form, bearer tokens, throttling and session cookies."""
import configparser
import hashlib
from datetime import datetime, timedelta, timezone
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
import webtest
from pyramid.settings import asbool
from sqlalchemy import select, text

from cabinet import main
from cabinet.models import ApiToken, User
from tests.conftest import login

HERE = Path(__file__).resolve().parents[2]
PARC = "/cabinets/parc"
FAILED = "Identifiant ou mot de passe incorrect."
JSON = {"Accept": "application/json"}




def session_cookie(testapp):
    return testapp.cookies.get("cabinet_session")


def set_cookie_headers(response, name="cabinet_session"):
    return [value for key, value in response.headerlist
            if key.lower() == "set-cookie" and value.startswith(name + "=")]


def csrf_token_of(page):
    """The CSRF token of the first form of a page that carries one."""
    for form in page.forms.values():
        if "csrf_token" in form.fields:
            return form["csrf_token"].value
    raise AssertionError("no form with a CSRF token on this page")


def json_login(testapp, login_name, password="demo", status=200, **kw):
    return testapp.post_json("/@login", {"login": login_name, "password": password},
                             status=status, **kw)


def bearer(token):
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


# -- the HTML form -----------------------------------------------------------------------

def test_login_form_carries_a_csrf_token(demo, testapp):
    page = testapp.get("/login")
    form = page.forms[0]
    assert form.method.lower() == "post"
    assert form["csrf_token"].value
    assert {"login", "password"} <= set(form.fields)
    assert form["password"].attrs.get("type") == "password"


def test_login_form_without_csrf_token_is_refused(demo, testapp):
    testapp.get("/login")
    response = testapp.post("/login", {"login": "dr.martin", "password": "demo"},
                            status=403)
    assert "jeton de sécurité" in response.text
    testapp.get(PARC, status=302)          # still anonymous


def test_wrong_password_shows_a_message_and_keeps_the_user_out(demo, testapp):
    form = testapp.get("/login").forms[0]
    form["login"] = "dr.martin"
    form["password"] = "not the password"
    response = form.submit(status=400)
    assert FAILED in response.text
    assert response.html.select_one("[role=alert]").get_text(strip=True) == FAILED
    # the login typed is kept, the password is not sent back
    assert response.forms[0]["login"].value == "dr.martin"
    assert "not the password" not in response.text
    response = testapp.get(PARC, status=302)
    assert "/login" in response.location


def test_unknown_login_gets_the_same_message(demo, testapp):
    form = testapp.get("/login").forms[0]
    form["login"] = "nobody.here"
    form["password"] = "demo"
    response = form.submit(status=400)
    assert FAILED in response.text


def test_login_starts_a_new_session(demo, testapp):
    page = testapp.get("/login")
    before_cookie = session_cookie(testapp)
    before_token = csrf_token_of(page)
    assert before_cookie

    form = page.forms[0]
    form["login"] = "dr.martin"
    form["password"] = "demo"
    response = form.submit(status=303)
    assert response.location == "http://localhost/"
    assert set_cookie_headers(response), "login must set a new session cookie"
    after_cookie = session_cookie(testapp)
    assert after_cookie and after_cookie != before_cookie

    home = response.follow()
    assert "Dr Paul Martin" in home.text
    assert csrf_token_of(home) != before_token, "the CSRF token must change at login"

    # the pre-login cookie (e.g. planted by an attacker) does not carry the login
    other = webtest.TestApp(testapp.app, extra_environ=testapp.extra_environ)
    other.set_cookie("cabinet_session", before_cookie)
    assert "/login" in other.get(PARC, status=302).location


def test_login_returns_to_came_from_but_only_locally(demo, testapp):
    page = testapp.get("/login?came_from=/cabinets/parc")
    form = page.forms[0]
    assert form["came_from"].value == "/cabinets/parc"
    form["login"] = "dr.martin"
    form["password"] = "demo"
    assert form.submit(status=303).location == "http://localhost/cabinets/parc"

    for target in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        other = webtest.TestApp(testapp.app, extra_environ=testapp.extra_environ)
        form = other.get("/login").forms[0]
        form["came_from"] = target
        form["login"] = "dr.martin"
        form["password"] = "demo"
        assert form.submit(status=303).location == "http://localhost/"


def test_anonymous_page_sends_to_login_and_back(demo, testapp):
    response = testapp.get("/cabinets/parc/patients/leroy", status=302)
    assert response.location.startswith("http://localhost/login?came_from=")
    form = response.follow().forms[0]
    form["login"] = "dr.martin"
    form["password"] = "demo"
    page = form.submit(status=303).follow()
    assert page.html.h1.get_text(strip=True) == "Léa Leroy"


def test_logout_ends_the_session(demo, testapp):
    login(testapp, "dr.martin")
    page = testapp.get(PARC)
    assert page.status_int == 200
    logout = [f for f in page.forms.values() if f.action.endswith("/logout")]
    assert len(logout) == 1, "every page of a signed-in user has a logout form"
    response = logout[0].submit(status=303)
    assert response.location == "http://localhost/login"
    assert "/login" in testapp.get(PARC, status=302).location
    testapp.get(PARC, headers=JSON, status=401)


def test_logout_needs_the_csrf_token(demo, testapp):
    login(testapp, "dr.martin")
    response = testapp.post("/logout", status=403)
    assert "jeton de sécurité" in response.text
    testapp.get(PARC, status=200)          # still signed in


def test_inactive_user_cannot_log_in(demo, testapp, db):
    with db() as request:
        request.dbsession.scalar(select(User).where(User.login == "dr.weber")).active = False
    form = testapp.get("/login").forms[0]
    form["login"] = "dr.weber"
    form["password"] = "demo"
    assert FAILED in form.submit(status=400).text
    json_login(testapp, "dr.weber", status=401)


# -- bearer tokens -------------------------------------------------------------------------

def test_api_login_returns_a_working_bearer_token(demo, testapp, clock):
    response = json_login(testapp, "dr.martin")
    data = response.json
    assert data["user"] == {"id": "dr.martin", "fullname": "Dr Paul Martin"}
    assert isinstance(data["token"], str) and len(data["token"]) >= 32
    assert datetime.fromisoformat(data["expires"]) == \
        (clock.now() + timedelta(hours=12)).replace(tzinfo=timezone.utc)
    assert not set_cookie_headers(response), "a token login opens no cookie session"

    page = testapp.get(PARC, headers=bearer(data["token"]))
    assert page.json["@id"] == "http://localhost/cabinets/parc"
    assert page.json["title"] == "Cabinet dentaire du Parc"


def test_api_login_failures(demo, testapp):
    response = json_login(testapp, "dr.martin", "wrong", status=401)
    assert response.json == {"type": "Unauthorized", "message": FAILED}
    response = json_login(testapp, "nobody.here", "demo", status=401)
    assert response.json["message"] == FAILED
    response = testapp.post_json("/@login", {"login": "dr.martin"}, status=400)
    assert response.json["type"] == "BadRequest"
    response = testapp.post_json("/@login", {"login": "dr.martin", "password": 1234},
                                 status=400)
    assert response.json["type"] == "BadRequest"


def test_bad_bearer_token_is_401(demo, testapp):
    for value in ("Bearer not-a-token", "Bearer ", "Basic ZHIubWFydGluOmRlbW8="):
        response = testapp.get(PARC, headers={"Authorization": value}, status=401)
        assert response.json["type"] == "Unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_tokens_are_stored_hashed(demo, testapp, db):
    token = json_login(testapp, "dr.martin").json["token"]
    with db() as request:
        rows = request.dbsession.execute(text("SELECT * FROM api_tokens")).all()
        user_id = request.dbsession.scalar(select(User.id).where(User.login == "dr.martin"))
    assert len(rows) == 1
    for value in rows[0]:
        assert token not in str(value)
    with db() as request:
        stored = request.dbsession.scalar(select(ApiToken))
        assert stored.user_id == user_id
        assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()


def test_token_expires(demo, testapp, clock):
    token = json_login(testapp, "dr.martin").json["token"]
    clock.advance(hours=11, minutes=59)
    testapp.get(PARC, headers=bearer(token), status=200)
    clock.advance(minutes=1)
    response = testapp.get(PARC, headers=bearer(token), status=401)
    assert response.json["type"] == "Unauthorized"
    assert "Cabinet dentaire" not in response.text
    # a fresh login gives a fresh token
    token = json_login(testapp, "dr.martin").json["token"]
    testapp.get(PARC, headers=bearer(token), status=200)


def test_logout_revokes_the_token(demo, testapp, db):
    token = json_login(testapp, "dr.martin").json["token"]
    other = json_login(testapp, "dr.martin").json["token"]
    testapp.get(PARC, headers=bearer(token), status=200)

    response = testapp.post_json("/@logout", {}, headers=bearer(token))
    assert response.json["message"]
    testapp.get(PARC, headers=bearer(token), status=401)
    # only that token: the user's other session goes on
    testapp.get(PARC, headers=bearer(other), status=200)
    with db() as request:
        revoked = [t.revoked is not None for t in request.dbsession.scalars(
            select(ApiToken).order_by(ApiToken.id))]
    assert revoked == [True, False]


# -- throttling ----------------------------------------------------------------------------

def test_failures_throttle_the_account(demo, testapp):
    for _ in range(5):
        json_login(testapp, "dr.martin", "wrong", status=401)
    response = json_login(testapp, "dr.martin", "demo", status=429)
    assert response.json["type"] == "TooManyRequests"
    assert "token" not in response.json
    # the HTML form is throttled as well, with a page
    form = testapp.get("/login").forms[0]
    form["login"] = "dr.martin"
    form["password"] = "demo"
    page = form.submit(status=429)
    assert "Trop de tentatives" in page.text
    testapp.get(PARC, status=302)
    # from another address too: the account is what is protected
    json_login(testapp, "dr.martin", "demo", status=429,
               extra_environ={"REMOTE_ADDR": "192.0.2.77"})
    # other accounts are not affected
    json_login(testapp, "dr.weber", "demo", status=200)


def test_login_name_variants_share_one_counter(demo, testapp):
    for variant in ("dr.martin", "DR.MARTIN", " dr.martin", "Dr.Martin ", "dr.martin"):
        json_login(testapp, variant, "wrong", status=401)
    json_login(testapp, "dr.martin", "demo", status=429)


def test_failures_throttle_the_address(demo, testapp):
    for n in range(30):
        json_login(testapp, f"guess{n}", "wrong", status=401)
    json_login(testapp, "dr.weber", "demo", status=429)
    # another address is not affected
    json_login(testapp, "dr.weber", "demo", status=200,
               extra_environ={"REMOTE_ADDR": "192.0.2.10"})


def test_address_throttle_ignores_forged_forwarded_for(app, demo, settings):
    """X-Forwarded-For is set by the client unless a trusted proxy rewrites it
    (waitress does so in production.ini and sets REMOTE_ADDR): it must not give
    each guess a new address. (A low limit keeps this test short.)"""
    app = main({}, **{**settings, "cabinet.ratelimit.login.address": "3/15minute"})
    client = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost",
                                                 "REMOTE_ADDR": "127.0.0.1"})
    for n in range(3):
        json_login(client, f"guess{n}", "wrong", status=401,
                   headers={"X-Forwarded-For": f"198.51.100.{n}"})
    json_login(client, "dr.weber", "demo", status=429,
               headers={"X-Forwarded-For": "198.51.100.200"})
    json_login(client, "dr.weber", "demo", status=200,
               extra_environ={"REMOTE_ADDR": "192.0.2.10"})


# -- cookies -------------------------------------------------------------------------------

def cookie_attributes(header):
    cookie = SimpleCookie()
    cookie.load(header)
    morsel = cookie["cabinet_session"]
    lowered = header.lower()
    return morsel, lowered


def test_session_cookie_is_httponly_and_samesite_lax(demo, testapp):
    form = testapp.get("/login").forms[0]
    form["login"] = "dr.martin"
    form["password"] = "demo"
    response = form.submit(status=303)
    headers = set_cookie_headers(response)
    assert headers
    for header in headers:
        morsel, lowered = cookie_attributes(header)
        assert morsel["httponly"]
        assert morsel["samesite"].lower() == "lax"
        assert morsel["path"] == "/"
        assert "secure" not in [part.strip() for part in lowered.split(";")]


def test_production_ini_sets_secure_cookies(app, settings):
    parser = configparser.ConfigParser(defaults={"here": str(HERE)})
    parser.read(HERE / "production.ini")
    production = parser["app:main"]
    assert asbool(production.get("cabinet.secure_cookies"))
    # and the application honours it
    app = main({}, **{**settings, "cabinet.secure_cookies": production["cabinet.secure_cookies"]})
    client = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost",
                                                 "REMOTE_ADDR": "127.0.0.1"})
    response = client.get("/login")
    headers = set_cookie_headers(response)
    assert headers
    for header in headers:
        morsel, _lowered = cookie_attributes(header)
        assert morsel["secure"]
        assert morsel["httponly"]
        assert morsel["samesite"].lower() == "lax"
