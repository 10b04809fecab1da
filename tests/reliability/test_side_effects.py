"""Side effects leave only with the commit (issue #6): a mail or an SMS queued by a
request whose commit fails is never sent; when pyramid_retry runs the request again,
what the successful attempt queued is sent once, not once per attempt.

The failure is injected where it hurts most: at commit, after the request's writes
were flushed and its mail or SMS queued (a before-commit hook added to the request's
transaction by a NewRequest subscriber)."""
import psycopg
import pytest
from pyramid.events import NewRequest
from pyramid_mailer.interfaces import IMailer
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from cabinet.interfaces import ISmsGateway
from cabinet.models import Delegation, OneTimeCode
from tests.test_signatures import last_code

CONSENT = "/cabinets/parc/patients/leroy/documents/consentement"
DELEGATIONS = "/professionals/martin/delegations"
SCHMIT = "1990063047606"          # in the development registry, no account


def serialization_failure():
    """What SQLAlchemy raises when PostgreSQL refuses a commit (SQLSTATE 40001):
    pyramid_retry runs the request again."""
    return OperationalError("COMMIT", {}, psycopg.errors.SerializationFailure(
        "could not serialize access due to concurrent update"))


@pytest.fixture
def failing_commits(demo):
    """``failing_commits(path, [exc, ...])``: the next commits of requests to ``path``
    raise those errors in turn (after flush, with the side effects queued)."""
    plan = {}

    def on_new_request(event):
        request = event.request
        errors = plan.get(request.path)
        if not errors:
            return

        def fail():
            raise errors.pop(0)
        request.tm.get().addBeforeCommitHook(fail)

    demo.registry.registerHandler(on_new_request, (NewRequest,))

    def arm(path, errors):
        plan[path] = list(errors)
    yield arm
    demo.registry.unregisterHandler(on_new_request, (NewRequest,))


def outboxes(registry):
    return registry.getUtility(IMailer).outbox, registry.getUtility(ISmsGateway).outbox


def delegations_to(db, matricule):
    with db() as request:
        return request.dbsession.scalar(select(func.count()).select_from(Delegation)
                                        .where(Delegation.matricule == matricule))


def invitation(**changes):
    return {"@type": "Delegation", "matricule": SCHMIT, "email": "marc@parc.example",
            "start_date": "2026-03-10", "end_date": None, "can_sign": False, **changes}


def test_a_retried_invitation_mails_once(demo, api, registry, db, failing_commits):
    mail, _ = outboxes(registry)
    failing_commits(DELEGATIONS, [serialization_failure(), serialization_failure()])
    response = api("dr.martin").post(DELEGATIONS, invitation(), status=201)
    assert response.json["review_state"] == "invited"
    # three attempts, two failed at commit: one delegation, one mail
    assert delegations_to(db, SCHMIT) == 1
    assert [m.subject for m in mail] == ["Invitation : secrétaire de Dr Paul Martin"]


def test_an_aborted_invitation_mails_nothing(demo, api, registry, db, failing_commits):
    mail, _ = outboxes(registry)
    failing_commits(DELEGATIONS, [RuntimeError("the disk is full")])
    response = api("dr.martin").post(DELEGATIONS, invitation(), status=500)
    assert "Traceback" not in response.text and "disk" not in response.text
    assert delegations_to(db, SCHMIT) == 0
    assert mail == []


def test_a_retried_code_request_sends_one_sms_with_the_code_that_works(
        demo, api, registry, db, failing_commits):
    _, sms = outboxes(registry)
    failing_commits(f"{CONSENT}/@sign-code", [serialization_failure()])
    leroy = api("p.leroy")
    leroy.post(f"{CONSENT}/@sign-code", status=200)
    assert len(sms) == 1
    code = last_code(registry)
    with db() as request:
        live = request.dbsession.scalar(select(func.count()).select_from(OneTimeCode)
                                        .where(OneTimeCode.used.is_(None)))
    assert live == 1
    # the code that was sent is the one the database keeps: signing with it works
    response = leroy.post(f"{CONSENT}/@workflow/sign", {"code": code}, status=200)
    assert response.json["review_state"] == "signed"


def test_an_aborted_code_request_sends_no_sms(demo, api, registry, db, failing_commits):
    _, sms = outboxes(registry)
    failing_commits(f"{CONSENT}/@sign-code", [RuntimeError("the disk is full")])
    api("p.leroy").post(f"{CONSENT}/@sign-code", status=500)
    assert sms == []
    with db() as request:
        assert request.dbsession.scalar(select(func.count()).select_from(OneTimeCode)) == 0
