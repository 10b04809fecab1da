"""Professional spaces (S1-S3): inviting by certificate serial number, accepting with
the matching certificate, the members list, roles, removal, the last administrator,
and the permissions each role gives (space:enter, space:sign)."""
import pytest
import webtest
from sqlalchemy import select

from cabinet import main
from cabinet.models import LocalRole, Membership, Node, User
from tests.conftest import login

SPACE = "/spaces/sante-services"
MEMBERS = SPACE + "/members"
WEBER_CERT = "12345678901234567890"
MARTIN_CERT = "98765432109876543210"
MARTIN_INVITATION = f"{MEMBERS}/{MARTIN_CERT}"
WEBER_MEMBERSHIP = f"{MEMBERS}/weber"


# -- helpers -------------------------------------------------------------------------

def memberships(db):
    with db() as request:
        return {m.certificate: (m.state, m.role, m.user_id) for m in
                request.dbsession.scalars(select(Membership).where(
                    Membership.path.startswith(MEMBERS + "/")))}


def space_roles(db, login_name):
    with db() as request:
        user = request.dbsession.scalar(select(User).where(User.login == login_name))
        space = request.dbsession.scalar(select(Node).where(Node.path == SPACE + "/"))
        return set(request.dbsession.scalars(select(LocalRole.role).where(
            LocalRole.node_id == space.id, LocalRole.principal == user.principal)))


def set_certificate(db, login_name, serial):
    with db() as request:
        user = request.dbsession.scalar(select(User).where(User.login == login_name))
        user.certificate_serial = serial


def permissions(weber, path, login_name):
    response = weber.get(f"{path}/@permissions?user={login_name}")
    return {p["permission"] for p in response.json["permissions"] if p["allowed"]}


def make_admin(api, login_name="dr.martin"):
    """dr.martin's invitation turned into an administrator's, accepted."""
    weber = api("dr.weber")
    weber.patch(MARTIN_INVITATION, {"role": "space_admin"})
    api(login_name).post(MARTIN_INVITATION + "/@accept")
    return weber


# -- the account's certificate and the demo -----------------------------------------

def test_demo_space_has_an_active_admin_and_an_invited_manager(demo, db):
    assert memberships(db) == {
        WEBER_CERT: ("active", "space_admin", memberships(db)[WEBER_CERT][2]),
        MARTIN_CERT: ("invited", "space_manager", None)}
    with db() as request:
        serials = dict(request.dbsession.execute(
            select(User.login, User.certificate_serial)).all())
    assert serials["dr.weber"] == WEBER_CERT
    assert serials["dr.martin"] == MARTIN_CERT
    assert serials["p.leroy"] is None


def test_demo_is_idempotent(demo, db):
    from cabinet.scripts.demo import load_demo
    with db() as request:
        load_demo(request)
    assert len(memberships(db)) == 2


def test_set_certificate_serial_validates_and_keeps_serials_unique(demo, db):
    from pyramid.httpexceptions import HTTPConflict, HTTPUnprocessableEntity
    from cabinet.spaces import set_certificate_serial
    with db() as request:
        leroy = request.dbsession.scalar(select(User).where(User.login == "p.leroy"))
        with pytest.raises(HTTPUnprocessableEntity) as bad:
            set_certificate_serial(request.dbsession, leroy, "1234")
        assert "20 chiffres" in bad.value.detail
        with pytest.raises(HTTPConflict):
            set_certificate_serial(request.dbsession, leroy, WEBER_CERT)
        set_certificate_serial(request.dbsession, leroy, "22223333444455556666")
    with db() as request:
        assert request.dbsession.scalar(select(User.certificate_serial).where(
            User.login == "p.leroy")) == "22223333444455556666"


# -- S1: invite -------------------------------------------------------------------------

@pytest.mark.parametrize("serial, message", [
    ("1234567890", "exactement 20 chiffres, pas 10"),
    ("123456789012345678901", "exactement 20 chiffres, pas 21"),
    ("1234567890123456789X", "que des chiffres"),
    ("", "obligatoire"),
    (None, "obligatoire"),
    (12345678901234567890, "texte de 20 chiffres"),
])
def test_invite_rejects_a_malformed_certificate(demo, api, db, serial, message):
    weber = api("dr.weber")
    response = weber.post(MEMBERS, {"@type": "Membership", "certificate_serial": serial,
                                    "role": "space_member"}, status=422)
    assert response.json["type"] == "ValidationError"
    assert message in response.json["errors"]["certificate_serial"]
    assert len(memberships(db)) == 2


def test_invite_rejects_an_unknown_role_and_unknown_fields(demo, api, db):
    weber = api("dr.weber")
    response = weber.post(MEMBERS, {"@type": "Membership",
                                    "certificate_serial": "22223333444455556666",
                                    "role": "owner"}, status=422)
    assert "space_admin" in response.json["errors"]["role"]
    response = weber.post(MEMBERS, {"@type": "Membership", "user_id": 1,
                                    "certificate_serial": "22223333444455556666",
                                    "role": "space_member"}, status=422)
    assert "user_id" in response.json["errors"]
    response = weber.post(MEMBERS, {"@type": "Document", "title": "x"}, status=422)
    assert "Membership" in response.json["message"]
    assert len(memberships(db)) == 2


def test_invite_by_json(demo, api, db):
    weber = api("dr.weber")
    response = weber.post(MEMBERS, {"@type": "Membership",
                                    "certificate_serial": "22223333444455556666",
                                    "role": "space_member"}, status=201)
    body = response.json
    assert body["review_state"] == "invited"
    assert body["certificate_serial"] == "22223333444455556666"
    assert body["role"] == "space_member"
    assert response.location.endswith(f"{MEMBERS}/22223333444455556666")
    assert memberships(db)["22223333444455556666"] == ("invited", "space_member", None)
    history = weber.get(f"{MEMBERS}/22223333444455556666/@history").json
    assert history[0]["action"] == "create" and history[0]["actor"]["id"] == "dr.weber"


def test_invite_posted_to_the_space_goes_through_the_same_validation(demo, api, db):
    weber = api("dr.weber")
    weber.post(SPACE, {"@type": "Membership", "certificate_serial": "12",
                       "role": "space_member"}, status=422)
    response = weber.post(SPACE, {"@type": "Membership",
                                  "certificate_serial": "22223333444455556666",
                                  "role": "space_manager"}, status=201)
    assert response.json["parent"]["@id"].endswith(MEMBERS)
    assert memberships(db)["22223333444455556666"] == ("invited", "space_manager", None)


def test_a_certificate_already_invited_or_member_is_refused(demo, api, db):
    weber = api("dr.weber")
    for serial in (MARTIN_CERT, WEBER_CERT):
        response = weber.post(MEMBERS, {"@type": "Membership", "certificate_serial": serial,
                                        "role": "space_member"}, status=409)
        assert "déjà membre" in response.json["message"]
    assert len(memberships(db)) == 2


def test_only_administrators_invite(demo, api, db):
    make_admin(api)  # dr.martin is now an administrator too; demote him to manager
    api("dr.weber").patch(MARTIN_INVITATION, {"role": "space_manager"})
    body = {"@type": "Membership", "certificate_serial": "22223333444455556666",
            "role": "space_member"}
    api("dr.martin").post(MEMBERS, body, status=403)
    api("sec.dupont").post(MEMBERS, body, status=403)
    api("sec.dupont").post(SPACE, body, status=403)
    assert "22223333444455556666" not in memberships(db)


def test_invite_form(demo, testapp, db):
    login(testapp, "dr.weber")
    page = testapp.get(MEMBERS + "/@@invite")
    assert "Inviter un membre" in page.text
    form = page.forms["invite-form"]
    form["certificate_serial"] = "1234"
    form["role"] = "space_manager"
    page = form.submit(status=200)
    assert "Le formulaire contient des erreurs" in page.text
    assert "exactement 20 chiffres, pas 4" in page.text
    assert 'id="e-certificate_serial"' in page.text
    form = page.forms["invite-form"]
    assert form["role"].value == "space_manager"
    form["certificate_serial"] = MARTIN_CERT
    page = form.submit(status=200)
    assert "Déjà membre ou invité" in page.text
    form = page.forms["invite-form"]
    form["certificate_serial"] = "22223333444455556666"
    response = form.submit(status=303)
    assert response.location.endswith(MEMBERS)
    page = response.follow()
    assert "Invitation envoyée au certificat 22223333444455556666" in page.text
    row = page.html.find("tr", attrs={"data-member": "22223333444455556666"})
    assert "Gestionnaire" in row.text and "Invité" in row.text


def test_the_invite_form_is_csrf_protected(demo, testapp, db):
    login(testapp, "dr.weber")
    testapp.post(MEMBERS + "/@@invite", {"certificate_serial": "22223333444455556666",
                                         "role": "space_member"}, status=403)
    assert len(memberships(db)) == 2


def test_non_admins_do_not_get_the_invite_form(demo, testapp):
    login(testapp, "dr.martin")
    testapp.get(MEMBERS + "/@@invite", status=403)


# -- S2: accept -------------------------------------------------------------------------

def test_the_invitee_sees_and_accepts_the_invitation(demo, api, db, testapp):
    martin = api("dr.martin")
    martin.get(SPACE, status=403)
    invitations = martin.get("/@invitations").json
    assert invitations["certificate_serial"] == MARTIN_CERT
    [item] = invitations["items"]
    assert item["space"]["title"] == "Santé Services SARL"
    assert item["role"] == "space_manager"
    assert item["@id"].endswith(MARTIN_INVITATION)

    response = martin.post(MARTIN_INVITATION + "/@accept")
    assert response.json["review_state"] == "active"
    assert response.json["space"]["title"] == "Santé Services SARL"
    state, role, user_id = memberships(db)[MARTIN_CERT]
    assert (state, role) == ("active", "space_manager")
    with db() as request:
        assert request.dbsession.get(User, user_id).login == "dr.martin"
    assert space_roles(db, "dr.martin") == {"space_manager"}
    assert martin.get(SPACE).json["title"] == "Santé Services SARL"
    assert martin.get("/@invitations").json["items"] == []
    martin.post(MARTIN_INVITATION + "/@accept", status=403)   # not twice


def test_accepting_with_another_certificate_is_refused(demo, api, db):
    set_certificate(db, "sec.dupont", "55556666777788889999")
    dupont = api("sec.dupont")
    assert dupont.get("/@invitations").json["items"] == []
    response = dupont.post(MARTIN_INVITATION + "/@accept", status=409)
    assert "autre numéro de certificat" in response.json["message"]
    assert response.json["guard"] == "matching_certificate"
    response = api("p.leroy").post(MARTIN_INVITATION + "/@accept", status=409)
    assert "pas de numéro de certificat" in response.json["message"]
    assert memberships(db)[MARTIN_CERT] == ("invited", "space_manager", None)
    assert space_roles(db, "sec.dupont") == set()
    assert space_roles(db, "p.leroy") == set()


def test_a_client_header_is_not_trusted_in_development(demo, api, db):
    """Without the proxy setting, a certificate header sent by the client is ignored."""
    set_certificate(db, "dr.martin", None)
    martin = api("dr.martin")
    martin.headers["X-SSL-Client-Serial"] = MARTIN_CERT
    assert martin.get("/@invitations").json["items"] == []
    martin.post(MARTIN_INVITATION + "/@accept", status=409)
    assert memberships(db)[MARTIN_CERT][0] == "invited"


@pytest.fixture
def proxied(demo, settings):
    """The application configured as in production.ini: the TLS proxy's header."""
    app = main({}, **{**settings,
                      "cabinet.certificates": "cabinet.spaces.ProxyHeaderCertificates",
                      "cabinet.certificate_header": "X-SSL-Client-Serial"})
    return webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost",
                                               "REMOTE_ADDR": "127.0.0.1"})


def test_behind_the_proxy_the_header_gives_the_certificate(proxied, db):
    from tests.conftest import Api, api_token
    set_certificate(db, "dr.martin", None)
    martin = Api(proxied, api_token(proxied, "dr.martin"))
    # no header: no certificate (the account's stored value is not what is presented)
    martin.post(MARTIN_INVITATION + "/@accept", status=409)
    martin.headers["X-SSL-Client-Serial"] = "22223333444455556666"
    martin.post(MARTIN_INVITATION + "/@accept", status=409)
    martin.headers["X-SSL-Client-Serial"] = MARTIN_CERT
    assert len(martin.get("/@invitations").json["items"]) == 1
    assert martin.post(MARTIN_INVITATION + "/@accept").json["review_state"] == "active"
    with db() as request:   # the account now carries the certificate it accepted with
        assert request.dbsession.scalar(select(User.certificate_serial).where(
            User.login == "dr.martin")) == MARTIN_CERT


def test_the_proxy_source_needs_its_header_setting(demo, settings):
    with pytest.raises(ValueError, match="cabinet.certificate_header"):
        main({}, **{**settings,
                    "cabinet.certificates": "cabinet.spaces.ProxyHeaderCertificates"})


def test_accept_from_the_invitations_page(demo, testapp, db):
    login(testapp, "dr.martin")
    page = testapp.get("/@@invitations")
    assert MARTIN_CERT in page.text
    assert "Santé Services SARL" in page.text
    form = next(f for f in page.forms.values() if f.action.endswith("/@@accept"))
    response = form.submit(status=303)
    assert response.location.endswith(SPACE)
    page = response.follow()
    assert "Vous êtes membre de « Santé Services SARL »" in page.text
    assert memberships(db)[MARTIN_CERT][0] == "active"
    assert "Aucune invitation en attente" in testapp.get("/@@invitations").text


def test_the_invitations_page_says_when_the_account_has_no_certificate(demo, testapp):
    login(testapp, "p.leroy")
    page = testapp.get("/@@invitations")
    assert "ne porte pas de numéro de certificat" in page.text


# -- S3: members, roles, removal ------------------------------------------------------

def test_members_page_lists_names_certificates_roles_and_states(demo, testapp):
    login(testapp, "dr.weber")
    page = testapp.get(MEMBERS)
    assert "Membres de Santé Services SARL" in page.text
    weber = page.html.find("tr", attrs={"data-member": "weber"})
    assert "Dr Eva Weber" in weber.text and WEBER_CERT in weber.text
    assert "Administrateur" in weber.text and "Actif" in weber.text
    martin = page.html.find("tr", attrs={"data-member": MARTIN_CERT})
    assert "Invitation en attente" in martin.text and MARTIN_CERT in martin.text
    assert "Gestionnaire" in martin.text and "Invité" in martin.text
    assert martin.find("button", string="Retirer") is not None
    assert "Inviter un membre" in page.text


def test_members_see_the_active_members_without_actions(demo, api, testapp):
    api("dr.martin").post(MARTIN_INVITATION + "/@accept")
    login(testapp, "dr.martin")
    page = testapp.get(MEMBERS)
    assert page.html.find("tr", attrs={"data-member": "weber"}) is not None
    assert "Retirer" not in page.text and "Changer le rôle" not in page.text
    assert "Inviter un membre" not in page.text


def test_outsiders_do_not_see_the_members(demo, testapp):
    login(testapp, "sec.dupont")
    testapp.get(MEMBERS, status=403)


def test_change_role_by_json_moves_the_local_role(demo, api, db):
    weber = api("dr.weber")
    martin = api("dr.martin")
    martin.post(MARTIN_INVITATION + "/@accept")
    assert space_roles(db, "dr.martin") == {"space_manager"}
    response = weber.patch(MARTIN_INVITATION, {"role": "space_member"})
    assert response.json["role"] == "space_member"
    assert space_roles(db, "dr.martin") == {"space_member"}
    assert "space:sign" not in permissions(weber, SPACE, "dr.martin")
    history = weber.get(MARTIN_INVITATION + "/@history").json
    assert history[0]["details"] == {"fields": ["role"], "from": "space_manager",
                                     "to": "space_member"}
    weber.patch(MARTIN_INVITATION, {"role": "boss"}, status=422)
    weber.patch(MARTIN_INVITATION, {"certificate": "1"}, status=422)
    martin.patch(WEBER_MEMBERSHIP, {"role": "space_member"}, status=403)


def test_change_role_form(demo, testapp, db):
    login(testapp, "dr.weber")
    page = testapp.get(MEMBERS)
    form = next(f for f in page.forms.values() if f.action.endswith(
        f"{MARTIN_INVITATION}/@@role"))
    form["role"] = "space_admin"
    page = form.submit(status=303).follow()
    assert "rôle modifié" in page.text
    row = page.html.find("tr", attrs={"data-member": MARTIN_CERT})
    assert row["data-role"] == "space_admin"


def test_remove_revokes_the_local_role(demo, api, db):
    weber = api("dr.weber")
    martin = api("dr.martin")
    martin.post(MARTIN_INVITATION + "/@accept")
    martin.get(SPACE, status=200)
    response = weber.post(MARTIN_INVITATION + "/@workflow/remove")
    assert response.json["review_state"] == "ended"
    assert space_roles(db, "dr.martin") == set()
    martin.get(SPACE, status=403)
    weber.patch(MARTIN_INVITATION, {"role": "space_admin"}, status=403)


def test_remove_an_invitation_with_the_form(demo, testapp, db, api):
    login(testapp, "dr.weber")
    page = testapp.get(MEMBERS)
    form = next(f for f in page.forms.values() if f.action.endswith(
        f"{MARTIN_INVITATION}/@@remove"))
    page = form.submit(status=303).follow()
    assert "a été retiré de l’espace".replace("’", "'") in page.html.text
    assert memberships(db)[MARTIN_CERT][0] == "ended"
    api("dr.martin").post(MARTIN_INVITATION + "/@accept", status=403)


def test_the_last_administrator_can_be_neither_removed_nor_demoted(demo, api, db,
                                                                   testapp):
    weber = api("dr.weber")
    response = weber.post(WEBER_MEMBERSHIP + "/@workflow/remove", status=409)
    assert "au moins un administrateur actif" in response.json["message"]
    assert response.json["guard"] == "not_last_admin"
    response = weber.patch(WEBER_MEMBERSHIP, {"role": "space_manager"}, status=409)
    assert "au moins un administrateur actif" in response.json["message"]
    assert response.json["reason"] == "last_admin"
    assert memberships(db)[WEBER_CERT][:2] == ("active", "space_admin")
    assert space_roles(db, "dr.weber") == {"space_admin"}
    # an invited administrator does not count: it is not active yet
    weber.patch(MARTIN_INVITATION, {"role": "space_admin"})
    weber.post(WEBER_MEMBERSHIP + "/@workflow/remove", status=409)
    # the HTML form says so too
    login(testapp, "dr.weber")
    page = testapp.get(MEMBERS)
    form = next(f for f in page.forms.values() if f.action.endswith(
        f"{WEBER_MEMBERSHIP}/@@remove"))
    page = form.submit(status=409)
    assert "au moins un administrateur actif" in page.text


def test_with_a_second_administrator_one_may_leave(demo, api, db):
    weber = make_admin(api)
    weber.patch(WEBER_MEMBERSHIP, {"role": "space_member"})
    assert space_roles(db, "dr.weber") == {"space_member"}
    martin = api("dr.martin")
    response = martin.post(WEBER_MEMBERSHIP + "/@workflow/remove")
    assert response.json["review_state"] == "ended"
    martin.post(MARTIN_INVITATION + "/@workflow/remove", status=409)


# -- permissions follow the role ------------------------------------------------------

MATRIX = {
    # role: (invites and removes, enters, signs)
    "space_admin": (True, True, True),
    "space_manager": (False, True, True),
    "space_member": (False, True, False),
}


@pytest.mark.parametrize("role", sorted(MATRIX))
def test_permissions_follow_the_role(demo, api, db, role):
    weber = api("dr.weber")
    weber.patch(MARTIN_INVITATION, {"role": role})
    api("dr.martin").post(MARTIN_INVITATION + "/@accept")
    manages, enters, signs = MATRIX[role]
    on_space = permissions(weber, SPACE, "dr.martin")
    assert ("membership:add" in on_space) is manages
    assert ("space:enter" in on_space) is enters
    assert ("space:sign" in on_space) is signs
    assert "space:view" in on_space
    on_member = permissions(weber, WEBER_MEMBERSHIP, "dr.martin")
    assert ("membership:remove" in on_member) is manages
    assert ("membership:manage" in on_member) is manages


def test_outsiders_hold_no_space_permission(demo, api):
    on_space = permissions(api("dr.weber"), SPACE, "sec.dupont")
    assert not on_space & {"space:view", "space:enter", "space:sign", "membership:add"}

