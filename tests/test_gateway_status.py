"""The status of the mail and SMS gateways on the cabinet settings (issue #10, K1): a
gateway that fails shows the time and text of its last error; once it sends again,
the time of its last success (the error stays, older); noting the status never
breaks a delivery."""
from datetime import datetime

from sqlalchemy import select

from cabinet import gateway_status, sms
from cabinet.interfaces import ISmsGateway
from cabinet.mail import send_mail
from cabinet.models import GatewayStatus, OutboxMessage
from cabinet.sms import SmsError
from cabinet.worker import outbox_job, run_jobs
from tests.conftest import LEA, login

PARC = "/cabinets/parc"


def gateways(client):
    return {g["gateway"]: g for g in client.get(f"{PARC}/@settings").json["gateways"]}


def failing(message):
    def send(*_args, **_kw):
        raise SmsError(message)
    return send


def test_nothing_sent_yet(admin):
    assert gateways(admin) == {
        name: {"gateway": name, "last_success": None, "last_error": None, "error": None,
               "ok": None} for name in ("mail", "sms")}


def test_an_sms_gateway_failure_then_success(admin, testapp, registry, clock, monkeypatch,
                                              db):
    gateway = registry.getUtility(ISmsGateway)
    clock.set(datetime(2026, 3, 10, 9, 0))
    monkeypatch.setattr(gateway, "send", failing("SMS gateway answered HTTP 503"))
    testapp.post_json("/@patient-login", LEA)           # the code's SMS: refused
    status = gateways(admin)["sms"]
    assert status == {"gateway": "sms", "last_success": None,
                      "last_error": "2026-03-10T09:00:00+00:00",
                      "error": "SmsError: SMS gateway answered HTTP 503", "ok": False}
    with db() as request:       # the message waits for a later try
        assert request.dbsession.scalar(select(OutboxMessage.state)) == "pending"

    monkeypatch.undo()
    clock.set(datetime(2026, 3, 10, 9, 5))
    assert run_jobs(registry, jobs=(("outbox", outbox_job),))["outbox"] == \
        (True, "1 sent, 0 cancelled, 0 to retry")
    status = gateways(admin)["sms"]
    assert status["last_success"] == "2026-03-10T09:05:00+00:00"
    assert status["last_error"] == "2026-03-10T09:00:00+00:00"      # kept, older
    assert status["ok"] is True
    assert gateways(admin)["mail"]["ok"] is None

    login(testapp, "admin")
    page = testapp.get(f"{PARC}/@@settings")
    row = page.html.select_one('table.gateway-status tr[data-gateway="sms"]')
    assert "en service" in row.select_one(".state").get_text()
    assert "10/03/2026 09:05" in row.select_one(".last-success").get_text()
    assert "SMS gateway answered HTTP 503" in row.select_one(".last-error").get_text()
    assert "10/03/2026 09:00" in row.select_one(".last-error").get_text()


def test_a_mail_server_failure_is_shown_on_the_page(admin, testapp, registry, clock,
                                                    monkeypatch, db):
    from pyramid_mailer.interfaces import IMailer
    mailer = registry.getUtility(IMailer)
    clock.set(datetime(2026, 3, 10, 10, 30))

    def refuse(*_args, **_kw):
        raise ConnectionRefusedError("SMTP injoignable")
    monkeypatch.setattr(mailer, "send_immediately", refuse)
    with db() as request:
        send_mail(request, "lea@example.org", "Sujet", "Texte")
    status = gateways(admin)["mail"]
    assert status["ok"] is False
    assert status["error"] == "ConnectionRefusedError: SMTP injoignable"
    assert status["last_error"] == "2026-03-10T10:30:00+00:00"
    login(testapp, "admin")
    row = testapp.get(f"{PARC}/@@settings").html.select_one(
        'table.gateway-status tr[data-gateway="mail"]')
    assert "en erreur" in row.select_one(".state").get_text()
    assert "SMTP injoignable" in row.select_one(".last-error").get_text()


def test_a_direct_send_outside_a_transaction_is_noted_too(demo, registry, db):
    class Down:
        def send(self, to, text):
            raise SmsError("SMS gateway unreachable: timed out")
    assert sms._deliver(Down(), "+352621123456", "x", registry) is False
    assert sms._deliver(registry.getUtility(ISmsGateway), "+352621123456", "x",
                        registry) is True
    with db() as request:
        row = request.dbsession.get(GatewayStatus, "sms")
        assert row.last_error is not None and row.last_success is not None
        assert "unreachable" in row.last_error_message


def test_noting_the_status_never_breaks_a_delivery(demo, registry, monkeypatch, db):
    def broken(*_args, **_kw):
        raise RuntimeError("status table unavailable")
    monkeypatch.setattr(gateway_status, "note", broken)
    with db() as request:
        sms.send_sms(request, "+352621123456", "Bonjour")
    with db() as request:
        assert request.dbsession.scalar(select(OutboxMessage.state)) == "sent"
        assert request.dbsession.scalar(select(GatewayStatus)) is None
    assert registry.getUtility(ISmsGateway).outbox[-1]["text"] == "Bonjour"


def test_the_settings_status_is_for_the_cabinet_people_only(demo, testapp, registry, api):
    from tests.conftest import Api, patient_token
    assert api("dr.martin").get(f"{PARC}/@settings").json["gateways"]
    lea = Api(testapp, patient_token(testapp, registry))
    assert lea.get(f"{PARC}/@settings", status=403).json["type"] == "Forbidden"



def test_the_worker_as_a_whole(admin, testapp, db):
    from cabinet.models import WorkerJob
    assert admin.get(f"{PARC}/@settings").json["worker"] == {
        "last_run": None, "last_success": None, "last_error": None, "error": None}
    with db() as request:
        request.dbsession.add_all([
            WorkerJob(name="outbox", last_run=datetime(2026, 3, 10, 9, 1),
                      last_success=datetime(2026, 3, 10, 9, 1), last_error_message=""),
            WorkerJob(name="autosend", last_run=datetime(2026, 3, 10, 9, 0),
                      last_success=datetime(2026, 3, 9, 9, 0),
                      last_error=datetime(2026, 3, 10, 9, 0),
                      last_error_message="RuntimeError: 1 of 2 sends failed")])
    assert admin.get(f"{PARC}/@settings").json["worker"] == {
        "last_run": "2026-03-10T09:01:00+00:00", "last_success": "2026-03-10T09:01:00+00:00",
        "last_error": "2026-03-10T09:00:00+00:00",
        "error": "autosend: RuntimeError: 1 of 2 sends failed"}
    login(testapp, "admin")
    summary = testapp.get(f"{PARC}/@@settings").html.select_one("p.worker-summary")
    assert "10/03/2026 09:01" in summary.select_one(".last-run").get_text()
    assert "1 of 2 sends failed" in summary.select_one(".last-error").get_text()
