"""The blob storage (cabinet/blobs.py): files named by SHA-256, reachable only once
the transaction commits, nothing reachable after an abort, nothing lost when the
process dies anywhere between writing and committing, and the garbage collector."""
import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import transaction

from cabinet.blobs import FileBlobStorage, referenced_hashes

DATA = b"%PDF-1.4\n" + b"x" * 1000 + b"\n%%EOF\n"
SHA = hashlib.sha256(DATA).hexdigest()
ROOT = Path(__file__).resolve().parent.parent


def files(root):
    return sorted(str(p.relative_to(root)) for p in Path(root).rglob("*") if p.is_file())


def test_stored_bytes_become_reachable_at_commit(tmp_path):
    storage = FileBlobStorage(tmp_path)
    tm = transaction.TransactionManager(explicit=True)
    with tm:
        sha = storage.store(DATA, tm)
        assert sha == SHA
        assert not storage.exists(SHA)          # not before the commit
        assert files(tmp_path) == []            # nothing written yet
    assert storage.exists(SHA)
    path = storage.path(SHA)
    assert path.name == SHA and path.parent.name == SHA[2:4]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == SHA
    assert files(tmp_path) == [f"{SHA[:2]}/{SHA[2:4]}/{SHA}"]   # no temporary left


def test_an_aborted_transaction_leaves_nothing(tmp_path):
    storage = FileBlobStorage(tmp_path)
    tm = transaction.TransactionManager(explicit=True)
    tm.begin()
    storage.store(DATA, tm)
    tm.abort()
    assert not storage.exists(SHA)
    with pytest.raises(KeyError):
        storage.path(SHA)
    assert [f for f in files(tmp_path) if not f.startswith("tmp/")] == []


def test_a_failing_commit_leaves_nothing_reachable(tmp_path):
    """Another resource fails its vote after the blob's temporary file is written:
    the transaction aborts and the temporary file goes."""
    storage = FileBlobStorage(tmp_path)
    tm = transaction.TransactionManager(explicit=True)

    class FailingVote(Hook):
        def tpc_vote(self, txn):
            assert list((tmp_path / "tmp").iterdir()), "the blob is written before"
            raise RuntimeError("the database refused")

    tm.begin()
    storage.store(DATA, tm)
    tm.get().join(FailingVote(tm, "d"))
    with pytest.raises(RuntimeError):
        tm.commit()
    tm.abort()
    assert not storage.exists(SHA)
    assert files(tmp_path) == []


def test_invalid_names_are_refused(tmp_path):
    storage = FileBlobStorage(tmp_path)
    for bad in ("../../etc/passwd", "abc", SHA.upper(), SHA + "0", None):
        assert not storage.exists(bad)
        with pytest.raises(KeyError):
            storage.path(bad)


class Hook:
    """A data manager sorting at ``key`` among the transaction's resources."""

    def __init__(self, tm, key):
        self.transaction_manager, self.key = tm, key

    def sortKey(self):
        return self.key

    def abort(self, txn):
        pass

    tpc_begin = commit = tpc_finish = tpc_abort = tpc_vote = abort


# -- killing the process between writing and committing ---------------------------------------

CHILD = textwrap.dedent('''
    import os, sys, time
    import transaction
    from sqlalchemy import Column, Integer, String, create_engine, text
    from sqlalchemy.orm import declarative_base, sessionmaker
    from zope.sqlalchemy import register
    from cabinet.blobs import FileBlobStorage

    blobs, database, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    Base = declarative_base()

    class Doc(Base):
        __tablename__ = "docs"
        id = Column(Integer, primary_key=True)
        sha = Column(String(64))

    engine = create_engine("sqlite:///" + database)
    Base.metadata.create_all(engine)
    tm = transaction.TransactionManager(explicit=True)
    session = sessionmaker(bind=engine)()
    register(session, transaction_manager=tm)

    class Crash:
        """Dies in its vote: sorted between the blob storage and the database
        ("d...") or after the database has committed ("~~")."""
        def __init__(self, key):
            self.transaction_manager, self.key = tm, key
        def sortKey(self):
            return self.key
        def abort(self, txn):
            pass
        tpc_begin = commit = tpc_finish = tpc_abort = abort
        def tpc_vote(self, txn):
            if mode == "kill":
                print("ready", flush=True)
                time.sleep(60)
            os._exit(17)

    storage = FileBlobStorage(blobs)
    tm.begin()
    sha = storage.store(sys.stdin.buffer.read(), tm)
    session.add(Doc(sha=sha))
    session.flush()
    if mode == "before-commit":
        os._exit(17)
    tm.get().join(Crash("~~" if mode == "after-database" else "d"))
    tm.commit()
''')


def run_child(tmp_path, mode):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    blobs, database = tmp_path / "blobs", tmp_path / "docs.sqlite"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [sys.executable, str(script), str(blobs), str(database), mode]
    if mode == "kill":
        child = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 env=env)
        child.stdin.write(DATA)
        child.stdin.close()
        assert child.stdout.readline().strip() == b"ready"
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    else:
        result = subprocess.run(args, input=DATA, env=env, timeout=60)
        assert result.returncode == 17
    return FileBlobStorage(blobs), database


def committed_hashes(database):
    import sqlite3
    with sqlite3.connect(database) as conn:
        return [sha for sha, in conn.execute("SELECT sha FROM docs")]


@pytest.mark.parametrize("mode", ["before-commit", "before-database", "kill"])
def test_killed_before_the_database_commit_nothing_is_visible(tmp_path, mode):
    storage, database = run_child(tmp_path, mode)
    assert committed_hashes(database) == []          # no document
    assert not storage.exists(SHA)                   # no reachable file
    reachable = [f for f in files(storage.root) if not f.startswith("tmp/")]
    assert reachable == []
    # the temporary file (if the vote had written it) is an orphan for the collector
    later = time.time() + 2 * 3600
    done = storage.collect_garbage(referenced=set(), now=later)
    assert files(storage.root) == []
    assert len(done["temporaries_removed"]) == (0 if mode == "before-commit" else 1)


def test_killed_after_the_database_commit_nothing_is_lost(tmp_path):
    storage, database = run_child(tmp_path, "after-database")
    assert committed_hashes(database) == [SHA]       # the document exists
    assert not storage.final_path(SHA).exists()      # its file was not renamed yet
    # reading it (a download) finds the bytes written before the commit
    assert hashlib.sha256(storage.path(SHA).read_bytes()).hexdigest() == SHA
    assert files(storage.root) == [f"{SHA[:2]}/{SHA[2:4]}/{SHA}"]


def test_the_collector_recovers_a_committed_temporary_file(tmp_path):
    storage, database = run_child(tmp_path, "after-database")
    done = storage.collect_garbage(referenced=set(committed_hashes(database)),
                                   now=time.time() + 2 * 3600)
    assert done["recovered"] == [SHA] and done["temporaries_removed"] == []
    assert storage.read(SHA) == DATA


# -- the garbage collector ---------------------------------------------------------------------

def _commit(storage, data):
    tm = transaction.TransactionManager(explicit=True)
    with tm:
        return storage.store(data, tm)


def test_garbage_collector_removes_only_old_orphans(tmp_path):
    storage = FileBlobStorage(tmp_path)
    kept = _commit(storage, b"referenced")
    orphan = _commit(storage, b"orphan")
    young = _commit(storage, b"young orphan")
    stale_temp = storage.write_temporary(hashlib.sha256(b"t").hexdigest(), b"t")
    fresh_temp = storage.write_temporary(hashlib.sha256(b"u").hexdigest(), b"u")
    old = time.time() - 2 * 3600
    for path in (storage.path(kept), storage.path(orphan), stale_temp):
        os.utime(path, (old, old))
    done = storage.collect_garbage(referenced={kept})
    assert done["removed"] == [orphan]
    assert done["temporaries_removed"] == [stale_temp.name]
    assert storage.exists(kept) and storage.exists(young) and fresh_temp.exists()
    assert not storage.exists(orphan) and not stale_temp.exists()


def test_storing_existing_bytes_again_refreshes_them(tmp_path):
    """Bytes already there are not rewritten; their time is refreshed so that the
    collector's grace period protects a file a new document has just referenced."""
    storage = FileBlobStorage(tmp_path)
    sha = _commit(storage, DATA)
    old = time.time() - 2 * 3600
    os.utime(storage.path(sha), (old, old))
    assert _commit(storage, DATA) == sha
    assert storage.path(sha).stat().st_mtime > old + 3600
    assert storage.collect_garbage(referenced=set())["removed"] == []


def test_gc_console_script(demo, app, settings, tmp_path, db):
    """``cabinet_blob_gc <ini>`` keeps the demo documents' files and removes an old
    file no document references."""
    from cabinet.interfaces import IBlobStorage
    storage = app.registry.getUtility(IBlobStorage)
    with db() as request:
        referenced = referenced_hashes(request.dbsession)
    assert len(referenced) >= 3 and all(storage.exists(sha) for sha in referenced)
    orphan = _commit(storage, b"nobody's")
    old = time.time() - 2 * 3600
    os.utime(storage.path(orphan), (old, old))
    ini = tmp_path / "gc.ini"
    ini.write_text(textwrap.dedent(f"""\
        [app:main]
        use = egg:cabinet
        sqlalchemy.url = {settings['sqlalchemy.url']}
        cabinet.workflows = {settings['cabinet.workflows']}
        cabinet.templates = {settings['cabinet.templates']}
        cabinet.static = {settings['cabinet.static']}
        cabinet.session_secret = {settings['cabinet.session_secret']}
        cabinet.signing_key_secret = {settings['cabinet.signing_key_secret']}
        cabinet.blobs.path = {storage.root}
        """))
    script = Path(sys.executable).parent / "cabinet_blob_gc"
    command = [str(script)] if script.exists() else [
        sys.executable, "-c", "import sys; from cabinet.blobs import gc_main; "
        "sys.exit(gc_main(sys.argv))"]
    result = subprocess.run(command + [str(ini)], capture_output=True, text=True,
                            timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    assert "1 unreferenced file(s) removed" in result.stdout
    assert not storage.exists(orphan)
    assert all(storage.exists(sha) for sha in referenced)
