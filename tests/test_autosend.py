"""Questionnaire auto-send rules (Q2) and the worker (issue #5): a questionnaire sent
at once or on its day, moved and cancelled with its appointment, never twice; the
worker's jobs each in their own transaction, with their status recorded."""
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from cabinet.models import QuestionnaireResponse, ScheduledSend, WorkerJob
from cabinet.worker import JOBS, job_status, run_jobs

BASE = "http://localhost"
PARC = "/cabinets/parc"
LEROY = f"{PARC}/patients/leroy"
BERNARD = f"{PARC}/patients/bernard"
RULES = f"{PARC}/@autosend-rules"
QUESTIONS = [{"id": "douleur", "type": "scale", "text": "Douleur ?", "required": True}]
# the clock stands at 2026-03-10 09:00 UTC


def add_template(db, name, title, questions=QUESTIONS, cabinet="parc"):
    """A questionnaire template with one version (as helper qt's API makes them)."""
    from cabinet.content import add_node
    from cabinet.interfaces import IClock
    from cabinet.models import QuestionnaireTemplate
    from cabinet.models.questionnaires import TemplateVersion
    from cabinet.resources import get_root
    with db() as request:
        folder = get_root(request)["cabinets"][cabinet]["questionnaire-templates"]
        template = add_node(request.dbsession, request.registry, folder,
                            "QuestionnaireTemplate", name=name, title=title)
        request.dbsession.add(TemplateVersion(
            template_id=template.id, number=1, title=title, description="",
            questions=questions, created=request.registry.getUtility(IClock).now()))
        return template.id


@pytest.fixture
def setup(demo, db, api):
    """dr.martin, a template with questions, and none of the demo's rules."""
    from sqlalchemy import delete
    from cabinet.models import AutosendRule
    with db() as request:
        request.dbsession.execute(delete(AutosendRule))
    add_template(db, "anamnese-auto", "Questionnaire médical")
    return api("dr.martin")


def responses(db, patient="leroy", state=None):
    """(title, state) of the patient's responses of this module's templates."""
    from cabinet.models import QuestionnaireTemplate
    with db() as request:
        mine = select(QuestionnaireTemplate.id).where(
            QuestionnaireTemplate.name.in_(("anamnese-auto", "vide")))
        query = select(QuestionnaireResponse.title, QuestionnaireResponse.state).where(
            QuestionnaireResponse.path.startswith(f"{PARC}/patients/{patient}/"),
            QuestionnaireResponse.template_id.in_(mine))
        rows = request.dbsession.execute(query).all()
    return sorted((title, s) for title, s in rows if state is None or s == state)


def sends(db):
    with db() as request:
        return sorted((s.due_date, s.state) for s in request.dbsession.scalars(
            select(ScheduledSend)))


def book(client, patient=LEROY, start="2026-03-20T10:00", **kw):
    body = {"@type": "Appointment", "appointment_type": "consultation",
            "practitioner": "martin", "start": start, **kw}
    return client.post(patient + "/appointments", body, status=201).json["@id"][len(BASE):]


def rule(client, days=2, **kw):
    body = {"template": "anamnese-auto", "days_before": days, **kw}
    return client.post(RULES, body, status=201).json


def test_rules_are_managed_by_staff_and_checked(setup, api, db):
    martin = setup
    created = rule(martin, practitioner="martin", appointment_type="consultation")
    assert created["template"] == {"id": "anamnese-auto", "title": "Questionnaire médical"}
    assert created["practitioner"]["id"] == "martin" and created["days_before"] == 2
    assert [r["id"] for r in martin.get(RULES).json["items"]] == [created["id"]]
    martin.post(RULES, {"template": "anamnese-auto", "days_before": 2,
                        "practitioner": "martin", "appointment_type": "consultation"},
                status=409)
    bad = martin.post(RULES, {"template": "nope", "days_before": 400,
                              "practitioner": "x", "appointment_type": "y"}, status=422)
    assert set(bad.json["errors"]) == {"template", "days_before", "practitioner",
                                       "appointment_type"}
    martin.post(RULES, {"template": "anamnese-auto", "days_before": 1, "cabinet": 2},
                status=422)
    changed = martin.patch(f"{RULES}/{created['id']}", {"days_before": 5}).json
    assert changed["days_before"] == 5
    martin.patch(f"{RULES}/999999", {"days_before": 5}, status=404)
    api("p.leroy").get(RULES, status=403)
    api("p.leroy").post(RULES, {"template": "anamnese-auto", "days_before": 1}, status=403)
    martin.delete(f"{RULES}/{created['id']}", status=204)
    assert martin.get(RULES).json["items"] == []


def test_a_template_of_another_cabinet_is_never_reachable(setup, db):
    from cabinet.content import add_node
    from cabinet.resources import get_root
    with db() as request:
        add_node(request.dbsession, request.registry, get_root(request)["cabinets"],
                 "Cabinet", name="autre", title="Autre cabinet")
    add_template(db, "secret", "Questionnaire d'ailleurs", cabinet="autre")
    response = setup.post(RULES, {"template": "secret", "days_before": 1}, status=422)
    assert "template" in response.json["errors"]


def test_booked_within_the_delay_the_questionnaire_is_sent_at_once(setup, db):
    martin = setup
    rule(martin, days=2)
    path = book(martin, start="2026-03-11T10:00")
    assert responses(db) == [("Questionnaire médical", "sent")]
    assert martin.get(path).json["questionnaire_sends"] == [
        {"template": "Questionnaire médical", "due_date": "2026-03-09", "state": "sent"}]
    # moving it again sends nothing more
    martin.patch(path, {"start": "2026-03-11T15:00"})
    assert responses(db) == [("Questionnaire médical", "sent")]


def test_a_later_appointment_is_sent_by_the_worker_on_its_day_once(setup, db, clock,
                                                                  registry):
    martin = setup
    rule(martin, days=2)
    book(martin, start="2026-03-20T10:00")
    assert responses(db) == [] and sends(db) == [(date(2026, 3, 18), "pending")]
    clock.set(date(2026, 3, 17))
    assert run_jobs(registry)["autosend"] == (True, "0 sent")
    assert responses(db) == []
    clock.set(date(2026, 3, 18))
    assert run_jobs(registry)["autosend"] == (True, "1 sent")
    assert responses(db) == [("Questionnaire médical", "sent")]
    assert run_jobs(registry)["autosend"] == (True, "0 sent")
    assert responses(db) == [("Questionnaire médical", "sent")]
    assert sends(db) == [(date(2026, 3, 18), "sent")]


def test_moved_appointments_move_their_sends(setup, db, clock, registry, api):
    martin = setup
    rule(martin, days=2)
    path = book(martin, start="2026-03-20T10:00")
    martin.patch(path, {"start": "2026-03-25T10:00"})
    assert sends(db) == [(date(2026, 3, 23), "pending")]
    clock.set(date(2026, 3, 18))
    run_jobs(registry)
    assert responses(db) == []
    martin = api("dr.martin")                            # a token of the new day
    martin.patch(path, {"start": "2026-03-19T10:00"})    # now within the delay
    assert responses(db) == [("Questionnaire médical", "sent")]
    assert sends(db) == [(date(2026, 3, 17), "sent")]


def test_cancelled_appointments_send_nothing(setup, db, clock, registry):
    martin = setup
    rule(martin, days=2)
    path = book(martin, start="2026-03-20T10:00")
    martin.post(path + "/@workflow/cancel", {"comment": "Annulé par téléphone"})
    assert sends(db) == [(date(2026, 3, 18), "cancelled")]
    clock.set(date(2026, 3, 18))
    assert run_jobs(registry)["autosend"] == (True, "0 sent")
    assert responses(db) == []


def test_rules_match_practitioner_and_type(setup, db):
    martin = setup
    rule(martin, days=30, practitioner="weber")
    rule(martin, days=30, appointment_type="controle")
    book(martin, start="2026-03-20T10:00")                       # martin, consultation
    assert responses(db) == [] and sends(db) == []
    book(martin, patient=BERNARD, start="2026-03-21T10:00", appointment_type="controle")
    assert responses(db, "bernard") == [("Questionnaire médical", "sent")]
    book(martin, patient=BERNARD, start="2026-03-22T10:00", practitioner="weber")
    assert len(responses(db, "bernard")) == 2


def test_booking_through_the_page_sends_too(setup, db, testapp):
    from tests.conftest import login
    rule(setup, days=5)
    login(testapp, "admin")
    form = testapp.get(LEROY + "/appointments").forms[1]
    form["appointment_type"] = "controle"
    form["practitioner"] = "weber"
    form["start"] = "2026-03-12T11:00"
    form.submit(status=303)
    assert responses(db) == [("Questionnaire médical", "sent")]


def test_a_template_without_questions_fails_then_goes_once_it_has_some(setup, db, clock,
                                                                       registry):
    from cabinet.models.questionnaires import TemplateVersion
    martin = setup
    template_id = add_template(db, "vide", "Vide", questions=[])
    martin.post(RULES, {"template": "vide", "days_before": 2}, status=201)
    book(martin, start="2026-03-11T10:00")                       # due at once: fails
    assert responses(db) == [] and sends(db) == [(date(2026, 3, 9), "failed")]
    with db() as request:
        version = request.dbsession.scalar(select(TemplateVersion).where(
            TemplateVersion.template_id == template_id))
        version.questions = QUESTIONS
    assert run_jobs(registry)["autosend"] == (True, "1 sent")
    assert responses(db) == [("Vide", "sent")]


def test_a_failing_job_is_recorded_and_does_not_stop_the_others(demo, db, clock,
                                                                registry):
    def broken(registry):
        raise RuntimeError("boom")
    results = run_jobs(registry, (("broken", broken), *JOBS))
    assert results["broken"] == (False, "RuntimeError: boom")
    assert results["mandates.expire"][0] and results["delegations.expire"][0]
    with db() as request:
        status = job_status(request.dbsession)
        assert status["broken"].last_error == datetime(2026, 3, 10, 9, 0)
        assert status["broken"].last_success is None
        assert "boom" in status["broken"].last_error_message
        assert status["autosend"].last_success == datetime(2026, 3, 10, 9, 0)
        assert request.dbsession.scalar(select(func.count()).select_from(WorkerJob)) == 1 + len(JOBS)


def test_the_worker_expires_delegations_past_their_end_date(demo, db, clock, registry,
                                                           api):
    path = "/professionals/martin/delegations/invitation-faber"
    clock.set(date(2026, 3, 10) + timedelta(days=180))
    assert run_jobs(registry)["delegations.expire"] == (True, "0 expired")
    clock.set(date(2026, 3, 10) + timedelta(days=181))
    assert run_jobs(registry)["delegations.expire"] == (True, "1 expired")
    martin = api("dr.martin")
    assert martin.get(path).json["review_state"] == "ended"
    history = martin.get(path + "/@history").json
    assert any(h["transition"] == "expire" and h["actor"] is None for h in history)
    assert run_jobs(registry)["delegations.expire"] == (True, "0 expired")


def test_cabinet_worker_once_from_the_ini(setup, db, database_url, tmp_path, settings):
    """The console script reads the .ini, runs the due jobs once and exits 0."""
    from cabinet.worker import main
    rule(setup, days=2)
    book(setup, start="2026-03-20T10:00")
    ini = tmp_path / "worker.ini"
    values = {k: v for k, v in settings.items() if isinstance(v, str)}
    values["cabinet.clock.at"] = "2026-03-18T06:00:00"
    values.setdefault("cabinet.signing_key_secret", "s" * 40)
    ini.write_text("[app:main]\nuse = egg:cabinet\n" + "".join(
        f"{key} = {value.replace('%', '%%')}\n" for key, value in values.items()),
        encoding="utf-8")
    assert main(["cabinet_worker", str(ini), "--once"]) == 0
    assert responses(db) == [("Questionnaire médical", "sent")]
    with db() as request:
        assert job_status(request.dbsession)["autosend"].last_result == "1 sent"


def run_together(app, work, count=2):
    """Run ``work(request)`` in ``count`` threads at once, each in its own committed
    transaction; the results (or the exceptions raised) in any order."""
    import threading
    from cabinet.scripts import script_request
    barrier = threading.Barrier(count)
    results = []

    def run():
        request = script_request(app.registry)
        try:
            with request.tm:
                results.append(work(request, barrier))
        except Exception as exc:          # noqa: BLE001 - reported to the test
            results.append(exc)
    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_two_workers_never_send_one_questionnaire_twice(setup, app, db, clock):
    import time
    from cabinet.autosend import due_send_ids, send_due
    rule(setup, days=2)
    book(setup, start="2026-03-20T10:00")
    clock.set(date(2026, 3, 18))
    with db() as request:
        (send_id,) = due_send_ids(request)

    def work(request, barrier):
        barrier.wait()
        sent = send_due(request, send_id)
        time.sleep(0.2)                   # hold the row a little
        return sent
    assert sorted(run_together(app, work)) == [False, True]
    assert responses(db) == [("Questionnaire médical", "sent")]


def test_two_bookings_of_one_slot_at_once_one_wins(setup, app, db):
    import time
    from pyramid.httpexceptions import HTTPConflict
    from cabinet.appointments import check_values, create_appointment
    from cabinet.resources import get_root
    patients = iter(["leroy", "bernard"])

    def work(request, barrier):
        cabinet = get_root(request)["cabinets"]["parc"]
        folder = cabinet["patients"][next(patients)]["appointments"]
        values = check_values(request, cabinet, {
            "appointment_type": "consultation", "practitioner": "weber",
            "start": "2026-03-24T10:00"})
        barrier.wait()
        create_appointment(request, folder, values)
        time.sleep(0.2)
        return "booked"
    results = run_together(app, work)
    assert sorted(map(type, results), key=str) == sorted([str, HTTPConflict], key=str)
    with db() as request:
        from cabinet.models import Appointment
        assert request.dbsession.scalar(select(func.count()).select_from(Appointment)
                                        .where(Appointment.start == datetime(
                                            2026, 3, 24, 10, 0))) == 1


def test_an_appointment_already_over_is_not_sent_to_any_more(setup, db, clock, registry,
                                                             api):
    rule(setup, days=2)
    path = book(setup, start="2026-03-20T10:00")
    clock.set(datetime(2026, 3, 20, 12, 0))    # the worker was down until after it
    assert run_jobs(registry)["autosend"] == (True, "0 sent")
    assert responses(db) == [] and sends(db) == [(date(2026, 3, 18), "missed")]
    martin = api("dr.martin")
    assert martin.get(path).json["questionnaire_sends"][0]["state"] == "missed"


def test_the_patient_does_not_see_the_sends(setup, db, api):
    rule(setup, days=2)
    path = book(setup, start="2026-03-20T10:00")
    assert api("p.leroy").get(path).json["questionnaire_sends"] == []
    setup.post(path + "/@workflow/complete", status=200)
    assert sends(db) == [(date(2026, 3, 18), "cancelled")]
    assert api("p.leroy").get(path).json["questionnaire_sends"] == []
