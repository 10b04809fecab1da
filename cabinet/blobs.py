"""Blob storage: the bytes of documents, named by their SHA-256, written with the
transaction.

``FileBlobStorage`` keeps each file at ``<root>/<ab>/<cd>/<sha256>``. ``store(data,
tm)`` only remembers the bytes and joins the transaction with a data manager:

* ``tpc_vote`` writes them to ``<root>/tmp/<sha256>.<random>.tmp`` (flushed and
  fsync'ed). The data manager sorts before zope.sqlalchemy's, which commits the
  database in its own ``tpc_vote``: the bytes are on disk before the rows that name
  them are committed.
* ``tpc_finish`` (after the database commit) renames the temporary file into place:
  only then is the file reachable under its name.
* ``abort`` / ``tpc_abort`` delete the temporary file: after an abort nothing is
  reachable.

A process killed in between leaves at most a temporary file, never a reachable one:
before the database commit its rows do not exist either; after it, ``path()`` (and the
garbage collector) promote the temporary file whose hash a committed document names,
so nothing committed is lost. ``cabinet_blob_gc <ini>`` removes committed files no
document references and temporary files, both only once older than an hour (a
transaction in flight may still be about to use them).
"""
import argparse
import hashlib
import os
import re
import sys
import time
import uuid
import weakref
from pathlib import Path

from zope.interface import implementer

from cabinet.interfaces import IBlobStorage

GRACE_SECONDS = 3600
_SHA = re.compile(r"^[0-9a-f]{64}$")
_TEMP = re.compile(r"^([0-9a-f]{64})\.[0-9a-f]{32}\.tmp$")


class BlobStorageNotConfigured(RuntimeError):
    pass


def sha256_of(data):
    return hashlib.sha256(data).hexdigest()


def _check(sha256):
    if not isinstance(sha256, str) or not _SHA.match(sha256):
        raise KeyError(sha256)
    return sha256


def _fsync_directory(path):
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class BlobDataManager:
    """Joins one transaction; writes its blobs at vote, publishes them at finish."""

    def __init__(self, storage, transaction_manager):
        self.storage = storage
        self.transaction_manager = transaction_manager
        self.pending = {}        # sha256 -> bytes
        self.temps = {}          # sha256 -> temporary path written at vote

    def sortKey(self):
        # before "~sqlalchemy:...": our vote (writing) precedes the database commit
        return f"cabinet.blobs:{id(self)}"

    def _discard(self):
        for temp in self.temps.values():
            try:
                os.unlink(temp)
            except FileNotFoundError:
                pass
        self.temps.clear()
        self.pending.clear()

    def abort(self, txn):
        self._discard()

    def tpc_begin(self, txn):
        pass

    def commit(self, txn):
        pass

    def tpc_vote(self, txn):
        for sha256, data in self.pending.items():
            if self.storage.exists(sha256):
                continue
            self.temps[sha256] = self.storage.write_temporary(sha256, data)

    def tpc_finish(self, txn):
        for sha256 in self.pending:
            temp = self.temps.get(sha256)
            if temp is None:
                self.storage.touch(sha256)
            else:
                self.storage.publish(sha256, temp)
        self.temps.clear()
        self.pending.clear()

    def tpc_abort(self, txn):
        self._discard()


@implementer(IBlobStorage)
class FileBlobStorage:
    def __init__(self, root):
        if not root:
            raise BlobStorageNotConfigured("setting 'cabinet.blobs.path' is missing")
        self.root = Path(root)
        self.tmp = self.root / "tmp"
        self._managers = weakref.WeakKeyDictionary()

    # -- names -------------------------------------------------------------------------

    def final_path(self, sha256):
        _check(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    # -- writing -----------------------------------------------------------------------

    def store(self, data, transaction_manager):
        data = bytes(data)
        sha256 = sha256_of(data)
        txn = transaction_manager.get()
        manager = self._managers.get(txn)
        if manager is None:
            manager = self._managers[txn] = BlobDataManager(self, transaction_manager)
            txn.join(manager)
        manager.pending[sha256] = data
        return sha256

    def write_temporary(self, sha256, data):
        self.tmp.mkdir(parents=True, exist_ok=True)
        temp = self.tmp / f"{sha256}.{uuid.uuid4().hex}.tmp"
        with open(temp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        return temp

    def publish(self, sha256, temp):
        final = self.final_path(sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(temp, final)
        except FileNotFoundError:
            if not final.is_file():     # promoted meanwhile by path() or the collector
                raise
        _fsync_directory(final.parent)

    def touch(self, sha256):
        try:
            os.utime(self.final_path(sha256))
        except FileNotFoundError:
            pass

    # -- reading -----------------------------------------------------------------------

    def exists(self, sha256):
        try:
            return self.final_path(sha256).is_file()
        except KeyError:
            return False

    def path(self, sha256):
        """The committed file of ``sha256``. A caller asks only for hashes that
        committed rows name: a temporary file left by a process killed after the
        database commit but before the rename is checked and promoted."""
        final = self.final_path(sha256)
        if final.is_file():
            return final
        if self._recover(sha256):
            return final
        raise KeyError(sha256)

    def read(self, sha256):
        return self.path(sha256).read_bytes()

    def _temporaries(self):
        if not self.tmp.is_dir():
            return []
        return [(p, _TEMP.match(p.name)) for p in self.tmp.iterdir()]

    def _recover(self, sha256):
        for temp, match in self._temporaries():
            if match and match.group(1) == sha256:
                try:
                    if sha256_of(temp.read_bytes()) == sha256:
                        self.publish(sha256, temp)
                        return True
                except FileNotFoundError:
                    continue
        return self.final_path(sha256).is_file()

    # -- garbage collection ----------------------------------------------------------

    def collect_garbage(self, referenced, now=None, grace=GRACE_SECONDS):
        now = time.time() if now is None else now
        referenced = set(referenced)
        done = {"removed": [], "temporaries_removed": [], "recovered": []}

        def old(path):
            try:
                return path.stat().st_mtime < now - grace
            except FileNotFoundError:
                return False

        for temp, match in self._temporaries():
            sha256 = match.group(1) if match else None
            if sha256 in referenced and not self.exists(sha256):
                if self._recover(sha256):      # committed, not yet renamed: keep it
                    done["recovered"].append(sha256)
                    continue
            if old(temp):
                temp.unlink(missing_ok=True)
                done["temporaries_removed"].append(temp.name)
        if self.root.is_dir():
            for first in self.root.iterdir():
                if not first.is_dir() or len(first.name) != 2:
                    continue
                for second in first.iterdir():
                    for final in second.iterdir():
                        if (_SHA.match(final.name) and final.name not in referenced
                                and old(final)):
                            final.unlink(missing_ok=True)
                            done["removed"].append(final.name)
        return done


def storage_from_settings(settings):
    return FileBlobStorage(settings.get("cabinet.blobs.path"))


class _Unconfigured:
    """Registered when no storage folder is configured: fails when used."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise BlobStorageNotConfigured("setting 'cabinet.blobs.path' is missing")


def includeme(config):
    settings = config.get_settings()
    path = settings.get("cabinet.blobs.path")
    storage = FileBlobStorage(path) if path else _Unconfigured()
    config.registry.registerUtility(storage, IBlobStorage)


def blob_storage(request):
    return request.registry.getUtility(IBlobStorage)


def referenced_hashes(session):
    from sqlalchemy import select
    from cabinet.models import Document, Image, Message, MessageTemplate, Signature
    return set(session.scalars(select(Document.blob_sha256).distinct()
                               .where(Document.blob_sha256.is_not(None)))) | \
        set(session.scalars(select(Signature.sha256).distinct()      # the bytes signed
                            .where(Signature.sha256.is_not(None)))) | \
        {sha for model in (Message, MessageTemplate, Image)  # messaging (P3, K3), imaging (P5)
         for sha in session.scalars(select(model.blob_sha256).distinct()
                                    .where(model.blob_sha256.is_not(None)))}


def gc_main(argv=sys.argv):
    """``cabinet_blob_gc <config.ini>``: remove the blob files no document references
    and the temporary files of interrupted commits (older than an hour)."""
    from pyramid.paster import get_app, setup_logging
    from pyramid.threadlocal import manager
    from cabinet.scripts import script_request
    parser = argparse.ArgumentParser(description=gc_main.__doc__.splitlines()[0])
    parser.add_argument("config_uri", help="the .ini file, e.g. development.ini")
    args = parser.parse_args(argv[1:])
    setup_logging(args.config_uri)
    registry = get_app(args.config_uri).registry
    request = script_request(registry)
    try:
        with request.tm:
            referenced = referenced_hashes(request.dbsession)
    finally:
        manager.pop()
    done = registry.getUtility(IBlobStorage).collect_garbage(referenced)
    print(f"{len(done['removed'])} unreferenced file(s) removed, "
          f"{len(done['temporaries_removed'])} temporary file(s) removed, "
          f"{len(done['recovered'])} recovered")
    return 0
