"""My information (issue #9, P4): patients and guardians propose changes, the record
does not change until the cabinet accepts them (all or field by field) or rejects
them; a history entry on accepting; bad input and other patients' records refused."""
import pytest
from sqlalchemy import select

from cabinet.models import InformationProposal, Patient
from tests.conftest import Api, login
from tests.test_appointments import patient_token

PARC = "/cabinets/parc"
LEROY = f"{PARC}/patients/leroy"
HUGO = f"{PARC}/patients/hugo-leroy"
MULLER = f"{PARC}/patients/muller"
#: her record's e-mail in the demo (the payments' receipts go there)
LEA_EMAIL = "lea.leroy@example.org"


@pytest.fixture
def lea(demo, testapp, registry):
    return Api(testapp, patient_token(testapp, registry))


def record(db, name):
    with db() as request:
        patient = request.dbsession.scalar(select(Patient).where(Patient.name == name))
        return {k: getattr(patient, k) for k in (
            "title", "first_name", "last_name", "email", "phone", "address",
            "parent1_phone")}


def proposals(db):
    with db() as request:
        return request.dbsession.scalars(select(InformationProposal)).all()


def test_my_information_lists_the_records_and_what_may_change(lea):
    data = lea.get("/@my-information").json
    own, hugo = data["items"]
    assert own["title"] == "Léa Leroy" and own["relation"] == "patient"
    assert own["values"] == {"first_name": "Léa", "last_name": "Leroy",
                             "email": LEA_EMAIL, "phone": "+352621123456",
                             "address": ""}
    assert hugo["relation"] == "parent1"
    assert set(hugo["values"]) == {"first_name", "last_name", "email", "phone",
                                   "address", "parent1_first_name", "parent1_last_name",
                                   "parent1_phone"}
    assert hugo["titles"]["parent1_phone"] == "Téléphone (parent 1)"


def test_a_proposal_does_not_change_the_record_until_accepted(lea, martin, db):
    before = record(db, "leroy")
    response = lea.post(f"{LEROY}/@my-information", {"values": {
        "email": "lea@example.lu", "address": "3 rue Neuve, L-1000 Luxembourg",
        "phone": "+352 621 123 456"}}, status=201)
    proposal = response.json
    assert proposal["state"] == "pending"
    # the phone did not change: only what differs is proposed
    assert proposal["values"] == {"email": "lea@example.lu",
                                  "address": "3 rue Neuve, L-1000 Luxembourg"}
    assert record(db, "leroy") == before
    assert lea.get("/@my-information").json["items"][0]["pending"][0]["id"] == \
        proposal["id"]
    # the cabinet sees it and accepts the address only
    listing = martin.get(f"{LEROY}/@information-proposals").json["items"]
    assert [p["id"] for p in listing] == [proposal["id"]]
    assert listing[0]["current"] == {"email": LEA_EMAIL, "address": ""}
    decided = martin.post(f"{LEROY}/@information-proposals/{proposal['id']}",
                          {"decision": "accept", "fields": ["address"]}).json
    assert decided["state"] == "partial" and decided["accepted_fields"] == ["address"]
    after = record(db, "leroy")
    assert after["address"] == "3 rue Neuve, L-1000 Luxembourg"
    assert after["email"] == LEA_EMAIL
    history = martin.get(f"{LEROY}/@history").json
    entries = history if isinstance(history, list) else history.get("items", history)
    accepted = [e for e in entries if e["action"] == "information-accepted"]
    assert len(accepted) == 1
    assert accepted[0]["details"]["after"] == {"address": "3 rue Neuve, L-1000 Luxembourg"}
    assert accepted[0]["actor"]["id"] == "dr.martin"
    # decided once only
    martin.post(f"{LEROY}/@information-proposals/{proposal['id']}",
                {"decision": "reject"}, status=409)


def test_accepting_everything_and_rejecting(lea, martin, db):
    first = lea.post(f"{LEROY}/@my-information",
                     {"values": {"first_name": "Léana"}}, status=201).json
    martin.post(f"{LEROY}/@information-proposals/{first['id']}", {"decision": "accept"})
    assert record(db, "leroy")["first_name"] == "Léana"
    assert record(db, "leroy")["title"] == "Léana Leroy"
    second = lea.post(f"{LEROY}/@my-information",
                      {"values": {"email": "autre@example.lu"}}, status=201).json
    martin.post(f"{LEROY}/@information-proposals/{second['id']}", {"decision": "reject"})
    assert record(db, "leroy")["email"] == LEA_EMAIL
    states = {p.id: p.state for p in proposals(db)}
    assert states == {first["id"]: "accepted", second["id"]: "rejected"}


def test_a_guardian_proposes_for_the_minor_and_for_themselves(lea, martin, db):
    proposal = lea.post(f"{HUGO}/@my-information", {"values": {
        "parent1_phone": "+352 691 000 111", "email": "hugo@example.lu"}},
        status=201).json
    assert proposal["values"] == {"parent1_phone": "+352691000111",
                                  "email": "hugo@example.lu"}
    martin.post(f"{HUGO}/@information-proposals/{proposal['id']}", {"decision": "accept"})
    assert record(db, "hugo-leroy")["parent1_phone"] == "+352691000111"


@pytest.mark.parametrize("values, field", [
    ({"email": "lea(at)example"}, "email"),
    ({"phone": "12345"}, "phone"),
    ({"first_name": ""}, "first_name"),
    ({"address": "x" * 501}, "address"),
    ({"birth_date": "2000-01-01"}, "birth_date"),
    ({"parent1_phone": "+352621000000"}, "parent1_phone"),   # she is the patient here
    ({"user_id": 1}, "user_id"),
])
def test_bad_input_is_refused_and_nothing_is_stored(lea, db, values, field):
    response = lea.post(f"{LEROY}/@my-information", {"values": values}, status=422)
    assert field in response.json["errors"]
    assert proposals(db) == []


def test_no_change_and_bad_bodies(lea, db):
    response = lea.post(f"{LEROY}/@my-information",
                        {"values": {"first_name": "Léa"}}, status=422)
    assert "Aucune modification" in response.json["message"]
    lea.post(f"{LEROY}/@my-information", {"values": "x"}, status=422)
    lea.post(f"{LEROY}/@my-information", {"colour": "blue"}, status=422)
    assert proposals(db) == []


def test_other_records_are_refused(lea, martin, api, db, registry, testapp):
    # a record that is not hers (Lena Muller, Marc Schmit)
    lea.post(f"{MULLER}/@my-information", {"values": {"email": "x@example.lu"}},
             status=403)
    lea.post(f"{PARC}/patients/schmit/@my-information",
             {"values": {"email": "x@example.lu"}}, status=403)
    # staff do not propose, patients do not decide
    martin.post(f"{LEROY}/@my-information", {"values": {"email": "x@example.lu"}},
                status=403)
    mine = lea.post(f"{LEROY}/@my-information",
                    {"values": {"email": "lea@example.lu"}}, status=201).json
    lea.get(f"{LEROY}/@information-proposals", status=403)
    lea.post(f"{LEROY}/@information-proposals/{mine['id']}", {"decision": "accept"},
             status=403)
    # a proposal's id under another record: 404, nothing decided
    martin.post(f"{HUGO}/@information-proposals/{mine['id']}", {"decision": "accept"},
                status=404)
    martin.post(f"{LEROY}/@information-proposals/999999", {"decision": "accept"},
                status=404)
    martin.post(f"{LEROY}/@information-proposals/abc", {"decision": "accept"},
                status=404)
    martin.post(f"{LEROY}/@information-proposals/{mine['id']}",
                {"decision": "accept", "fields": ["phone"]}, status=422)
    martin.post(f"{LEROY}/@information-proposals/{mine['id']}",
                {"decision": "maybe"}, status=422)
    martin.post(f"{LEROY}/@information-proposals/{mine['id']}",
                {"decision": "accept", "fields": [{"email": 1}]}, status=422)
    assert [p.state for p in proposals(db)] == ["pending"]
    assert record(db, "leroy")["email"] == LEA_EMAIL


def test_the_pages(demo, testapp, registry, db):
    patient_token(testapp, registry)
    login(testapp, "p.leroy")
    page = testapp.get("/@@my-information")
    forms = page.html.select("section.my-information form")
    assert len(forms) == 2
    form = page.forms[1]          # the first form is the logout button's
    assert form.action.endswith(f"{LEROY}/@@my-information")
    form["email"] = "pas-un-courriel"
    response = form.submit(status=422)
    assert "Adresse électronique invalide" in response.html.get_text()
    assert proposals(db) == []
    form = response.forms[1]
    form["email"] = "lea@example.lu"
    page = form.submit().follow()
    assert "transmises au cabinet" in page.html.get_text()
    assert "lea@example.lu" in page.html.select_one("p.pending").get_text()
    # the cabinet's side: the record's page tells, the proposals page decides
    testapp.reset()
    login(testapp, "dr.martin")
    record_page = testapp.get(LEROY)
    link = record_page.html.select_one("p.information-proposals a")
    assert link.get_text(strip=True) == "Modifications proposées par le patient (1)"
    page = testapp.get(link["href"])
    row = page.html.select_one("form.proposal tbody tr")
    assert "lea@example.lu" in row.get_text()
    form = [f for f in page.forms.values() if "proposal" in f.fields][0]
    form.submit("decision", value="accept").follow()
    assert record(db, "leroy")["email"] == "lea@example.lu"
    assert not testapp.get(LEROY).html.select_one("p.information-proposals")
