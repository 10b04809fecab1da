"""Run Cabinet's scheduled jobs (``cabinet_worker <config.ini> [--once]``).

The jobs: the questionnaires due by the auto-send rules (cabinet.autosend), the
expiry of mandates and of delegations past their end date, the appointment
reminders due (cabinet.reminders) and the messages of the outbox (cabinet.outbox). ``--once`` runs what is due and exits; without
it the worker runs every 60 seconds until stopped.

Each job runs in its own transaction (each questionnaire send in its own too); a
job that fails is logged and rolled back, and the others still run. The last run,
success and error of each job are kept in ``worker_jobs``. Time comes from the
registry's IClock, so tests move a FixedClock and call ``run_jobs`` directly.
Several workers may run side by side on PostgreSQL: a send is locked with
``FOR UPDATE SKIP LOCKED`` and claimed by a conditional UPDATE (never sent twice).
"""
import argparse
import logging
import sys
import time

from pyramid.threadlocal import manager
from sqlalchemy import select

from cabinet.interfaces import IClock
from cabinet.models import Delegation, WorkerJob
from cabinet.scripts import script_request

log = logging.getLogger(__name__)
INTERVAL = 60


class request_in_transaction:
    """``with request_in_transaction(registry) as request:`` a script request whose
    transaction commits at the end of the block, or aborts on an exception."""

    def __init__(self, registry):
        self.registry = registry

    def __enter__(self):
        self.request = script_request(self.registry)
        self.request.tm.begin()
        return self.request

    def __exit__(self, kind, exc, tb):
        try:
            if kind is None:
                self.request.tm.commit()
            else:
                self.request.tm.abort()
        finally:
            manager.pop()
        return False


# -- the jobs: each takes the registry, returns a short summary -----------------------

def autosend_job(registry):
    """Send the questionnaires that are due, each in its own transaction; a send that
    fails is marked ``failed`` with its error and tried again at the next run."""
    from cabinet.autosend import due_send_ids, fail, send_due
    with request_in_transaction(registry) as request:
        ids = due_send_ids(request)
    sent = failed = 0
    for send_id in ids:
        try:
            with request_in_transaction(registry) as request:
                sent += bool(send_due(request, send_id))
        except Exception as exc:      # one bad send does not stop the others
            failed += 1
            log.exception("auto-send %s failed", send_id)
            with request_in_transaction(registry) as request:
                fail(request.dbsession, send_id, f"{type(exc).__name__}: {exc}")
    if failed:
        raise RuntimeError(f"{failed} of {len(ids)} sends failed ({sent} sent)")
    return f"{sent} sent"


def mandates_job(registry):
    from cabinet.mandates import expire_due
    with request_in_transaction(registry) as request:
        return f"{expire_due(request)} expired"


def expire_delegations(request):
    """Fire ``expire`` on every invited or active delegation past its end date (its
    guard checks the date again); security never waited for it (see
    cabinet.security.active_delegations)."""
    from cabinet.workflow import fire
    today = request.registry.getUtility(IClock).today()
    due = list(request.dbsession.scalars(select(Delegation).where(
        Delegation.state.in_(("invited", "active")), Delegation.end_date.is_not(None),
        Delegation.end_date < today).order_by(Delegation.id)))
    for delegation in due:
        fire(request, delegation, "expire", automatic=True,
             comment="Date de fin de la délégation dépassée.")
    return len(due)


def delegations_job(registry):
    with request_in_transaction(registry) as request:
        return f"{expire_delegations(request)} expired"


def reminders_job(registry):
    from cabinet.reminders import reminders_job as job
    return job(registry)


def outbox_job(registry):
    from cabinet.outbox import outbox_job as job
    return job(registry)


# reminders before outbox: a reminder queued at its time leaves in the same run
JOBS = (("autosend", autosend_job), ("mandates.expire", mandates_job),
        ("delegations.expire", delegations_job), ("reminders", reminders_job),
        ("outbox", outbox_job))


def record(registry, name, error=None, result=""):
    """Keep the job's last run (a second worker creating the same row at once: its
    insert fails on the key, and the row is updated on a second try)."""
    from sqlalchemy.exc import IntegrityError
    try:
        _record(registry, name, error, result)
    except IntegrityError:
        _record(registry, name, error, result)


def _record(registry, name, error=None, result=""):
    with request_in_transaction(registry) as request:
        session = request.dbsession
        now = registry.getUtility(IClock).now()
        job = session.get(WorkerJob, name)
        if job is None:
            job = WorkerJob(name=name, last_error_message="", last_result="")
            session.add(job)
        job.last_run = now
        if error is None:
            job.last_success, job.last_result = now, result[:500]
        else:
            job.last_error, job.last_error_message = now, error[:2000]


def run_jobs(registry, jobs=JOBS):
    """Run every job once; {name: (ok, summary or error)}."""
    results = {}
    for name, job in jobs:
        try:
            summary = job(registry) or ""
        except Exception as exc:
            log.exception("worker job %s failed", name)
            results[name] = (False, f"{type(exc).__name__}: {exc}")
            record(registry, name, error=results[name][1])
        else:
            results[name] = (True, summary)
            record(registry, name, result=summary)
    return results


def job_status(session):
    """The worker_jobs rows by name (issue #10 shows them)."""
    return {job.name: job for job in session.scalars(select(WorkerJob).order_by(
        WorkerJob.name))}


def main(argv=sys.argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config_uri", help="the .ini file, e.g. development.ini")
    parser.add_argument("--once", action="store_true",
                        help="run the jobs that are due once and exit")
    parser.add_argument("--interval", type=int, default=INTERVAL,
                        help="seconds between runs (default 60)")
    args = parser.parse_args(argv[1:])
    from pyramid.paster import get_app, setup_logging
    setup_logging(args.config_uri)
    registry = get_app(args.config_uri).registry
    while True:
        results = run_jobs(registry)
        for name, (ok, summary) in results.items():
            log.info("%s: %s %s", name, "ok" if ok else "FAILED", summary)
        if args.once:
            return 0 if all(ok for ok, _summary in results.values()) else 1
        time.sleep(max(1, args.interval))
