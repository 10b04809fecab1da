"""Sessions (issue #6): a new session at login, an idle timeout of 20 minutes, an
absolute lifetime (8 hours for staff), logout and account disabling effective on the
next request (a copy of an old cookie included), cookie attributes."""
from datetime import timedelta
from http.cookies import SimpleCookie

import pyramid.session
import webtest
from sqlalchemy import update

from cabinet import main
from cabinet.models import User
from tests.conftest import login

PAGE = "/cabinets/parc"


def session_cookie(testapp):
    return testapp.cookies["cabinet_session"]


def signed_in(testapp, cookie=None):
    """Whether the cabinet page opens (a refused session is sent to the login page)."""
    headers = {"Cookie": f"cabinet_session={cookie}"} if cookie else {}
    response = testapp.get(PAGE, headers=headers, expect_errors=True)
    if response.status_int == 200:
        return True
    assert response.status_int in (302, 303) and "/login" in response.location
    return False


def test_login_starts_a_new_session(demo, testapp):
    testapp.get("/login")
    before = session_cookie(testapp)
    login(testapp, "dr.martin")
    assert session_cookie(testapp) != before
    fresh = webtest.TestApp(demo, extra_environ={"HTTP_HOST": "localhost"})
    assert not signed_in(fresh, before)          # the anonymous session stays anonymous


def test_absolute_lifetime_of_eight_hours_for_staff(demo, testapp, clock):
    login(testapp, "dr.martin")
    start = clock.now()
    clock.set(start + timedelta(hours=7, minutes=59))
    assert signed_in(testapp)
    clock.set(start + timedelta(hours=8))
    assert not signed_in(testapp)


def test_idle_timeout_of_twenty_minutes(demo, testapp, monkeypatch):
    now = [1_800_000_000.0]

    class Time:
        @staticmethod
        def time():
            return now[0]
    monkeypatch.setattr(pyramid.session, "time", Time)
    login(testapp, "dr.martin")
    now[0] += 19 * 60
    assert signed_in(testapp)                    # activity keeps it alive...
    now[0] += 19 * 60
    assert signed_in(testapp)
    now[0] += 20 * 60 + 1
    assert not signed_in(testapp)                # ...and 20 idle minutes end it


def test_logout_refuses_every_copy_of_the_cookie(demo, testapp):
    login(testapp, "dr.martin")
    stolen = session_cookie(testapp)
    other = webtest.TestApp(demo, extra_environ={"HTTP_HOST": "localhost"})
    login(other, "dr.martin")                    # the same person on another device
    page = testapp.get(PAGE)
    form = next(f for f in page.forms.values() if f.action.endswith("/logout"))
    form.submit(status=303)                      # the page's "log out" button
    replay = webtest.TestApp(demo, extra_environ={"HTTP_HOST": "localhost"})
    assert not signed_in(replay, stolen)
    assert not signed_in(other)                  # logging out ends them all
    login(testapp, "dr.martin")                  # and a new login works
    assert signed_in(testapp)


def test_a_disabled_account_is_refused_at_the_next_request(demo, testapp, engine):
    login(testapp, "dr.martin")
    assert signed_in(testapp)
    with engine.begin() as conn:
        conn.execute(update(User.__table__).where(User.__table__.c.login == "dr.martin")
                     .values(active=False))
    assert not signed_in(testapp)


def test_cookie_attributes(demo, testapp, settings, engine):
    response = login(testapp, "dr.martin")
    morsel = SimpleCookie(response.headers["Set-Cookie"])["cabinet_session"]
    assert morsel["httponly"] and morsel["samesite"] == "Lax"
    assert not morsel["domain"]                  # host-only
    assert not morsel["secure"]                  # development.ini: plain http
    production = main({}, **{**settings, "cabinet.secure_cookies": "true"})
    secure = webtest.TestApp(production, extra_environ={"HTTP_HOST": "localhost",
                                                        "wsgi.url_scheme": "https"})
    response = login(secure, "dr.martin")
    assert SimpleCookie(response.headers["Set-Cookie"])["cabinet_session"]["secure"]


def test_hsts_is_sent_when_the_production_setting_names_it(demo, testapp, settings):
    assert "Strict-Transport-Security" not in testapp.get("/login").headers
    production = main({}, **{**settings, "cabinet.hsts": "max-age=31536000; includeSubDomains"})
    client = webtest.TestApp(production, extra_environ={"HTTP_HOST": "localhost"})
    for response in (client.get("/login"), client.get("/nowhere", status=404)):
        assert response.headers["Strict-Transport-Security"] == \
            "max-age=31536000; includeSubDomains"


def test_absolute_lifetime_of_one_hour_for_patients(demo, testapp, registry, clock):
    from tests.views.test_patient_login import LEA, fill, last_code
    code_page = fill(testapp.get("/patient/login").forms[0], LEA).submit(status=303).follow()
    form = code_page.forms[0]
    form["code"] = last_code(registry)
    form.submit(status=303)
    start = clock.now()
    mine = "/my-patients"
    assert testapp.get(mine).status_int == 200
    clock.set(start + timedelta(minutes=59))
    assert testapp.get(mine).status_int == 200
    clock.set(start + timedelta(hours=1))
    assert testapp.get(mine, expect_errors=True).status_int in (302, 303)
