"""The status of the outgoing gateways (issue #10, K1): for ``mail`` and ``sms``, the
time of the last message the gateway accepted and the time and text of its last
error, one row each in ``gateway_status``.

The outbox (cabinet.outbox) notes each outcome in the transaction that records the
message ``sent`` or puts it back for a later try, so that the status and the
message's state agree; what is sent outside a transaction (cabinet.mail,
cabinet.sms) is noted in a short transaction of its own. Noting never raises: the
status must not make a delivery fail.

An error is kept after a later success: the page shows both times, and the gateway
is "in error" while its last error is more recent than its last success.
"""
import logging

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from cabinet.models import GatewayStatus

log = logging.getLogger(__name__)
T = GatewayStatus.__table__
#: the gateways the settings page shows, in this order (the outbox's channel names
#: ``email`` and ``sms`` map to them)
GATEWAYS = ("mail", "sms")
CHANNELS = {"email": "mail", "sms": "sms"}


def _upsert(conn, gateway, values):
    dialect = conn.get_bind().dialect.name if hasattr(conn, "get_bind") \
        else conn.dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(T).values({"gateway": gateway, "last_error_message": "",
                                    **values})
    conn.execute(stmt.on_conflict_do_update(index_elements=[T.c.gateway], set_=values))


def note(conn, channel, now, error=None):
    """Note a delivery's outcome on ``conn`` (a Connection or a Session, in the
    caller's transaction): a success when ``error`` is None, else the error."""
    gateway = CHANNELS.get(channel, channel)
    if error is None:
        values = {"last_success": now}
    else:
        values = {"last_error": now, "last_error_message": str(error)[:2000]}
    _upsert(conn, gateway, values)


def note_safely(registry, channel, error=None):
    """Note an outcome in a short transaction of its own (a delivery made after the
    commit, outside the outbox); logs and swallows any failure."""
    from cabinet.interfaces import IClock
    engine = registry.get("db_engine")
    if engine is None:        # no database (a script without one): nothing to note
        return
    try:
        with engine.begin() as conn:
            note(conn, channel, registry.getUtility(IClock).now(), error)
    except Exception:     # noqa: BLE001 - the status never breaks a delivery
        log.exception("could not note the status of gateway %s", channel)


def statuses(session):
    """[{gateway, last_success, last_error, error, ok}] of every gateway, in the order
    of GATEWAYS (a gateway that never sent anything: no times, ok None)."""
    rows = {row.gateway: row for row in session.scalars(select(GatewayStatus))}
    out = []
    for gateway in GATEWAYS:
        row = rows.get(gateway)
        success = row.last_success if row is not None else None
        error = row.last_error if row is not None else None
        if success is None and error is None:
            ok = None
        else:
            ok = error is None or (success is not None and success > error)
        out.append({"gateway": gateway, "last_success": success, "last_error": error,
                    "error": (row.last_error_message or None) if error is not None
                    else None, "ok": ok})
    return out
