"""The database becomes unreachable while Cabinet runs (issue #6).

- A connection lost in the middle of a request (PostgreSQL: its backend terminated
  after the state change was written, before the commit; SQLite: the driver's error
  raised at that point): the client gets a clean 503, nothing of the request is saved,
  and the next request succeeds on a new connection.
- PostgreSQL stopped: the test runs its own server (initdb in a temporary folder, a
  port of its own; the machine's shared server is never touched) and stops it while a
  waitress server serves Cabinet. Requests get 503 (JSON for programs, a page for
  people; never a traceback), ``/@health`` says the database is unreachable, and once
  the server is started again Cabinet answers normally without being restarted.
"""
import glob
import http.client
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import time

import pytest
import webtest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from cabinet import main
from cabinet.interfaces import IAfterTransition
from cabinet.migrations import upgrade
from cabinet.models import AuditEvent, HistoryEntry, Node
from cabinet.models.meta import get_engine
from cabinet.scripts import script_request
from tests.conftest import BACKEND
from tests.conftest import login as login_with_the_form
from tests.live import TIMEOUT, login
from tests.reliability.helpers import count, serving

DEVIS = "/cabinets/parc/patients/leroy/documents/devis"
PG_BINARIES = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


def call(address, method, path, body=None, token=None, accept="application/json"):
    """(status, headers, body text) of one request on a fresh connection."""
    headers = {"Accept": accept}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    connection = http.client.HTTPConnection(*address, timeout=TIMEOUT)
    try:
        connection.request(method, path, data, headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), \
            response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def assert_clean_503(status, headers, body, html=False):
    assert status == 503, (status, body[:1000])
    assert headers.get("Retry-After") == "5"
    for leak in ("Traceback", "sqlalchemy", "psycopg", "sqlite3", "OperationalError",
                 "SELECT", "INSERT", "UPDATE"):
        assert leak not in body, (leak, body[:1000])
    if html:
        assert headers["Content-Type"].startswith("text/html")
        assert "503 · Service momentanément indisponible" in body
        assert "a été enregistré" in body      # rien n&#39;a été enregistré
    else:
        data = json.loads(body)
        assert data["type"] == "ServiceUnavailable", data
        assert "rien n'a été enregistré" in data["message"]


def history(engine, path):
    with engine.connect() as conn:
        node_id = conn.scalar(select(Node.id).where(Node.path == path + "/"))
        return conn.execute(select(HistoryEntry.transition, HistoryEntry.to_state)
                            .where(HistoryEntry.node_id == node_id,
                                   HistoryEntry.action == "transition")).all()


def state_of(engine, path):
    with engine.connect() as conn:
        return conn.scalar(select(Node.state).where(Node.path == path + "/"))


# -- a connection lost in the middle of a request ------------------------------------------

def test_connection_lost_mid_request_saves_nothing(demo, engine):
    """After the state change and the history row were sent to the database, the
    connection dies: 503, no state change, no history row, no audit event; the next
    request succeeds."""
    lost = []

    def lose_the_connection(event):
        if lost:
            return
        session = event.request.dbsession
        session.flush()                              # the history row is written too
        if BACKEND == "postgresql":
            pid = session.scalar(text("SELECT pg_backend_pid()"))
            with engine.connect() as admin:          # another connection kills ours
                admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                admin.commit()
            lost.append(pid)
        else:
            lost.append("sqlite")
            raise OperationalError("UPDATE nodes ...", {},
                                   sqlite3.OperationalError("disk I/O error"))

    demo.registry.registerHandler(lose_the_connection, (IAfterTransition,))
    try:
        with serving(demo) as address:
            token = login(address, "dr.martin")
            status, headers, body = call(address, "POST", DEVIS + "/@workflow/send",
                                         {"comment": "lost"}, token)
            assert lost, "the connection was not cut"
            assert_clean_503(status, headers, body)
            assert state_of(engine, DEVIS) == "pending"
            assert history(engine, DEVIS) == []
            with engine.connect() as conn:
                assert count(conn, AuditEvent, AuditEvent.action == "transition") == 0
            # the next request gets a working connection
            status, headers, body = call(address, "POST", DEVIS + "/@workflow/send",
                                         {"comment": "again"}, token)
            assert status == 200, body
            assert json.loads(body)["review_state"] == "sent"
    finally:
        demo.registry.unregisterHandler(lose_the_connection, (IAfterTransition,))
    assert state_of(engine, DEVIS) == "sent"
    assert history(engine, DEVIS) == [("send", "sent")]


# -- PostgreSQL stopped and started again ---------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OwnPostgres:
    """A throwaway PostgreSQL server: its own folder, socket directory and port."""

    def __init__(self):
        self.bin = PG_BINARIES[-1]
        self.root = tempfile.mkdtemp(prefix="cabinet-outage-pg-")
        self.data = os.path.join(self.root, "data")
        self.log = os.path.join(self.root, "server.log")
        self.port = None
        if os.geteuid() == 0:     # PostgreSQL refuses to run as root
            shutil.chown(self.root, "postgres", "postgres")
            self.prefix = ["runuser", "-u", "postgres", "--"]
        else:
            self.prefix = []

    def run(self, program, *args):
        return subprocess.run([*self.prefix, os.path.join(self.bin, program), *args],
                              capture_output=True, text=True, timeout=120, check=True)

    def init(self):
        self.run("initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "-N",
                 "-E", "UTF8", "--locale=C")

    def start(self):
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c full_page_writes=off -c synchronous_commit=off")
        self.run("pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "60",
                 "-o", options, "start")

    def start_on_a_free_port(self):
        for attempt in range(5):
            self.port = free_port()
            try:
                return self.start()
            except subprocess.CalledProcessError:
                if attempt == 4:
                    raise

    def stop(self):
        self.run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "-t", "60", "stop")

    @property
    def url(self):
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def destroy(self):
        try:
            self.run("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        except subprocess.CalledProcessError:
            pass                       # already stopped
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def own_postgres():
    if BACKEND != "postgresql":
        pytest.skip("stopping the database server is a PostgreSQL test (SQLite has no "
                    "server); run with CABINET_TEST_DB=postgresql")
    if not PG_BINARIES:
        pytest.fail("PostgreSQL's programs (initdb, pg_ctl) are not installed")
    server = OwnPostgres()
    try:
        server.init()
        server.start_on_a_free_port()
        yield server
    finally:
        server.destroy()


def test_postgresql_stopped_then_started_again(own_postgres, settings):
    from cabinet.scripts.demo import ensure_site, load_demo
    engine = get_engine({"sqlalchemy.url": own_postgres.url})
    try:
        upgrade(engine)
        app = main({}, **{**settings, "sqlalchemy.url": own_postgres.url,
                          "cabinet.engine": engine})
        request = script_request(app.registry)
        with request.tm:
            ensure_site(request)
            load_demo(request)
        browser = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost",
                                                      "REMOTE_ADDR": "127.0.0.1"})
        login_with_the_form(browser, "dr.weber")      # a person with a session cookie
        with serving(app) as address:
            status, _, body = call(address, "GET", "/@health")
            assert (status, json.loads(body)) == (200, {"status": "ok", "database": "ok"})
            token = login(address, "dr.martin")
            status, _, body = call(address, "GET", DEVIS, token=token)
            assert status == 200 and json.loads(body)["review_state"] == "pending"

            own_postgres.stop()                                   # the outage
            status, headers, body = call(address, "GET", "/@health")
            assert status == 503, body
            assert json.loads(body) == {"status": "unavailable", "database": "unreachable"}
            assert headers.get("Retry-After") == "5"
            assert_clean_503(*call(address, "GET", DEVIS, token=token))
            assert_clean_503(*call(address, "POST", DEVIS + "/@workflow/send",
                                   {"comment": "during the outage"}, token))
            assert_clean_503(*call(address, "POST", "/@login",
                                   {"login": "dr.weber", "password": "demo"}))
            assert_clean_503(*call(address, "GET", "/", accept="text/html"), html=True)
            assert_clean_503(*call(address, "GET", DEVIS, accept="text/html"), html=True)
            # the signed-in person's page: the user cannot be loaded, the page still comes
            page = browser.get(DEVIS, headers={"Accept": "text/html"}, status=503)
            assert_clean_503(page.status_int, dict(page.headers), page.text, html=True)

            own_postgres.start()                                  # the database is back
            started = time.monotonic()
            status, _, body = call(address, "GET", "/@health")
            assert (status, json.loads(body)) == (200, {"status": "ok", "database": "ok"})
            status, _, body = call(address, "POST", DEVIS + "/@workflow/send",
                                   {"comment": "after the outage"}, token)
            assert status == 200, body
            assert json.loads(body)["review_state"] == "sent"
            status, _, body = call(address, "GET", "/", accept="text/html")
            assert status in (200, 302, 303), body[:500]
            page = browser.get(DEVIS, headers={"Accept": "text/html"}, status=200)
            assert "Dr Eva Weber" in page.text           # still signed in
            print(f"\nrecovered in {time.monotonic() - started:.2f} s after the restart")
        # nothing of the refused write; the one after the outage, once
        assert state_of(engine, DEVIS) == "sent"
        assert history(engine, DEVIS) == [("send", "sent")]
    finally:
        engine.dispose()
