"""Concurrency of workflow transitions, through a real waitress server.

Twenty clients fire transitions at one resource at the same instant (threads released
by a barrier, one HTTP connection each, served by waitress with 8 worker threads).
Whatever the database (SQLite, or PostgreSQL with CABINET_TEST_DB=postgresql):

- exactly one request succeeds; every other one gets 409 with the state the resource
  now has; nothing answers 5xx;
- the resource ends in the winner's target state and the history holds exactly one
  transition row for it;
- pyramid_retry re-runs a request that failed with a transient database error
  (serialization failure), and the failed attempt leaves nothing behind.

Each race is run for several rounds, the state being reset in between, so that a
lucky pass is unlikely. Every socket, barrier and join has a timeout: a broken
mechanism makes these tests fail, never hang.
"""
import psycopg.errors
import pytest
from sqlalchemy import delete, event, func, select, update
from sqlalchemy.exc import OperationalError

from cabinet import main
from cabinet.interfaces import IAfterTransition
from cabinet.models import HistoryEntry, Node
from cabinet.models.meta import get_engine
from tests.conftest import BACKEND
from tests.live import login, race, request, serving

CLIENTS = 20
ROUNDS = 5

DEVIS = "/cabinets/parc/patients/leroy/documents/devis"
CONSENTEMENT = "/cabinets/parc/patients/leroy/documents/consentement"
SUIVI = "/cabinets/parc/patients/leroy/questionnaires/suivi"


def race_transitions(address, calls):
    """POST the transitions ``calls`` ((path, token) pairs) at the same instant."""
    results = race(address, [("POST", path, {"comment": f"client {index}"}, token)
                             for index, (path, token) in enumerate(calls)])
    assert all(status is not None for status, _ in results), results
    return results


# -- the database, seen from outside the application ----------------------------------

def node_state(engine, path):
    with engine.connect() as conn:
        return conn.scalar(select(Node.state).where(Node.path == path + "/"))


def transition_rows(engine, path):
    with engine.connect() as conn:
        node_id = conn.scalar(select(Node.id).where(Node.path == path + "/"))
        return conn.execute(
            select(HistoryEntry.transition, HistoryEntry.from_state, HistoryEntry.to_state)
            .where(HistoryEntry.node_id == node_id,
                   HistoryEntry.action == "transition")).all()


def reset(engine, path, state):
    """Put the node back in ``state`` and forget its history (between rounds)."""
    with engine.begin() as conn:
        node_id = conn.scalar(select(Node.id).where(Node.path == path + "/"))
        conn.execute(update(Node).where(Node.id == node_id).values(state=state))
        conn.execute(delete(HistoryEntry).where(HistoryEntry.node_id == node_id))


def check_one_winner(results, winner_states):
    """Exactly one 200; every other answer a 409 naming the winner's target state
    (``winner_states``: transition -> target) or, where noted by the caller, a 403."""
    statuses = sorted(status for status, _ in results)
    assert not [r for r in results if r[0] >= 500], results
    winners = [body for status, body in results if status == 200]
    assert len(winners) == 1, statuses
    won = winners[0]
    assert won["review_state"] == winner_states[won["action"]], won
    return won


# -- the races -----------------------------------------------------------------------

@pytest.fixture
def server(demo):
    with serving(demo) as address:
        yield address


def test_twenty_clients_send_one_document(server, engine):
    """20 x ``send`` on the pending ``devis``: one 200, nineteen 409 saying ``sent``."""
    token = login(server, "dr.martin")
    url = DEVIS + "/@workflow/send"
    for round_ in range(ROUNDS):
        reset(engine, DEVIS, "pending")
        results = race_transitions(server, [(url, token)] * CLIENTS)

        won = check_one_winner(results, {"send": "sent"})
        losers = [(status, body) for status, body in results if status != 200]
        assert len(losers) == CLIENTS - 1
        for status, body in losers:
            assert status == 409, (round_, status, body)
            assert body["type"] == "Conflict", body
            assert body["review_state"] == "sent", body
        assert won["actor"] == "dr.martin"
        assert node_state(engine, DEVIS) == "sent"
        assert transition_rows(engine, DEVIS) == [("send", "pending", "sent")], round_


class AcceptingCodes:
    """Stands in for the one-time-code service: every code is right."""

    def verify(self, request, context, purpose):
        return None


RACES = {
    # The professional withdraws the sent consent while the patient signs it.
    # When ``withdraw`` wins, the patient may no longer even see the document
    # (a withdrawn document grants patients nothing), so a patient may get 403.
    "document-withdraw-or-sign": dict(
        path=CONSENTEMENT, source="sent",
        clients=[("withdraw", "dr.martin"), ("sign", "p.leroy")],
        targets={"withdraw": "withdrawn", "sign": "signed"},
        hidden_from={"withdrawn": {"p.leroy"}}),
    # The professional's two buttons on a filled questionnaire, both pressed.
    "questionnaire-validate-or-reopen": dict(
        path=SUIVI, source="filled",
        clients=[("validate", "dr.martin"), ("reopen", "dr.martin")],
        targets={"validate": "validated", "reopen": "sent"},
        hidden_from={}),
}


@pytest.mark.parametrize("name", sorted(RACES))
def test_two_transitions_race(name, demo, engine):
    """Ten clients fire one transition, ten another, from the same state: exactly one
    of the twenty requests wins, the others get 409 with the winner's state."""
    spec = RACES[name]
    demo.registry["one_time_codes"] = AcceptingCodes()
    with serving(demo) as address:
        tokens = {user: login(address, user) for _, user in spec["clients"]}
        calls = [(f"{spec['path']}/@workflow/{transition}", tokens[user], transition, user)
                 for transition, user in spec["clients"]] * (CLIENTS // 2)
        seen_winners = set()
        for round_ in range(ROUNDS):
            reset(engine, spec["path"], spec["source"])
            results = race_transitions(address, [(path, token) for path, token, _, _ in calls])

            won = check_one_winner(results, spec["targets"])
            target = spec["targets"][won["action"]]
            seen_winners.add(won["action"])
            for (status, body), (_, _, transition, user) in zip(results, calls):
                if status == 200:
                    continue
                if status == 403 and user in spec["hidden_from"].get(target, ()):
                    continue
                assert status == 409, (round_, transition, user, status, body)
                assert body["review_state"] == target, (round_, transition, body)
            assert node_state(engine, spec["path"]) == target
            assert transition_rows(engine, spec["path"]) == [
                (won["action"], spec["source"], target)], round_
        # Not asserted (either may legitimately win every round), but shown with -v.
        print(f"{name}: winners seen {sorted(seen_winners)}")


# -- pyramid_retry --------------------------------------------------------------------

def serialization_failure():
    """What SQLAlchemy raises when PostgreSQL refuses a transaction (SQLSTATE 40001)."""
    return OperationalError(
        "UPDATE nodes SET state=...", {},
        psycopg.errors.SerializationFailure(
            "could not serialize access due to concurrent update"))


def test_transient_error_is_retried(server, demo, engine):
    """A serialization failure raised after the state change and the history row were
    written: pyramid_retry runs the request again, the first attempt leaves nothing
    behind, and the client sees one plain success."""
    attempts = []

    def fail_first_attempt(event):
        attempts.append(event.transition)
        if len(attempts) == 1:
            raise serialization_failure()

    demo.registry.registerHandler(fail_first_attempt, (IAfterTransition,))
    token = login(server, "dr.martin")
    status, body = request(server, "POST", DEVIS + "/@workflow/send",
                           {"comment": "retried"}, token)
    assert status == 200, body
    assert body["review_state"] == "sent"
    assert attempts == ["send", "send"]
    assert node_state(engine, DEVIS) == "sent"
    assert transition_rows(engine, DEVIS) == [("send", "pending", "sent")]


def test_transient_error_gives_up_after_the_last_attempt(server, demo, engine):
    """A failure that never goes away is retried ``retry.attempts`` times, then
    reported as an error; nothing is written."""
    attempts = []

    def always_fail(event):
        attempts.append(event.transition)
        raise serialization_failure()

    demo.registry.registerHandler(always_fail, (IAfterTransition,))
    token = login(server, "dr.martin")
    status, body = request(server, "POST", DEVIS + "/@workflow/send", {}, token)
    assert status >= 500, body
    assert len(attempts) == 3  # retry.attempts in the test settings
    assert node_state(engine, DEVIS) == "pending"
    assert transition_rows(engine, DEVIS) == []


@pytest.mark.skipif(BACKEND != "postgresql",
                    reason="SQLite serialises writers; no serialization failures")
def test_real_serialization_failures_are_retried(demo, settings, database_url):
    """The same race under REPEATABLE READ, where PostgreSQL itself refuses the losers'
    UPDATE ("could not serialize access due to concurrent update"): pyramid_retry
    re-runs them, they then see the new state and answer 409; never a 500."""
    engine = get_engine({"sqlalchemy.url": database_url,
                         "sqlalchemy.isolation_level": "REPEATABLE READ"})
    failures = []

    @event.listens_for(engine, "handle_error")
    def count(context):
        if getattr(context.original_exception, "sqlstate", None) == "40001":
            failures.append(context.original_exception)

    app = main({}, **{**settings, "cabinet.engine": engine})
    try:
        with serving(app) as address:
            token = login(address, "dr.martin")
            url = DEVIS + "/@workflow/send"
            for round_ in range(ROUNDS):
                reset(engine, DEVIS, "pending")
                results = race_transitions(address, [(url, token)] * CLIENTS)
                check_one_winner(results, {"send": "sent"})
                assert sorted(s for s, _ in results) == [200] + [409] * (CLIENTS - 1)
                assert all(b["review_state"] == "sent" for s, b in results if s == 409)
                assert node_state(engine, DEVIS) == "sent"
                assert transition_rows(engine, DEVIS) == [("send", "pending", "sent")]
        # Twenty simultaneous writers, five times: PostgreSQL refused some of them,
        # and pyramid_retry turned every refusal into a clean answer.
        assert failures, "no serialization failure happened; the test proved nothing"
    finally:
        engine.dispose()


def test_raced_demo_nodes_start_in_their_expected_states(demo, engine):
    """The nodes raced on above exist, in the states the races start from."""
    with engine.connect() as conn:
        total = conn.scalar(select(func.count()).select_from(Node).where(
            Node.path.in_([DEVIS + "/", CONSENTEMENT + "/", SUIVI + "/"])))
    assert total == 3
    assert node_state(engine, DEVIS) == "pending"
    assert node_state(engine, CONSENTEMENT) == "sent"
    assert node_state(engine, SUIVI) == "filled"
