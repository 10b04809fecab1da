"""Appointment reminders (issue #9, P7) and the outbox: "N days before at HH:MM"
rules per person (the default: 1 day before at 12:00), sent by the worker within
a minute of their time, on the local clock across daylight-saving changes, never
twice, never for a cancelled or moved appointment, never to a person who opted
out, never with health details; the page and the JSON API, bad input refused."""
import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from cabinet.interfaces import ISmsGateway
from cabinet.models import OutboxMessage, WorkerJob
from cabinet.worker import outbox_job, reminders_job, run_jobs
from tests.conftest import login
from tests.test_appointments import patient_token
from tests.test_patient_appointments import book

BASE = "http://localhost"
PARC = "/cabinets/parc"
LEROY = f"{PARC}/patients/leroy"
LEA_PHONE = "+352621123456"
API = "/@my-notifications"
PAGE = "/@@my-notifications"
# the clock stands at 2026-03-10 09:00 UTC; Léa's coming appointment: Friday
# 13/03/2026 10:00 with Dr Paul Martin (Consultation); Hugo's (her son, a minor):
# Friday 20/03/2026 16:00 with Dr Eva Weber (Contrôle)
HEALTH = ("Consultation", "Contrôle", "Controle", "Léa", "Hugo", "Leroy", "Salle")


@pytest.fixture
def lea(demo, testapp, registry):
    """Léa (with her directory account: Hugo's guardian), signed in on the pages."""
    patient_token(testapp, registry)
    login(testapp, "p.leroy")
    registry.getUtility(ISmsGateway).outbox.clear()     # the login code
    return testapp


def csrf(page):
    return page.html.select_one("input[name=csrf_token]")["value"]


def sms(registry):
    return [(m["to"], m["text"]) for m in registry.getUtility(ISmsGateway).outbox]


def outbox(db, kind="reminder"):
    with db() as request:
        return [(m.state, m.due, m.recipient, m.channel) for m in request.dbsession.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == kind)
            .order_by(OutboxMessage.id))]


def run(registry):
    """The worker's reminder jobs, once."""
    return run_jobs(registry, (("reminders", reminders_job), ("outbox", outbox_job)))


def token_api(testapp, registry):
    """Léa's bearer token (the patient app); her page session is opened again."""
    import webtest
    from tests.conftest import Api
    other = webtest.TestApp(testapp.app, extra_environ=testapp.extra_environ)
    token = patient_token(other, registry)
    registry.getUtility(ISmsGateway).outbox.clear()
    return Api(testapp, token)


# -- the default rule, the worker, never twice ------------------------------------------

def test_default_reminder_the_day_before_at_noon_within_a_minute_and_once(
        lea, registry, clock, db):
    clock.set(datetime(2026, 3, 12, 10, 59))            # 11:59 in Luxembourg
    assert run(registry)["reminders"] == (True, "0 queued")
    assert sms(registry) == []
    clock.set(datetime(2026, 3, 12, 11, 0, 40))         # 12:00:40: the run of that minute
    results = run(registry)
    assert results["reminders"] == (True, "1 queued")
    assert results["outbox"] == (True, "1 sent, 0 cancelled, 0 to retry")
    [(to, text)] = sms(registry)
    assert to == LEA_PHONE
    assert text == ("Cabinet dentaire du Parc : rappel de votre rendez-vous le vendredi "
                    "13/03/2026 à 10:00 avec Dr Paul Martin. En cas d'empêchement, merci "
                    "de prévenir le cabinet.")
    assert not any(word in text for word in HEALTH)
    for minutes in (1, 30, 90):                         # later runs: nothing more
        clock.set(datetime(2026, 3, 12, 11, 0) + timedelta(minutes=minutes))
        run(registry)
    assert len(sms(registry)) == 1
    assert outbox(db) == [("sent", datetime(2026, 3, 12, 11, 0), LEA_PHONE, "sms")]
    with db() as request:
        status = request.dbsession.get(WorkerJob, "outbox")
        assert status.last_success == clock.now() and status.last_error is None


def test_a_guardian_is_reminded_of_the_minor_s_appointment(lea, registry, clock):
    clock.set(datetime(2026, 3, 19, 11, 0))             # Hugo: 20/03 16:00
    run(registry)
    [(to, text)] = sms(registry)
    assert to == LEA_PHONE and "vendredi 20/03/2026 à 16:00 avec Dr Eva Weber" in text
    assert not any(word in text for word in HEALTH)


def test_a_reminder_too_late_is_not_sent(lea, registry, clock):
    """The worker stopped more than two hours past the time: no stale reminder."""
    clock.set(datetime(2026, 3, 12, 13, 1))
    assert run(registry)["reminders"] == (True, "0 queued")
    assert sms(registry) == []


# -- daylight-saving changes --------------------------------------------------------------

@pytest.mark.parametrize("start, rule, due", [
    # Sunday 29 March 2026, 02:00 CET -> 03:00 CEST
    (datetime(2026, 3, 30, 10, 0), (1, "12:00"), datetime(2026, 3, 29, 10, 0)),
    (datetime(2026, 3, 30, 10, 0), (2, "12:00"), datetime(2026, 3, 28, 11, 0)),
    (datetime(2026, 3, 30, 10, 0), (1, "02:30"), datetime(2026, 3, 29, 1, 30)),  # no 02:30
    # Sunday 25 October 2026, 03:00 CEST -> 02:00 CET
    (datetime(2026, 10, 26, 10, 0), (1, "12:00"), datetime(2026, 10, 25, 11, 0)),
    (datetime(2026, 10, 26, 10, 0), (2, "12:00"), datetime(2026, 10, 24, 10, 0)),
    (datetime(2026, 10, 26, 10, 0), (1, "02:30"), datetime(2026, 10, 25, 0, 30)),  # twice
])
def test_reminders_keep_the_local_clock_across_daylight_saving_changes(
        lea, registry, clock, db, start, rule, due):
    book(db, registry, LEROY, "apres-changement", start)
    api = token_api(lea, registry)
    api.post(API, {"days_before": rule[0], "time": rule[1], "channel": "sms"}, status=201)
    registry.getUtility(ISmsGateway).outbox.clear()
    clock.set(due - timedelta(seconds=1))
    run(registry)
    assert sms(registry) == []
    clock.set(due)
    run(registry)
    assert len(sms(registry)) == 1 and f"{start:%d/%m/%Y} à 10:00" in sms(registry)[0][1]
    for hours in (1, 2):                  # 02:30 again an hour later in October: once
        clock.set(due + timedelta(hours=hours))
        run(registry)
    assert len(sms(registry)) == 1
    assert [row[:2] for row in outbox(db)] == [("sent", due)]


# -- never for a cancelled or moved appointment, never to who opted out -------------------

def queued_then(registry, clock):
    """Queue Léa's reminder (the reminders job alone), then the caller acts."""
    clock.set(datetime(2026, 3, 12, 11, 0))
    assert run_jobs(registry, (("reminders", reminders_job),))["reminders"] == \
        (True, "1 queued")


def test_never_for_a_cancelled_appointment_even_already_queued(lea, registry, clock, db,
                                                               api):
    queued_then(registry, clock)
    martin = api("dr.martin")
    martin.post(f"{LEROY}/appointments/consultation-a-venir/@workflow/cancel",
                {"comment": "Empêchement"}, status=200)
    assert run(registry)["outbox"] == (True, "0 sent, 1 cancelled, 0 to retry")
    assert sms(registry) == [] and outbox(db)[0][0] == "cancelled"
    clock.set(datetime(2026, 3, 12, 11, 5))
    run(registry)
    assert sms(registry) == []


def test_a_moved_appointment_is_reminded_at_its_new_time_only(lea, registry, clock, db,
                                                              api):
    queued_then(registry, clock)
    martin = api("dr.martin")
    martin.patch(f"{LEROY}/appointments/consultation-a-venir",
                 {"start": "2026-03-16T09:00"}, status=200)
    run(registry)
    assert sms(registry) == []                           # the old time: cancelled
    clock.set(datetime(2026, 3, 15, 11, 0))
    run(registry)
    [(_to, text)] = sms(registry)
    assert "lundi 16/03/2026 à 09:00" in text


def test_never_to_a_person_who_opted_out(lea, registry, clock, db):
    queued_then(registry, clock)
    api = token_api(lea, registry)
    assert api.post(API, {"reminders": False}, status=200).json["reminders"] is False
    run(registry)
    assert sms(registry) == [] and outbox(db)[0][0] == "cancelled"
    clock.set(datetime(2026, 3, 19, 11, 0))              # Hugo's: not queued at all
    assert run(registry)["reminders"] == (True, "0 queued")
    assert sms(registry) == []
    login(lea, "p.leroy")                                # the clock moved: a new session
    page = lea.get(PAGE)
    assert "Vous ne recevez pas de rappels de rendez-vous." in page.text
    form = page.html.find("button", string="Recevoir des rappels").find_parent("form")
    lea.post(form["action"], {"csrf_token": csrf(page), "action": "on"}, status=303)
    assert "Rappels activés." in lea.get(PAGE).text


def test_never_for_a_past_appointment(lea, registry, clock, db):
    """A reminder queued for an appointment that is over by the time it would leave."""
    from cabinet.outbox import queue
    with db() as request:
        from cabinet.models import Appointment
        appointment = request.dbsession.scalar(select(Appointment).where(
            Appointment.name == "controle-passe"))
        queue(request.dbsession, clock.now(), kind="reminder", channel="sms",
              recipient=LEA_PHONE, text="x", user_id=None, appointment_id=appointment.id,
              dedup_key=f"reminder:{appointment.id}:x")
    assert run(registry)["outbox"] == (True, "0 sent, 1 cancelled, 0 to retry")
    assert sms(registry) == []


# -- several rules, email ------------------------------------------------------------------

def test_several_rules_sms_and_email(lea, registry, clock, db):
    from pyramid_mailer.interfaces import IMailer
    api = token_api(lea, registry)
    api.post(API, {"days_before": 2, "time": "18:30", "channel": "email"}, status=201)
    data = api.post(API, {"days_before": "1", "time": "8:05", "channel": "sms"},
                    status=201).json
    assert [(r["days_before"], r["time"], r["channel"], r["default"])
            for r in data["rules"]] == [(2, "18:30", "email", False),
                                        (1, "08:05", "sms", False)]
    registry.getUtility(ISmsGateway).outbox.clear()
    clock.set(datetime(2026, 3, 11, 17, 30))             # 11/03 18:30 local
    run(registry)
    [mail] = registry.getUtility(IMailer).outbox
    assert mail.recipients == ["lea.leroy@example.org"]
    assert mail.subject == "Rappel de rendez-vous" and "13/03/2026 à 10:00" in mail.body
    assert not any(word in mail.body for word in HEALTH)
    clock.set(datetime(2026, 3, 12, 11, 0))              # the default rule is gone
    run(registry)
    assert sms(registry) == []
    clock.set(datetime(2026, 3, 12, 7, 5))
    run(registry)
    assert len(sms(registry)) == 1


# -- two workers ---------------------------------------------------------------------------

def test_two_workers_never_send_twice(lea, registry, clock, db, database_url):
    """Two workers at once (threads) on PostgreSQL; one after the other on SQLite,
    whose writers queue behind one lock."""
    book(db, registry, LEROY, "autre", datetime(2026, 3, 13, 15, 0))
    clock.set(datetime(2026, 3, 12, 11, 0))
    if database_url.startswith("postgresql"):
        for _ in range(5):
            barrier = threading.Barrier(2)
            results = []

            def worker():
                barrier.wait()
                results.append(run(registry))
            threads = [threading.Thread(target=worker) for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert all(ok for result in results for ok, _s in result.values()), results
    else:
        run(registry)
        run(registry)
    texts = sorted(text for _to, text in sms(registry))
    assert len(texts) == 2 and "10:00" in texts[0] and "15:00" in texts[1]
    assert [row[0] for row in outbox(db)] == ["sent", "sent"]


# -- the JSON API and the page ---------------------------------------------------------------

def test_json_shows_the_default_rule_and_refuses_bad_input(lea, registry, db):
    api = token_api(lea, registry)
    data = api.get(API).json
    assert data["reminders"] is True and data["email"] == "lea.leroy@example.org"
    assert data["phone"] == "+352••••••456"
    assert data["rules"] == [{"id": None, "days_before": 1, "time": "12:00",
                              "channel": "sms", "default": True}]
    bad = [({"days_before": 0, "time": "12:00"}, "days_before", "de 1 à 60"),
           ({"days_before": 400, "time": "12:00"}, "days_before", "de 1 à 60"),
           ({"days_before": 1, "time": "25:00"}, "time", "HH:MM"),
           ({"days_before": 1, "time": "12:00", "channel": "pigeon"}, "channel",
            "SMS ou e-mail"),
           ({"days_before": True, "time": "12:00"}, "days_before", "de 1 à 60"),
           ({"reminders": "non"}, "reminders", "true ou false")]
    for body, field, message in bad:
        error = api.post(API, body, status=422).json
        assert message in error["errors"][field], (body, error)
    api.post(API, {"days_before": 1, "time": "12:00", "owner": 3}, status=422)
    api.post(API, {}, status=422)
    assert api.get(API).json == data                     # nothing changed
    api.post(API, {"days_before": 3, "time": "09:00"}, status=201)
    assert api.post(API, {"days_before": 3, "time": "09:00"}, status=422).json[
        "errors"]["days_before"] == "Vous avez déjà ce rappel."


def test_email_channel_needs_an_email(lea, registry, db):
    from cabinet.models import User
    with db() as request:
        request.dbsession.scalar(select(User).where(User.login == "p.leroy")).email = None
    api = token_api(lea, registry)
    error = api.post(API, {"days_before": 2, "time": "10:00", "channel": "email"},
                     status=422).json
    assert "pas d'adresse e-mail" in error["errors"]["channel"]
    assert api.get(API).json["rules"][0]["default"] is True


def test_rules_are_deleted_by_their_owner_only(lea, registry, db, testapp):
    from cabinet.models import ReminderRule
    api = token_api(lea, registry)
    rule_id = api.post(API, {"days_before": 3, "time": "09:00"}, status=201).json[
        "rules"][0]["id"]
    api.delete(f"{API}/999999", status=404)
    api.delete(f"{API}/abc", status=404)
    api.delete(f"{API}/{rule_id}", status=204)
    api.delete(f"{API}/{rule_id}", status=404)
    assert api.get(API).json["rules"][0]["default"] is True
    with db() as request:
        assert request.dbsession.scalar(select(ReminderRule)) is None


def test_staff_have_no_reminders(demo, api):
    martin = api("dr.martin")
    martin.get(API, status=403)
    martin.post(API, {"days_before": 1, "time": "12:00"}, status=403)


def test_the_page_on_a_phone_adds_and_removes_rules(lea):
    page = lea.get(PAGE)
    rules = [li.get_text(" ", strip=True) for li in page.html.select("li.reminder-rule")]
    assert rules == ["1 jour avant à 12:00, par SMS (rappel par défaut)"]
    assert "SMS au +352••••••456" in page.text
    assert 'name="viewport"' in page.text                # laid out for phones
    form = page.html.select_one("section.add-reminder form")
    bad = lea.post(form["action"], {"csrf_token": csrf(page), "action": "add",
                                    "days_before": "0", "time": "25:00",
                                    "channel": "sms"}, status=422)
    assert "de 1 à 60" in bad.text and "HH:MM" in bad.text
    assert bad.html.select_one("#f-days_before")["aria-invalid"] == "true"
    lea.post(form["action"], {"csrf_token": csrf(page), "action": "add",
                              "days_before": "2", "time": "18:30", "channel": "email"},
             status=303)
    page = lea.get(PAGE)
    assert "Rappel ajouté." in page.text
    rules = [li.get_text(" ", strip=True) for li in page.html.select("li.reminder-rule")]
    assert rules == ["2 jours avant à 18:30, par e-mail Supprimer ce rappel"]
    rule = page.html.select_one("li.reminder-rule input[name=rule]")["value"]
    lea.post(PAGE, {"csrf_token": csrf(page), "action": "delete", "rule": rule},
             status=303)
    page = lea.get(PAGE)
    assert "Rappel supprimé." in page.text and "rappel par défaut" in page.text
    lea.post(PAGE, {"csrf_token": csrf(page), "action": "delete", "rule": "999999"},
             status=404)
    lea.post(PAGE, {"action": "off"}, status=403)        # no CSRF token
    lea.post(PAGE, {"csrf_token": csrf(page), "action": "off"}, status=303)
    assert "Vous ne recevrez plus de rappels" in lea.get(PAGE).text


def test_appointments_page_links_to_the_reminders(lea):
    page = lea.get("/@@my-appointments")
    assert page.html.find("a", string="Mes rappels")["href"].endswith(PAGE)


# -- the outbox: SMS after commit, retried by the worker ------------------------------------

def test_an_sms_left_pending_by_a_dead_process_is_sent_by_the_worker(demo, registry, db,
                                                                     clock):
    """The transaction committed, the process died before the gateway call: the
    row is still pending; the worker sends it once, then wipes its text."""
    from cabinet.outbox import queue
    with db() as request:
        queue(request.dbsession, clock.now(), channel="sms", recipient=LEA_PHONE,
              text="Votre code : 123456", dedup_key="sms:lost")
    assert run(registry)["outbox"] == (True, "1 sent, 0 cancelled, 0 to retry")
    assert sms(registry) == [(LEA_PHONE, "Votre code : 123456")]
    run(registry)
    assert len(sms(registry)) == 1
    with db() as request:
        row = request.dbsession.scalar(select(OutboxMessage))
        assert row.state == "sent" and "123456" not in row.text


def test_a_gateway_error_is_retried_later_then_given_up(demo, registry, db, clock,
                                                        testapp):
    from cabinet.outbox import MAX_ATTEMPTS
    gateway = registry.getUtility(ISmsGateway)
    calls = []

    def broken(to, text):
        calls.append(to)
        raise RuntimeError("gateway down")
    gateway.send = broken
    testapp.post_json("/@patient-login", {"phone": "+352 621 123 456",
                                          "last_name": "Leroy", "first_name": "Léa",
                                          "birth_date": "1990-04-12"}, status=200)
    assert len(calls) == 1                               # tried at once after commit
    for _ in range(MAX_ATTEMPTS + 2):
        clock.advance(minutes=15)
        run(registry)
    assert len(calls) == MAX_ATTEMPTS
    with db() as request:
        row = request.dbsession.scalar(select(OutboxMessage))
        assert row.state == "failed" and "gateway down" in row.last_error
        assert row.attempts == MAX_ATTEMPTS


def test_an_interrupted_send_is_never_sent_again(demo, registry, db, clock):
    from cabinet.outbox import claim, queue
    with db() as request:
        message_id = queue(request.dbsession, clock.now(), channel="sms",
                           recipient=LEA_PHONE, text="x", dedup_key="sms:claimed")
        claim(request.dbsession, message_id, clock.now())  # then the process died
    clock.advance(minutes=11)
    assert run(registry)["outbox"] == (True, "0 sent, 0 cancelled, 0 to retry, "
                                             "1 interrupted")
    assert sms(registry) == []
    with db() as request:
        assert request.dbsession.get(OutboxMessage, message_id).state == "failed"


def test_a_decoy_sends_nothing_and_leaves_no_row(demo, registry, db, testapp):
    """A patient login for an unknown person does an SMS's database work, no more."""
    testapp.post_json("/@patient-login", {"phone": "+352 621 999 999",
                                          "last_name": "Personne", "first_name": "Nul",
                                          "birth_date": "1980-01-01"}, status=200)
    assert sms(registry) == []
    with db() as request:
        assert request.dbsession.scalar(select(OutboxMessage)) is None
