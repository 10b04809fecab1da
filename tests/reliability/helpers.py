"""Helpers of the reliability suite (issue #6): a waitress server with a chosen
number of threads, demo documents made in bulk, and the database invariants that
must hold after races, crashes and outages."""
import hashlib

from sqlalchemy import func, select

from cabinet.audit import audit_key, verify
from cabinet.models import Document, HistoryEntry, Node
from tests import live

LEROY_DOCS = "/cabinets/parc/patients/leroy/documents"


def serving(app, threads=8):
    """tests.live.serving with ``threads`` worker threads and room for hundreds of
    simultaneous connections (waitress's default limit is 100)."""
    return live.serving(app, threads=threads, connection_limit=1000, backlog=1024)


def add_documents(db, folder_path, names, title="Document de test"):
    """Pending documents ``names`` (no file) in the folder at ``folder_path``."""
    from cabinet.content import add_node
    with db() as request:
        folder = request.dbsession.scalar(select(Node).where(Node.path == folder_path + "/"))
        for name in names:
            add_node(request.dbsession, request.registry, folder, "Document", name=name,
                     title=f"{title} {name}", needs_signature=False)


# -- invariants -------------------------------------------------------------------------

def history_agrees_with_states(conn, paths_prefix="/"):
    """Problems (a list of strings) between nodes' states and their transition
    history: each node's transitions chain (each starts where the previous ended)
    and the last one ends in the node's current state."""
    problems = []
    rows = conn.execute(
        select(HistoryEntry.node_id, HistoryEntry.from_state, HistoryEntry.to_state,
               HistoryEntry.id)
        .where(HistoryEntry.action == "transition")
        .order_by(HistoryEntry.node_id, HistoryEntry.id)).all()
    states = dict(conn.execute(select(Node.id, Node.state)
                               .where(Node.path.startswith(paths_prefix))).all())
    last = {}
    for node_id, from_state, to_state, row_id in rows:
        previous = last.get(node_id)
        if previous is not None and previous != from_state:
            problems.append(f"node {node_id}: history row {row_id} starts from "
                            f"{from_state!r}, the previous one ended in {previous!r}")
        last[node_id] = to_state
    for node_id, to_state in last.items():
        if node_id in states and states[node_id] != to_state:
            problems.append(f"node {node_id} is {states[node_id]!r}, its last history "
                            f"row says {to_state!r}")
    return problems


def audit_problems(conn, settings):
    count, problems = verify(conn, audit_key(settings))
    return count, problems


def blob_problems(conn, storage):
    """Every document that names a file: the file exists (a committed temporary file
    is promoted, as when it is read) and its SHA-256 and size match the row."""
    problems = []
    for path, sha256, size in conn.execute(
            select(Document.path, Document.blob_sha256, Document.size)
            .where(Document.blob_sha256.is_not(None))):
        try:
            data = storage.read(sha256)
        except KeyError:
            problems.append(f"{path}: file {sha256} is missing")
            continue
        if hashlib.sha256(data).hexdigest() != sha256:
            problems.append(f"{path}: file {sha256} is corrupt")
        elif size is not None and size != len(data):
            problems.append(f"{path}: size {size} in the row, {len(data)} on disk")
    return problems


def tallied(seen, response):
    """A state machine's answer: counted in ``seen`` (requests, statuses), never a 5xx."""
    seen["requests"] += 1
    seen["statuses"][response.status_int] = seen["statuses"].get(response.status_int, 0) + 1
    assert response.status_int < 500, response.text[:500]
    return response


def count(conn, model, *where):
    return conn.scalar(select(func.count()).select_from(model).where(*where))
