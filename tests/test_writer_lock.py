"""cabinet.models.writer_lock: on SQLite, writers of one process queue on a lock taken
at a transaction's first write and given back when its connection returns to the
pool, not on SQLite's polling busy handler (bench/views.py, endpoint transition)."""
import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from cabinet.models import writer_lock
from cabinet.models.meta import get_engine


def sqlite_engine(tmp_path, timeout=5):
    """An engine without the lock get_engine installs, and the lock installed here."""
    engine = get_engine({"sqlalchemy.url": f"sqlite:///{tmp_path}/lock.sqlite",
                         "cabinet.sqlite_writer_lock": "false"})
    return engine, writer_lock.install(engine, timeout=timeout)


def test_taken_at_the_first_write_given_back_when_the_connection_returns(tmp_path):
    engine, lock = sqlite_engine(tmp_path)
    with engine.connect() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
        conn.commit()
    assert not lock.locked()
    with engine.connect() as conn:
        conn.execute(text("SELECT count(*) FROM t"))
        assert not lock.locked()                 # reading takes nothing
        conn.execute(text("INSERT INTO t VALUES (1)"))
        assert lock.locked()
        conn.execute(text("UPDATE t SET n = 2"))  # once per transaction
        conn.commit()
    assert not lock.locked()
    engine.dispose()


def test_writers_of_one_process_all_succeed_one_at_a_time(tmp_path):
    engine, lock = sqlite_engine(tmp_path)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1, 0)"))
    inside, most, errors = [0], [0], []

    def write():
        try:
            with engine.begin() as conn:
                conn.execute(text("UPDATE t SET n = n + 1"))
                inside[0] += 1
                most[0] = max(most[0], inside[0])
                time.sleep(0.01)
                inside[0] -= 1
        except Exception as exc:   # noqa: BLE001 - reported below
            errors.append(exc)
    threads = [threading.Thread(target=write) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and most[0] == 1 and not lock.locked()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM t")).scalar() == 12
    engine.dispose()


def test_a_second_writer_of_the_same_thread_waits_no_longer_than_sqlite_would(tmp_path):
    """Two connections writing in one thread would wait for each other forever on a
    lock alone: the lock gives up after its timeout, and SQLite's own busy handler
    answers (here: locked), never a hang."""
    engine, _lock = sqlite_engine(tmp_path, timeout=0.2)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    first = engine.connect()
    first.execute(text("INSERT INTO t VALUES (1)"))
    second = engine.connect()
    second.execute(text("PRAGMA busy_timeout=100"))
    started = time.monotonic()
    with pytest.raises(OperationalError, match="locked"):
        second.execute(text("INSERT INTO t VALUES (2)"))
    assert time.monotonic() - started < 2
    second.close()
    first.rollback()
    first.close()
    engine.dispose()


def test_the_setting_turns_it_off(tmp_path):
    engine = get_engine({"sqlalchemy.url": f"sqlite:///{tmp_path}/lock.sqlite",
                         "cabinet.sqlite_writer_lock": "false"})
    assert not engine.dispatch.before_cursor_execute
    engine.dispose()
    engine = get_engine({"sqlalchemy.url": f"sqlite:///{tmp_path}/lock.sqlite"})
    assert engine.dispatch.before_cursor_execute
    engine.dispose()
