"""The security policy: local roles along the lineage, groups, and delegations (their
dates by the clock, their state, their scope), with the history of what a secretary
did for a professional."""
import secrets
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from pyramid.request import Request, apply_request_extensions
from pyramid.security import remember
from pyramid.threadlocal import manager
from sqlalchemy import delete, select

from cabinet.content import add_node
from cabinet.models import ApiToken, Group, GroupMember, LocalRole, Node, User
from cabinet.passwords import hash_password
from cabinet.roles import NEVER_DELEGATED
from cabinet.security import token_hash
from cabinet.terms import accept_current_terms
from tests.conftest import Api, login

PARC = "/cabinets/parc"
LEROY = f"{PARC}/patients/leroy"
BERNARD = f"{PARC}/patients/bernard"
MULLER = f"{PARC}/patients/muller"


# -- helpers --------------------------------------------------------------------------

@contextmanager
def request_as(registry, login_name=None):
    """A request (rolled back afterwards) signed in as ``login_name``."""
    request = Request.blank("/", base_url="http://localhost")
    request.registry = registry
    apply_request_extensions(request)
    manager.push({"registry": registry, "request": request})
    request.tm.begin()
    try:
        if login_name is not None:
            user = request.dbsession.scalar(select(User).where(User.login == login_name))
            remember(request, user.id)         # the session a login gives
        yield request
    finally:
        request.tm.abort()
        manager.pop()


def node_at(request, path):
    return request.dbsession.scalar(select(Node).where(Node.path == path.rstrip("/") + "/"))


def granted(registry, login_name, path, permissions):
    """The subset of ``permissions`` the security policy gives that user on ``path``."""
    with request_as(registry, login_name) as request:
        node = node_at(request, path)
        assert node is not None, path
        return {p for p in permissions if request.has_permission(p, node)}


def add_user(db, login_name, fullname=None, password=None):
    with db() as request:
        user = User(login=login_name, fullname=fullname or login_name,
                    password_hash=hash_password(password) if password else None)
        request.dbsession.add(user)
        request.dbsession.flush()
        accept_current_terms(request, user)     # like the demo users (A2)
        return user.id


def grant(db, path, principal_login=None, role=None, group=None):
    with db() as request:
        node = node_at(request, path)
        if group is not None:
            principal = request.dbsession.scalar(
                select(Group).where(Group.name == group)).principal
        else:
            principal = request.dbsession.scalar(
                select(User).where(User.login == principal_login)).principal
        request.dbsession.add(LocalRole(node_id=node.id, principal=principal, role=role))


def revoke(db, path, principal_login, role):
    with db() as request:
        node = node_at(request, path)
        user = request.dbsession.scalar(select(User).where(User.login == principal_login))
        request.dbsession.execute(delete(LocalRole).where(
            LocalRole.node_id == node.id, LocalRole.principal == user.principal,
            LocalRole.role == role))


def add_delegation(db, professional, delegate, name, start, end=None, state="active",
                   can_sign=False):
    """A delegation from /professionals/<professional> to user ``delegate``, who holds
    the ``delegate`` role on it."""
    with db() as request:
        session = request.dbsession
        pro = node_at(request, f"/professionals/{professional}")
        user = session.scalar(select(User).where(User.login == delegate))
        folder = pro["delegations"]
        delegation = add_node(session, request.registry, folder, "Delegation", name=name,
                              title=f"{delegate} for {professional}",
                              professional_id=pro.id, delegate_id=user.id,
                              start_date=start, end_date=end, can_sign=can_sign)
        delegation.state = state
        session.add(LocalRole(node_id=delegation.id, principal=user.principal,
                              role="delegate"))
    return f"/professionals/{professional}/delegations/{name}"


def set_delegation(db, path, **fields):
    with db() as request:
        delegation = node_at(request, path)
        for key, value in fields.items():
            setattr(delegation, key, value)


@pytest.fixture
def client(app, db, testapp, clock):
    """``client('dr.martin')``: a JSON client with a bearer token minted for that user
    (as ``POST /@login`` does, without paying for argon2 at every call)."""
    def make(login_name):
        token = secrets.token_urlsafe(32)
        with db() as request:
            user = request.dbsession.scalar(select(User).where(User.login == login_name))
            request.dbsession.add(ApiToken(user_id=user.id, token_hash=token_hash(token),
                                           created=clock.now(),
                                           expires=clock.now() + timedelta(hours=12)))
        return Api(testapp, token)
    return make


# -- local roles ----------------------------------------------------------------------

def test_a_role_on_the_cabinet_is_inherited_by_everything_below(demo, db, client):
    add_user(db, "nurse")
    nurse = client("nurse")
    nurse.get(f"{LEROY}/documents/devis", status=403)
    grant(db, PARC, "nurse", "staff")
    nurse = client("nurse")
    assert nurse.get(PARC).json["title"] == "Cabinet dentaire du Parc"
    for path in (LEROY, f"{LEROY}/documents/devis", f"{BERNARD}/questionnaires/suivi",
                 f"{MULLER}/documents/ordonnance"):
        assert nurse.get(path).status_int == 200, path
    # and the permissions of the state: staff may send a pending document
    assert "send" in [t["id"] for t in
                      nurse.get(f"{BERNARD}/documents/devis/@workflow").json["transitions"]]
    # revoked: gone everywhere below
    revoke(db, PARC, "nurse", "staff")
    nurse.get(f"{LEROY}/documents/devis", status=403)
    nurse.get(PARC, status=403)


def test_a_role_on_one_patient_stays_on_that_patient(demo, db, client, registry):
    add_user(db, "dr.other")
    grant(db, LEROY, "dr.other", "correspondent")
    other = client("dr.other")
    assert other.get(LEROY).status_int == 200
    assert other.get(f"{LEROY}/documents/consentement").status_int == 200   # sent
    other.get(f"{LEROY}/documents/devis", status=403)     # pending: not for correspondents
    other.get(BERNARD, status=403)                        # the sibling
    other.get(f"{BERNARD}/documents/consentement", status=403)
    other.get(PARC, status=403)                           # roles do not go up
    assert granted(registry, "dr.other", f"{LEROY}/documents/consentement",
                   {"document:view", "document:withdraw", "document:sign"}) == \
        {"document:view"}


def test_roles_from_several_levels_add_up(demo, db, registry):
    add_user(db, "mixed")
    grant(db, PARC, "mixed", "staff")
    grant(db, LEROY, "mixed", "patient")
    perms = {"document:view", "document:withdraw", "document:sign"}
    # staff (from the cabinet) may withdraw, patient (from the record) may sign
    assert granted(registry, "mixed", f"{LEROY}/documents/consentement", perms) == perms
    assert granted(registry, "mixed", f"{BERNARD}/documents/consentement", perms) == \
        {"document:view", "document:withdraw"}


# -- groups ---------------------------------------------------------------------------

def add_group(db, name, *members):
    with db() as request:
        group = Group(name=name, title=name.title())
        request.dbsession.add(group)
        request.dbsession.flush()
        for login_name in members:
            user = request.dbsession.scalar(select(User).where(User.login == login_name))
            request.dbsession.add(GroupMember(group_id=group.id, user_id=user.id))


def test_a_role_granted_to_a_group_reaches_its_members(demo, db, client):
    add_user(db, "reception1")
    add_user(db, "outsider")
    add_group(db, "reception", "reception1")
    grant(db, PARC, role="staff", group="reception")
    member, outsider = client("reception1"), client("outsider")
    assert member.get(f"{LEROY}/documents/devis").json["review_state"] == "pending"
    assert "send" in [t["id"] for t in
                      member.get(f"{LEROY}/documents/devis/@workflow").json["transitions"]]
    outsider.get(f"{LEROY}/documents/devis", status=403)

    # leaving the group takes the role away
    with db() as request:
        user = request.dbsession.scalar(select(User).where(User.login == "reception1"))
        request.dbsession.execute(delete(GroupMember).where(GroupMember.user_id == user.id))
    member.get(f"{LEROY}/documents/devis", status=403)


def test_a_group_role_on_one_patient(demo, db, registry):
    add_user(db, "lab")
    add_group(db, "laboratory", "lab")
    grant(db, MULLER, role="correspondent", group="laboratory")
    assert granted(registry, "lab", f"{MULLER}/documents/consentement",
                   {"document:view"}) == {"document:view"}
    assert granted(registry, "lab", f"{LEROY}/documents/consentement",
                   {"document:view"}) == set()


# -- delegation: dates, state ---------------------------------------------------------

DEVIS_BERNARD = f"{BERNARD}/documents/devis"       # pending: dr.martin may view and send


@pytest.fixture
def secretary(demo, db):
    """sec.new: no role of her own anywhere."""
    add_user(db, "sec.new", "Nina Neuf")
    return "sec.new"


@pytest.mark.parametrize("day, in_effect", [
    (date(2026, 3, 31), False),   # the day before the start
    (date(2026, 4, 1), True),     # the start day
    (date(2026, 4, 15), True),
    (date(2026, 4, 30), True),    # the end day
    (date(2026, 5, 1), False),    # the day after the end, although still 'active'
    (date(2026, 12, 31), False),
])
def test_delegation_grants_only_between_its_dates(secretary, db, client, clock, day,
                                                  in_effect):
    path = add_delegation(db, "martin", "sec.new", "nina", date(2026, 4, 1),
                          date(2026, 4, 30))
    clock.set(day)
    sec, martin = client("sec.new"), client("dr.martin")
    assert martin.get(path).json["review_state"] == "active"
    assert martin.get(DEVIS_BERNARD).status_int == 200
    if in_effect:
        assert sec.get(DEVIS_BERNARD).json["review_state"] == "pending"
        assert [t["id"] for t in sec.get(f"{DEVIS_BERNARD}/@workflow").json[
            "transitions"]] == ["send"]
    else:
        response = sec.get(DEVIS_BERNARD, status=403)
        assert response.json["type"] == "Forbidden"
        sec.post(f"{DEVIS_BERNARD}/@workflow/send", status=403)
        assert martin.get(DEVIS_BERNARD).json["review_state"] == "pending"


def test_open_ended_delegation_grants_from_its_start(secretary, db, registry, clock):
    add_delegation(db, "martin", "sec.new", "nina", date(2026, 4, 1), None)
    perms = {"document:view", "document:send"}
    clock.set(date(2026, 3, 31))
    assert granted(registry, "sec.new", DEVIS_BERNARD, perms) == set()
    clock.set(date(2026, 4, 1))
    assert granted(registry, "sec.new", DEVIS_BERNARD, perms) == perms
    clock.set(date(2036, 4, 1))
    assert granted(registry, "sec.new", DEVIS_BERNARD, perms) == perms


@pytest.mark.parametrize("state", ["invited", "ended"])
def test_delegation_not_active_grants_nothing(secretary, db, registry, clock, state):
    add_delegation(db, "martin", "sec.new", "nina", date(2026, 1, 1), date(2026, 12, 31),
                   state=state)
    clock.set(date(2026, 6, 1))
    assert granted(registry, "sec.new", DEVIS_BERNARD,
                   {"document:view", "document:send"}) == set()
    assert granted(registry, "dr.martin", DEVIS_BERNARD,
                   {"document:view", "document:send"}) == {"document:view", "document:send"}


def test_delegation_lifecycle_through_the_client(secretary, db, client, clock):
    """Invited: nothing; accepted by the secretary: in effect; ended or cancelled by
    the professional: nothing again."""
    path = add_delegation(db, "martin", "sec.new", "nina", date(2026, 3, 1), None,
                          state="invited")
    sec, martin = client("sec.new"), client("dr.martin")
    sec.get(DEVIS_BERNARD, status=403)
    assert [t["id"] for t in sec.get(f"{path}/@workflow").json["transitions"]] == ["accept"]
    assert sec.post(f"{path}/@workflow/accept").json["review_state"] == "active"
    assert sec.get(DEVIS_BERNARD).status_int == 200

    assert martin.post(f"{path}/@workflow/end", {"comment": "Fin du contrat"}).json[
        "review_state"] == "ended"
    sec.get(DEVIS_BERNARD, status=403)
    history = martin.get(f"{path}/@history").json
    assert [(h["transition"], h["actor"]["id"]) for h in history] == [
        ("end", "dr.martin"), ("accept", "sec.new")]


def test_cancelled_delegation_grants_nothing(secretary, db, client):
    path = add_delegation(db, "martin", "sec.new", "nina", date(2026, 3, 1), None)
    sec, martin = client("sec.new"), client("dr.martin")
    assert sec.get(DEVIS_BERNARD).status_int == 200
    martin.post(f"{path}/@workflow/cancel")
    assert martin.get(path).json["review_state"] == "ended"
    sec.get(DEVIS_BERNARD, status=403)


def test_delegation_gives_the_professionals_roles_only(secretary, db, registry):
    add_delegation(db, "martin", "sec.new", "nina", date(2026, 3, 1), None)
    # dr.martin's own professional page: yes; dr.weber's: only what everybody gets
    assert granted(registry, "sec.new", "/professionals/martin",
                   {"professional:view", "professional:edit"}) == \
        {"professional:view", "professional:edit"}
    assert granted(registry, "sec.new", "/professionals/weber",
                   {"professional:view", "professional:edit"}) == {"professional:view"}


def test_delegation_carries_the_professionals_group_roles(secretary, db, registry):
    with db() as request:
        session = request.dbsession
        cabinets = node_at(request, "/cabinets")
        nord = add_node(session, request.registry, cabinets, "Cabinet", name="nord",
                        title="Cabinet du Nord")
        patient = add_node(session, request.registry, nord["patients"], "Patient",
                           name="roth", title="Jan Roth")
        add_node(session, request.registry, patient["documents"], "Document",
                 name="devis", title="Devis")
    add_group(db, "nord-dentists", "dr.martin")
    grant(db, "/cabinets/nord", role="professional", group="nord-dentists")
    add_delegation(db, "martin", "sec.new", "nina", date(2026, 3, 1), None)
    doc = "/cabinets/nord/patients/roth/documents/devis"
    assert granted(registry, "dr.martin", doc, {"document:send"}) == {"document:send"}
    assert granted(registry, "sec.new", doc, {"document:send"}) == {"document:send"}


# -- delegation: scope ----------------------------------------------------------------

@pytest.fixture
def martin_guardian(demo, db):
    """dr.martin is also the guardian of the minor Lena Muller: he may sign her
    documents and questionnaires (issue #5: questionnaires follow their own role,
    questionnaire_guardian, computed where minors' access for questionnaires is on)."""
    grant(db, MULLER, "dr.martin", "guardian")
    grant(db, MULLER, "dr.martin", "questionnaire_guardian")


SIGNABLE = [(f"{MULLER}/documents/consentement", "document:sign"),       # sent
            (f"{MULLER}/questionnaires/satisfaction", "questionnaire:sign")]  # validated


@pytest.mark.parametrize("path, permission", SIGNABLE)
def test_without_can_sign_the_secretary_never_signs(martin_guardian, secretary, db, client,
                                                    registry, path, permission):
    add_delegation(db, "martin", "sec.new", "nina", date(2026, 3, 1), None, can_sign=False)
    view = permission.replace(":sign", ":view")
    assert granted(registry, "dr.martin", path, {view, permission}) == {view, permission}
    assert granted(registry, "sec.new", path, {view, permission}) == {view}
    sec = client("sec.new")
    assert "sign" not in [t["id"] for t in sec.get(f"{path}/@workflow").json["transitions"]]
    response = sec.post(f"{path}/@workflow/sign", status=403)
    assert response.json["type"] == "Forbidden"
    assert "sign" in [t["id"] for t in
                      client("dr.martin").get(f"{path}/@workflow").json["transitions"]]


@pytest.mark.parametrize("path, permission", SIGNABLE)
def test_with_can_sign_the_secretary_signs_where_the_professional_does(
        martin_guardian, secretary, db, client, registry, path, permission):
    add_delegation(db, "martin", "sec.new", "nina", date(2026, 3, 1), None, can_sign=True)
    view = permission.replace(":sign", ":view")
    assert granted(registry, "sec.new", path, {view, permission}) == {view, permission}
    assert "sign" in [t["id"] for t in
                      client("sec.new").get(f"{path}/@workflow").json["transitions"]]
    # not where the professional himself may not sign
    other = path.replace("/muller/", "/bernard/")
    assert granted(registry, "dr.martin", other, {permission}) == set()
    assert granted(registry, "sec.new", other, {permission}) == set()


def test_switching_can_sign_off_takes_signing_away(martin_guardian, secretary, db,
                                                   registry):
    path = add_delegation(db, "martin", "sec.new", "nina", date(2026, 3, 1), None,
                          can_sign=True)
    doc, perm = SIGNABLE[0]
    assert granted(registry, "sec.new", doc, {perm}) == {perm}
    set_delegation(db, path, can_sign=False)
    assert granted(registry, "sec.new", doc, {perm}) == set()


@pytest.fixture
def never_delegated_contexts(demo, db):
    """For each NEVER_DELEGATED permission, a resource where dr.martin holds it."""
    add_user(db, "sec.other")
    # dr.martin is the secretary of dr.weber's practice: an invitation he may accept
    invitation = add_delegation(db, "weber", "dr.martin", "martin", date(2026, 3, 1), None,
                                state="invited")
    return {
        "sharing:manage": PARC,
        "delegation:add": "/professionals/martin",
        "delegation:end": "/professionals/martin/delegations/sec-dupont",
        "delegation:cancel": "/professionals/martin/delegations/sec-dupont",
        "delegation:accept": invitation,
    }


@pytest.mark.parametrize("permission", sorted(NEVER_DELEGATED))
@pytest.mark.parametrize("can_sign", [False, True])
def test_never_delegated_permissions_are_never_delegated(
        never_delegated_contexts, secretary, db, registry, permission, can_sign):
    assert set(never_delegated_contexts) == NEVER_DELEGATED
    add_delegation(db, "martin", "sec.new", "nina", date(2026, 3, 1), None,
                   can_sign=can_sign)
    path = never_delegated_contexts[permission]
    assert granted(registry, "dr.martin", path, {permission}) == {permission}
    assert granted(registry, "sec.new", path, {permission}) == set()
    # the delegation is in effect there: its other permissions come through
    view = {"/cabinets/parc": "cabinet:view", "/professionals/martin": "professional:edit"}
    other = view.get(path, "delegation:view")
    assert granted(registry, "sec.new", path, {other}) == {other}


def test_secretary_cannot_manage_sharing_through_the_client(demo, client):
    dupont = client("sec.dupont")
    assert dupont.get(f"{PARC}/@sharing").status_int == 200       # sharing:view: yes
    response = dupont.post(f"{PARC}/@sharing", {"entries": [
        {"type": "user", "id": "sec.dupont", "roles": {"professional": True}}]},
        status=403)
    assert response.json["type"] == "Forbidden"
    dupont.post("/professionals/martin/delegations/sec-dupont/@workflow/end", status=403)
    assert client("dr.martin").get("/professionals/martin/delegations/sec-dupont").json[
        "review_state"] == "active"


# -- history: S for P -----------------------------------------------------------------

def test_action_through_a_delegation_is_recorded_as_for_the_professional(demo, client,
                                                                         testapp):
    dupont = client("sec.dupont")
    response = dupont.post(f"{DEVIS_BERNARD}/@workflow/send", {"comment": "Envoyé pour lui"})
    assert response.json["review_state"] == "sent"
    history = dupont.get(f"{DEVIS_BERNARD}/@history").json
    assert len(history) == 1
    entry = history[0]
    assert entry["actor"] == {"id": "sec.dupont", "fullname": "Sophie Dupont"}
    assert entry["acting_for"] == {"id": "dr.martin", "fullname": "Dr Paul Martin"}
    assert (entry["transition"], entry["from_state"], entry["review_state"],
            entry["comments"]) == ("send", "pending", "sent", "Envoyé pour lui")
    # the page says it too
    login(testapp, "dr.martin")
    row = testapp.get(DEVIS_BERNARD).html.select("section.history tbody tr")[0].text
    assert "Sophie Dupont" in row and "Dr Paul Martin" in row


def test_own_action_is_not_recorded_as_for_anyone(demo, db, client):
    # with a role of her own, the secretary acts in her own name
    grant(db, PARC, "sec.dupont", "staff")
    dupont = client("sec.dupont")
    dupont.post(f"{DEVIS_BERNARD}/@workflow/send")
    entry = dupont.get(f"{DEVIS_BERNARD}/@history").json[0]
    assert entry["actor"]["id"] == "sec.dupont"
    assert entry["acting_for"] is None
    client("dr.martin").post(f"{LEROY}/documents/devis/@workflow/send")
    entry = client("dr.martin").get(f"{LEROY}/documents/devis/@history").json[0]
    assert entry["actor"]["id"] == "dr.martin" and entry["acting_for"] is None


def test_demo_secretary_has_no_access_once_her_delegation_ends(demo, client, clock):
    dupont, martin = client("sec.dupont"), client("dr.martin")
    assert dupont.get(DEVIS_BERNARD).status_int == 200
    martin.post("/professionals/martin/delegations/sec-dupont/@workflow/end")
    dupont.get(DEVIS_BERNARD, status=403)
    dupont.post(f"{DEVIS_BERNARD}/@workflow/send", status=403)
    assert martin.get(f"{DEVIS_BERNARD}/@history").json == []


def test_deactivated_professional_delegates_nothing(secretary, db, client, clock):
    add_delegation(db, "martin", "sec.new", "nina", date(2026, 3, 1), None)
    sec = client("sec.new")
    assert sec.get(DEVIS_BERNARD).json["review_state"] == "pending"
    with db() as request:
        request.dbsession.scalar(select(User).where(User.login == "dr.martin")).active = False
    response = sec.get(DEVIS_BERNARD, status=403)
    assert "Devis" not in response.text
