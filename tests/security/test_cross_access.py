"""Staff of one cabinet reach nothing of another, whatever the id they try (in the
URL, in a JSON body, in a search filter); extra fields a client sends to take over a
resource's state or owner are refused and change nothing."""
import pytest
from sqlalchemy import select

from cabinet.models import LocalRole, Node
from cabinet.resources import get_root
from cabinet.scripts.demo import _child, _user
from cabinet.terms import accept_current_terms

PARC_DOC = "/cabinets/parc/patients/leroy/documents/consentement"
PARC_PATIENT = "/cabinets/parc/patients/leroy"


@pytest.fixture
def other_cabinet(demo, db):
    """Cabinet "gare" with its administrator and professional, and one patient."""
    with db() as request:
        session = request.dbsession
        root = get_root(request)
        gare = _child(request, root["cabinets"], "Cabinet", "gare", "Cabinet de la Gare")
        admin = _user(session, "admin.gare", "Gaston Gare")
        doctor = _user(session, "dr.gare", "Dr Gilles Gare")
        for user, role in ((admin, "administrator"), (doctor, "professional")):
            session.add(LocalRole(node_id=gare.id, principal=user.principal, role=role))
            accept_current_terms(request, user)
        _child(request, gare["patients"], "Patient", "durand", "Paul Durand",
               first_name="Paul", last_name="Durand")
    return demo


def state_of(db, path):
    with db() as request:
        return request.dbsession.scalar(select(Node.state).where(Node.path == path + "/"))


@pytest.mark.parametrize("login_name", ["admin.gare", "dr.gare"])
def test_staff_of_another_cabinet_cannot_read_or_change(other_cabinet, api, db, login_name):
    client = api(login_name)
    for path in ("/cabinets/parc", PARC_PATIENT, PARC_DOC, PARC_DOC + "/@history",
                 PARC_DOC + "/@workflow", PARC_PATIENT + "/@sharing",
                 PARC_DOC + "/@permissions?user=dr.martin"):
        response = client.get(path, status=403)
        assert "Consentement" not in response.text and "Leroy" not in response.text
    client.patch(PARC_DOC, {"title": "pris"}, status=403)
    client.post(PARC_DOC + "/@workflow/withdraw", {}, status=403)
    client.delete(PARC_DOC, status=403)
    client.post(PARC_PATIENT, {"@type": "Document", "title": "intrus"}, status=403)
    client.post(PARC_PATIENT + "/@sharing",
                {"entries": [{"id": login_name, "type": "user", "roles": {"patient": True}}]},
                status=403)
    assert state_of(db, PARC_DOC) == "sent"


def test_search_filters_naming_another_cabinet_return_nothing(other_cabinet, api):
    client = api("admin.gare")
    found = client.get("/@search?portal_type=Document&path=/cabinets/parc").json
    assert found["items_total"] == 0 and found["items"] == []
    found = client.get("/@search?portal_type=Patient").json
    assert [item["@id"].rsplit("/", 1)[-1] for item in found["items"]] == ["durand"]


def test_a_patient_reaches_only_her_own_record(demo, api, other_cabinet):
    client = api("p.leroy")
    client.get(PARC_PATIENT, status=200)
    for path in ("/cabinets/parc/patients/bernard",
                 "/cabinets/parc/patients/bernard/documents/consentement",
                 "/cabinets/gare/patients/durand"):
        response = client.get(path, status=403)
        assert "Bernard" not in response.text and "Durand" not in response.text


@pytest.mark.parametrize("extra", [
    {"review_state": "signed"}, {"state": "signed"}, {"owner": "admin.gare"},
    {"owner_id": 1}, {"path": "/cabinets/gare/"}, {"parent_id": 1},
    {"@id": "http://localhost/cabinets/gare/x"}, {"signed_at": "2026-01-01T00:00:00"},
    {"amount_due": 0}, {"role": "administrator"}, {"version": 99},
])
def test_extra_fields_are_refused_and_change_nothing(demo, api, db, extra):
    doc = "/cabinets/parc/patients/leroy/documents/devis"       # pending: editable
    client = api("dr.martin")
    before = client.get(doc).json
    response = client.patch(doc, {"title": "Devis corrigé", **extra}, status=422)
    assert list(extra)[0] in response.json["errors"]
    after = client.get(doc).json
    assert after == before
    assert state_of(db, doc) == "pending"


def test_create_refuses_state_and_owner(demo, api, db):
    client = api("dr.martin")
    response = client.post(PARC_PATIENT, {"@type": "Document", "title": "Note",
                                          "review_state": "signed", "owner": "admin"},
                           status=422)
    assert set(response.json["errors"]) >= {"review_state", "owner"}
    with db() as request:
        assert request.dbsession.scalar(
            select(Node.id).where(Node.title == "Note")) is None
