"""Outgoing mail through pyramid_mailer, chosen by the ``cabinet.mailer`` setting:

* ``smtp`` (production.ini, tests): SMTP with ``mail.host``, ``mail.port``,
  ``mail.username``, ``mail.password``, ``mail.tls``, ``mail.ssl``,
  ``mail.default_sender`` (pyramid_mailer's own settings);
* ``file`` (development.ini): each mail is written as an ``.eml`` file under
  ``cabinet.mail.directory`` (default ``var/mail``) that a developer can open;
* ``memory`` (the default when nothing is configured): kept in
  ``registry.getUtility(IMailer).outbox``; nothing leaves the process.

Mail is transactional: ``send_mail`` hands the message over only after the request's
transaction has committed, and never when it aborts. Within a transaction with data,
the mail is first a row of the outbox (cabinet.outbox), written with the request's
data and delivered right after the commit; should the process die before, or the
mail server fail, the worker's ``outbox`` job sends it (as SMS are: issue #6). A
delivery failure after the commit is logged; it cannot undo what was committed, so
it does not turn the answer into an error.
"""
import logging
import os
import uuid

from pyramid_mailer import get_mailer
from pyramid_mailer.interfaces import IMailer
from pyramid_mailer.mailer import DebugMailer, DummyMailer, Mailer
from pyramid_mailer.message import Message

from cabinet.after_commit import after_commit, current_transaction
from cabinet.interfaces import IClock

log = logging.getLogger(__name__)

DEFAULT_SENDER = "Cabinet <noreply@cabinet.local>"
MAILERS = ("smtp", "file", "memory")


def mailer_from_settings(settings):
    kind = (settings.get("cabinet.mailer") or "memory").strip().lower()
    if kind == "smtp":
        return Mailer.from_settings(settings, prefix="mail.")
    if kind == "file":
        directory = settings.get("cabinet.mail.directory") or os.path.join("var", "mail")
        return DebugMailer(directory)
    if kind == "memory":
        return DummyMailer()
    raise ValueError(f"setting 'cabinet.mailer' must be one of {', '.join(MAILERS)}, "
                     f"not {kind!r}")


def includeme(config):
    settings = config.get_settings()
    mailer = mailer_from_settings(settings)
    config.registry.registerUtility(mailer, IMailer)
    config.add_request_method(get_mailer, "mailer", reify=True)


def _deliver(mailer, message, registry=None):
    from cabinet.gateway_status import note_safely
    try:
        mailer.send_immediately(message, fail_silently=False)
    except Exception as exc:  # the transaction is committed: log, never raise
        log.exception("could not send mail %r to %s", message.subject, message.recipients)
        if registry is not None:
            note_safely(registry, "email", f"{type(exc).__name__}: {exc}")
        return False
    if registry is not None:
        note_safely(registry, "email")
    return True


def send_mail(request, to, subject, body_text, body_html=None, sender=None):
    """Queue a mail to ``to`` (an address or a list of addresses) for delivery when
    the request's transaction commits (immediately when no transaction is active).
    Returns the pyramid_mailer ``Message``. The outbox keeps plain text from
    ``mail.default_sender``, one row per recipient: a mail with an HTML body or
    another sender goes straight to the mailer after the commit (no caller sends
    one yet)."""
    recipients = [to] if isinstance(to, str) else list(to)
    if not recipients or not all(recipients):
        raise ValueError("send_mail needs at least one recipient address")
    settings = request.registry.settings
    message = Message(
        subject=subject,
        sender=sender or settings.get("mail.default_sender") or DEFAULT_SENDER,
        recipients=recipients,
        body=body_text,
        html=body_html,
    )
    if body_html is not None or sender is not None or \
            current_transaction(request) is None or \
            getattr(request, "dbsession", None) is None:   # no data to join
        mailer, registry = request.registry.getUtility(IMailer), request.registry
        after_commit(request, lambda: _deliver(mailer, message, registry))
        return message
    from cabinet.outbox import deliver_now, queue
    registry = request.registry
    now = registry.getUtility(IClock).now()
    for recipient in recipients:
        message_id = queue(request.dbsession, now, kind="mail", channel="email",
                           recipient=recipient, subject=subject, text=body_text,
                           dedup_key=f"mail:{uuid.uuid4().hex}")
        after_commit(request, lambda message_id=message_id: deliver_now(registry,
                                                                        message_id))
    return message
