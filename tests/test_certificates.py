"""Development: site administrators set an account's certificate serial number (S2),
by page (/@@certificates) and JSON (/@certificates); validated (20 digits, not another
account's: 409), with a permission, CSRF and a history row; absent with the production
setting (the TLS proxy's header)."""
import configparser
from pathlib import Path

import pytest
import webtest
from sqlalchemy import select

from cabinet import main
from cabinet.models import HistoryEntry, LocalRole, Node, User
from tests.conftest import Api, api_token, login

HERE = Path(__file__).resolve().parent.parent
WEBER_CERT = "12345678901234567890"           # the demo's dr.weber
NEW_CERT = "55556666777788889999"
SPACE = "/spaces/sante-services"


def certificate_of(db, login_name):
    with db() as request:
        return request.dbsession.scalar(select(User.certificate_serial).where(
            User.login == login_name))


def site_history(db):
    with db() as request:
        root = request.dbsession.scalar(select(Node).where(Node.parent_id.is_(None)))
        return [(h.action, h.actor_id, h.details) for h in request.dbsession.scalars(
            select(HistoryEntry).where(HistoryEntry.node_id == root.id,
                                       HistoryEntry.action == "certificate")
            .order_by(HistoryEntry.id))]


# -- JSON ---------------------------------------------------------------------------

def test_a_site_administrator_sets_a_certificate(admin, db):
    assert certificate_of(db, "p.leroy") is None
    response = admin.post("/@certificates", {"login": "p.leroy",
                                             "certificate_serial": NEW_CERT})
    assert response.json["login"] == "p.leroy"
    assert response.json["certificate_serial"] == NEW_CERT
    assert certificate_of(db, "p.leroy") == NEW_CERT
    listed = admin.get("/@certificates").json["items"]
    assert {(item["login"], item["certificate_serial"]) for item in listed} >= {
        ("p.leroy", NEW_CERT), ("dr.weber", WEBER_CERT)}
    [(action, actor_id, details)] = site_history(db)
    with db() as request:
        assert actor_id == request.dbsession.scalar(select(User.id).where(
            User.login == "admin"))
    assert details == {"user": "p.leroy", "from": None, "to": NEW_CERT}
    # setting the same number again changes nothing and records nothing
    admin.post("/@certificates", {"login": "p.leroy", "certificate_serial": NEW_CERT})
    assert len(site_history(db)) == 1
    # empty removes it
    response = admin.post("/@certificates", {"login": "p.leroy", "certificate_serial": ""})
    assert response.json["certificate_serial"] is None
    assert certificate_of(db, "p.leroy") is None
    assert site_history(db)[-1][2] == {"user": "p.leroy", "from": NEW_CERT, "to": None}


@pytest.mark.parametrize("serial, message", [
    ("1234567890123456789", "exactement 20 chiffres, pas 19"),
    ("123456789012345678901", "exactement 20 chiffres, pas 21"),
    ("1234567890123456789A", "que des chiffres"),
    ("１２３４５６７８９０１２３４５６７８９０", "que des chiffres"),   # full-width digits
    (12345678901234567890, "comme un texte"),
])
def test_bad_numbers_are_refused_with_the_field(admin, db, serial, message):
    response = admin.post("/@certificates", {"login": "p.leroy",
                                             "certificate_serial": serial}, status=422)
    assert message in response.json["errors"]["certificate_serial"]
    assert certificate_of(db, "p.leroy") is None
    assert site_history(db) == []


def test_a_number_held_by_another_account_is_a_conflict(admin, db):
    response = admin.post("/@certificates", {"login": "p.leroy",
                                             "certificate_serial": WEBER_CERT}, status=409)
    assert "appartient déjà à un autre compte" in response.json["message"]
    assert "certificate_serial" in response.json["errors"]
    assert certificate_of(db, "p.leroy") is None
    assert certificate_of(db, "dr.weber") == WEBER_CERT
    # the account's own number again is no conflict
    admin.post("/@certificates", {"login": "dr.weber", "certificate_serial": WEBER_CERT})


def test_unknown_accounts_and_fields(admin):
    response = admin.post("/@certificates", {"login": "nobody.here",
                                             "certificate_serial": NEW_CERT}, status=422)
    assert response.json["errors"]["login"] == "Aucun compte ne porte cet identifiant."
    response = admin.post("/@certificates", {"certificate_serial": NEW_CERT}, status=422)
    assert "obligatoire" in response.json["errors"]["login"]
    response = admin.post("/@certificates", {"login": "p.leroy", "certificate_serial":
                                             NEW_CERT, "role": "x"}, status=422)
    assert response.json["errors"] == {"role": "Unrecognized field."}


def test_only_site_administrators_set_certificates(demo, api, db):
    """Not a cabinet administrator (dr.weber made one for the test), not a space
    administrator, not a plain user."""
    with db() as request:
        session = request.dbsession
        weber = session.scalar(select(User).where(User.login == "dr.weber"))
        parc = session.scalar(select(Node).where(Node.path == "/cabinets/parc/"))
        session.add(LocalRole(node_id=parc.id, principal=weber.principal,
                              role="administrator"))
    for login_name in ("dr.weber", "fidu.admin", "p.leroy"):
        user = api(login_name)
        user.post("/@certificates", {"login": login_name,
                                     "certificate_serial": NEW_CERT}, status=403)
        user.get("/@certificates", status=403)
    assert certificate_of(db, "p.leroy") is None
    assert certificate_of(db, "dr.weber") == WEBER_CERT


def test_the_number_set_lets_the_user_accept_an_invitation(admin, api, db):
    """End to end: a space invites a certificate; once an administrator gives it to
    p.leroy's account, p.leroy sees the invitation and becomes a member."""
    weber = api("dr.weber")
    weber.post(SPACE + "/members", {"@type": "Membership", "certificate_serial": NEW_CERT,
                                    "role": "space_member"}, status=201)
    leroy = api("p.leroy")
    assert leroy.get("/@invitations").json["items"] == []
    admin.post("/@certificates", {"login": "p.leroy", "certificate_serial": NEW_CERT})
    [invitation] = leroy.get("/@invitations").json["items"]
    path = invitation["@id"].replace("http://localhost", "")
    assert leroy.post(path + "/@accept").json["review_state"] == "active"
    leroy.get(SPACE, status=200)


# -- the page -------------------------------------------------------------------------

def test_the_page_sets_a_certificate_and_shows_errors_in_place(demo, testapp, db):
    login(testapp, "admin")
    page = testapp.get("/@@certificates")
    assert "Numéros de certificat des comptes" in page.text
    assert WEBER_CERT in page.text and "dr.weber" in page.text
    form = page.forms["certificate-set"]
    form["login"] = "p.leroy"
    form["certificate_serial"] = "1234"
    page = form.submit(status=422)
    assert "exactement 20 chiffres, pas 4" in page.text
    form = page.forms["certificate-set"]
    assert form["login"].value == "p.leroy"
    form["certificate_serial"] = WEBER_CERT
    page = form.submit(status=409)
    assert "appartient déjà à un autre compte" in page.text
    form = page.forms["certificate-set"]
    form["certificate_serial"] = NEW_CERT
    page = form.submit(status=303).follow()
    assert "Le compte « p.leroy » porte maintenant le certificat " + NEW_CERT in page.text
    assert certificate_of(db, "p.leroy") == NEW_CERT


def test_the_page_needs_the_csrf_token(demo, testapp, db):
    login(testapp, "admin")
    testapp.get("/@@certificates")
    response = testapp.post("/@@certificates", {"login": "p.leroy",
                                                "certificate_serial": NEW_CERT},
                            status=403)
    assert "jeton de sécurité" in response.text
    assert certificate_of(db, "p.leroy") is None


def test_the_page_is_refused_to_other_users(demo, testapp):
    login(testapp, "dr.martin")
    testapp.get("/@@certificates", status=403)


# -- production: the proxy's header only ---------------------------------------------

def production_certificate_settings():
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(HERE / "production.ini")
    app = parser["app:main"]
    return {key: app[key] for key in ("cabinet.certificates", "cabinet.certificate_header")}


def test_with_the_production_setting_nothing_sets_certificates(demo, settings, db):
    production = production_certificate_settings()
    assert production["cabinet.certificates"] == "cabinet.spaces.ProxyHeaderCertificates"
    testapp = webtest.TestApp(main({}, **{**settings, **production}),
                              extra_environ={"HTTP_HOST": "localhost",
                                             "REMOTE_ADDR": "127.0.0.1"})
    admin = Api(testapp, api_token(testapp, "admin"))
    admin.post("/@certificates", {"login": "p.leroy", "certificate_serial": NEW_CERT},
               status=404)
    admin.get("/@certificates", status=404)
    assert "/@certificates" not in testapp.get("/@openapi.json").json["paths"]
    login(testapp, "admin")
    testapp.get("/@@certificates", status=404)
    assert certificate_of(db, "p.leroy") is None


def test_in_development_the_api_description_lists_it(demo, testapp):
    paths = testapp.get("/@openapi.json").json["paths"]
    assert set(paths["/@certificates"]) == {"get", "post"}


def test_one_number_given_to_two_accounts_at_once(demo, db):
    """Through a real server: of two requests giving one number to two accounts at
    the same instant, one succeeds, the other gets 409 (never the unique index's 500)."""
    from tests.live import login as server_login, race, serving
    with serving(demo) as address:
        token = server_login(address, "admin")
        for round_ in range(3):
            for name in ("p.leroy", "sec.dupont"):
                with db() as request:
                    request.dbsession.scalar(select(User).where(
                        User.login == name)).certificate_serial = None
            results = race(address, [
                ("POST", "/@certificates", {"login": name, "certificate_serial": NEW_CERT},
                 token) for name in ("p.leroy", "sec.dupont")])
            assert sorted(status for status, _ in results) == [200, 409], (round_, results)
            refused = next(body for status, body in results if status == 409)
            assert "appartient déjà à un autre compte" in refused["message"]
            winner = next(body["login"] for status, body in results if status == 200)
            assert certificate_of(db, winner) == NEW_CERT
