"""Errors as people and programs see them: 404, 403, 401 / login redirect, 409, CSRF,
security headers, no 500 for bad input, and nothing half-written when a request fails."""
import pytest
from sqlalchemy import event, func, select

from cabinet.content import add_node
from cabinet.interfaces import IAfterTransition
from cabinet.models import HistoryEntry, Node
from cabinet.resources import get_root
from tests.conftest import login

PARC = "/cabinets/parc"
LEROY = f"{PARC}/patients/leroy"
DEVIS = f"{LEROY}/documents/devis"
CONSENT = f"{LEROY}/documents/consentement"
JSON = {"Accept": "application/json"}
HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}

SECRET_TITLE = "Biopsie 7Q-ZULU confidentielle"
SECRET_TEXT = "carcinome suspecté XK-4471"
SECRET = f"{PARC}/patients/bernard/documents/biopsie"




@pytest.fixture
def secret(demo, db):
    """A document of another patient (Hugo Bernard) that p.leroy must learn nothing of."""
    with db() as request:
        documents = get_root(request)["cabinets"]["parc"]["patients"]["bernard"]["documents"]
        node = add_node(request.dbsession, request.registry, documents, "Document",
                        name="biopsie", title=SECRET_TITLE, description=SECRET_TEXT,
                        needs_signature=True)
        node.state = "sent"
    return SECRET


def state_of(db, path):
    with db() as request:
        return request.dbsession.scalar(select(Node.state).where(Node.path == path + "/"))


def history_count(db, path=None):
    with db() as request:
        stmt = select(func.count(HistoryEntry.id))
        if path is not None:
            stmt = stmt.join(Node, Node.id == HistoryEntry.node_id).where(
                Node.path == path + "/")
        return request.dbsession.scalar(stmt)


def csrf_token(testapp, path=PARC):
    page = testapp.get(path, headers=HTML)
    return page.html.select_one("input[name=csrf_token]")["value"]


def assert_json_error(response, status, type_):
    assert response.status_int == status
    assert response.content_type == "application/json"
    assert response.json["type"] == type_
    assert isinstance(response.json["message"], str) and response.json["message"]


def assert_html_error(response, status):
    assert response.status_int == status
    assert response.content_type == "text/html"
    assert response.html.h1.get_text(strip=True).startswith(str(status))


# -- 404 ---------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/nowhere", f"{PARC}/nowhere", f"{LEROY}/documents/none",
                                  f"{DEVIS}/deeper/still"])
def test_unknown_path_is_404_in_html_and_json(demo, testapp, api, path):
    login(testapp, "dr.martin")
    page = testapp.get(path, headers=HTML, status=404)
    assert_html_error(page, 404)
    assert "Page introuvable" in page.text
    assert_json_error(testapp.get(path, headers=JSON, status=404), 404, "NotFound")
    assert_json_error(api("dr.martin").get(path, status=404), 404, "NotFound")


def test_unknown_api_names_are_404_json(demo, api):
    martin = api("dr.martin")
    assert_json_error(martin.get(f"{DEVIS}/@nonsense", status=404), 404, "NotFound")
    response = martin.post(f"{DEVIS}/@workflow/fly", {}, status=404)
    assert_json_error(response, 404, "NotFound")
    assert "fly" in response.json["message"]


def test_anonymous_unknown_path_is_404(demo, testapp):
    assert_html_error(testapp.get("/nowhere", headers=HTML, status=404), 404)
    assert_json_error(testapp.get("/nowhere", headers=JSON, status=404), 404, "NotFound")


@pytest.mark.parametrize("method,path,allowed", [
    ("PUT", DEVIS, {"GET", "HEAD", "PATCH", "DELETE"}),
    ("PATCH", f"{LEROY}/documents", {"GET", "HEAD", "POST"}),
    ("DELETE", f"{DEVIS}/@history", {"GET", "HEAD"}),
])
def test_a_method_a_resource_does_not_answer_is_405_with_allow(demo, api, method, path,
                                                              allowed):
    """Not a 404: the resource is there; the Allow header names what it answers."""
    martin = api("dr.martin")
    response = martin.testapp.request(path, method=method, headers=martin.headers,
                                      body=b"{}", content_type="application/json",
                                      status=405)
    assert_json_error(response, 405, "MethodNotAllowed")
    assert allowed <= set(response.headers["Allow"].split(", "))
    assert method not in response.headers["Allow"].split(", ")
    assert response.json["allowed"] == response.headers["Allow"].split(", ")


def test_a_method_on_a_resource_one_may_not_read_stays_404(demo, api, testapp):
    """Whoever may not read a resource learns nothing of the methods it answers."""
    leroy = api("p.leroy")
    response = leroy.testapp.request(f"{PARC}/patients/bernard/documents/devis",
                                     method="PUT", headers=leroy.headers, body=b"{}",
                                     content_type="application/json", status=404)
    assert "Allow" not in response.headers
    assert testapp.request(DEVIS, method="PUT", headers=JSON, status=404)


# -- 403, 401, redirect to the login page --------------------------------------------------

def test_not_allowed_is_403_for_a_signed_in_user(demo, testapp, api):
    login(testapp, "p.leroy")
    page = testapp.get(f"{PARC}/patients/bernard", headers=HTML, status=403)
    assert_html_error(page, 403)
    assert "Accès refusé" in page.text
    assert_json_error(testapp.get(f"{PARC}/patients/bernard", headers=JSON, status=403),
                      403, "Forbidden")
    assert_json_error(api("p.leroy").get(PARC, status=403), 403, "Forbidden")
    # her own record is fine
    testapp.get(LEROY, headers=HTML, status=200)


def test_anonymous_html_goes_to_the_login_page(demo, testapp):
    response = testapp.get(f"{LEROY}/documents?b_start=0&b_size=50", headers=HTML, status=302)
    assert response.location.startswith("http://localhost/login?came_from=")
    came_from = response.follow().forms[0]["came_from"].value
    assert came_from == f"{LEROY}/documents?b_start=0&b_size=50"


@pytest.mark.parametrize("method, path", [
    ("GET", PARC), ("GET", DEVIS), ("GET", f"{DEVIS}/@workflow"), ("GET", f"{DEVIS}/@history"),
    ("GET", "/@search"), ("PATCH", DEVIS), ("DELETE", DEVIS),
    ("POST", f"{DEVIS}/@workflow/send"), ("POST", f"{LEROY}/documents")])
def test_anonymous_json_is_401(demo, testapp, db, method, path):
    response = testapp.request(path, method=method, headers=JSON, body=b"{}",
                               content_type="application/json", status=401)
    assert_json_error(response, 401, "Unauthorized")
    assert "Bearer" in response.headers["WWW-Authenticate"]
    assert state_of(db, DEVIS) == "pending"


def test_api_views_answer_json_even_without_accept(demo, testapp):
    response = testapp.get(f"{DEVIS}/@workflow", status=401)
    assert_json_error(response, 401, "Unauthorized")


PROBES = [("GET", "", HTML), ("GET", "", JSON), ("GET", "/@workflow", JSON),
          ("GET", "/@history", JSON), ("GET", "/@sharing", JSON),
          ("GET", "/@permissions", JSON), ("GET", "/@@sharing", HTML),
          ("GET", "/@@permissions", HTML), ("PATCH", "", JSON), ("DELETE", "", JSON),
          ("POST", "/@workflow/sign", JSON), ("POST", "/@workflow/withdraw", JSON),
          ("GET", "/nothing", JSON), ("GET", "/nothing", HTML)]


@pytest.mark.parametrize("method, suffix, accept", PROBES,
                         ids=[f"{m} {s or '/'} {a['Accept'][:9]}" for m, s, a in PROBES])
def test_refusals_tell_nothing_of_the_resource(secret, api, method, suffix, accept):
    leroy = api("p.leroy")
    headers = {**leroy.headers, **accept}
    body = b'{"title": "x"}' if method in ("PATCH", "POST") else b""
    response = leroy.testapp.request(secret + suffix, method=method, headers=headers,
                                     body=body, content_type="application/json",
                                     status="*")
    assert response.status_int in (403, 404)
    for fragment in (SECRET_TITLE, "7Q-ZULU", SECRET_TEXT, "XK-4471", "Hugo Bernard"):
        assert fragment not in response.text


def test_refusals_to_anonymous_tell_nothing(secret, testapp):
    for headers, status in ((HTML, 302), (JSON, 401)):
        response = testapp.get(secret, headers=headers, status=status)
        assert SECRET_TITLE not in response.text and "7Q-ZULU" not in response.text


def test_the_secret_is_there_for_those_allowed(secret, api):
    """(So that the tests above look at a real resource.)"""
    assert api("dr.martin").get(secret).json["title"] == SECRET_TITLE


# -- 409 ---------------------------------------------------------------------------------

def test_transition_not_available_is_409(demo, testapp, api, db):
    response = api("dr.martin").post(f"{CONSENT}/@workflow/send", {}, status=409)
    assert_json_error(response, 409, "Conflict")
    assert response.json["review_state"] == "sent"
    # the page's form gives a page with the current state
    login(testapp, "dr.martin")
    token = csrf_token(testapp, CONSENT)
    page = testapp.post(f"{CONSENT}/@@workflow", {"csrf_token": token, "transition": "send"},
                        headers=HTML, status=409)
    assert_html_error(page, 409)
    assert page.html.select_one(".badge")["class"] == ["badge", "state-sent"]
    assert state_of(db, CONSENT) == "sent"


# -- CSRF ----------------------------------------------------------------------------------

def test_cookie_session_needs_the_csrf_token_json(demo, testapp, db):
    login(testapp, "dr.martin")
    response = testapp.patch_json(DEVIS, {"title": "No token"}, headers=JSON, status=403)
    assert_json_error(response, 403, "CSRFError")
    assert "jeton de sécurité" in response.json["message"]
    response = testapp.patch_json(DEVIS, {"title": "Bad token"},
                                  headers={**JSON, "X-CSRF-Token": "forged"}, status=403)
    assert_json_error(response, 403, "CSRFError")
    testapp.post_json(f"{DEVIS}/@workflow/send", {}, headers=JSON, status=403)
    testapp.delete(DEVIS, headers=JSON, status=403)
    with db() as request:
        title = request.dbsession.scalar(select(Node.title).where(Node.path == DEVIS + "/"))
    assert title == "Devis de traitement"
    assert state_of(db, DEVIS) == "pending"

    token = csrf_token(testapp)
    response = testapp.patch_json(DEVIS, {"title": "With token"},
                                  headers={**JSON, "X-CSRF-Token": token})
    assert response.json["title"] == "With token"
    testapp.post_json(f"{DEVIS}/@workflow/send", {}, headers={**JSON, "X-CSRF-Token": token})
    assert state_of(db, DEVIS) == "sent"


def test_cookie_session_needs_the_csrf_token_html(demo, testapp, db):
    login(testapp, "dr.martin")
    page = testapp.post(f"{DEVIS}/@@workflow", {"transition": "send"}, headers=HTML,
                        status=403)
    assert_html_error(page, 403)
    assert "jeton de sécurité" in page.text
    assert state_of(db, DEVIS) == "pending"
    token = csrf_token(testapp, DEVIS)
    testapp.post(f"{DEVIS}/@@workflow", {"transition": "send", "csrf_token": token},
                 headers=HTML, status=303)
    assert state_of(db, DEVIS) == "sent"


def test_bearer_tokens_need_no_csrf_token(demo, api, db):
    martin = api("dr.martin")
    martin.patch(DEVIS, {"title": "By token"}, status=200)
    martin.post(f"{DEVIS}/@workflow/send", {}, status=200)
    assert state_of(db, CONSENT) == "sent"
    assert state_of(db, DEVIS) == "sent"


def test_a_bad_authorization_header_does_not_fall_back_to_the_cookie(demo, testapp, db):
    """Skipping the CSRF check for Authorization requests must not let such a request
    act with the cookie session."""
    login(testapp, "dr.martin")
    for value in ("Bearer forged", "Basic ZHIubWFydGluOmRlbW8="):
        response = testapp.patch_json(DEVIS, {"title": "Forged"},
                                      headers={"Authorization": value}, status=401)
        assert_json_error(response, 401, "Unauthorized")
        testapp.post_json(f"{DEVIS}/@workflow/send", {}, headers={"Authorization": value},
                          status=401)
    assert state_of(db, DEVIS) == "pending"
    testapp.get(DEVIS, headers=HTML, status=200)        # the session itself goes on


# -- security headers ----------------------------------------------------------------------

def check_headers(response, authenticated):
    headers = response.headers
    where = f"{response.request.method} {response.request.path_qs} -> {response.status}"
    csp = headers.get("Content-Security-Policy", "")
    assert "default-src 'self'" in csp, where
    assert "frame-ancestors 'none'" in csp, where
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp, where
    assert "object-src 'none'" in csp and "base-uri 'none'" in csp, where
    assert "form-action 'self'" in csp, where
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("Referrer-Policy") in ("same-origin", "no-referrer",
                                              "strict-origin-when-cross-origin"), where
    if authenticated:
        assert "no-store" in headers.get("Cache-Control", ""), where


def test_security_headers_on_every_response(demo, testapp, api):
    anonymous = [testapp.get("/login"), testapp.get(PARC, headers=HTML, status=302),
                 testapp.get(PARC, headers=JSON, status=401),
                 testapp.get("/nowhere", status=404),
                 testapp.get("/@openapi.json"),
                 testapp.post_json("/@login", {"login": "x", "password": "y"}, status=401),
                 testapp.post("/@login", "{", content_type="application/json", status=400),
                 testapp.get("/static/cabinet.css")]
    for response in anonymous:
        check_headers(response, authenticated=False)

    martin = api("dr.martin")
    login(testapp, "dr.martin")
    signed_in = [testapp.get("/"), testapp.get(PARC), testapp.get(DEVIS),
                 testapp.get(DEVIS, headers=JSON), testapp.get(f"{DEVIS}/@@sharing"),
                 testapp.get("/nowhere", status=404),
                 testapp.patch_json(DEVIS, {}, headers=JSON, status=403),
                 martin.get(DEVIS), martin.get(f"{DEVIS}/@workflow"),
                 martin.get(f"{DEVIS}/@history"), martin.get("/@search"),
                 martin.patch(DEVIS, {"title": "x"}),
                 martin.patch(DEVIS, {"title": 1}, status=422),
                 martin.post(f"{CONSENT}/@workflow/send", {}, status=409),
                 api("p.leroy").get(PARC, status=403)]
    for response in signed_in:
        check_headers(response, authenticated=True)


# -- never a 500 for bad input --------------------------------------------------------------

BAD_REQUESTS = [
    ("GET", "/cabinets/%ff", None), ("GET", "/%C0%AF", None),
    ("GET", f"{PARC}/patients?b_start=%ff", None), ("GET", "/@search?review_state=%ff", None),
    ("GET", "/cabinets/%00", None), ("GET", f"{PARC}/patients?b_start=%00", None),
    ("GET", "/@search?review_state=%00", None), ("GET", "/@search?path=/%00", None),
    ("GET", f"{LEROY}/@permissions?user=%00", None), ("GET", f"{PARC}/@sharing?search=%00", None),
    ("GET", f"{PARC}/patients?b_start=99999999999999999999", None),
    ("GET", "/@search?b_size=99999999999999999999", None),
    ("PUT", DEVIS, b"{}"), ("OPTIONS", DEVIS, None), ("PATCH", DEVIS, b'{"title": "\\u0000"}'),
    ("POST", "/@login", b'{"login": "a\\u0000", "password": "x"}'),
    ("POST", f"{LEROY}/documents", b'{"@type": "Document", "id": "a\\u0000", "title": "x"}'),
    ("POST", f"{DEVIS}/@workflow/send", b'{"comment": ["not", "text"]}'),
    ("POST", f"{DEVIS}/@workflow/send", b'{"comment": "x\\u0000"}'),
    ("PATCH", DEVIS, b"\x00\x01\x02"),
]


@pytest.mark.parametrize("method, path, body", BAD_REQUESTS,
                         ids=[f"{m} {p[-40:]}" for m, p, _b in BAD_REQUESTS])
def test_bad_input_is_never_a_500(demo, api, db, method, path, body):
    martin = api("dr.martin")
    response = martin.testapp.request(path, method=method, headers=martin.headers,
                                      body=body or b"", content_type="application/json",
                                      status="*", expect_errors=True)
    assert 400 <= response.status_int < 500, (response.status, response.text[:300])
    assert response.content_type == "application/json"
    assert response.json["type"] and response.json["message"]
    assert state_of(db, DEVIS) == "pending"


def test_bad_input_in_a_form_is_never_a_500(demo, testapp, db):
    login(testapp, "dr.martin")
    token = csrf_token(testapp, DEVIS)
    for fields in ({"transition": "send\x00", "csrf_token": token},
                   {"transition": "send", "comment": "a\x00b", "csrf_token": token}):
        response = testapp.post(f"{DEVIS}/@@workflow", fields, headers=HTML, status="*")
        assert 400 <= response.status_int < 500, response.status
    response = testapp.post(f"{DEVIS}/@@workflow", b"transition=%ff&csrf_token=" +
                            token.encode(), headers=HTML,
                            content_type="application/x-www-form-urlencoded", status="*")
    assert 400 <= response.status_int < 500, response.status
    assert state_of(db, DEVIS) == "pending"


def test_bad_addresses_give_a_page_to_a_signed_in_user(demo, testapp):
    from bs4 import BeautifulSoup
    from webob import Request
    login(testapp, "dr.martin")
    cookie = f"cabinet_session={testapp.cookies['cabinet_session']}"
    # straight to the WSGI app: webtest's cookie jar cannot handle such addresses
    for path in ("/cabinets/%ff", "/cabinets/%00", f"{PARC}/patients?b_start=%ff"):
        request = Request.blank(path, headers={**HTML, "Cookie": cookie},
                                environ={"HTTP_HOST": "localhost", "REMOTE_ADDR": "127.0.0.1"})
        response = request.get_response(testapp.app)
        assert response.status_int == 400, (path, response.status)
        assert response.content_type == "text/html"
        html = BeautifulSoup(response.text, "html.parser")
        assert html.h1.get_text(strip=True).startswith("400")
        assert "Dr Paul Martin" in response.text        # still the signed-in layout
        assert response.headers["X-Content-Type-Options"] == "nosniff"


# -- nothing half-written ---------------------------------------------------------------------

@pytest.fixture
def failing_subscriber(app):
    """Every transition fails after the state change and the history row are written."""
    def explode(event):
        raise RuntimeError("a subscriber failed: XK-4471")
    app.registry.registerHandler(explode, (IAfterTransition,))
    yield
    app.registry.unregisterHandler(explode, (IAfterTransition,))


def test_an_exception_after_a_write_leaves_nothing(demo, failing_subscriber, api, db):
    rows = history_count(db)
    response = api("dr.martin").post(f"{DEVIS}/@workflow/send", {"comment": "go"},
                                     status=500)
    assert_json_error(response, 500, "ServerError")
    assert "XK-4471" not in response.text and "Traceback" not in response.text
    assert state_of(db, DEVIS) == "pending"
    assert history_count(db) == rows
    with db() as request:
        version = request.dbsession.scalar(select(Node.version).where(
            Node.path == DEVIS + "/"))
    assert version == 1


def test_an_exception_after_a_write_leaves_nothing_html(demo, failing_subscriber, testapp,
                                                        db):
    rows = history_count(db)
    login(testapp, "dr.martin")
    token = csrf_token(testapp, DEVIS)
    page = testapp.post(f"{DEVIS}/@@workflow", {"transition": "send", "csrf_token": token},
                        headers=HTML, status=500)
    assert_html_error(page, 500)
    assert "XK-4471" not in page.text
    assert state_of(db, DEVIS) == "pending"
    assert history_count(db) == rows


def test_a_failing_commit_leaves_nothing(demo, app, api, db):
    """The edit and its history row are written at commit; if the commit fails,
    neither is kept and the client is told."""
    martin = api("dr.martin")
    rows = history_count(db, DEVIS)
    factory = app.registry["dbsession_factory"]

    def refuse(session):
        raise RuntimeError("the database refused the commit")
    event.listen(factory, "before_commit", refuse)
    try:
        response = martin.patch(DEVIS, {"title": "Never saved"}, status=500)
    finally:
        event.remove(factory, "before_commit", refuse)
    assert_json_error(response, 500, "ServerError")
    assert martin.get(DEVIS).json["title"] == "Devis de traitement"
    assert history_count(db, DEVIS) == rows
