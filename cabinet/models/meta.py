"""Declarative base, engine and per-request session bound to the transaction."""
from datetime import datetime, timezone

from pyramid.settings import asbool
from sqlalchemy import MetaData, String, engine_from_config, event, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.orm import DeclarativeBase, sessionmaker
from transaction._transaction import Status
from zope.sqlalchemy.datamanager import STATUS_CHANGED, join_transaction, mark_changed

from cabinet.models import writer_lock

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: Byte-order text on PostgreSQL so that materialised-path prefix ranges use the
#: plain b-tree index whatever the database's locale.
PathString = String(1000).with_variant(String(1000, collation="C"), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class _joined_text(FunctionElement):
    type = String()
    inherit_cache = True
    name = "joined_text"


@compiles(_joined_text, "postgresql")
def _string_agg(element, compiler, **kw):
    return f"string_agg({compiler.process(element.clauses, **kw)})"


@compiles(_joined_text)
def _group_concat(element, compiler, **kw):
    return f"group_concat({compiler.process(element.clauses, **kw)})"


def joined_text(expr, sep):
    """An aggregate: the values of ``expr`` (text) joined by ``sep``. Unlike
    ``func.aggregate_strings`` the separator is written into the SQL, not bound after
    compilation, so a statement using it is compiled once and reused as is."""
    if not isinstance(sep, str) or "'" in sep:
        raise ValueError("the separator is a plain string constant")
    return _joined_text(expr, literal_column(f"'{sep}'"))


def utcnow():
    return datetime.now(timezone.utc).replace(tzinfo=None)


#: seconds a SQLite writer waits for another one
SQLITE_BUSY_TIMEOUT = 30


def _sqlite_pragmas(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT * 1000}")
    cursor.close()


def get_engine(settings, prefix="sqlalchemy."):
    url = settings.get(prefix + "url", "")
    kwargs = {}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT, "check_same_thread": False}
    elif url.startswith("postgresql"):
        # No JIT: PostgreSQL compiles a query to machine code when its estimated cost
        # passes jit_above_cost, which the lineage query's outer joins over every
        # content table do on young tables (no statistics yet). The compilation took
        # ~950 ms for a query that runs in 0.2 ms; Cabinet's queries are short OLTP
        # look-ups that never repay it.
        kwargs["connect_args"] = {"options": "-c jit=off"}
        # A pooled connection is checked before use, so that after a restart of the
        # database server (or connections cut by it) the first request succeeds
        # rather than failing on a dead connection (issue #6, database outage).
        if prefix + "pool_pre_ping" not in settings:
            kwargs["pool_pre_ping"] = True
    engine = engine_from_config(settings, prefix, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        if asbool(settings.get("cabinet.sqlite_writer_lock", True)):
            writer_lock.install(engine, timeout=SQLITE_BUSY_TIMEOUT)
    return engine


class _TransactionEvents:
    """zope.sqlalchemy's session events, registered once on the session factory
    rather than on every session (registering listeners per request costs more than
    the request's queries): each session joins the transaction manager kept in its
    ``info`` (pyramid_tm's explicit manager of its request).

    Every transaction ends with COMMIT, read-only ones included (joined as "changed"):
    zope.sqlalchemy would otherwise close a read-only session with a ROLLBACK, and
    psycopg forgets its prepared statements at every ROLLBACK, so that PostgreSQL
    would plan every query of every request again (the lineage query plans in ~2 ms
    and runs in 0.1 ms)."""

    @staticmethod
    def _join(session, *_args):
        join_transaction(session, STATUS_CHANGED, session.info["tm"])

    @staticmethod
    def _changed(session):
        mark_changed(session, session.info["tm"])

    def register(self, factory):
        event.listen(factory, "after_begin", self._join)
        event.listen(factory, "after_attach", self._join)
        event.listen(factory, "after_flush", lambda session, _ctx: self._changed(session))
        event.listen(factory, "after_bulk_update", lambda ctx: self._changed(ctx.session))
        event.listen(factory, "after_bulk_delete", lambda ctx: self._changed(ctx.session))
        event.listen(factory, "before_commit", self._before_commit)
        event.listen(factory, "do_orm_execute", self._orm_execute)

    @staticmethod
    def _before_commit(session):
        assert (session.in_nested_transaction()
                or session.info["tm"].get().status == Status.COMMITTING), \
            "Transaction must be committed using the transaction manager"

    def _orm_execute(self, state):
        if state.is_orm_statement and (state.is_update or state.is_insert or state.is_delete):
            self._changed(state.session)


def get_session_factory(engine):
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    _TransactionEvents().register(factory)
    return factory


def get_tm_session(session_factory, transaction_manager, request=None):
    """A session joined to ``transaction_manager``: committed or aborted with it."""
    return session_factory(info={"request": request, "tm": transaction_manager})
