"""Sharing: ``<path>/@sharing`` (JSON) and the ``<path>/@@sharing`` page list the local
roles granted here and inherited from above, and grant or revoke them: only roles the
user holds there, only with sharing:manage, each change in the history."""
import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from cabinet.models import Group, GroupMember, LocalRole, Node, User
from cabinet.passwords import hash_password
from cabinet.terms import accept_current_terms
from tests.conftest import login

PARC = "/cabinets/parc"
LEROY = f"{PARC}/patients/leroy"
CONSENT = f"{LEROY}/documents/consentement"




@pytest.fixture
def site(demo, db):
    """The demo plus dr.klein, a colleague with no role anywhere yet, and a group
    ``accueil`` (reception) holding the staff role on patient bernard."""
    with db() as request:
        session = request.dbsession
        klein = User(login="dr.klein", fullname="Dr Jonas Klein",
                     password_hash=hash_password("demo"))
        group = Group(name="accueil", title="Accueil du cabinet")
        session.add_all([klein, group])
        session.flush()
        accept_current_terms(request, klein)    # like the demo users (A2)
        bernard = session.scalar(
            select(Node).where(Node.path == f"{PARC}/patients/bernard/"))
        session.add(LocalRole(node_id=bernard.id, principal=group.principal, role="staff"))
    return demo


def entry(data, ident, kind="user"):
    """The sharing entry of a user or group, or None."""
    found = [e for e in data["entries"] if e["id"] == ident and e["type"] == kind]
    assert len(found) <= 1
    return found[0] if found else None


def sharing_rows(db):
    with db() as request:
        return set(request.dbsession.execute(
            select(Node.path, LocalRole.principal, LocalRole.role)
            .join(Node, Node.id == LocalRole.node_id)).all())


def sharing_history(api, path, login="dr.martin"):
    rows = api(login).get(f"{path}/@history").json
    return [h for h in rows if h["action"] == "sharing"]


# -- listing -----------------------------------------------------------------------------

def test_json_lists_roles_granted_here_and_inherited(site, api):
    data = api("dr.martin").get(f"{LEROY}/@sharing").json
    assert data["@id"] == f"http://localhost{LEROY}/@sharing"

    leroy = entry(data, "p.leroy")
    assert leroy["roles"]["patient"] is True                 # granted here
    assert leroy["acquired_from"] == {}
    admin = entry(data, "admin")
    assert admin["roles"]["administrator"] == "acquired"     # inherited from the cabinet
    # (and site administrator on the root: publishes the terms of use)
    assert admin["acquired_from"] == {"administrator": [f"{PARC}/"], "site_admin": ["/"]}
    assert admin["title"] == "Anne Admin"
    for login_name in ("dr.martin", "dr.weber"):
        pro = entry(data, login_name)
        assert pro["roles"]["professional"] == "acquired"
        assert pro["acquired_from"] == {"professional": [f"{PARC}/"]}
        # every other role: not held
        assert {r for r, v in pro["roles"].items() if v} == {"professional"}
    # nobody else holds a role on this lineage (the secretary acts through her
    # delegation, the reception group only on another patient)
    assert {(e["type"], e["id"]) for e in data["entries"]} == {
        ("user", "admin"), ("user", "dr.martin"), ("user", "dr.weber"), ("user", "p.leroy")}
    # the roles a sharer may hand out: those they hold here
    assert data["grantable_roles"] == ["professional"]
    assert "administrator" in [r["id"] for r in data["available_roles"]]


def test_json_lists_groups_and_inheritance_from_several_levels(site, api):
    martin = api("dr.martin")
    martin.post(f"{PARC}/patients/bernard/@sharing",
                {"entries": [{"type": "user", "id": "dr.weber",
                              "roles": {"professional": True}}]})
    data = martin.get(f"{PARC}/patients/bernard/documents/consentement/@sharing").json
    group = entry(data, "accueil", "group")
    assert group["title"] == "Accueil du cabinet"
    assert group["roles"]["staff"] == "acquired"
    assert group["acquired_from"] == {"staff": [f"{PARC}/patients/bernard/"]}
    # dr.weber holds professional on the cabinet and again on the patient: both shown
    weber = entry(data, "dr.weber")
    assert weber["roles"]["professional"] == "acquired"
    assert sorted(weber["acquired_from"]["professional"]) == [
        f"{PARC}/", f"{PARC}/patients/bernard/"]
    # on the patient itself, the role granted there counts as "here"
    here = entry(martin.get(f"{PARC}/patients/bernard/@sharing").json, "dr.weber")
    assert here["roles"]["professional"] is True
    assert here["acquired_from"] == {"professional": [f"{PARC}/"]}


# -- grant and revoke through JSON -------------------------------------------------------

def test_grant_then_revoke_gives_then_takes_access(site, api, db):
    klein = api("dr.klein")
    assert klein.get(LEROY, expect_errors=True).status_int == 403
    assert klein.get(CONSENT, expect_errors=True).status_int == 403
    assert klein.get(f"/@search?path={PARC}").json["items_total"] == 0

    martin = api("dr.martin")
    response = martin.post(f"{LEROY}/@sharing", {"entries": [
        {"type": "user", "id": "dr.klein", "roles": {"professional": True}}]})
    assert response.status_int == 200
    assert entry(response.json, "dr.klein")["roles"]["professional"] is True
    assert (f"{LEROY}/", "user:%d" % _user_id(db, "dr.klein"), "professional") \
        in sharing_rows(db)

    # the colleague now sees the record and what it holds (sent or not) ...
    assert klein.get(LEROY).json["title"] == "Léa Leroy"
    assert klein.get(CONSENT).json["review_state"] == "sent"
    assert klein.get(f"{LEROY}/documents/devis").json["review_state"] == "pending"
    found = klein.get(f"/@search?portal_type=Document&path={PARC}&sort_on=path").json
    assert [i["id"] for i in found["items"]] == ["consentement", "devis", "ordonnance",
                                                 "radio"]
    # ... and nothing of the other patients
    assert klein.get(f"{PARC}/patients/bernard", expect_errors=True).status_int == 403

    response = martin.post(f"{LEROY}/@sharing", {"entries": [
        {"type": "user", "id": "dr.klein", "roles": {"professional": False}}]})
    assert response.status_int == 200
    assert entry(response.json, "dr.klein") is None
    assert klein.get(LEROY, expect_errors=True).status_int == 403
    assert klein.get(CONSENT, expect_errors=True).status_int == 403
    assert klein.get(f"/@search?path={PARC}").json["items_total"] == 0

    history = sharing_history(api, LEROY)
    assert len(history) == 2                       # newest first
    revoked, granted = history
    assert granted["actor"]["id"] == revoked["actor"]["id"] == "dr.martin"
    assert granted["details"] == {"granted": [{"principal": "dr.klein",
                                               "role": "professional"}], "revoked": []}
    assert revoked["details"] == {"granted": [], "revoked": [{"principal": "dr.klein",
                                                              "role": "professional"}]}


def _user_id(db, login_name):
    with db() as request:
        return request.dbsession.scalar(select(User.id).where(User.login == login_name))


def test_grant_to_a_group_reaches_its_members(site, api, db):
    with db() as request:
        session = request.dbsession
        klein = session.scalar(select(User).where(User.login == "dr.klein"))
        group = session.scalar(select(Group).where(Group.name == "accueil"))
        session.add(GroupMember(group_id=group.id, user_id=klein.id))
    klein = api("dr.klein")
    assert klein.get(f"{PARC}/patients/bernard").status_int == 200   # staff via group
    assert klein.get(LEROY, expect_errors=True).status_int == 403
    api("admin").post(f"{LEROY}/@sharing", {"entries": [
        {"type": "group", "id": "accueil", "roles": {"administrator": True}}]})
    assert klein.get(LEROY).status_int == 200
    history = sharing_history(api, LEROY, "admin")
    assert history[0]["details"]["granted"] == [{"principal": "accueil",
                                                 "role": "administrator"}]
    assert history[0]["actor"]["id"] == "admin"


def test_granting_again_or_revoking_what_is_absent_changes_nothing(site, api):
    martin = api("dr.martin")
    body = {"entries": [{"type": "user", "id": "dr.weber",
                         "roles": {"professional": False}}]}
    # dr.weber's professional role is inherited from the cabinet, not granted here
    data = martin.post(f"{LEROY}/@sharing", body).json
    assert entry(data, "dr.weber")["roles"]["professional"] == "acquired"
    # "acquired" in a body means: leave it as it is
    martin.post(f"{LEROY}/@sharing", {"entries": [
        {"type": "user", "id": "dr.weber", "roles": {"professional": "acquired"}}]})
    assert sharing_history(api, LEROY) == []


@pytest.mark.parametrize("login_name, role", [
    ("dr.martin", "administrator"),     # a professional is no administrator here
    ("dr.martin", "patient"),
    ("admin", "professional"),          # the administrator is no professional
])
def test_a_user_can_grant_only_roles_they_hold_here(site, api, db, login_name, role):
    before = sharing_rows(db)
    response = api(login_name).post(f"{LEROY}/@sharing", {"entries": [
        {"type": "user", "id": "dr.klein", "roles": {role: True}}]}, expect_errors=True)
    assert response.status_int == 403
    assert response.json["type"] == "Forbidden"
    assert role in response.json["message"]
    assert sharing_rows(db) == before
    assert sharing_history(api, LEROY, "admin") == []
    assert api("dr.klein").get(LEROY, expect_errors=True).status_int == 403


def test_refused_change_applies_nothing_of_the_request(site, api, db):
    before = sharing_rows(db)
    response = api("dr.martin").post(f"{LEROY}/@sharing", {"entries": [
        {"type": "user", "id": "dr.klein", "roles": {"professional": True}},
        {"type": "user", "id": "p.leroy", "roles": {"patient": False}},   # not his
    ]}, expect_errors=True)
    assert response.status_int == 403
    assert sharing_rows(db) == before
    # the patient keeps her access
    assert api("p.leroy").get(CONSENT).status_int == 200


def test_a_role_held_here_can_be_granted_below(site, api):
    """dr.martin is professional on the cabinet: he may share a document with it."""
    response = api("dr.martin").post(f"{CONSENT}/@sharing", {"entries": [
        {"type": "user", "id": "dr.klein", "roles": {"professional": True}}]})
    assert response.status_int == 200
    klein = api("dr.klein")
    assert klein.get(CONSENT).status_int == 200
    # only that document
    assert klein.get(f"{LEROY}/documents/devis", expect_errors=True).status_int == 403
    assert len(sharing_history(api, CONSENT)) == 1


@pytest.mark.parametrize("body, status, words", [
    ({"entries": [{"type": "user", "id": "dr.klein", "roles": {"surgeon": True}}]},
     422, "surgeon"),
    ({"entries": [{"type": "user", "id": "dr.klein", "roles": {"authenticated": True}}]},
     422, "authenticated"),
    ({"entries": [{"type": "user", "id": "dr.nobody", "roles": {"professional": True}}]},
     422, "dr.nobody"),
    ({"entries": [{"type": "group", "id": "nope", "roles": {"professional": True}}]},
     422, "nope"),
    ({"entries": [{"type": "robot", "id": "dr.klein", "roles": {"professional": True}}]},
     422, "robot"),
    ({"entries": [{"type": "user", "id": "dr.klein", "roles": {"professional": "yes"}}]},
     422, "professional"),
    ({"entries": [{"type": "user", "id": "dr.klein", "roles": ["professional"]}]},
     422, "roles"),
    ({"entries": {"dr.klein": "professional"}}, 422, "entries"),
    ({"entries": [{"type": "user", "id": 7, "roles": {"professional": True}}]}, 422, "7"),
])
def test_unknown_role_or_principal_is_422(site, api, db, body, status, words):
    before = sharing_rows(db)
    response = api("dr.martin").post(f"{LEROY}/@sharing", body, expect_errors=True)
    assert response.status_int == status
    assert response.json["type"] == "ValidationError"
    assert words in response.json["message"]
    assert sharing_rows(db) == before


def test_malformed_json_is_400(site, api, testapp):
    client = api("dr.martin")
    response = testapp.post(f"{LEROY}/@sharing", "{not json",
                            headers={**client.headers, "Content-Type": "application/json"},
                            expect_errors=True)
    assert response.status_int == 400
    assert response.json["type"] == "BadRequest"


def test_without_sharing_manage_changes_are_403(site, api, db, testapp):
    body = {"entries": [{"type": "user", "id": "dr.klein",
                         "roles": {"professional": True}}]}
    before = sharing_rows(db)
    # the secretary sees the sharing through her delegation but may not change it:
    # managing access is never delegated
    dupont = api("sec.dupont")
    assert dupont.get(f"{LEROY}/@sharing").status_int == 200
    assert dupont.get(f"{LEROY}/@sharing").json["grantable_roles"] == []
    response = dupont.post(f"{LEROY}/@sharing", body, expect_errors=True)
    assert response.status_int == 403 and response.json["type"] == "Forbidden"
    # the patient may neither see nor change who has access to her record
    leroy = api("p.leroy")
    assert leroy.get(f"{LEROY}/@sharing", expect_errors=True).status_int == 403
    response = leroy.post(f"{LEROY}/@sharing", body, expect_errors=True)
    assert response.status_int == 403 and response.json["type"] == "Forbidden"
    # dr.weber is no professional of dr.martin's own record
    response = api("dr.weber").post("/professionals/martin/@sharing", body,
                                    expect_errors=True)
    assert response.status_int == 403
    # anonymous
    response = testapp.post_json(f"{LEROY}/@sharing", body,
                                 headers={"Accept": "application/json"},
                                 expect_errors=True)
    assert response.status_int in (401, 403)
    assert sharing_rows(db) == before


# -- the HTML page -----------------------------------------------------------------------

def page_soup(response):
    assert response.status_int == 200
    assert response.content_type == "text/html"
    return BeautifulSoup(response.text, "html.parser")


def row(soup, ident, kind="user"):
    """The table row of a user or group on the sharing page."""
    rows = soup.select(f'tr[data-principal="{kind}:{ident}"]')
    assert len(rows) <= 1
    return rows[0] if rows else None


def role_item(tr, role):
    items = tr.select(f'[data-role="{role}"]')
    assert len(items) == 1, tr
    return items[0]


def form_with(response, **values):
    """The form of the page whose fields have these values."""
    for form in response.forms.values():
        if all(name in form.fields and form[name].value == value
               for name, value in values.items()):
            return form
    raise AssertionError(f"no form with {values}")


def test_page_shows_roles_here_and_inherited_with_their_origin(site, testapp):
    login(testapp, "dr.martin")
    soup = page_soup(testapp.get(f"{CONSENT}/@@sharing"))
    assert "Consentement éclairé" in soup.h1.get_text()
    admin = role_item(row(soup, "admin"), "administrator")
    assert "inherited" in admin["class"]
    assert f"{PARC}/" in admin.get_text()
    leroy = role_item(row(soup, "p.leroy"), "patient")
    assert "inherited" in leroy["class"]
    assert f"{LEROY}/" in leroy.get_text()
    assert row(soup, "dr.klein") is None

    soup = page_soup(testapp.get(f"{LEROY}/@@sharing"))
    leroy = role_item(row(soup, "p.leroy"), "patient")
    assert "granted" in leroy["class"] and "inherited" not in leroy["class"]
    assert "/cabinets/" not in leroy.get_text()


def test_page_grants_and_revokes_with_its_forms(site, testapp, api):
    login(testapp, "dr.martin")
    search = testapp.get(f"{LEROY}/@@sharing")
    form = form_with(search, search="")
    form["search"] = "klein"
    results = form.submit()
    grant = form_with(results, id="dr.klein", grant="1")
    # only the roles dr.martin holds here are offered
    assert [value for value, _sel, _text in grant["role"].options] == ["professional"]
    grant["role"] = "professional"
    done = grant.submit()
    assert done.status_int == 303
    assert done.location.endswith(f"{LEROY}/@@sharing")
    soup = page_soup(done.follow())
    # what changed is said on the page (role and person by their names)
    assert [p.get_text() for p in soup.select(".flash")] == [
        "Rôle « Professionnel de santé » donné à Dr Jonas Klein."]
    klein = role_item(row(soup, "dr.klein"), "professional")
    assert "granted" in klein["class"]
    assert api("dr.klein").get(CONSENT).status_int == 200

    revoke = form_with(testapp.get(f"{LEROY}/@@sharing"), id="dr.klein",
                       role="professional", grant="0")
    done = revoke.submit()
    assert done.status_int == 303
    soup = page_soup(done.follow())
    assert row(soup, "dr.klein") is None
    assert [p.get_text() for p in soup.select(".flash")] == [
        "Rôle « Professionnel de santé » retiré à Dr Jonas Klein."]
    assert api("dr.klein").get(CONSENT, expect_errors=True).status_int == 403

    history = sharing_history(api, LEROY)
    assert [h["details"]["granted"] + h["details"]["revoked"] for h in history] == [
        [{"principal": "dr.klein", "role": "professional"}]] * 2
    assert [bool(h["details"]["granted"]) for h in history] == [False, True]


def test_page_forms_need_the_csrf_token(site, testapp, db):
    login(testapp, "dr.martin")
    before = sharing_rows(db)
    fields = {"type": "user", "id": "dr.klein", "role": "professional", "grant": "1"}
    response = testapp.post(f"{LEROY}/@@sharing", fields, expect_errors=True)
    assert response.status_int == 403
    assert "text/html" in response.content_type
    response = testapp.post(f"{LEROY}/@@sharing", {**fields, "csrf_token": "forged"},
                            expect_errors=True)
    assert response.status_int == 403
    assert sharing_rows(db) == before


def _csrf(testapp, path):
    page = testapp.get(f"{path}/@@sharing")
    token = BeautifulSoup(page.text, "html.parser").select_one('input[name="csrf_token"]')
    assert token is not None
    return token["value"]


def test_page_refuses_roles_not_held_and_unknown_users(site, testapp, db):
    login(testapp, "dr.martin")
    token = _csrf(testapp, LEROY)
    before = sharing_rows(db)
    response = testapp.post(f"{LEROY}/@@sharing", {
        "csrf_token": token, "type": "user", "id": "dr.klein", "role": "administrator",
        "grant": "1"}, expect_errors=True)
    assert response.status_int == 403
    assert "administrator" in response.text
    response = testapp.post(f"{LEROY}/@@sharing", {
        "csrf_token": token, "type": "user", "id": "dr.nobody", "role": "professional",
        "grant": "1"}, expect_errors=True)
    assert response.status_int == 422
    assert "dr.nobody" in response.text
    response = testapp.post(f"{LEROY}/@@sharing", {
        "csrf_token": token, "type": "user", "id": "dr.klein", "role": "surgeon",
        "grant": "1"}, expect_errors=True)
    assert response.status_int == 422
    assert sharing_rows(db) == before


def test_page_without_sharing_manage_offers_no_form_and_refuses_posts(site, testapp, db):
    login(testapp, "sec.dupont")
    page = testapp.get(f"{LEROY}/@@sharing")
    soup = page_soup(page)
    assert row(soup, "p.leroy") is not None              # she sees who has access
    assert not soup.select('form[method="post"][action$="@@sharing"]')
    token = soup.select_one('input[name="csrf_token"]')  # the logout form's
    before = sharing_rows(db)
    response = testapp.post(f"{LEROY}/@@sharing", {
        "csrf_token": token["value"], "type": "user", "id": "dr.klein",
        "role": "professional", "grant": "1"}, expect_errors=True)
    assert response.status_int == 403
    assert sharing_rows(db) == before


def test_page_is_refused_to_the_patient(site, testapp):
    login(testapp, "p.leroy")
    response = testapp.get(f"{LEROY}/@@sharing", expect_errors=True)
    assert response.status_int == 403
    assert "text/html" in response.content_type


def test_document_sharing_rules_are_not_listed_as_people(demo, api, testapp):
    """A shared document carries rows "holders of patient get shared_patient here":
    the sharing page lists people and groups only."""
    doc = "/cabinets/parc/patients/leroy/documents/consentement"
    client = api("dr.martin")
    entries = client.get(doc + "/@sharing").json["entries"]
    assert entries and all(not e["id"].startswith("role:") for e in entries)
    assert {e["type"] for e in entries} <= {"user", "group"}
    login(testapp, "dr.martin")
    assert "role:patient" not in testapp.get(doc + "/@@sharing").text
