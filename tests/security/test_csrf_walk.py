"""A walk over every unsafe view (POST, PUT, PATCH, DELETE) Pyramid has registered, as
signed-in people whose browser carries their session cookie but whose request comes
from another site (no CSRF token): each view refuses with the CSRF error, and nothing
in the database changes.

Pyramid checks the permission before the token, so the walk signs in as a user who
holds every grantable role on the site root (hence everywhere below it): each view
lets them reach its token check. Views that take no session (the JSON log-ins,
which answer a bearer token) are the allow-list below."""
import webtest
from sqlalchemy import func, select

from cabinet.content import add_node
from cabinet.interfaces import IClock
from cabinet.models import HistoryEntry, LocalRole, Node, TermsVersion, User
from cabinet.roles import GRANTABLE_ROLES
from cabinet.scripts import script_request
from cabinet.scripts.demo import _demo_hash
from cabinet.terms import accept_for_all_users
from tests.conftest import login
from tests.security.test_route_walk import anonymous_cases, view_key

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
#: (view name, method) -> why it needs no CSRF token
NO_SESSION = {
    ("@login", "POST"): "answers a bearer token for a login and password; no session used",
    ("@patient-login", "POST"): "patient login in JSON; answers a bearer token",
    ("logout", "POST"): "logging out cannot act for anyone (ends the session)",
    ("@logout", "POST"): "same, in JSON",
    ("payment_callback", "POST"): "the payment provider's server-to-server callback: no "
                                  "session, no cookie used; its HMAC signature is checked",
}
#: (context, view name, method) -> why no one can reach its token check in the demo
UNREACHABLE = {
    ("ISite", "@sharing", "POST"): "no role manages sharing on the site root",
    ("ISite", "sharing", "POST"): "same, the page",
}
CSRF_MESSAGE = "Le jeton de sécurité de ce formulaire manque ou a expiré"


def walker(app):
    """A user holding every grantable role on the root; the login."""
    request = script_request(app.registry)
    with request.tm:
        session = request.dbsession
        user = User(login="csrf.walker", fullname="CSRF Walker", email="walker@example.org",
                    password_hash=_demo_hash("demo"))
        session.add(user)
        session.flush()
        root = session.scalar(select(Node).where(Node.path == "/"))
        for role in GRANTABLE_ROLES:
            session.add(LocalRole(node_id=root.id, principal=user.principal, role=role))
        # a questionnaire still pending: only such a one may be edited or deleted
        folder = session.scalar(select(Node).where(
            Node.path == "/cabinets/parc/patients/leroy/questionnaires/"))
        add_node(session, request.registry, folder, "QuestionnaireResponse",
                 name="walk-pending", title="En attente")
        terms = session.scalar(select(TermsVersion).order_by(TermsVersion.id.desc()))
        accept_for_all_users(session, terms, request.registry.getUtility(IClock).now())
    return "csrf.walker"


def database_state(app):
    """What a forged request could change: the count of nodes, local roles and
    history entries, and the latest modification."""
    request = script_request(app.registry)
    with request.tm:
        session = request.dbsession
        return (session.scalar(select(func.count(Node.id))),
                session.scalar(select(func.max(Node.modified))),
                session.scalar(select(func.count(LocalRole.id))),
                session.scalar(select(func.count(HistoryEntry.id))))


def forged(client, url, method, accept):
    """The request another site's form or script would make: the cookie, no token."""
    headers = {"Accept": accept}
    if method == "POST":
        response = client.post(url, {"title": "forged"}, headers=headers, expect_errors=True)
        if response.status_int == 404:      # a view for uploads only (multipart)
            response = client.post(url, {"title": "forged"}, headers=headers,
                                   upload_files=[("file", "f.pdf", b"%PDF-1.4\n%%EOF")],
                                   expect_errors=True)
        return response
    body = b'{"title": "forged"}'
    return client.request(url, method=method, body=body, expect_errors=True,
                          headers={**headers, "Content-Type": "application/json"})


def is_csrf_refusal(response):
    if response.status_int != 403:
        return False
    if response.content_type == "application/json":
        return response.json.get("type") == "CSRFError"
    return CSRF_MESSAGE in response.text


def test_every_unsafe_view_refuses_a_request_without_its_token(demo):
    client = webtest.TestApp(demo, extra_environ={"HTTP_HOST": "localhost",
                                                 "REMOTE_ADDR": "127.0.0.1"})
    login(client, walker(demo))
    before = database_state(demo)
    cases, _titles = anonymous_cases(demo)
    unproved, proved = [], 0
    for view, method, targets in cases:
        if method not in UNSAFE or (view_key(view), method) in NO_SESSION:
            continue
        if (getattr(view["context"], "__name__", ""), view_key(view), method) in UNREACHABLE:
            continue
        accepts = [str(view["accept"])] if view["accept"] else ["text/html",
                                                                 "application/json"]
        answers = set()
        for url, accept in ((url, accept) for url, _resource in targets for accept in accepts):
            response = forged(client, url, method, accept)
            if is_csrf_refusal(response):
                proved += 1
                break
            assert response.status_int in (403, 404, 405), (
                f"{method} {url} without a CSRF token answered {response.status}: "
                f"{response.text[:300]}")
            answers.add(response.status_int)
        else:
            unproved.append(f"{view['context']} {view_key(view)!r} {method}: "
                            f"{sorted(answers)} on {[u for u, _ in targets[:2]]}")
    assert database_state(demo) == before, "a request without its token changed data"
    assert not unproved, (
        "unsafe views whose CSRF check the walk could not reach:\n" + "\n".join(unproved))
    assert proved > 40


def test_the_same_request_with_its_token_goes_through(demo, testapp):
    """(So that the walk above can fail.) The document page's "Envoyer" button, posted
    with the page's token, sends the document; the same post without the token is
    the CSRF refusal and the document stays pending."""
    login(testapp, "dr.martin")
    url = "/cabinets/parc/patients/leroy/documents/devis"
    refused = testapp.post(url + "/@@workflow", {"transition": "send"},
                           headers={"Accept": "text/html"}, expect_errors=True)
    assert is_csrf_refusal(refused)
    assert testapp.get(url, headers={"Accept": "application/json"}).json["review_state"] \
        == "pending"
    page = testapp.get(url, headers={"Accept": "text/html"})
    form = next(f for f in page.forms.values() if f.action.endswith("/@@workflow"))
    form.submit("transition", value="send").follow()
    assert testapp.get(url, headers={"Accept": "application/json"}).json["review_state"] \
        == "sent"


def test_the_login_forms_check_their_token_too(demo, testapp):
    """Login forms are open to anonymous visitors (so the walk does not visit them)
    and still refuse a post without the page's token (login CSRF)."""
    refused = testapp.post("/login", {"login": "dr.martin", "password": "demo"},
                           expect_errors=True)
    assert is_csrf_refusal(refused)
    assert "cabinet_session" not in refused.headers.get("Set-Cookie", "") or \
        testapp.get("/cabinets/parc", expect_errors=True).status_int in (302, 303)
    refused = testapp.post("/patient/login", {"phone": "+352621123456"},
                           expect_errors=True)
    assert is_csrf_refusal(refused)
