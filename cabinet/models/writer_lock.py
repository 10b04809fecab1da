"""On SQLite, one writing transaction at a time per process, queued on a lock rather
than on SQLite's busy handler.

SQLite lets one connection write at a time; the others wait in its busy handler,
which sleeps and polls again (1, 2, 5 ... then 100 ms at a time): under a burst of
writes a request waited up to ~600 ms (p99) for a database that had long been free.
Here a transaction takes the process's lock before its first write and gives it back
when its connection returns to the pool (after the commit or the rollback), so the
next writer starts as soon as the previous one is done. Other processes still meet
SQLite's own handler.

A second connection writing while the same thread holds the lock (which would wait
for SQLite's lock anyway) gives up on this one after the busy timeout and goes on to
SQLite's handler: the lock never makes a wait longer than SQLite's."""
import threading

from sqlalchemy import event

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
HELD = "cabinet.writer_lock"


def install(engine, timeout):
    lock = threading.Lock()

    def before_write(conn, _cursor, statement, _parameters, _context, _executemany):
        info = conn.info
        if HELD not in info and statement.lstrip()[:7].upper().startswith(WRITES):
            if lock.acquire(timeout=timeout):
                info[HELD] = True

    def release(_dbapi_connection, record):
        if record.info.pop(HELD, None):
            lock.release()

    event.listen(engine, "before_cursor_execute", before_write)
    event.listen(engine.pool, "checkin", release)
    return lock
