"""cabinet.mail: transactional mail over real SMTP (aiosmtpd), as files, in memory."""
import email
from email import policy

import pytest
from pyramid_mailer.interfaces import IMailer

from cabinet import main
from cabinet.mail import mailer_from_settings, send_mail
from cabinet.scripts import script_request
from tests.smtp import mail_settings, smtp_server  # noqa: F401


@pytest.fixture
def smtp_app(settings, mail_settings, engine):  # noqa: F811
    return main({}, **{**settings, **mail_settings})


def test_mail_is_sent_over_smtp_after_commit(smtp_app, smtp_server):  # noqa: F811
    request = script_request(smtp_app.registry)
    with request.tm:
        send_mail(request, "patient@example.lu", "Votre délégation",
                  "Bonjour,\nvotre délégation est active.",
                  "<p>Bonjour, votre délégation est <b>active</b>.</p>")
        assert smtp_server.messages == []  # nothing before the commit
    message, = smtp_server.wait_for(1)
    assert message["Subject"] == "Votre délégation"
    assert message["To"] == "patient@example.lu"
    assert message["From"] == "Cabinet <noreply@cabinet.test>"
    assert smtp_server.envelopes[0]["to"] == ["patient@example.lu"]
    plain = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "votre délégation est active" in plain
    assert "<b>active</b>" in html


def test_mail_is_not_sent_when_the_transaction_aborts(smtp_app, smtp_server):  # noqa: F811
    request = script_request(smtp_app.registry)
    with pytest.raises(RuntimeError):
        with request.tm:
            send_mail(request, ["a@example.lu", "b@example.lu"], "Jamais", "Ne part pas")
            raise RuntimeError("rolled back")
    request = script_request(smtp_app.registry)
    with request.tm:
        send_mail(request, ["a@example.lu", "b@example.lu"], "Envoyé", "Part")
    # through the outbox, one mail per recipient (neither sees the other's address)
    messages = smtp_server.wait_for(2)
    assert [m["Subject"] for m in messages] == ["Envoyé", "Envoyé"]
    assert sorted(to for envelope in smtp_server.envelopes for to in envelope["to"]) \
        == ["a@example.lu", "b@example.lu"]


def test_a_committed_mail_is_in_the_outbox_until_the_worker_sends_it(
        smtp_app, smtp_server, monkeypatch):  # noqa: F811
    """The process dies between the commit and the mail server (here: delivery right
    after the commit does nothing): the worker's ``outbox`` job sends the mail, once,
    and its text (an invitation link, say) is not kept."""
    from sqlalchemy import select
    from cabinet import outbox
    from cabinet.models import OutboxMessage
    from cabinet.worker import run_jobs
    monkeypatch.setattr(outbox, "deliver_now", lambda registry, message_id: False)
    request = script_request(smtp_app.registry)
    with request.tm:
        send_mail(request, "c@example.lu", "Invitation", "Votre lien : https://x/abc")
    assert smtp_server.messages == []
    results = run_jobs(smtp_app.registry, (("outbox", outbox.outbox_job),))
    assert results["outbox"][0] is True
    message, = smtp_server.wait_for(1)
    assert message["Subject"] == "Invitation" and message["To"] == "c@example.lu"
    run_jobs(smtp_app.registry, (("outbox", outbox.outbox_job),))
    assert len(smtp_server.messages) == 1
    request = script_request(smtp_app.registry)
    with request.tm:
        row = request.dbsession.scalar(select(OutboxMessage).where(
            OutboxMessage.kind == "mail"))
        assert row.state == "sent" and "https://x/abc" not in row.text


def test_smtp_failure_after_commit_does_not_raise(settings, engine):
    from tests.smtp import free_port
    app = main({}, **{**settings, "cabinet.mailer": "smtp", "mail.host": "127.0.0.1",
                      "mail.port": str(free_port())})  # nobody listens there
    request = script_request(app.registry)
    with request.tm:
        send_mail(request, "x@example.lu", "Perdu", "Le serveur est absent")
    # the transaction committed; the failure was logged, not raised


def test_file_mailer_writes_eml_files(settings, engine, tmp_path):
    directory = tmp_path / "mail"
    app = main({}, **{**settings, "cabinet.mailer": "file",
                      "cabinet.mail.directory": str(directory)})
    request = script_request(app.registry)
    with request.tm:
        send_mail(request, "dev@example.lu", "Fichier", "Ouvrez-moi")
        assert not list(directory.glob("*.eml"))
    files = list(directory.glob("*.eml"))
    assert len(files) == 1
    message = email.message_from_string(files[0].read_text(), policy=policy.default)
    assert message["Subject"] == "Fichier"
    assert "Ouvrez-moi" in message.get_body(preferencelist=("plain",)).get_content()


def test_memory_mailer_is_the_default(app):
    mailer = app.registry.getUtility(IMailer)
    request = script_request(app.registry)
    with request.tm:
        send_mail(request, "m@example.lu", "Mémoire", "Corps")
    assert [m.subject for m in mailer.outbox] == ["Mémoire"]


def test_send_without_transaction_delivers_at_once(app):
    mailer = app.registry.getUtility(IMailer)
    request = script_request(app.registry)
    send_mail(request, "m@example.lu", "Direct", "Corps")
    assert [m.subject for m in mailer.outbox] == ["Direct"]


def test_bad_mailer_setting_and_recipient_are_refused(app):
    with pytest.raises(ValueError, match="cabinet.mailer"):
        mailer_from_settings({"cabinet.mailer": "pigeon"})
    request = script_request(app.registry)
    with pytest.raises(ValueError, match="recipient"):
        send_mail(request, [], "Sujet", "Corps")
