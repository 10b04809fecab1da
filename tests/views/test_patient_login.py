"""Patient login (A3): phone normalisation, matching against the cabinet directory
(patient, parent 1, parent 2, guarantor; none; several), the code by SMS (JSON and
pages), throttling, the accounts and roles it gives, and signing as a guardian."""
import re
import time
from datetime import date

import pytest
from sqlalchemy import select

from cabinet.interfaces import ISmsGateway
from cabinet.models import DirectoryAccount, LocalRole, Node, Patient, User
from cabinet.patient_login import InvalidPhone, name_key, normalise_phone
from tests.conftest import Api

PARC = "/cabinets/parc"
LEROY = f"{PARC}/patients/leroy"
HUGO = f"{PARC}/patients/hugo-leroy"
BERNARD = f"{PARC}/patients/bernard"
LEA = {"phone": "+352 621 123 456", "last_name": "Leroy", "first_name": "Léa",
       "birth_date": "1990-04-12"}
NO_MATCH = ("Nous ne pouvons pas vous identifier avec ces informations. Vérifiez-les, "
            "ou contactez votre cabinet.")


def outbox(registry):
    return registry.getUtility(ISmsGateway).outbox


def last_code(registry):
    return re.search(r"\b(\d{6})\b", outbox(registry)[-1]["text"]).group(1)


def patient(request, path):
    return request.dbsession.scalar(select(Patient).where(Patient.path == path + "/"))


def log_in(testapp, registry, person=LEA):
    challenge = testapp.post_json("/@patient-login", person).json["challenge"]
    response = testapp.post_json("/@patient-login/verify",
                                 {"challenge": challenge, "code": last_code(registry)})
    return response.json


def accept_terms(testapp, token):
    client = Api(testapp, token)
    version = client.get("/@terms").json["version"]
    client.post("/@terms/accept", {"version": version})
    return client


# -- phones and names --------------------------------------------------------------------

@pytest.mark.parametrize("raw, country, expected", [
    ("621 123 456", "LU", "+352621123456"),
    ("+352 621 123 456", "LU", "+352621123456"),
    ("00352621123456", "LU", "+352621123456"),
    ("(+352) 621-123-456", "FR", "+352621123456"),     # international: any country
    ("06 12 34 56 78", "FR", "+33612345678"),
    ("+33 6 12 34 56 78", "LU", "+33612345678"),
    ("0470 12 34 56", "BE", "+32470123456"),
    ("+32 470 12 34 56", "LU", "+32470123456"),
    ("0151 23456789", "DE", "+4915123456789"),
    ("+49 151 23456789", "LU", "+4915123456789"),
])
def test_phones_are_normalised(raw, country, expected):
    assert normalise_phone(raw, country) == expected


@pytest.mark.parametrize("raw, country", [
    ("", "LU"), ("123", "LU"), ("06 12 34 56 78", "LU"), ("+1 202 555 0143", "LU"),
    ("phone", "LU"), ("621 123 456", "US"), ("+352 621 123 456 789 123", "LU"),
])
def test_invalid_phones_are_refused(raw, country):
    with pytest.raises(InvalidPhone):
        normalise_phone(raw, country)


def test_names_compare_without_case_accents_and_hyphens():
    assert name_key(" Léa-Marie  D'Arc ") == name_key("LEA MARIE D ARC") == "lea marie d arc"


# -- matching the directory --------------------------------------------------------------

def test_the_patient_logs_in_with_the_json_api(demo, testapp, registry):
    started = testapp.post_json("/@patient-login", {**LEA, "phone": "621123456",
                                                    "first_name": "lea", "last_name": "LEROY"})
    assert started.json["sent_to"] == "+352••••••456"
    assert outbox(registry)[-1]["to"] == "+352621123456"
    assert "code de connexion" in outbox(registry)[-1]["text"]
    answer = testapp.post_json("/@patient-login/verify", {
        "challenge": started.json["challenge"], "code": last_code(registry)}).json
    assert answer["user"] == {"id": "p.leroy", "fullname": "Léa Leroy"}
    client = Api(testapp, answer["token"])
    assert client.get(LEROY).json["title"] == "Léa Leroy"
    mine = client.get("/@my-patients").json
    assert [(i["title"], i["relation"]) for i in mine["items"]] == [
        ("Léa Leroy", "patient"), ("Hugo Leroy", "parent1")]
    # the code is used: a second verify fails
    again = testapp.post_json("/@patient-login/verify", {
        "challenge": started.json["challenge"], "code": last_code(registry)}, status=422)
    assert again.json["message"] == "Ce code a déjà été utilisé : demandez un nouveau code."


@pytest.mark.parametrize("change", [
    {"phone": "+352 621 123 457"}, {"last_name": "Lerois"}, {"first_name": "Lucie"},
    {"birth_date": "1990-04-13"}, {"phone": "+33 6 12 34 56 78"},
])
def test_nobody_matches_one_message_whatever_is_wrong(demo, testapp, registry, change):
    """The same answer as for a known person (issue #6), no SMS, and no code works."""
    response = testapp.post_json("/@patient-login", {**LEA, **change}, status=200)
    assert set(response.json) == {"challenge", "sent_to", "expires"}
    assert outbox(registry) == []
    for code in ("000000", "123456"):
        wrong = testapp.post_json("/@patient-login/verify", {
            "challenge": response.json["challenge"], "code": code}, status=422)
        assert wrong.json["message"].startswith("Code incorrect")


def test_format_errors_name_the_field(demo, testapp):
    response = testapp.post_json("/@patient-login", {**LEA, "phone": "12", "birth_date": "x",
                                                     "first_name": ""}, status=422)
    assert set(response.json["errors"]) == {"phone", "birth_date", "first_name"}
    assert "Numéro de téléphone invalide" in response.json["errors"]["phone"]


def test_parent_two_and_guarantor_log_in_and_get_an_account(demo, testapp, registry, db):
    with db() as request:
        hugo = patient(request, HUGO)
        hugo.parent2_first_name, hugo.parent2_last_name = "Marc", "Leroy"
        hugo.parent2_birth_date, hugo.parent2_phone = date(1988, 2, 3), "+33 6 12 34 56 78"
        bernard = patient(request, BERNARD)     # an adult: the guarantor has no minor
        bernard.guarantor_first_name, bernard.guarantor_last_name = "Anne", "Bernard"
        bernard.guarantor_birth_date = date(1950, 1, 1)
        bernard.guarantor_phone = "+49 151 23456789"
    marc = log_in(testapp, registry, {"phone": "06 12 34 56 78", "country": "FR",
                                      "last_name": "Leroy", "first_name": "Marc",
                                      "birth_date": "1988-02-03"})
    assert marc["user"] == {"id": "p.leroy.marc", "fullname": "Marc Leroy"}
    marc_client = accept_terms(testapp, marc["token"])
    assert [i["title"] for i in marc_client.get("/@my-patients").json["items"]] == ["Hugo Leroy"]
    assert marc_client.get(HUGO).json["title"] == "Hugo Leroy"
    marc_client.get(LEROY, status=403)

    anne = log_in(testapp, registry, {"phone": "+4915123456789", "last_name": "BERNARD",
                                      "first_name": "anne", "birth_date": "1950-01-01"})
    assert anne["user"]["id"] == "p.bernard"
    anne_client = accept_terms(testapp, anne["token"])
    assert anne_client.get("/@my-patients").json["items"] == []
    anne_client.get(BERNARD, status=403)
    # the second login finds the same account
    assert log_in(testapp, registry, {"phone": "+4915123456789", "last_name": "Bernard",
                                      "first_name": "Anne",
                                      "birth_date": "1950-01-01"})["user"]["id"] == "p.bernard"
    with db() as request:
        users = request.dbsession.scalars(select(User.login).where(User.login.like("p.%")))
        assert sorted(users) == ["p.bernard", "p.leroy", "p.leroy.marc"]
        accounts = request.dbsession.scalars(select(DirectoryAccount)).all()
        assert len(accounts) == 2       # Marc and Anne (Léa did not log in here)
        marc_user = request.dbsession.scalar(select(User).where(User.login == "p.leroy.marc"))
        assert marc_user.password_hash is None and marc_user.phone == "+33612345678"


def test_a_new_patient_gets_the_patient_role_on_their_record(demo, testapp, registry, db):
    schmit = log_in(testapp, registry, {"phone": "+352621000004", "last_name": "Schmit",
                                        "first_name": "Marc", "birth_date": "1990-06-30"})
    assert schmit["user"]["id"] == "p.schmit"
    client = accept_terms(testapp, schmit["token"])
    assert client.get(f"{PARC}/patients/schmit").json["title"] == "Marc Schmit"
    with db() as request:
        record = patient(request, f"{PARC}/patients/schmit")
        user = request.dbsession.scalar(select(User).where(User.login == "p.schmit"))
        assert record.user_id == user.id
        assert request.dbsession.scalar(select(LocalRole.role).where(
            LocalRole.node_id == record.id, LocalRole.principal == user.principal)) == "patient"


def test_several_people_matching_get_the_same_message(demo, testapp, registry, db):
    """The same identity on two records linked to two different accounts."""
    with db() as request:
        from cabinet.content import add_node
        other = User(login="p.leroy2", fullname="Léa Leroy (autre)")
        request.dbsession.add(other)
        request.dbsession.flush()
        patients = request.dbsession.scalar(select(Node).where(
            Node.path == f"{PARC}/patients/"))
        add_node(request.dbsession, request.registry, patients, "Patient", name="leroy-bis",
                 title="Léa Leroy", first_name="Lea", last_name="Leroy",
                 birth_date=date(1990, 4, 12), phone="00352621123456", user_id=other.id)
    response = testapp.post_json("/@patient-login", LEA, status=200)
    assert set(response.json) == {"challenge", "sent_to", "expires"}
    assert outbox(registry) == []


def test_failures_take_the_minimum_time_like_successes(demo, testapp, registry):
    registry.settings["cabinet.patient_login.min_seconds"] = "0.3"
    for body, status in ((LEA, 200), ({**LEA, "first_name": "Zoé"}, 200)):
        started = time.monotonic()
        testapp.post_json("/@patient-login", body, status=status)
        assert time.monotonic() - started >= 0.3


def test_login_attempts_are_throttled_per_phone(demo, testapp, registry):
    wrong = {**LEA, "first_name": "Zoé"}
    for _ in range(10):
        testapp.post_json("/@patient-login", wrong, status=200)
    response = testapp.post_json("/@patient-login", LEA, status=429)
    assert "Trop de tentatives" in response.json["message"]
    assert outbox(registry) == []
    # another phone from another address is not concerned
    testapp.post_json("/@patient-login", {"phone": "+352621000004", "last_name": "Schmit",
                                          "first_name": "Marc", "birth_date": "1990-06-30"},
                      extra_environ={"REMOTE_ADDR": "10.0.0.2"})


def test_login_attempts_are_throttled_per_address(demo, testapp):
    for n in range(30):
        testapp.post_json("/@patient-login", {**LEA, "birth_date": f"1990-01-{n % 28 + 1:02d}",
                                              "phone": f"+352621{n:06d}"}, status=200)
    testapp.post_json("/@patient-login", LEA, status=429)


def test_resend_and_wrong_login_codes(demo, testapp, registry, clock):
    challenge = testapp.post_json("/@patient-login", LEA).json["challenge"]
    first = last_code(registry)
    assert testapp.post_json("/@patient-login/resend", {"challenge": challenge},
                             status=429).json["message"].startswith("Un code vient")
    clock.advance(minutes=1)
    resent = testapp.post_json("/@patient-login/resend", {"challenge": challenge}).json
    assert resent["challenge"] == challenge and len(outbox(registry)) == 2
    second = last_code(registry)
    wrong = next(c for c in ("000000", "111111", "222222") if c not in (first, second))
    response = testapp.post_json("/@patient-login/verify",
                                 {"challenge": challenge, "code": wrong}, status=422)
    assert response.json["errors"] == {"code": "Code incorrect : il vous reste 4 essai(s)."}
    testapp.post_json("/@patient-login/resend", {"challenge": "nope"}, status=404)
    testapp.post_json("/@patient-login/verify", {"challenge": challenge}, status=422)
    testapp.post_json("/@patient-login/verify", {"code": second}, status=400)
    clock.advance(minutes=10)
    assert testapp.post_json("/@patient-login/verify", {"challenge": challenge,
                                                        "code": second},
                             status=422).json["message"] == \
        "Ce code a expiré : demandez un nouveau code."


def test_a_login_code_cannot_sign(demo, testapp, registry, db):
    token = log_in(testapp, registry)["token"]
    client = Api(testapp, token)
    testapp.post_json("/@patient-login", LEA)           # a fresh login code, unused
    response = client.post(f"{LEROY}/documents/consentement/@workflow/sign",
                           {"code": last_code(registry)}, status=409)
    assert response.json["message"] == \
        "Aucun code valable n'a été demandé : demandez un code."


# -- pages -------------------------------------------------------------------------------

def fill(form, values):
    for key, value in values.items():
        form[key] = value
    return form


def test_the_pages_log_the_patient_in(demo, testapp, registry, clock):
    page = testapp.get("/patient/login")
    assert page.html.h1.get_text(strip=True) == "Connexion patient"
    # nobody: the same next step as somebody, no SMS, and no code works
    wrong = fill(page.forms[0], {**LEA, "first_name": "Lucie"}).submit(status=303)
    assert wrong.location.endswith("/patient/code")
    decoy = wrong.follow()
    assert "Si ces informations correspondent" in decoy.text and outbox(registry) == []
    decoy.forms[0]["code"] = "000000"
    assert "Code incorrect" in decoy.forms[0].submit(status=422).text
    response = fill(testapp.get("/patient/login").forms[0], LEA).submit(status=303)
    assert response.location.endswith("/patient/code")
    code_page = response.follow()
    assert "+352••••••456" in code_page.text
    bad = code_page.forms[0]
    bad["code"] = "12345"
    bad = bad.submit(status=422)
    assert "Code incorrect : il vous reste 4 essai(s)." in bad.text
    resend = bad.forms[1].submit(status=429)            # too soon
    assert "attendez une minute" in resend.text
    clock.advance(minutes=1)
    resent = resend.forms[1].submit(status=303).follow()
    assert "Un nouveau code a été envoyé" in resent.text
    form = resent.forms[0]
    form["code"] = last_code(registry)
    home = form.submit(status=303)
    assert home.location.endswith("/my-patients")
    mine = testapp.get("/my-patients")
    assert [a.get_text() for a in mine.html.select(".my-patient a")] == \
        ["Léa Leroy", "Hugo Leroy"]
    assert testapp.get(HUGO, headers={"Accept": "application/json"}).json["title"] == \
        "Hugo Leroy"


def test_the_pages_check_csrf(demo, testapp, registry):
    testapp.get("/patient/login")
    testapp.post("/patient/login", LEA, status=403)
    assert outbox(registry) == []
    assert testapp.get("/patient/code").location.endswith("/patient/login")


# -- guardians ---------------------------------------------------------------------------

@pytest.fixture
def hugo_document(demo, db):
    """A document for Hugo to sign (state sent)."""
    from cabinet.content import add_node
    with db() as request:
        docs = request.dbsession.scalar(select(Node).where(Node.path == f"{HUGO}/documents/"))
        doc = add_node(request.dbsession, request.registry, docs, "Document",
                       name="autorisation", title="Autorisation parentale",
                       needs_signature=True)
        doc.state = "sent"
    return f"{HUGO}/documents/autorisation"


def test_the_guardian_signs_for_the_minor(hugo_document, testapp, registry, db):
    client = Api(testapp, log_in(testapp, registry)["token"])
    # the guardian's listings show the minor's document (in SQL, like every listing)
    found = client.get(f"/@search?portal_type=Document&path={HUGO}").json
    assert [i["@id"] for i in found["items"]] == [f"http://localhost{hugo_document}"]
    sent = client.post(f"{hugo_document}/@sign-code").json
    assert sent["sent_to"] == "+352••••••456"
    assert outbox(registry)[-1]["to"] == "+352621123456"
    signed = client.post(f"{hugo_document}/@workflow/sign", {"code": last_code(registry)})
    assert signed.json["review_state"] == "signed"
    with db() as request:
        from cabinet.models import HistoryEntry
        entry = request.dbsession.scalar(select(HistoryEntry).where(
            HistoryEntry.transition == "sign"))
        assert entry.details["acting_for"]["type"] == "guardian"
        assert entry.details["acting_for"]["patient"] == "Hugo Leroy"


def test_no_access_when_minors_access_is_off_or_the_child_is_an_adult(
        hugo_document, testapp, registry, db):
    client = Api(testapp, log_in(testapp, registry)["token"])
    assert client.get(HUGO).status_int == 200
    with db() as request:
        patient(request, HUGO).minors_access = ""          # follows the cabinet: off
    client.get(HUGO, status=403)
    client.post(f"{hugo_document}/@sign-code", status=403)
    mine = client.get("/@my-patients").json
    assert [i["title"] for i in mine["items"]] == ["Léa Leroy"]
    assert mine["minors_without_access"] == 1
    with db() as request:
        cabinet = request.dbsession.scalar(select(Node).where(Node.path == f"{PARC}/"))
        cabinet.minors_access_documents = True             # the cabinet's switch
    assert client.get(HUGO).status_int == 200
    # the clock says 2026-03-10: 18 tomorrow is still a minor, 18 today is not
    for born, status in ((date(2008, 3, 11), 200), (date(2008, 3, 10), 403)):
        with db() as request:
            child = patient(request, HUGO)
            child.birth_date = born
            child.parent1_birth_date = date(1990, 4, 12)
        assert client.get(HUGO, status="*").status_int == status
    assert client.get("/@my-patients").json["minors_without_access"] == 0


def test_the_document_page_signs_with_the_code(demo, testapp, registry, db):
    """The page way, as the patient sees it: "Recevoir un code par SMS", then the code
    typed into the field next to the "Signer" button (the same guard reads it)."""
    from tests.conftest import login
    login(testapp, "p.leroy")
    doc = f"{LEROY}/documents/consentement"
    page = testapp.get(doc)
    asked = next(f for f in page.forms.values() if f.action.endswith("/@@sign-code"))
    page = asked.submit(status=303).follow()
    assert "Un code de signature a été envoyé au +352••••••456." in page.text
    form = next(f for f in page.forms.values() if f.action.endswith("/@@workflow"))
    form["code"] = "99999"
    wrong = form.submit("transition", value="sign", status=409)
    assert "Code incorrect : il vous reste 4 essai(s)." in wrong.text
    page = testapp.get(doc)
    form = next(f for f in page.forms.values() if f.action.endswith("/@@workflow"))
    form["code"] = last_code(registry)
    signed = form.submit("transition", value="sign", status=303).follow()
    assert 'data-state="signed"' in signed.text
    assert "Preuve de signature" in signed.text
    with db() as request:
        assert request.dbsession.scalar(select(Node.state).where(
            Node.path == doc + "/")) == "signed"
