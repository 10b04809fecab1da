"""``<path>/@permissions?user=<login>`` and the ``@@permissions`` page: a user's
permissions on a resource, each with its reason (workflow state, role, where the role
was granted and to whom, through which delegation), agreeing with the real check."""
import secrets
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from pyramid.threadlocal import manager
from sqlalchemy import select

from cabinet.interfaces import IClock
from cabinet.models import ApiToken, Delegation, Group, GroupMember, LocalRole, Node, User
from cabinet.scripts import script_request
from cabinet.security import token_hash
from tests.conftest import login

PARC = "/cabinets/parc"
LEROY = f"{PARC}/patients/leroy"
MULLER = f"{PARC}/patients/muller"
CONSENT = f"{LEROY}/documents/consentement"
DELEGATION = "/professionals/martin/delegations/sec-dupont/"




@pytest.fixture
def site(demo, db):
    """The demo, plus: dr.martin is also the legal guardian of Lena Muller (a minor;
    guardians sign her documents), and a group ``accueil`` (reception) with a member
    ``r.faber`` holds the staff role on patient bernard."""
    with db() as request:
        session = request.dbsession
        martin = session.scalar(select(User).where(User.login == "dr.martin"))
        muller = session.scalar(select(Node).where(Node.path == f"{MULLER}/"))
        session.add(LocalRole(node_id=muller.id, principal=martin.principal,
                              role="guardian"))
        faber = User(login="r.faber", fullname="Rita Faber")
        group = Group(name="accueil", title="Accueil du cabinet")
        session.add_all([faber, group])
        session.flush()
        session.add(GroupMember(group_id=group.id, user_id=faber.id))
        bernard = session.scalar(
            select(Node).where(Node.path == f"{PARC}/patients/bernard/"))
        session.add(LocalRole(node_id=bernard.id, principal=group.principal, role="staff"))
    return demo


def by_permission(response):
    assert response.status_int == 200
    return {p["permission"]: p for p in response.json["permissions"]}


def set_can_sign(db, value):
    with db() as request:
        request.dbsession.scalar(
            select(Delegation).where(Delegation.name == "sec-dupont")).can_sign = value


# -- reasons -----------------------------------------------------------------------------

def test_own_role_reason(site, api):
    data = api("dr.martin").get(f"{CONSENT}/@permissions?user=admin")
    assert data.json["user"] == "admin"
    assert data.json["path"] == f"{CONSENT}/"
    assert data.json["review_state"] == "sent"
    perms = by_permission(data)
    view = perms["document:view"]
    assert view["allowed"] is True
    assert view["reason"] == {
        "workflow": "document", "review_state": "sent", "on": f"{CONSENT}/",
        "role": "administrator",
        "granted": [{"path": f"{PARC}/", "principal": "admin"}]}
    assert perms["document:withdraw"]["allowed"] is True
    # what the "sent" state does not give, or gives to other roles
    for name in ("document:edit", "document:send", "document:delete", "document:sign"):
        assert perms[name]["allowed"] is False, name
        assert "reason" not in perms[name]
    # permissions acquired from the cabinet's ACL name that state and place
    manage = perms["sharing:manage"]
    assert manage["allowed"] is True
    assert manage["reason"]["workflow"] == "cabinet"
    assert manage["reason"]["review_state"] == "open"
    assert manage["reason"]["on"] == f"{PARC}/"


def test_patient_reason_and_defaults_to_the_asking_user(site, api):
    perms = by_permission(api("admin").get(f"{CONSENT}/@permissions?user=p.leroy"))
    assert perms["document:sign"]["allowed"] is True
    # the role her record gives her on documents shared with the patient (issue #4)
    assert perms["document:sign"]["reason"]["role"] == "shared_patient"
    assert perms["document:sign"]["reason"]["granted"] == [
        {"path": f"{LEROY}/", "principal": "p.leroy"},
        {"path": f"{CONSENT}/", "principal": "role:patient"}]
    assert perms["document:withdraw"]["allowed"] is False
    assert perms["sharing:view"]["allowed"] is False
    # without ?user, the asking user
    mine = api("dr.martin").get(f"{CONSENT}/@permissions")
    assert mine.json["user"] == "dr.martin"
    assert by_permission(mine)["document:view"]["reason"]["granted"] == [
        {"path": f"{PARC}/", "principal": "dr.martin"}]


def test_group_and_authenticated_reasons(site, api):
    perms = by_permission(api("admin").get(
        f"{PARC}/patients/bernard/documents/devis/@permissions?user=r.faber"))
    edit = perms["document:edit"]
    assert edit["allowed"] is True
    assert edit["reason"]["role"] == "staff"
    assert edit["reason"]["review_state"] == "pending"
    assert edit["reason"]["granted"] == [{"path": f"{PARC}/patients/bernard/",
                                          "principal": "accueil"}]
    # a professional's page is visible to every signed-in user
    perms = by_permission(api("dr.martin").get(
        "/professionals/martin/@permissions?user=p.leroy"))
    view = perms["professional:view"]
    assert view["allowed"] is True and view["reason"]["role"] == "authenticated"
    assert perms["professional:edit"]["allowed"] is False


def test_delegation_reason_for_the_secretary(site, api):
    """sec.dupont on a patient of the cabinet: allowed through dr.martin's role, and
    the answer says so, with the delegation."""
    perms = by_permission(api("dr.martin").get(f"{LEROY}/@permissions?user=sec.dupont"))
    view = perms["patient:view"]
    assert view["allowed"] is True
    assert view["reason"]["role"] == "professional"
    assert view["reason"]["workflow"] == "patient"
    assert view["reason"]["review_state"] == "active"
    assert view["reason"]["granted"] == [{"path": f"{PARC}/", "principal": "dr.martin"}]
    assert view["reason"]["delegation"] == {
        "path": DELEGATION, "professional": "Dr Paul Martin", "can_sign": False}
    assert perms["patient:edit"]["allowed"] is True
    # what dr.martin himself may not do, she may not either
    assert perms["patient:delete"]["allowed"] is False
    # managing access is never delegated, and the answer says why
    manage = perms["sharing:manage"]
    assert manage["allowed"] is False
    assert manage["reason"] == {"denied_by_scope": DELEGATION}


def test_signing_is_not_delegated_without_can_sign(site, api, db):
    """dr.martin, Lena Muller's guardian, may sign her documents; his secretary only
    when the delegation says she may sign."""
    doc = f"{MULLER}/documents/consentement"
    martin = by_permission(api("admin").get(f"{doc}/@permissions?user=dr.martin"))
    assert martin["document:sign"]["allowed"] is True
    assert martin["document:sign"]["reason"]["role"] == "shared_guardian"

    perms = by_permission(api("dr.martin").get(f"{doc}/@permissions?user=sec.dupont"))
    sign = perms["document:sign"]
    assert sign["allowed"] is False
    assert sign["reason"] == {"denied_by_scope": DELEGATION}
    assert perms["document:view"]["allowed"] is True            # viewing is delegated
    # the real check agrees: firing "sign" is refused for lack of permission
    dupont = api("sec.dupont")
    response = dupont.post(f"{doc}/@workflow/sign", {}, expect_errors=True)
    assert response.status_int == 403
    assert dupont.get(doc).json["review_state"] == "sent"

    set_can_sign(db, True)
    perms = by_permission(api("dr.martin").get(f"{doc}/@permissions?user=sec.dupont"))
    sign = perms["document:sign"]
    assert sign["allowed"] is True
    assert sign["reason"]["role"] == "shared_guardian"
    assert sign["reason"]["granted"] == [{"path": f"{MULLER}/", "principal": "dr.martin"},
                                         {"path": f"{doc}/", "principal": "role:guardian"}]
    assert sign["reason"]["delegation"]["can_sign"] is True
    # now the permission passes; what stops her is the transition's guard (no code)
    response = dupont.post(f"{doc}/@workflow/sign", {}, expect_errors=True)
    assert response.status_int != 403
    assert response.status_int in (409, 422), response.json
    assert dupont.get(doc).json["review_state"] == "sent"


def test_an_expired_delegation_explains_nothing(site, api, db, clock):
    with db() as request:
        request.dbsession.scalar(
            select(Delegation).where(Delegation.name == "sec-dupont")).end_date = clock.today()
    perms = by_permission(api("dr.martin").get(f"{LEROY}/@permissions?user=sec.dupont"))
    assert perms["patient:view"]["allowed"] is True             # the end day counts
    clock.advance(days=1)
    perms = by_permission(api("dr.martin").get(f"{LEROY}/@permissions?user=sec.dupont"))
    # nothing through dr.martin any more: what is left is what every signed-in user
    # has (site:view, from the root)
    assert perms["patient:view"]["allowed"] is False
    allowed = {name for name, p in perms.items() if p["allowed"]}
    assert allowed == {name for name, p in perms.items()
                       if p.get("reason", {}).get("role") == "authenticated"}
    assert "patient:edit" not in allowed and "folder:view" not in allowed
    assert all("delegation" not in p.get("reason", {}) for p in perms.values())


# -- the explanation agrees with the security policy --------------------------------------

def _tokens(db):
    with db() as request:
        now = request.registry.getUtility(IClock).now()
        tokens = {}
        for user in request.dbsession.scalars(select(User)):
            token = secrets.token_urlsafe(16)
            request.dbsession.add(ApiToken(user_id=user.id, token_hash=token_hash(token),
                                           created=now, expires=now + timedelta(days=1)))
            tokens[user.login] = token
        return tokens


@pytest.mark.parametrize("path", [f"{PARC}/", f"{LEROY}/", f"{CONSENT}/",
                                  f"{MULLER}/documents/consentement/",
                                  f"{PARC}/patients/bernard/documents/devis/",
                                  f"{PARC}/patients/bernard/questionnaires/suivi/",
                                  "/professionals/martin/", DELEGATION])
def test_every_answer_matches_the_permission_check(site, api, db, app, path):
    tokens = _tokens(db)
    asker = api("admin") if path.startswith(PARC) else api("dr.martin")
    for login_name in ("admin", "dr.martin", "dr.weber", "sec.dupont", "p.leroy",
                       "r.faber"):
        answer = by_permission(asker.get(f"{path}@permissions?user={login_name}"))
        request = script_request(app.registry)
        request.headers["Authorization"] = f"Bearer {tokens[login_name]}"
        try:
            with request.tm:
                nodes = {n.id: n for n in request.dbsession.scalars(select(Node))}
                for n in nodes.values():
                    n.__parent__ = nodes.get(n.parent_id)
                node = next(n for n in nodes.values() if n.path == path)
                for permission, entry in answer.items():
                    allowed = bool(request.has_permission(permission, node))
                    assert entry["allowed"] is allowed, (login_name, permission)
                    # a reason for every yes; for a no, only "outside the delegation"
                    reason = entry.get("reason", {})
                    assert bool(reason) is allowed or "denied_by_scope" in reason, \
                        (login_name, permission)
        finally:
            manager.pop()


# -- the page ----------------------------------------------------------------------------

def page_rows(response):
    assert response.status_int == 200
    assert response.content_type == "text/html"
    soup = BeautifulSoup(response.text, "html.parser")
    rows = {}
    for tr in soup.select("tbody tr"):
        cells = tr.find_all("td")
        if len(cells) >= 3:
            rows[cells[0].get_text(strip=True)] = (tr.get("class") or [],
                                                   cells[2].get_text(" ", strip=True))
    return rows


def test_page_lists_permissions_with_reasons(site, testapp, db):
    login(testapp, "dr.martin")
    rows = page_rows(testapp.get(f"{CONSENT}/@@permissions?user=sec.dupont"))
    classes, reason = rows["document:view"]
    assert "allowed" in classes
    assert "professional" in reason and f"{PARC}/" in reason and "dr.martin" in reason
    assert "Dr Paul Martin" in reason                      # through his delegation

    rows = page_rows(testapp.get(f"{MULLER}/documents/consentement/@@permissions"
                                 "?user=sec.dupont"))
    assert "allowed" in rows["document:view"][0]
    classes, reason = rows["document:sign"]
    assert "denied" in classes
    assert "délégation" in reason                          # outside the delegation's scope
    classes, reason = rows["sharing:manage"]
    assert "denied" in classes and "délégation" in reason

    set_can_sign(db, True)
    rows = page_rows(testapp.get(f"{MULLER}/documents/consentement/@@permissions"
                                 "?user=sec.dupont"))
    classes, reason = rows["document:sign"]
    assert "allowed" in classes
    assert "guardian" in reason and "Dr Paul Martin" in reason


def test_page_for_the_asking_user_and_with_a_form_to_choose(site, testapp):
    login(testapp, "admin")
    response = testapp.get(f"{CONSENT}/@@permissions")
    rows = page_rows(response)
    assert "allowed" in rows["document:view"][0]
    assert "administrator" in rows["document:view"][1]
    form = next(f for f in response.forms.values() if "user" in f.fields)
    form["user"] = "p.leroy"
    rows = page_rows(form.submit())
    assert "allowed" in rows["document:sign"][0]
    assert "patient" in rows["document:sign"][1] and f"{LEROY}/" in rows["document:sign"][1]
    assert "denied" in rows["document:withdraw"][0]


# -- errors ------------------------------------------------------------------------------

def test_unknown_user_is_404(site, api, testapp):
    response = api("admin").get(f"{CONSENT}/@permissions?user=dr.nobody",
                                expect_errors=True)
    assert response.status_int == 404
    assert response.json["type"] == "NotFound"
    assert "dr.nobody" in response.json["message"]
    login(testapp, "admin")
    response = testapp.get(f"{CONSENT}/@@permissions?user=dr.nobody", expect_errors=True)
    assert response.status_int == 404
    assert "text/html" in response.content_type
    assert "dr.nobody" in response.text


def test_without_permissions_view_it_is_403(site, api, testapp):
    # the patient may not ask why about her own record, nor about anyone else
    leroy = api("p.leroy")
    for query in ("", "?user=p.leroy", "?user=dr.martin"):
        response = leroy.get(f"{LEROY}/@permissions{query}", expect_errors=True)
        assert response.status_int == 403, query
        assert response.json["type"] == "Forbidden"
    # a professional of the cabinet may not ask on a colleague's professional record
    response = api("dr.weber").get("/professionals/martin/@permissions?user=dr.martin",
                                   expect_errors=True)
    assert response.status_int == 403
    login(testapp, "p.leroy")
    response = testapp.get(f"{LEROY}/@@permissions?user=p.leroy", expect_errors=True)
    assert response.status_int == 403
    assert "text/html" in response.content_type


def test_anonymous_is_asked_to_log_in(site, testapp):
    response = testapp.get(f"{LEROY}/@permissions?user=p.leroy",
                           headers={"Accept": "application/json"}, expect_errors=True)
    assert response.status_int == 401
    response = testapp.get(f"{LEROY}/@@permissions?user=p.leroy")
    assert response.status_int == 302
    assert "/login" in response.location
