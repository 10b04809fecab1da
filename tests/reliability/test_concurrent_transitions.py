"""Concurrency at the figures of issue #6, through a real waitress server.

- 50 clients fire the same transition (``send``) at one pending document at the same
  instant, for 20 documents in turn: exactly one 200 per document, 49 x 409 naming the
  state the document is now in, one history row and one audit event per document,
  never a 5xx.
- 200 writers at the same instant: new patients with one same title (the server
  picks the names), documents with ids of their own, and edits of 100 documents and
  20 edits of one same document. Every request gets 200/201 (or a clear 409/429), no
  5xx, and nothing is lost: every row the answers announce is there, every edit is
  in the data and in the history.

SQLite serialises writers (WAL, busy timeout); PostgreSQL runs them side by side
(READ COMMITTED, row locks, pyramid_retry for transient failures). Every socket,
barrier and join has a timeout.
"""
import time
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select, update

from cabinet.models import AuditEvent, Document, HistoryEntry, Node, Patient
from tests.conftest import BACKEND
from tests.live import login, race
from tests.reliability.helpers import (
    LEROY_DOCS, add_documents, count, history_agrees_with_states, serving,
)

CLIENTS = 50
DOCUMENTS = 20
WRITERS = 200
THREADS = 16 if BACKEND == "postgresql" else 8
PATIENTS = "/cabinets/parc/patients"


def test_fifty_clients_fire_one_transition_on_twenty_documents(demo, db, engine):
    names = [f"course-{i:02d}" for i in range(DOCUMENTS)]
    add_documents(db, LEROY_DOCS, names)
    statuses = {}
    started = time.monotonic()
    with serving(demo, threads=THREADS) as address:
        tokens = [login(address, "dr.martin"), login(address, "dr.weber")]
        for round_, name in enumerate(names):
            url = f"{LEROY_DOCS}/{name}/@workflow/send"
            results = race(address, [("POST", url, {"comment": f"client {i}"},
                                      tokens[i % 2]) for i in range(CLIENTS)])
            for status, _ in results:
                statuses[status] = statuses.get(status, 0) + 1
            assert all(status is not None for status, _ in results), results
            assert not [r for r in results if r[0] >= 500], (name, results)
            winners = [body for status, body in results if status == 200]
            assert len(winners) == 1, (name, sorted(s for s, _ in results))
            assert winners[0]["review_state"] == "sent"
            losers = [(s, b) for s, b in results if s != 200]
            assert len(losers) == CLIENTS - 1
            for status, body in losers:
                assert status == 409, (name, status, body)
                assert body["type"] == "Conflict" and body["review_state"] == "sent", body
    elapsed = time.monotonic() - started
    print(f"\n{DOCUMENTS} x {CLIENTS} concurrent 'send' ({THREADS} server threads): "
          f"{statuses} in {elapsed:.1f} s")
    assert statuses == {200: DOCUMENTS, 409: DOCUMENTS * (CLIENTS - 1)}

    with engine.connect() as conn:
        for name in names:
            path = f"{LEROY_DOCS}/{name}/"
            node_id, state, version = conn.execute(
                select(Node.id, Node.state, Node.version).where(Node.path == path)).one()
            assert state == "sent", name
            assert version == 2, name     # created at 1, one state change
            rows = conn.execute(select(HistoryEntry.transition, HistoryEntry.from_state,
                                       HistoryEntry.to_state)
                                .where(HistoryEntry.node_id == node_id,
                                       HistoryEntry.action == "transition")).all()
            assert rows == [("send", "pending", "sent")], name
            # the audit trail has exactly one event for the one change
            assert count(conn, AuditEvent, AuditEvent.action == "transition",
                         AuditEvent.object_path == path) == 1, name
        assert history_agrees_with_states(conn) == []


def test_two_hundred_concurrent_writers_lose_nothing(demo, db, engine):
    edited = [f"edit-{i:03d}" for i in range(100)]
    add_documents(db, LEROY_DOCS, edited + ["shared"])
    with engine.connect() as conn:
        patients_before = count(conn, Patient)
        documents_before = count(conn, Document)
    calls, kinds = [], []
    with serving(demo, threads=THREADS) as address:
        tokens = [login(address, "dr.martin"), login(address, "dr.weber"),
                  login(address, "admin")]

        def token(i):
            return tokens[i % len(tokens)]
        # 40 new patients, all titled alike: the server names them
        for i in range(40):
            calls.append(("POST", PATIENTS, {
                "@type": "Patient", "title": "Jean Simultané", "first_name": "Jean",
                "last_name": "Simultané", "birth_date": "1970-01-02",
                "phone": "+352621000009", "email": ""}, token(i)))
            kinds.append(("patient", None))
        # 40 new documents with ids of their own, in one folder
        for i in range(40):
            calls.append(("POST", LEROY_DOCS, {"@type": "Document", "id": f"new-{i:03d}",
                                               "title": f"Nouveau {i}",
                                               "needs_signature": False}, token(i)))
            kinds.append(("document", f"new-{i:03d}"))
        # 100 edits of 100 documents, 20 edits of one same document
        for i, name in enumerate(edited):
            calls.append(("PATCH", f"{LEROY_DOCS}/{name}", {"title": f"Titre {i}"},
                          token(i)))
            kinds.append(("edit", name))
        for i in range(20):
            calls.append(("PATCH", f"{LEROY_DOCS}/shared", {"title": f"Partagé {i}"},
                          token(i)))
            kinds.append(("shared", f"Partagé {i}"))
        assert len(calls) == WRITERS
        started = time.monotonic()
        results = race(address, calls)
        elapsed = time.monotonic() - started

    statuses = {}
    for status, _ in results:
        statuses[status] = statuses.get(status, 0) + 1
    print(f"\n{WRITERS} concurrent writers ({THREADS} server threads): {statuses} "
          f"in {elapsed:.1f} s")
    assert not [(k, s, b) for (s, b), k in zip(results, kinds)
                if s is None or s >= 500], statuses
    assert set(statuses) <= {200, 201, 409, 429}, statuses

    created_patients = [b["@id"] for (s, b), (k, _) in zip(results, kinds)
                        if k == "patient" and s == 201]
    created_documents = [b["@id"] for (s, b), (k, _) in zip(results, kinds)
                         if k == "document" and s == 201]
    # every creation with a free name succeeds; the server gave each its own name
    assert len(created_patients) == 40, statuses
    assert len(set(created_patients)) == 40
    assert len(created_documents) == 40
    shared_titles = [name for (s, _), (k, name) in zip(results, kinds)
                     if k == "shared" and s == 200]
    assert len(shared_titles) == 20, statuses
    assert all(s == 200 for (s, _), (k, _) in zip(results, kinds) if k == "edit")

    with engine.connect() as conn:
        assert count(conn, Patient) == patients_before + 40
        assert count(conn, Document) == documents_before + 40
        paths = set(conn.scalars(select(Patient.path).where(
            Patient.path.startswith(PATIENTS + "/jean-simultane"))))
        assert paths == {urlsplit(url).path + "/" for url in created_patients}
        for name in [n for k, n in kinds if k == "document"]:
            node_id = conn.scalar(select(Node.id).where(
                Node.path == f"{LEROY_DOCS}/{name}/"))
            assert node_id is not None, name
            assert count(conn, HistoryEntry, HistoryEntry.node_id == node_id,
                         HistoryEntry.action == "create") == 1, name
        # no lost update: every edit is in the data and in the history
        for i, name in enumerate(edited):
            node_id, title, version = conn.execute(
                select(Node.id, Node.title, Node.version)
                .where(Node.path == f"{LEROY_DOCS}/{name}/")).one()
            assert title == f"Titre {i}", name
            assert version == 2, name
            assert count(conn, HistoryEntry, HistoryEntry.node_id == node_id,
                         HistoryEntry.action == "edit") == 1, name
        node_id, title, version = conn.execute(
            select(Node.id, Node.title, Node.version)
            .where(Node.path == f"{LEROY_DOCS}/shared/")).one()
        assert title in shared_titles             # the last writer's title
        assert count(conn, HistoryEntry, HistoryEntry.node_id == node_id,
                     HistoryEntry.action == "edit") == 20
        assert version == 1 + 20, "concurrent edits lost version increments"


@pytest.mark.parametrize("change", ["edit", "replace-file"])
def test_a_change_racing_a_signature_is_refused(change, demo, db, api, engine):
    """The document is signed (by concurrent requests, committed) after an edit's
    request has read it pending and passed its permission check, before it writes:
    the edit answers 409 with the new state and the signed document is unchanged."""
    from pyramid.interfaces import IContextFound
    from cabinet.sample_files import make_pdf
    add_documents(db, LEROY_DOCS, ["course"])
    path = f"{LEROY_DOCS}/course"
    martin = api("dr.martin")
    raced = []

    def signed_meanwhile(event):
        if event.request.method in ("PATCH", "POST") and \
                event.request.path_info.startswith(path) and not raced:
            event.request.context.state   # noqa: B018 - read now, as traversal did
            with engine.begin() as conn:  # another request's committed change
                conn.execute(update(Node).where(Node.path == path + "/")
                             .values(state="signed"))
            raced.append(event.request.method)

    demo.registry.registerHandler(signed_meanwhile, (IContextFound,))
    try:
        if change == "edit":
            response = martin.patch(path, {"title": "Changé après signature"}, status="*")
        else:
            response = martin.testapp.post(
                path + "/@@file", upload_files=[("file", "v2.pdf", make_pdf("v2"))],
                headers=martin.headers, status="*")
    finally:
        demo.registry.unregisterHandler(signed_meanwhile, (IContextFound,))
    assert raced
    assert response.status_int == 409, response.text[:500]
    assert response.json["review_state"] == "signed"
    with engine.connect() as conn:
        title, version, sha256 = conn.execute(
            select(Document.title, Document.version, Document.blob_sha256)
            .where(Document.path == path + "/")).one()
        node_id = conn.scalar(select(Node.id).where(Node.path == path + "/"))
        assert (title, version, sha256) == ("Document de test course", 1, None)
        assert count(conn, HistoryEntry, HistoryEntry.node_id == node_id,
                     HistoryEntry.action.in_(["edit", "replace-file"])) == 0
