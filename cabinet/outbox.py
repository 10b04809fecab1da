"""The outbox (issue #6, #9 P7): every SMS and reminder is first a row of ``outbox``
written in the transaction that decides to send it, so that nothing committed is
lost when the process dies before the gateway call, and nothing is sent for a
transaction that aborts.

Delivery claims a row by a conditional UPDATE (``pending`` -> ``sending``,
committed) before calling the gateway, then records ``sent``; a gateway error puts
the row back to ``pending`` for a later try (``RETRY_DELAY`` times the attempts),
``failed`` after ``MAX_ATTEMPTS``. Two processes can never both claim a row, so a
message is never sent twice (the worker also locks the row with ``FOR UPDATE SKIP
LOCKED`` on PostgreSQL, so that two workers skip each other's rows). A row left in
``sending`` by a process that died between the claim and the end of the gateway
call is marked ``failed`` after ``STALE_AFTER``, not retried: whether it left is
unknown, and a message is never sent twice.

- An SMS (cabinet.sms.send_sms) is delivered right after the commit
  (``deliver_now``); the worker (job ``outbox``) sends what is still pending.
- A reminder (cabinet.reminders) is queued by the worker at its time and sent by
  the same run; at send time the reminder is checked again (cabinet.reminders.
  stale_reason: appointment cancelled, moved or past, opt-out, rule removed).
- Once delivered, an SMS's text (a one-time code) is wiped from the row.
- A decoy (a patient login for an unknown person, cabinet.otp) does the same
  database work as an SMS and sends nothing: both answer in the same time.
"""
import logging
from datetime import timedelta

from pyramid_mailer.interfaces import IMailer
from pyramid_mailer.message import Message
from sqlalchemy import insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from cabinet.interfaces import IClock, ISmsGateway
from cabinet.models import OutboxMessage

log = logging.getLogger(__name__)
T = OutboxMessage.__table__
MAX_ATTEMPTS = 5
RETRY_DELAY = timedelta(minutes=2)
STALE_AFTER = timedelta(minutes=10)
#: the most rows one worker run sends
BATCH = 500
WIPED = "(texte effacé après l'envoi)"
#: what is wiped once sent: SMS (one-time codes) and mails (invitation links)
WIPED_KINDS = ("sms", "mail")


def _insert(session):
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(T)
    if name == "sqlite":
        return sqlite.insert(T)
    return insert(T)


def queue(session, now, *, channel, recipient, text, dedup_key, due=None, kind="sms",
          subject="", user_id=None, appointment_id=None):
    """Write a message to send (in ``session``'s transaction); its id, or None when a
    message with the same ``dedup_key`` exists already (whoever wrote it, even in a
    concurrent transaction: the unique key decides)."""
    stmt = _insert(session).values(
        kind=kind, channel=channel, recipient=recipient, subject=subject[:200],
        text=text, due=due or now, state="pending", attempts=0, last_error="",
        dedup_key=dedup_key[:200], user_id=user_id, appointment_id=appointment_id,
        created=now)
    if hasattr(stmt, "on_conflict_do_nothing"):
        stmt = stmt.on_conflict_do_nothing(index_elements=["dedup_key"])
    return session.execute(stmt.returning(T.c.id)).scalar()


# -- claiming and recording ------------------------------------------------------------

def claim(conn, message_id, now):
    """``pending`` -> ``sending``: True for the one process that wins."""
    return conn.execute(update(T).where(T.c.id == message_id, T.c.state == "pending")
                        .values(state="sending", claimed_at=now,
                                attempts=T.c.attempts + 1)).rowcount == 1


def mark_sent(conn, row, now):
    values = {"state": "sent", "sent_at": now, "last_error": ""}
    if row.kind in WIPED_KINDS:    # a one-time code, a single-use link: not kept
        values["text"] = WIPED
    conn.execute(update(T).where(T.c.id == row.id, T.c.state == "sending").values(**values))


def release(conn, row, now, error):
    """After a gateway error: ``pending`` again later, or ``failed``."""
    attempts = (row.attempts or 0) + 1
    failed = attempts >= MAX_ATTEMPTS
    values = {"state": "failed" if failed else "pending", "last_error": error[:2000],
              "due": now + RETRY_DELAY * attempts}
    if failed and row.kind in WIPED_KINDS:
        values["text"] = WIPED
    conn.execute(update(T).where(T.c.id == row.id, T.c.state == "sending").values(**values))


def cancel(conn, message_id, reason):
    conn.execute(update(T).where(T.c.id == message_id, T.c.state == "pending")
                 .values(state="cancelled", last_error=reason[:2000]))


def hand_over(registry, row):
    """Give ``row`` to its gateway; raises on the gateway's error."""
    if row.channel == "email":
        settings = registry.settings or {}
        from cabinet.mail import DEFAULT_SENDER
        message = Message(subject=row.subject or "Rappel de rendez-vous",
                          sender=settings.get("mail.default_sender") or DEFAULT_SENDER,
                          recipients=[row.recipient], body=row.text)
        registry.getUtility(IMailer).send_immediately(message, fail_silently=False)
    else:
        registry.getUtility(ISmsGateway).send(row.recipient, row.text)


def _error_text(exc):
    return f"{type(exc).__name__}: {exc}"


# -- right after the commit (cabinet.sms) ------------------------------------------------

def deliver_now(registry, message_id):
    """Claim and deliver one committed message (an after-commit hook: never raises).
    True when sent; False leaves it to the worker (or to whoever claimed it)."""
    engine = registry["db_engine"]
    clock = registry.getUtility(IClock)
    try:
        with engine.begin() as conn:     # one statement: claimed and read
            row = conn.execute(
                update(T).where(T.c.id == message_id, T.c.state == "pending")
                .values(state="sending", claimed_at=clock.now(),
                        attempts=T.c.attempts + 1)
                .returning(T.c.id, T.c.kind, T.c.channel, T.c.recipient, T.c.subject,
                           T.c.text, (T.c.attempts - 1).label("attempts"))).first()
    except Exception:    # noqa: BLE001 - the worker will send it
        log.exception("could not claim outbox message %s", message_id)
        return False
    if row is None:
        return False
    if row.kind == "decoy":
        return _drop_decoy(engine, row)
    return _deliver_claimed(registry, lambda: _lazy_commit(engine), row)


def _drop_decoy(engine, row):
    """A decoy (cabinet.sms.send_sms(decoy=True)) goes nowhere: deleted, with the
    same database work as recording an SMS sent."""
    try:
        with _lazy_commit(engine) as conn:
            conn.execute(T.delete().where(T.c.id == row.id))
    except Exception:   # noqa: BLE001 - the worker deletes it
        log.exception("could not drop decoy %s", row.id)
    return False


class _lazy_commit:
    """A transaction recording an outcome that need not wait for the disk
    (PostgreSQL's asynchronous commit: should the server crash in the next
    instant, the row stays ``sending`` and is marked ``failed``, never resent),
    so that a request sending an SMS takes hardly longer than one that does not
    (patient login answers in the same time for a known and an unknown person)."""

    def __init__(self, engine):
        self.begin = engine.begin()

    def __enter__(self):
        conn = self.begin.__enter__()
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
        return conn

    def __exit__(self, *exc):
        return self.begin.__exit__(*exc)


def _note_gateway(conn, row, now, error=None):
    """The gateway's status (cabinet.gateway_status), in the transaction recording
    the message's outcome; within a savepoint, so that it can never undo that."""
    from cabinet.gateway_status import note
    try:
        with conn.begin_nested():
            note(conn, row.channel, now, error)
    except Exception:       # noqa: BLE001 - the status never breaks a delivery
        log.exception("could not note the status of gateway %s", row.channel)


def _deliver_claimed(registry, begin, row):
    clock = registry.getUtility(IClock)
    try:
        hand_over(registry, row)
    except Exception as exc:  # noqa: BLE001 - kept for a later try
        log.warning("outbox message %s (%s) not delivered: %s", row.id, row.kind,
                    _error_text(exc))
        try:
            with begin() as conn:
                release(conn, row, clock.now(), _error_text(exc))
                _note_gateway(conn, row, clock.now(), _error_text(exc))
        except Exception:   # noqa: BLE001 - stays "sending": failed when stale
            log.exception("could not record the failure of outbox message %s", row.id)
        return False
    try:
        with begin() as conn:
            mark_sent(conn, row, clock.now())
            _note_gateway(conn, row, clock.now())
    except Exception:       # noqa: BLE001 - it left: never send it again
        log.exception("outbox message %s sent but not recorded", row.id)
    return True


# -- the worker's job ``outbox`` --------------------------------------------------------------

def due_ids(session, now):
    return list(session.scalars(select(T.c.id).where(T.c.state == "pending",
                                                       T.c.due <= now)
                                .order_by(T.c.due, T.c.id).limit(BATCH)))


def fail_stale(session, now):
    """Rows claimed long ago by a process that died: ``failed``, never retried."""
    return session.execute(
        update(T).where(T.c.state == "sending", T.c.claimed_at < now - STALE_AFTER)
        .values(state="failed", last_error="Envoi interrompu : remise inconnue, "
                                           "non renvoyé.")).rowcount


def send_due(registry, message_id):
    """Send one due message (its own transactions): "sent", "cancelled", "error" or
    None when another process has it."""
    from cabinet.worker import request_in_transaction
    clock = registry.getUtility(IClock)
    with request_in_transaction(registry) as request:
        session = request.dbsession
        row = session.execute(select(T).where(T.c.id == message_id,
                                              T.c.state == "pending")
                              .with_for_update(skip_locked=True)).first()
        if row is None:
            return None
        if row.kind == "decoy":
            session.execute(T.delete().where(T.c.id == row.id))
            return None
        if row.kind == "reminder":
            from cabinet.reminders import stale_reason
            reason = stale_reason(request, row)
            if reason:
                cancel(session, row.id, reason)
                return "cancelled"
        if not claim(session, row.id, clock.now()):
            return None

    class _Begin:
        def __enter__(self):
            self.context = request_in_transaction(registry)
            return self.context.__enter__().dbsession

        def __exit__(self, *exc):
            return self.context.__exit__(*exc)

    return "sent" if _deliver_claimed(registry, _Begin, row) else "error"


def outbox_job(registry):
    from cabinet.worker import request_in_transaction
    now = registry.getUtility(IClock).now()
    with request_in_transaction(registry) as request:
        stale = fail_stale(request.dbsession, now)
        ids = due_ids(request.dbsession, now)
    counts = {"sent": 0, "cancelled": 0, "error": 0}
    for message_id in ids:
        outcome = send_due(registry, message_id)
        if outcome:
            counts[outcome] += 1
    summary = (f"{counts['sent']} sent, {counts['cancelled']} cancelled, "
               f"{counts['error']} to retry")
    if stale:
        summary += f", {stale} interrupted"
    return summary
