"""Manage patients, "add a patient" (issue #9, P8): the same phone + names + birth
date + SMS code check as the patient login, the code bound to its purpose and user,
5 tries, nobody matching answered like somebody; the linked record joins the portal."""
import re

import pytest

from cabinet.interfaces import ISmsGateway
from tests.conftest import Api, login
from tests.test_appointments import LEA, accept_terms, patient_token

PARC = "/cabinets/parc"
MARC = {"phone": "+352 621 000 004", "last_name": "Schmit", "first_name": "Marc",
        "birth_date": "1990-06-30"}


@pytest.fixture
def lea(demo, testapp, registry):
    return Api(testapp, patient_token(testapp, registry))


def last_code(registry):
    sms = registry.getUtility(ISmsGateway).outbox[-1]
    return sms, re.search(r"\b(\d{6})\b", sms["text"]).group(1)


def titles(api):
    return [p["title"] for p in api.get("/@portal").json["patients"]]


def test_a_patient_adds_another_record_with_the_code_sent_to_its_phone(lea, registry):
    assert titles(lea) == ["Léa Leroy", "Hugo Leroy"]
    started = lea.post("/@add-patient", MARC).json
    sms, code = last_code(registry)
    assert sms["to"] == "+352621000004"            # Marc's phone, not Léa's
    assert "relier votre dossier" in sms["text"]
    linked = lea.post("/@add-patient/verify", {"challenge": started["challenge"],
                                               "code": code}).json["linked"]
    assert linked == [{"@id": f"http://localhost{PARC}/patients/schmit",
                       "title": "Marc Schmit", "relation": "guardian"}]
    assert "Marc Schmit" in titles(lea)
    assert lea.get(f"{PARC}/patients/schmit/@appointments").status_int == 200
    # once only
    again = lea.post("/@add-patient", MARC).json
    _sms, code = last_code(registry)
    lea.post("/@add-patient/verify", {"challenge": again["challenge"], "code": code},
             status=409)


def test_wrong_codes_unknown_people_and_other_users_challenges(lea, registry, testapp,
                                                               api):
    started = lea.post("/@add-patient", MARC).json
    _sms, code = last_code(registry)
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2, 1):
        response = lea.post("/@add-patient/verify", {
            "challenge": started["challenge"], "code": wrong}, status=422)
        assert f"il vous reste {left}" in response.json["message"]
    lea.post("/@add-patient/verify", {"challenge": started["challenge"], "code": wrong},
             status=422)
    response = lea.post("/@add-patient/verify", {"challenge": started["challenge"],
                                                 "code": code}, status=422)
    assert "trop de fois" in response.json["message"]
    assert "Marc Schmit" not in titles(lea)
    # nobody matching: the same answer, no SMS, no code accepted
    sent = len(registry.getUtility(ISmsGateway).outbox)
    decoy = lea.post("/@add-patient", {**MARC, "first_name": "Personne"}).json
    assert set(decoy) == {"challenge", "sent_to", "expires"}
    assert len(registry.getUtility(ISmsGateway).outbox) == sent
    lea.post("/@add-patient/verify", {"challenge": decoy["challenge"], "code": "123456"},
             status=422)
    # a login challenge is not an add-patient one, and another user's is refused
    login_challenge = testapp.post_json("/@patient-login", MARC).json["challenge"]
    _sms, login_code = last_code(registry)
    lea.post("/@add-patient/verify", {"challenge": login_challenge, "code": login_code},
             status=422)
    mine = lea.post("/@add-patient", {**MARC}, status="*")
    assert mine.status_int in (200, 429)
    # bad input
    response = lea.post("/@add-patient", {**MARC, "birth_date": "30/06/1990"}, status=422)
    assert "birth_date" in response.json["errors"]
    lea.post("/@add-patient/verify", {"code": "123456"}, status=400)
    # staff have no patients to add to
    api("dr.martin").post("/@add-patient", MARC, status=403)
    assert "Marc Schmit" not in titles(lea)


def test_another_users_challenge_is_refused(demo, testapp, registry, db):
    lea = Api(testapp, patient_token(testapp, registry))
    marc = Api(testapp, patient_token(testapp, registry, MARC))
    with db() as request:
        accept_terms(request)           # Marc's account is new
    started = lea.post("/@add-patient", {**LEA}).json     # Léa's own record: a decoy?
    assert "challenge" in started
    other = marc.post("/@add-patient", {"phone": "+352621000002", "last_name": "Bernard",
                                        "first_name": "Hugo",
                                        "birth_date": "1979-09-03"}).json
    _sms, code = last_code(registry)
    lea.post("/@add-patient/verify", {"challenge": other["challenge"], "code": code},
             status=422)
    assert "Hugo Bernard" not in titles(lea)
    marc.post("/@add-patient/verify", {"challenge": other["challenge"], "code": code})
    assert "Hugo Bernard" in titles(marc)


def test_the_pages(demo, testapp, registry):
    patient_token(testapp, registry)
    login(testapp, "p.leroy")
    manage = testapp.get("/@@manage-patients")
    page = testapp.get(manage.html.select_one("a.add-patient")["href"])
    form = page.forms["add-patient-form"]
    form["birth_date"] = "pas une date"
    response = form.submit(status=422)
    assert "Date de naissance invalide" in response.html.get_text()
    form = response.forms["add-patient-form"]
    for key, value in MARC.items():
        form[key] = value
    page = form.submit().follow()
    assert "code à 6 chiffres" in page.html.get_text()
    _sms, code = last_code(registry)
    form = page.forms["add-patient-code-form"]
    form["code"] = "000000" if code != "000000" else "111111"
    response = form.submit(status=422)
    assert "Code incorrect" in response.html.get_text()
    form = response.forms["add-patient-code-form"]
    form["code"] = code
    manage = form.submit().follow()
    assert "Dossier ajouté : Marc Schmit." in manage.html.get_text()
    names = [li.select_one(".name").get_text(strip=True)
             for li in manage.html.select("ul.patient-switcher li")]
    assert "Marc Schmit" in names
