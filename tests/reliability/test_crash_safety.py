"""Crash safety (issue #6): Cabinet killed with SIGKILL at random moments while
clients upload documents, replace their files, fire transitions and edit titles;
then started again.

Cabinet runs in processes of its own (tests.reliability.forkserver: the application
is built once, each server is a fresh process forked from it). Every trial starts a
server, lets eight clients write through it, kills it with SIGKILL after a random
delay, starts a new one and checks, straight in the database and the blob folder:

- every node's state is where its transition history says (the rows chain, the last
  one ends in the current state), and each change of a document (transition, edit,
  new file) has exactly one history row: version = 1 + its history rows;
- every document's file exists and its SHA-256 and size match the row;
- the audit chain verifies (cabinet.audit.verify, as ``cabinet_audit_verify``), and
  every transition in the history has its audit event;
- every write a client was told succeeded (200/201) is there;
- the new server answers, and writes again.

At the end the blob garbage collector removes what interrupted commits left behind
(temporary files, files no row names) and nothing a row names.
"""
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cabinet.blobs import GRACE_SECONDS, FileBlobStorage, referenced_hashes
from cabinet.models import AuditEvent, Document, HistoryEntry, Node
from cabinet.sample_files import make_pdf
from tests.conftest import HERE
from tests.reliability.helpers import (
    LEROY_DOCS, add_documents, audit_problems, blob_problems, history_agrees_with_states,
)

#: trials per database: a CI run makes 100, 50 on SQLite and 50 on PostgreSQL
TRIALS = int(os.environ.get("CABINET_CRASH_TRIALS", "50"))
WRITERS = 8
POOL = [f"crash-{i:02d}" for i in range(12)]     # documents the clients change
CHANGES = ("transition", "edit", "replace-file")


class ForkServer:
    def __init__(self, settings):
        env = {**os.environ, "CABINET_FORKSERVER_SETTINGS": json.dumps(settings)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.forkserver"], cwd=HERE, env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def start(self):
        self.process.stdin.write("start\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line and not line.startswith("error"), line
        pid, port = map(int, line.split())
        address = ("127.0.0.1", port)
        deadline = time.monotonic() + 30
        while True:                       # the new server answers
            try:
                status, _ = send(address, "GET", "/@health", timeout=5)
                if status == 200:
                    return pid, address
            except OSError:
                pass
            assert time.monotonic() < deadline, "the restarted server never answered"
            time.sleep(0.02)

    def close(self):
        try:
            self.process.stdin.write("quit\n")
            self.process.stdin.flush()
            self.process.wait(30)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait(30)


def send(address, method, path, body=None, headers=None, timeout=10):
    connection = http.client.HTTPConnection(*address, timeout=timeout)
    try:
        connection.request(method, path, body, headers or {})
        response = connection.getresponse()
        data = response.read()
        try:
            return response.status, json.loads(data)
        except ValueError:
            return response.status, {"raw": data[:300]}
    finally:
        connection.close()


def json_call(address, method, path, body, token):
    return send(address, method, path, json.dumps(body).encode(),
                {"Accept": "application/json", "Content-Type": "application/json",
                 "Authorization": f"Bearer {token}"})


def multipart(address, path, fields, file_name, data, token):
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"'
                     f'\r\n\r\n{value}\r\n'.encode())
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                 f'filename="{file_name}"\r\nContent-Type: application/pdf\r\n\r\n'
                 .encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return send(address, "POST", path, b"".join(parts),
                {"Accept": "application/json", "Authorization": f"Bearer {token}",
                 "Content-Type": f"multipart/form-data; boundary={boundary}"})


class Clients:
    """WRITERS threads writing until the server dies; what was acknowledged."""

    def __init__(self, address, token, seed):
        self.address, self.token = address, token
        self.random = random.Random(seed)
        self.acknowledged = []           # (kind, path, detail) answered 200/201
        self.statuses = {}
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def one_write(self, rng):
        name = rng.choice(POOL)
        path = f"{LEROY_DOCS}/{name}"
        kind = rng.choice(("upload", "upload", "replace", "send", "withdraw", "edit"))
        unique = uuid.uuid4().hex
        if kind == "upload":
            status, body = multipart(self.address, LEROY_DOCS,
                                     {"title": "Scan", "needs_signature": "false"},
                                     "scan.pdf", make_pdf("Scan", unique), self.token)
            path = body.get("@id", "").split(str(self.address[1]), 1)[-1]
            detail = body.get("sha256")
        elif kind == "replace":
            status, body = multipart(self.address, path + "/@@file", {}, "v.pdf",
                                     make_pdf(name, unique), self.token)
            detail = body.get("sha256")
        elif kind == "edit":
            status, body = json_call(self.address, "PATCH", path,
                                     {"title": f"Titre {unique}"}, self.token)
            detail = body.get("title")
        else:
            status, body = json_call(self.address, "POST", f"{path}/@workflow/{kind}",
                                     {}, self.token)
            detail = body.get("review_state")
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if status in (200, 201):
                self.acknowledged.append((kind, path, detail))
        assert status < 500, (kind, path, status, body)

    def run(self, index):
        rng = random.Random(self.random.random() + index)
        while not self.stop.is_set():
            try:
                self.one_write(rng)
            except (OSError, http.client.HTTPException):
                return                   # the server is gone

    def __enter__(self):
        self.errors = []

        def guarded(index):
            try:
                self.run(index)
            except AssertionError as error:
                self.errors.append(error)
        self.threads = [threading.Thread(target=guarded, args=(i,), daemon=True)
                        for i in range(WRITERS)]
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(30)
        assert not any(t.is_alive() for t in self.threads), "a client hung"


def changes_without_history(conn, names):
    """Documents of the pool whose version does not count their history rows."""
    problems = []
    for name in names:
        node_id, version = conn.execute(select(Node.id, Node.version).where(
            Node.path == f"{LEROY_DOCS}/{name}/")).one()
        rows = conn.scalar(select(func.count()).select_from(HistoryEntry).where(
            HistoryEntry.node_id == node_id, HistoryEntry.action.in_(CHANGES)))
        if version != 1 + rows:
            problems.append(f"{name}: version {version}, {rows} change(s) in history")
    return problems


def check_acknowledged(conn, acknowledged):
    """Every write a client was told succeeded is in the database."""
    problems = []
    for kind, path, detail in acknowledged:
        node_id = conn.scalar(select(Node.id).where(Node.path == path + "/"))
        if node_id is None:
            problems.append(f"{kind} {path}: acknowledged, but the node is missing")
            continue
        if kind in ("send", "withdraw"):
            found = conn.scalar(select(func.count()).select_from(HistoryEntry).where(
                HistoryEntry.node_id == node_id, HistoryEntry.transition == kind))
        elif kind == "edit":
            found = conn.scalar(select(func.count()).select_from(HistoryEntry).where(
                HistoryEntry.node_id == node_id, HistoryEntry.action == "edit"))
        elif kind == "replace":
            found = conn.scalar(select(func.count()).select_from(HistoryEntry).where(
                HistoryEntry.node_id == node_id, HistoryEntry.action == "replace-file"))
        else:
            found = conn.scalar(select(func.count()).select_from(Document).where(
                Document.id == node_id, Document.blob_sha256 == detail))
        if not found:
            problems.append(f"{kind} {path}: acknowledged, but not in the database")
    return problems


@pytest.fixture
def forkserver(demo, settings):
    server = ForkServer({k: v for k, v in settings.items() if k != "cabinet.engine"})
    yield server
    server.close()


def test_kill_minus_nine_at_random_moments(demo, db, engine, settings, forkserver):
    add_documents(db, LEROY_DOCS, POOL)
    storage = FileBlobStorage(settings["cabinet.blobs.path"])
    rng = random.Random(os.environ.get("CABINET_CRASH_SEED", "issue-6"))
    acknowledged, statuses = [], {}
    started = time.monotonic()
    pid, address = forkserver.start()
    status, body = json_call(address, "POST", "/@login",
                             {"login": "dr.martin", "password": "demo"}, "")
    assert status == 200, body
    token = body["token"]
    for trial in range(TRIALS):
        with Clients(address, token, rng.random()) as clients:
            # eight writers make a few hundred requests a second: any moment within
            # a third of a second falls inside some request's work
            time.sleep(rng.uniform(0.03, 0.35))
            os.kill(pid, signal.SIGKILL)                     # the crash
        assert not clients.errors, clients.errors
        acknowledged += clients.acknowledged
        for status, n in clients.statuses.items():
            statuses[status] = statuses.get(status, 0) + n
        pid, address = forkserver.start()                    # the restart

        with engine.connect() as conn:
            assert history_agrees_with_states(conn) == [], trial
            assert changes_without_history(conn, POOL) == [], trial
            assert blob_problems(conn, storage) == [], trial
            count, problems = audit_problems(conn, settings)
            assert problems == [], trial
            assert check_acknowledged(conn, acknowledged) == [], trial
        # the restarted server writes again
        status, body = multipart(address, LEROY_DOCS, {"title": f"Après l'essai {trial}"},
                                 "apres.pdf", make_pdf(f"Après l'essai {trial}"), token)
        assert status == 201, body
        acknowledged.append(("upload", body["@id"].split(str(address[1]), 1)[-1],
                             body["sha256"]))
    os.kill(pid, signal.SIGKILL)
    elapsed = time.monotonic() - started

    # the collector sweeps what interrupted commits left; nothing a row names
    with db() as request:
        referenced = referenced_hashes(request.dbsession)
    temporaries = list(storage.tmp.iterdir()) if storage.tmp.is_dir() else []
    done = storage.collect_garbage(referenced, now=time.time() + GRACE_SECONDS + 1)
    assert not (list(storage.tmp.iterdir()) if storage.tmp.is_dir() else [])
    on_disk = {p.name for p in Path(storage.root).glob("??/??/*")}
    assert referenced <= on_disk
    assert on_disk <= referenced
    with engine.connect() as conn:
        assert blob_problems(conn, storage) == []
        documents = conn.scalar(select(func.count()).select_from(Document))
        count, problems = audit_problems(conn, settings)
        assert problems == []
        transitions = conn.scalar(select(func.count()).select_from(HistoryEntry).where(
            HistoryEntry.action == "transition"))
        audited = conn.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "transition"))
    # a transition and its audit event are committed together: a crash keeps both or
    # neither (they were once committed one after the other, and crashes lost events)
    assert audited == transitions
    print(f"\n{transitions} transitions in the history, {audited} in the audit trail")
    print(f"\n{TRIALS} kill -9 trials in {elapsed:.1f} s: answers {statuses}, "
          f"{len(acknowledged)} acknowledged writes all kept, {documents} documents, "
          f"{count} audit events (chain intact), {len(temporaries)} temporary file(s) "
          f"and {len(done['removed'])} unreferenced file(s) swept, "
          f"{len(done['recovered'])} recovered")
    assert statuses.get(200, 0) + statuses.get(201, 0) > TRIALS, statuses
