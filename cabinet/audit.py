"""The audit trail (issue #6): who did what, for whom, to what, when and from where,
for the events a security review asks about (transitions, logins, failed codes,
refusals, exports), in a table that only grows and whose rows are hash-chained.

- ``record(request, action, ...)`` notes an event. An event that reports a change
  (``committed_only``: a transition) is appended in the change's own transaction, just
  before it commits, so that a crash keeps both or neither; any other (a failed
  login, a refusal) is appended when the request has finished, in a short
  transaction of its own, whatever became of the request's: a refusal rolls the
  request back, not its trace.
- Appending locks the one row of ``audit_head``, numbers the events after the last
  one and chains each hash to the previous (models/audit.py). Concurrent appends wait
  for each other there, briefly.
- ``verify()`` (and the ``cabinet_audit_verify <ini>`` command) recomputes the chain
  and names every row that was edited, deleted or slipped in.

The HMAC key is ``cabinet.audit_key``, else derived from the session secret: it is
never in the database, so that whoever can write to the database cannot re-chain
what they changed. Events never hold a code, a password, a token or a document's
content: callers pass only names, states and paths.
"""
import argparse
import hashlib
import hmac
import json
import logging
import sys

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from cabinet.after_commit import after_commit, current_transaction
from cabinet.interfaces import IClock
from cabinet.models.audit import AuditEvent, AuditHead

log = logging.getLogger(__name__)

#: the content an event's hash covers, in this order
FIELDS = ("seq", "at", "action", "outcome", "actor_id", "actor_login",
          "acting_for_login", "object_path", "address", "details")
_PENDING = "_audit_pending"
_COMMITTED = "_audit_with_the_change"


def audit_key(settings):
    key = settings.get("cabinet.audit_key")
    if key:
        return key.encode()
    secret = settings.get("cabinet.session_secret") or ""
    return hmac.new(secret.encode(), b"cabinet audit chain", hashlib.sha256).digest()


def canonical(event):
    values = [event[name] for name in FIELDS]
    values[1] = values[1].isoformat(timespec="microseconds")
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain(key, previous, event):
    return hmac.new(key, previous.encode() + b"\n" + canonical(event).encode(),
                    hashlib.sha256).hexdigest()


# -- noting events -----------------------------------------------------------------------

def record(request, action, *, obj=None, outcome="ok", details=None, acting_for="",
           user=None, committed_only=False):
    """Note ``action`` on ``obj`` (a node, or a path) by the request's user (or
    ``user``, for a log-in that is not in the request's identity yet)."""
    from cabinet.signatures import client_ip     # (cabinet.signatures imports models)
    if user is None:
        user = _identity(request)
    path = obj if isinstance(obj, str) else getattr(obj, "path", "") or ""
    event = {"at": request.registry.getUtility(IClock).now(), "action": action,
             "outcome": outcome, "actor_id": getattr(user, "id", None),
             "actor_login": getattr(user, "login", "") or "",
             "acting_for_login": acting_for or "", "object_path": path[:1000],
             "address": client_ip(request), "details": details or None}
    if committed_only:
        _append_with_the_change(request, event)
        return
    pending = request.__dict__.get(_PENDING)
    if pending is None:
        pending = request.__dict__[_PENDING] = []
        request.add_finished_callback(
            lambda request: _append_safely(request.registry, pending))
    pending.append(event)


def _append_with_the_change(request, event):
    """An event that reports a change is appended in the change's own transaction,
    just before it commits (a before-commit hook): both are saved or neither is. (It
    was once appended just after the commit: a process killed in between kept the
    change and lost its event.) The chain's head stays locked only while the
    transaction commits. Without a transaction (a script), at once."""
    txn = current_transaction(request)
    if txn is None:
        return after_commit(request, lambda: _append_safely(request.registry, [event]))
    pending = request.__dict__.get(_COMMITTED)
    if pending is None or pending[0] is not txn:      # a new attempt: a new list
        pending = request.__dict__[_COMMITTED] = (txn, [])
        txn.addBeforeCommitHook(_append_before_commit, (request, pending[1]))
    pending[1].append(event)


def _append_before_commit(request, events):
    if not events:
        return
    _append_on(request.dbsession.connection(), audit_key(request.registry.settings),
               events)


def _identity(request):
    try:
        return request.identity
    except Exception:        # the database itself failed: the event still counts
        return None


def _append_safely(registry, events):
    if not events:
        return
    try:
        append(registry["db_engine"], audit_key(registry.settings), events)
    except Exception:
        log.exception("could not append %d audit event(s)", len(events))


def append(engine, key, events):
    """Append ``events`` (dicts without seq and hash) to the chain, in one short
    transaction; once more if a concurrent first append created the head first."""
    try:
        _append(engine, key, events)
    except IntegrityError:
        _append(engine, key, events)


def _append(engine, key, events):
    head = AuditHead.__table__
    with engine.begin() as conn:
        # the lock: a no-op UPDATE takes SQLite's write lock and PostgreSQL's row lock
        locked = conn.execute(update(head).where(head.c.id == 1).values(seq=head.c.seq))
        if locked.rowcount == 0:
            conn.execute(insert(head).values(id=1, seq=0, hash=""))
        _chain_and_insert(conn, key, events)


def _append_on(conn, key, events):
    """Append ``events`` within the transaction of ``conn`` (the change's own)."""
    head = AuditHead.__table__
    lock = update(head).where(head.c.id == 1).values(seq=head.c.seq)
    if conn.execute(lock).rowcount == 0:
        # the first event ever: create the head, unless a concurrent transaction just
        # did (PostgreSQL waits for it, then does nothing), and lock it
        dialect = conn.dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as upsert
        else:
            from sqlalchemy.dialects.sqlite import insert as upsert
        conn.execute(upsert(head).values(id=1, seq=0, hash="").on_conflict_do_nothing())
        conn.execute(lock)
    _chain_and_insert(conn, key, events)


def _chain_and_insert(conn, key, events):
    """Number and chain ``events`` after the head (locked by the caller)."""
    head = AuditHead.__table__
    seq, previous = conn.execute(select(head.c.seq, head.c.hash)
                                 .where(head.c.id == 1)).one()
    rows = []
    for event in events:
        seq += 1
        row = {**event, "seq": seq}
        row["hash"] = previous = chain(key, previous, row)
        rows.append(row)
    conn.execute(insert(AuditEvent.__table__), rows)
    conn.execute(update(head).where(head.c.id == 1).values(seq=seq, hash=previous))


# -- verifying ----------------------------------------------------------------------------

def verify(connection, key):
    """(number of events, [problem, ...]): every event whose hash does not follow
    from its content and its predecessor's hash, every gap in the numbering, and a
    head that does not name the last event."""
    problems, previous, expected, count = [], "", 1, 0
    events = AuditEvent.__table__
    for row in connection.execute(select(events).order_by(events.c.seq)):
        count += 1
        row = row._mapping
        if row["seq"] != expected:
            problems.append(f"events {expected} to {row['seq'] - 1} are missing "
                            "(deleted)" if row["seq"] > expected
                            else f"event {row['seq']} is numbered twice")
        elif chain(key, previous, row) != row["hash"]:
            problems.append(f"event {row['seq']} (id {row['id']}, {row['action']}) "
                            "was changed, or inserted")
        previous, expected = row["hash"], row["seq"] + 1
    head = connection.execute(select(AuditHead.__table__.c.seq, AuditHead.__table__.c.hash)
                              .where(AuditHead.__table__.c.id == 1)).first()
    last = expected - 1
    if head is None and count:
        problems.append("the chain's head is missing")
    elif head is not None and (head.seq, head.hash) != (last, previous):
        if head.seq > last:
            problems.append(f"events {last + 1} to {head.seq} are missing (deleted)")
        else:
            problems.append("the chain's head does not name its last event")
    return count, problems


def verify_main(argv=sys.argv):
    """``cabinet_audit_verify <config.ini>``: 0 when the chain is intact, 1 (and the
    list of problems) when a row was edited, deleted or slipped in."""
    parser = argparse.ArgumentParser(description=verify_main.__doc__.splitlines()[0])
    parser.add_argument("config_uri")
    args = parser.parse_args(argv[1:])
    from pyramid.paster import get_app
    registry = get_app(args.config_uri).registry
    with registry["db_engine"].connect() as conn:
        count, problems = verify(conn, audit_key(registry.settings))
    if problems:
        print(f"audit chain BROKEN ({count} events):")
        for problem in problems:
            print(f"  - {problem}")
        return 1
    print(f"audit chain intact: {count} events")
    return 0
