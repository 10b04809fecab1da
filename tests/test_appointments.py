"""Appointments through the JSON API (issue #5): create, move, cancel, list, by the
right people only; bad input refused with nothing changed."""
from datetime import datetime

import pytest

from tests.conftest import LEA, Api, patient_token  # noqa: F401 (other modules' too)

BASE = "http://localhost"
PARC = "/cabinets/parc"
LEROY = f"{PARC}/patients/leroy"
BERNARD = f"{PARC}/patients/bernard"
HUGO = f"{PARC}/patients/hugo-leroy"
# the clock stands at 2026-03-10 09:00 UTC (10:00 in Luxembourg)


def book(**kw):
    body = {"@type": "Appointment", "appointment_type": "consultation",
            "practitioner": "martin", "start": "2026-03-12T10:00", "place": "Salle 2"}
    body.update(kw)
    return body


def path_of(response):
    return response.json["@id"][len(BASE):]


@pytest.fixture
def lea(demo, testapp, registry):
    """Léa Leroy, the patient (and Hugo's guardian), logged in by SMS code."""
    return Api(testapp, patient_token(testapp, registry))


def accept_terms(request):
    """Every account accepts the demo's terms of use (else every call is 403)."""
    from sqlalchemy import select
    from cabinet.interfaces import IClock
    from cabinet.models.terms import TermsVersion
    from cabinet.terms import accept_for_all_users
    terms = request.dbsession.scalar(select(TermsVersion))
    accept_for_all_users(request.dbsession, terms,
                         request.registry.getUtility(IClock).now())


def test_staff_book_an_appointment_whose_end_defaults_to_the_type_duration(martin):
    response = martin.post(LEROY + "/appointments", book(), status=201)
    data = response.json
    assert data["@type"] == "Appointment" and data["review_state"] == "scheduled"
    assert data["start"] == "2026-03-12T10:00:00+01:00" and data["end"] == "2026-03-12T10:30:00+01:00"
    assert data["practitioner"] == {"id": "martin", "title": "Dr Paul Martin"}
    assert data["appointment_type"]["title"] == "Consultation"
    assert data["place"] == "Salle 2"
    assert data["title"] == "Consultation — 12/03/2026 10:00 — Dr Paul Martin"
    assert data["patient"]["title"] == "Léa Leroy"
    assert martin.get(path_of(response)).json["start"] == "2026-03-12T10:00:00+01:00"


def test_posting_to_the_patient_record_adds_to_its_appointments(martin):
    response = martin.post(LEROY, book(end="2026-03-12T11:15"), status=201)
    assert "/patients/leroy/appointments/" in response.json["@id"]
    assert response.json["end"] == "2026-03-12T11:15:00+01:00"


@pytest.mark.parametrize("body, field", [
    ({"end": "2026-03-12T09:00"}, "end"),
    ({"end": "2026-03-12T10:00"}, "end"),
    ({"start": "demain"}, "start"),
    ({"start": None}, "start"),
    ({"appointment_type": "chirurgie"}, "appointment_type"),
    ({"practitioner": "inconnu"}, "practitioner"),
    ({"practitioner": "../professionals/martin"}, "practitioner"),
])
def test_bad_input_is_refused_by_field_and_nothing_is_added(martin, body, field):
    before = martin.get(LEROY + "/@appointments?when=all").json["items_total"]
    response = martin.post(LEROY + "/appointments", book(**body), status=422)
    assert field in response.json["errors"], response.json
    assert martin.get(LEROY + "/@appointments?when=all").json["items_total"] == before


def test_unknown_fields_are_refused(martin):
    response = martin.post(LEROY + "/appointments", book(cabinet_id=1, state="done"),
                           status=422)
    assert set(response.json["errors"]) == {"cabinet_id", "state"}


def test_a_practitioner_is_not_booked_twice_at_the_same_time(martin, admin):
    martin.post(LEROY + "/appointments", book(), status=201)
    before = martin.get(BERNARD + "/@appointments?when=all").json["items_total"]
    clash = admin.post(BERNARD + "/appointments", book(start="2026-03-12T10:15"),
                       status=409)
    assert clash.json["type"] == "Conflict"
    assert "Dr Paul Martin a déjà un rendez-vous" in clash.json["message"]
    assert martin.get(BERNARD + "/@appointments?when=all").json["items_total"] == before
    # right after, or with another practitioner: fine
    admin.post(BERNARD + "/appointments", book(start="2026-03-12T10:30"), status=201)
    admin.post(BERNARD + "/appointments", book(start="2026-03-12T10:00",
                                               practitioner="weber"), status=201)


def test_move_keeps_the_duration_and_refuses_bad_times(martin, admin):
    path = path_of(martin.post(LEROY + "/appointments", book(), status=201))
    moved = martin.patch(path, {"start": "2026-03-13T15:00"}).json
    assert (moved["start"], moved["end"]) == ("2026-03-13T15:00:00+01:00", "2026-03-13T15:30:00+01:00")
    assert moved["title"].startswith("Consultation — 13/03/2026 15:00")
    response = martin.patch(path, {"start": "2026-03-13T16:00", "end": "2026-03-13T15:00"},
                            status=422)
    assert "end" in response.json["errors"]
    other = path_of(admin.post(BERNARD + "/appointments",
                               book(start="2026-03-14T09:00"), status=201))
    clash = martin.patch(path, {"start": "2026-03-14T09:10"}, status=409)
    assert "déjà un rendez-vous" in clash.json["message"]
    assert martin.get(path).json["start"] == "2026-03-13T15:00:00+01:00"
    # moving onto its own slot is no clash
    martin.patch(other, {"end": "2026-03-14T09:45"}, status=200)


def test_cancel_with_reason_then_nothing_more_changes(martin):
    path = path_of(martin.post(LEROY + "/appointments", book(), status=201))
    martin.post(path + "/@workflow/cancel", {"comment": "Patient malade"}, status=200)
    data = martin.get(path).json
    assert data["review_state"] == "cancelled"
    assert data["cancel_reason"] == "Patient malade"
    refused = martin.patch(path, {"start": "2026-03-20T10:00"}, status=409)
    assert refused.json["message"] == "Seul un rendez-vous prévu peut être déplacé."
    martin.post(path + "/@workflow/cancel", status=409)
    # the slot is free again
    martin.post(BERNARD + "/appointments", book(), status=201)


def test_the_patient_sees_but_does_not_change(martin, lea):
    path = path_of(martin.post(LEROY + "/appointments", book(), status=201))
    assert lea.get(path).json["review_state"] == "scheduled"
    coming = lea.get(LEROY + "/@appointments").json
    titles = [item["title"] for item in coming["items"]]
    assert "Consultation — 12/03/2026 10:00 — Dr Paul Martin" in titles
    lea.patch(path, {"start": "2026-03-20T10:00"}, status=403)
    lea.post(path + "/@workflow/cancel", status=403)
    lea.post(LEROY + "/appointments", book(start="2026-03-20T10:00"), status=403)
    # as Hugo's guardian she sees his appointments, not Bernard's
    assert lea.get(HUGO + "/@appointments?when=all").json["items_total"] == 2
    lea.get(BERNARD + "/@appointments", status=403)


def test_coming_and_all_in_chronological_order(martin):
    data = martin.get(LEROY + "/@appointments").json
    assert [i["id"] for i in data["items"]] == ["consultation-a-venir"]
    every = martin.get(LEROY + "/@appointments?when=all").json
    assert [i["id"] for i in every["items"]] == [
        "controle-passe", "consultation-a-venir", "controle-annule"]
    martin.get(LEROY + "/@appointments?when=later", status=400)


def test_agenda_of_a_day_filtered_by_practitioner_with_total(martin, admin):
    for hour in ("08", "09", "11"):
        martin.post(BERNARD + "/appointments", book(start=f"2026-03-12T{hour}:00"),
                    status=201)
    admin.post(LEROY + "/appointments", book(start="2026-03-12T08:00",
                                             practitioner="weber"), status=201)
    day = martin.get(PARC + "/@appointments?start=2026-03-12").json
    assert day["items_total"] == 4
    assert [i["start"][11:16] for i in day["items"]] == ["08:00", "08:00", "09:00", "11:00"]
    only = martin.get(PARC + "/@appointments?start=2026-03-12&practitioner=weber").json
    assert [i["patient"]["title"] for i in only["items"]] == ["Léa Leroy"]
    page = martin.get(PARC + "/@appointments?start=2026-03-12&b_size=2").json
    assert len(page["items"]) == 2 and page["items_total"] == 4
    assert "next" in page["batching"]
    period = martin.get(PARC + "/@appointments?start=2026-03-01&end=2026-03-31").json
    assert period["items_total"] == 4 + 3     # and the demo's three in March
    martin.get(PARC + "/@appointments?start=2026-03-12&end=2026-03-01", status=400)
    martin.get(PARC + "/@appointments?start=hier", status=400)


def test_other_cabinets_and_anonymous_visitors_reach_nothing(martin, demo, db, testapp,
                                                             api):
    from cabinet.content import add_node
    from cabinet.models import LocalRole, User
    from cabinet.passwords import hash_password
    path = path_of(martin.post(LEROY + "/appointments", book(), status=201))
    with db() as request:
        session = request.dbsession
        from cabinet.resources import get_root
        other = add_node(session, request.registry, get_root(request)["cabinets"], "Cabinet",
                         name="autre", title="Autre cabinet")
        user = User(login="staff.autre", fullname="Staff Autre",
                    password_hash=hash_password("demo"))
        session.add(user)
        session.flush()
        session.add(LocalRole(node_id=other.id, principal=user.principal, role="staff"))
        accept_terms(request)
    stranger = api("staff.autre")
    stranger.get(path, status=403)
    stranger.get(PARC + "/@appointments", status=403)
    stranger.post(LEROY + "/appointments", book(), status=403)
    stranger.patch(path, {"start": "2026-03-20T10:00"}, status=403)
    # booking in one's own cabinet with another cabinet's practitioner or type
    response = stranger.post("/cabinets/autre/patients", {
        "@type": "Patient", "title": "Jean Autre"}, status=201)
    patient = path_of(response)
    refused = stranger.post(patient + "/appointments", book(), status=422)
    assert set(refused.json["errors"]) == {"appointment_type", "practitioner"}
    testapp.get(path, headers={"Accept": "application/json"}, status=401)
    testapp.get(LEROY + "/@appointments", status=401)
    assert martin.get(path).json["start"] == "2026-03-12T10:00:00+01:00"


def test_the_listings_answer_inside_the_record_and_the_cabinet(martin):
    """As /@openapi.json documents them: on any resource inside the patient record
    (its appointments) or inside the cabinet (its types, its rules)."""
    document = LEROY + "/documents/consentement"
    assert martin.get(document + "/@appointments").json["items_total"] == 1
    types = martin.get(document + "/@appointment-types").json["items"]
    assert [(t["id"], t["duration"]) for t in types] == [("consultation", 30),
                                                         ("controle", 15)]
    assert "items" in martin.get(document + "/@autosend-rules").json


def test_appointment_types_through_the_api(martin, lea):
    created = martin.post(PARC + "/@appointment-types",
                          {"id": "urgence", "title": "Urgence", "duration": 20}, status=201)
    assert created.json == {"id": "urgence", "title": "Urgence", "duration": 20,
                            "carte_vitale_required": False}     # issue #9, P1
    martin.post(PARC + "/@appointment-types",
                {"id": "urgence", "title": "Urgence", "duration": 20}, status=409)
    bad = martin.post(PARC + "/@appointment-types",
                      {"id": "Urgence!", "title": "", "duration": 1000}, status=422)
    assert set(bad.json["errors"]) == {"id", "title", "duration"}
    assert martin.patch(PARC + "/@appointment-types/urgence",
                        {"duration": 25}).json["duration"] == 25
    martin.post(LEROY + "/appointments", book(appointment_type="urgence"), status=201)
    martin.delete(PARC + "/@appointment-types/urgence", status=409)
    martin.delete(PARC + "/@appointment-types/inconnu", status=404)
    lea.post(PARC + "/@appointment-types", {"id": "x", "title": "X", "duration": 20},
             status=403)


def test_appointment_times_carry_the_cabinets_offset_of_their_day():
    """Wall-clock times in the cabinet's zone: +01:00 in winter, +02:00 in summer;
    time stamps (created, modified ...) are UTC, +00:00."""
    from types import SimpleNamespace
    from cabinet.appointments import local_isoformat
    from cabinet.views.base import isoformat
    request = SimpleNamespace(registry=SimpleNamespace(settings={}))
    assert local_isoformat(request, datetime(2026, 1, 15, 9, 0)) == "2026-01-15T09:00:00+01:00"
    assert local_isoformat(request, datetime(2026, 7, 15, 9, 0, 7, 5)) == \
        "2026-07-15T09:00:07+02:00"
    assert local_isoformat(request, None) is None
    assert isoformat(datetime(2026, 7, 15, 9, 0, 0, 5)) == "2026-07-15T09:00:00+00:00"
    assert isoformat(datetime(2026, 7, 15, 9, 0).date()) == "2026-07-15"
