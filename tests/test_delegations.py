"""Secretaries (D1-D8): adding by matricule, the invitation mail through a real SMTP
server, the account created from its link, end / cancel / end at a date, boundary
dates with the moved clock, group delegations, the cabinet's report and CSV, and the
bad input of the issue."""
import csv
import io
import re
from datetime import date, datetime

import pytest
from sqlalchemy import select

from cabinet.matricule import make_matricule
from cabinet.models import Delegation, Group, GroupMember, HistoryEntry, LocalRole, User
from tests.conftest import last_form, login
from tests.smtp import mail_settings, smtp_server  # noqa: F401

DUPONT = "1988051704221"          # sec.dupont, in cabinet/data/registry.csv
SCHMIT = "1990063047606"          # Marc Schmit: in the registry, no account
FERREIRA = "1999041675580"        # Léon Ferreira: in the registry, no account
UNKNOWN = make_matricule(date(1960, 1, 1), 999)   # valid, but nobody holds it
DELEGATIONS = "/professionals/martin/delegations"


@pytest.fixture
def settings(settings, mail_settings):  # noqa: F811
    return {**settings, **mail_settings}


def body(**kw):
    data = {"@type": "Delegation", "matricule": SCHMIT, "email": "marc@parc.example",
            "start_date": "2026-03-10", "end_date": None, "can_sign": False}
    data.update(kw)
    return data


def link_from(message):
    text = message.get_body(preferencelist=("plain",)).get_content()
    found = re.search(r"https?://[^\s]+/@@invitation/[A-Za-z0-9_-]+", text)
    assert found, text
    return found.group(0)


def local_path(url):
    return url.split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def accept_terms(testapp):
    page = testapp.get("/terms")
    page.forms["terms-accept"].submit()


def create_account(testapp, link, login_name="marc.schmit", password="un mot de passe"):
    page = testapp.get(local_path(link))
    assert "Créer votre compte" in page.text
    form = last_form(page)
    assert form["fullname"].value == "Marc Schmit"          # prefilled from the registry
    form["login"] = login_name
    form["password"] = password
    form["password_confirm"] = password
    return form.submit()


# -- the full journey through the pages and the real SMTP server ----------------------------

def test_add_secretary_without_account_mail_link_account_login_patients(
        demo, testapp, smtp_server, db):  # noqa: F811
    login(testapp, "dr.martin")
    page = testapp.get(DELEGATIONS)
    assert "Mes secrétaires" in page.text
    assert "Sophie Dupont" in page.text and "Nicole Faber" in page.text
    assert "invitée" in page.text and "active" in page.text
    page = page.click("Ajouter une secrétaire")
    form = last_form(page)
    form["matricule"] = "1990 0630 476 06"
    page = form.submit()                                   # "Rechercher"
    assert "Marc Schmit" in page.text
    assert "30/06/1990" in page.text and "L-9122 Schieren" in page.text
    form = last_form(page)
    form["email"] = "marc@parc.example"
    form["start_date"] = "2026-03-10"
    form["end_date"] = "2026-12-31"
    page = form.submit().follow()
    assert "Invitation envoyée à marc@parc.example" in page.text
    assert "Marc Schmit" in page.text

    [message] = smtp_server.wait_for(1)
    assert message["To"] == "marc@parc.example"
    assert "Dr Paul Martin" in message["Subject"]
    link = link_from(message)

    testapp.post("/logout", {"csrf_token": testapp.get("/").forms[0]["csrf_token"].value})
    response = create_account(testapp, link)
    assert response.status_int == 303
    login(testapp, "marc.schmit", "un mot de passe")
    accept_terms(testapp)
    page = testapp.get("/cabinets/parc/patients")
    assert "Léa Leroy" in page.text and "Hugo Bernard" in page.text
    home = testapp.get("/")
    assert "Vous agissez pour Dr Paul Martin" in home.text

    # the link is single-use: used, it says so (409), and creates nothing more
    again = testapp.get(local_path(link), status=409)
    assert "déjà été utilisé" in again.text
    with db() as request:
        user = request.dbsession.scalar(select(User).where(User.login == "marc.schmit"))
        assert user.matricule == SCHMIT
        d = request.dbsession.scalar(select(Delegation).where(
            Delegation.matricule == SCHMIT))
        assert d.state == "active" and d.delegate_id == user.id
        assert d.invitation_hash is not None      # kept: a used link is recognised
        assert request.dbsession.scalar(select(LocalRole.role).where(
            LocalRole.node_id == d.id, LocalRole.principal == user.principal)) == "delegate"


def test_secretary_with_an_account_is_active_at_once(demo, api, smtp_server, db):  # noqa: F811
    martin = api("dr.martin")
    martin.post(f"{DELEGATIONS}/sec-dupont/@workflow/cancel")
    response = martin.post(DELEGATIONS, body(matricule=DUPONT, email="dupont@parc.example",
                                             start_date="2026-03-12"), status=201)
    assert response.json["review_state"] == "active"
    assert response.json["start_date"] == "2026-03-12"
    [message] = smtp_server.wait_for(1)
    assert "invitation" not in message.get_body(("plain",)).get_content()
    with db() as request:
        d = request.dbsession.scalar(select(Delegation).where(
            Delegation.matricule == DUPONT, Delegation.state == "active"))
        assert d.delegate_id == request.dbsession.scalar(
            select(User.id).where(User.login == "sec.dupont"))
        history = list(request.dbsession.scalars(select(HistoryEntry.transition).where(
            HistoryEntry.node_id == d.id)))
        assert "accept" in history
    # grants only from its start date
    dupont = api("sec.dupont")
    dupont.get("/cabinets/parc/patients/leroy", status=403)


def test_boundary_dates_with_the_moved_clock(demo, api, clock):
    martin = api("dr.martin")
    martin.post(f"{DELEGATIONS}/sec-dupont/@workflow/cancel")
    martin.post(DELEGATIONS, body(matricule=DUPONT, email="dupont@parc.example",
                                  start_date="2026-03-12", end_date="2026-03-20"),
                status=201)
    patient = "/cabinets/parc/patients/leroy"
    # (a new token at each moment: tokens expire after 12 hours)
    clock.set(datetime(2026, 3, 11, 23, 0))
    api("sec.dupont").get(patient, status=403)
    clock.set(datetime(2026, 3, 12, 8, 0))
    assert api("sec.dupont").get(patient).json["title"] == "Léa Leroy"
    clock.set(datetime(2026, 3, 20, 18, 0))
    assert api("sec.dupont").get(patient).status_int == 200
    clock.set(datetime(2026, 3, 21, 0, 1))                  # nobody pressed a button
    api("sec.dupont").get(patient, status=403)


def test_end_at_a_chosen_date_then_nothing_after(demo, api, clock):
    martin = api("dr.martin")
    dupont = api("sec.dupont")
    url = f"{DELEGATIONS}/sec-dupont"
    response = martin.patch(url, {"end_date": "2026-03-15"})
    assert response.json["end_date"] == "2026-03-15"
    assert response.json["review_state"] == "active"
    assert dupont.get("/cabinets/parc/patients/leroy").status_int == 200
    clock.set(datetime(2026, 3, 16, 9, 0))
    api("sec.dupont").get("/cabinets/parc/patients/leroy", status=403)
    # bad end dates
    clock.set(datetime(2026, 3, 10, 9, 0))
    error = martin.patch(url, {"end_date": "2026-03-01"}, status=422).json
    assert error["field"] == "end_date" and "passé" in error["message"]
    error = martin.patch(url, {"end_date": "demain"}, status=422).json
    assert error["field"] == "end_date"
    martin.patch(url, {"title": "x"}, status=422)
    dupont.patch(url, {"end_date": "2026-03-11"}, status=403)


def test_end_and_cancel(demo, api, testapp, db):
    martin = api("dr.martin")
    response = martin.post(f"{DELEGATIONS}/sec-dupont/@workflow/end")
    assert response.json["review_state"] == "ended"
    # ended by hand: it ends today (the clock's), and its end date says so
    assert martin.get(f"{DELEGATIONS}/sec-dupont").json["end_date"] == "2026-03-10"
    api("sec.dupont").get("/cabinets/parc/patients/leroy", status=403)
    martin.post(f"{DELEGATIONS}/sec-dupont/@workflow/end", status=409)
    response = martin.post(f"{DELEGATIONS}/invitation-faber/@workflow/cancel")
    assert response.json["review_state"] == "ended"
    # the page: both ended now, no buttons
    login(testapp, "dr.martin")
    page = testapp.get(DELEGATIONS)
    assert page.text.count('data-state="ended"') == 2
    assert "terminée" in page.text
    assert 'value="cancel"' not in page.text


def test_page_buttons_end_and_cancel(demo, testapp):
    login(testapp, "dr.martin")
    page = testapp.get(DELEGATIONS)
    assert "Terminer aujourd" in page.text and "Annuler la délégation" in page.text
    form = [f for f in page.forms.values()
            if f.action.endswith("invitation-faber/@@action")][0]
    page = form.submit("transition", value="cancel").follow()
    assert "Nicole Faber pour Dr Paul Martin » : Terminée" in page.text
    form = [f for f in page.forms.values()
            if f.action.endswith("sec-dupont/@@action") and "end_date" in f.fields][0]
    form["end_date"] = "2026-04-30"
    page = form.submit("transition", value="end_at").follow()
    assert "fin le 30/04/2026" in page.text
    assert "30/04/2026" in page.text


def test_history_shows_secretary_for_professional(demo, api, testapp):
    dupont = api("sec.dupont")
    dupont.post("/cabinets/parc/patients/leroy/documents/devis/@workflow/send")
    history = api("dr.martin").get(
        "/cabinets/parc/patients/leroy/documents/devis/@history").json
    assert history[0]["actor"]["id"] == "sec.dupont"
    assert history[0]["acting_for"]["id"] == "dr.martin"


# -- groups (D6) and the report (D7) ----------------------------------------------------------

def test_group_delegation_counts_members_added_later(demo, api, db):
    with db() as request:
        session = request.dbsession
        group = Group(name="secretariat", title="Secrétariat du Parc")
        session.add(group)
        first = User(login="sec.one", fullname="Sec One", password_hash=session.scalar(
            select(User.password_hash).where(User.login == "sec.dupont")))
        later = User(login="sec.two", fullname="Sec Two",
                     password_hash=first.password_hash)
        session.add_all([first, later])
        session.flush()
        session.add(GroupMember(group_id=group.id, user_id=first.id))
        from cabinet.terms import accept_for_all_users, current_version
        accept_for_all_users(session, current_version(session), datetime(2026, 3, 10))
    admin = api("admin")
    response = admin.post("/cabinets/parc/@secretaries", {
        "professional": "martin", "group": "secretariat", "start_date": "2026-03-10",
        "can_sign": False}, status=201)
    assert response.json["review_state"] == "active"
    assert api("sec.one").get("/cabinets/parc/patients/leroy").status_int == 200
    two = api("sec.two")
    two.get("/cabinets/parc/patients/leroy", status=403)
    with db() as request:
        request.dbsession.add(GroupMember(
            group_id=request.dbsession.scalar(select(Group.id)),
            user_id=request.dbsession.scalar(select(User.id).where(User.login == "sec.two"))))
    assert api("sec.two").get("/cabinets/parc/patients/leroy").status_int == 200
    # a second delegation for the same group and professional: 409
    error = admin.post("/cabinets/parc/@secretaries", {
        "professional": "martin", "group": "secretariat", "start_date": "2026-03-10"},
        status=409).json
    assert error["field"] == "group"
    # unknown group, professional of another cabinet
    assert admin.post("/cabinets/parc/@secretaries", {
        "professional": "martin", "group": "nope", "start_date": "2026-03-10"},
        status=422).json["field"] == "group"
    assert admin.post("/cabinets/parc/@secretaries", {
        "professional": "ghost", "group": "secretariat", "start_date": "2026-03-10"},
        status=422).json["field"] == "professional"
    # only the cabinet's administrators attach
    api("dr.martin").post("/cabinets/parc/@secretaries", {
        "professional": "martin", "group": "secretariat", "start_date": "2026-03-10"},
        status=403)


def test_admin_attaches_one_person_by_matricule(demo, api, smtp_server):  # noqa: F811
    admin = api("admin")
    response = admin.post("/cabinets/parc/@secretaries", {
        "professional": "weber", "matricule": FERREIRA, "email": "leon@parc.example",
        "start_date": "2026-03-11"}, status=201)
    assert response.json["review_state"] == "invited"
    [message] = smtp_server.wait_for(1)
    assert "Dr Eva Weber" in message["Subject"]


def test_report_page_and_csv(demo, api, testapp, db):
    with db() as request:
        d = request.dbsession.scalar(select(Delegation).where(
            Delegation.matricule == "1987031770999"))
        d.delegate_name = "=HYPERLINK(\"http://evil\")"
    login(testapp, "admin")
    page = testapp.get("/cabinets/parc/@@secretaries")
    assert "Dr Paul Martin" in page.text and "Dr Eva Weber" in page.text
    assert "Sophie Dupont" in page.text and "invitée" in page.text
    response = page.click(href="secretaries.csv")
    assert response.content_type == "text/csv"
    rows = list(csv.reader(io.StringIO(response.body.decode("utf-8-sig"))))
    assert rows[0][:2] == ["professionnel", "secrétaire"]
    dupont = [r for r in rows if r[1] == "Sophie Dupont"][0]
    assert dupont[0] == "Dr Paul Martin" and dupont[4] == "2026-02-08"
    assert dupont[-1] == "Active"
    evil = [r for r in rows if "HYPERLINK" in r[1]][0]
    assert evil[1].startswith("'=")
    assert evil[-1] == "Invitée"
    # the report is the administrators'
    testapp.reset()
    login(testapp, "dr.weber")
    testapp.get("/cabinets/parc/@@secretaries.csv", status=403)


def test_admin_attach_form_shows_errors(demo, testapp):
    login(testapp, "admin")
    page = testapp.get("/cabinets/parc/@@secretaries")
    form = last_form(page)
    form["professional"] = "martin"
    form["matricule"] = "1990063047607"
    form["start_date"] = "2026-03-10"
    page = form.submit(status=400)
    assert "clé de Verhoeff" in page.text


# -- bad input (the list) ------------------------------------------------------------

@pytest.mark.parametrize("changes, field, words", [
    ({"matricule": "12345"}, "matricule", "13 chiffres"),
    ({"matricule": "1990063047616"}, "matricule", "clé de Luhn"),
    ({"matricule": "1990063047607"}, "matricule", "clé de Verhoeff"),
    ({"matricule": "1990133047606"}, "matricule", "date de naissance"),
    ({"matricule": "19900630476ab"}, "matricule", "chiffres"),
    ({"matricule": UNKNOWN}, "matricule", "Aucune personne"),
    ({"email": ""}, "email", "obligatoire"),
    ({"email": "pas une adresse"}, "email", "pas valide"),
    ({"start_date": None}, "start_date", "obligatoire"),
    ({"start_date": "2026-03-09"}, "start_date", "passé"),
    ({"start_date": "10/03/2026"}, "start_date", "invalide"),
    ({"end_date": "2026-03-09"}, "end_date", "précéder"),
    ({"can_sign": "yes"}, "can_sign", ""),
    ({"colour": "red"}, "colour", ""),
])
def test_bad_input_api(demo, api, db, changes, field, words, smtp_server):  # noqa: F811
    error = api("dr.martin").post(DELEGATIONS, body(**changes), status=422).json
    assert error["field"] == field
    assert words in error["message"]
    with db() as request:
        assert request.dbsession.scalar(select(Delegation.id).where(
            Delegation.matricule == SCHMIT)) is None
    assert smtp_server.messages == []


def test_duplicate_delegation_is_409(demo, api, db):
    martin = api("dr.martin")
    error = martin.post(DELEGATIONS, body(matricule=DUPONT), status=409).json
    assert error["field"] == "matricule" and "déjà une délégation" in error["message"]
    martin.post(DELEGATIONS, body(), status=201)
    martin.post(DELEGATIONS, body(), status=409)        # the invited one counts too
    with db() as request:
        assert len(list(request.dbsession.scalars(select(Delegation.id).where(
            Delegation.matricule == SCHMIT)))) == 1


def test_only_the_professional_adds(demo, api):
    api("dr.weber").post(DELEGATIONS, body(), status=403)
    api("sec.dupont").post(DELEGATIONS, body(), status=403)   # never delegated
    api("p.leroy").post(DELEGATIONS, body(), status=403)


def test_add_page_errors_and_duplicate(demo, testapp):
    login(testapp, "dr.martin")
    page = testapp.get(f"{DELEGATIONS}/@@add")
    form = last_form(page)
    form["matricule"] = "1990063047616"
    page = form.submit(status=400)
    assert "clé de Luhn" in page.text
    form = last_form(page)
    form["matricule"] = UNKNOWN
    page = form.submit(status=400)
    assert "Aucune personne ne porte ce matricule" in page.text
    form = last_form(page)
    form["matricule"] = DUPONT
    page = form.submit()
    assert "Sophie Dupont" in page.text
    form = last_form(page)
    form["email"] = "x"
    form["start_date"] = "2026-01-01"
    form["end_date"] = "2025-01-01"
    page = form.submit(status=400)
    assert "pas valide" in page.text and "passé" in page.text
    form = last_form(page)
    form["email"] = "dupont@parc.example"
    form["start_date"] = "2026-03-10"
    form["end_date"] = ""
    page = form.submit(status=409)
    assert "déjà une délégation" in page.text
    # a tampered hidden matricule is checked again on the server
    form = last_form(page)
    form["matricule"] = "1990063047607"
    page = form.submit(status=400)
    assert "clé de Verhoeff" in page.text


def test_expired_and_reused_invitation_links(demo, api, testapp, clock, smtp_server, db):  # noqa: F811
    api("dr.martin").post(DELEGATIONS, body(), status=201)
    link = link_from(smtp_server.wait_for(1)[0])
    clock.set(datetime(2026, 3, 17, 9, 1))                  # 7 days and a minute later
    page = testapp.get(local_path(link), status=410)
    assert "a expiré" in page.text
    page = testapp.post(local_path(link), {"login": "x"}, status=410, expect_errors=True)
    with db() as request:
        assert request.dbsession.scalar(select(User.id).where(User.login == "marc.schmit")) \
            is None
    clock.set(datetime(2026, 3, 16, 9, 0))
    page = testapp.get(local_path(link))
    form = last_form(page)
    form["login"] = "sec.dupont"                            # taken
    form["password"] = "un mot de passe"
    form["password_confirm"] = "un autre mot"
    page = form.submit(status=400)
    assert "déjà pris" in page.text and "pas identiques" in page.text
    assert create_account(testapp, link).status_int == 303
    page = testapp.get(local_path(link), status=409)
    assert "déjà été utilisé" in page.text
    form = last_form(testapp.get("/login"))
    page = testapp.post(local_path(link), {
        "csrf_token": form["csrf_token"].value, "login": "marc.bis",
        "fullname": "Marc Schmit", "password": "un mot de passe",
        "password_confirm": "un mot de passe"}, status=409)
    assert "déjà été utilisé" in page.text
    with db() as request:
        assert request.dbsession.scalar(select(User.id).where(User.login == "marc.bis")) \
            is None
    page = testapp.get("/@@invitation/not-a-token", status=404)
    assert "pas valable" in page.text


def test_a_cancelled_invitation_link_says_so(demo, api, testapp, smtp_server):  # noqa: F811
    martin = api("dr.martin")
    created = martin.post(DELEGATIONS, body(), status=201).json
    link = link_from(smtp_server.wait_for(1)[0])
    martin.post(created["@id"].replace("http://localhost", "") + "/@workflow/cancel")
    page = testapp.get(local_path(link), status=410)
    assert "annulée" in page.text


def test_posting_a_delegation_to_the_professional_goes_through_the_same_checks(demo, api):
    """POST /professionals/<p> with @type Delegation is the delegations folder's create:
    the matricule is checked, nothing bare is created around it."""
    martin = api("dr.martin")
    response = martin.post("/professionals/martin",
                           {"@type": "Delegation", "matricule": "123", "email": "x@y.lu",
                            "start_date": "2026-03-10"}, status=422)
    assert response.json["field"] == "matricule"
