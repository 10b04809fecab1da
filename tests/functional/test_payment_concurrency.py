"""Two (or ten) concurrent payments never together pay more than is due (issue #9,
P2), through a real waitress server, on SQLite and PostgreSQL.

Léa Leroy owes 290.00. Ten payments of 290.00 are created one after the other (each
is within what is due when created); then the provider's ten signed approvals
arrive at the same instant: the record's row lock lets exactly one through, the
nine others are refused and recorded as such. Replays of one approval at the same
instant apply it once. Every socket, barrier and join has a timeout."""
import json
from decimal import Decimal

import pytest
from pyramid_mailer.interfaces import IMailer
from sqlalchemy import func, select

from cabinet.interfaces import IPaymentProvider
from cabinet.models import CareItem, HistoryEntry, Node, OnlinePayment
from cabinet.payment_provider import SIGNATURE_HEADER
from tests.conftest import Api
from tests.live import race_raw, serving
from tests.test_appointments import patient_token

LEROY = "/cabinets/parc/patients/leroy"
CLIENTS = 10


@pytest.fixture
def lea(demo, testapp):
    return Api(testapp, patient_token(testapp, demo.registry))


def signed(registry, reference, amount="290.00"):
    body = json.dumps({"reference": reference, "status": "approved",
                       "amount": amount}).encode()
    headers = {"Content-Type": "application/json", "Accept": "application/json",
               SIGNATURE_HEADER: registry.getUtility(IPaymentProvider).sign(body)}
    return ("POST", "/@payment-callback", body, headers)


def paid_and_history(engine):
    with engine.connect() as conn:
        paid = conn.scalar(select(func.sum(CareItem.__table__.c.amount_paid)).where(
            CareItem.__table__.c.patient_id == select(Node.id).where(
                Node.path == LEROY + "/").scalar_subquery()))
        node_id = conn.scalar(select(Node.id).where(Node.path == LEROY + "/"))
        actions = conn.execute(select(HistoryEntry.action).where(
            HistoryEntry.node_id == node_id)).scalars().all()
        states = conn.execute(select(OnlinePayment.state)).scalars().all()
    return Decimal(paid), sorted(actions), sorted(states)


def test_concurrent_approvals_never_pay_more_than_is_due(demo, engine, lea):
    references = [lea.post(LEROY + "/@pay", {"amount": "290"}, status=201).json["reference"]
                  for _ in range(CLIENTS)]
    with serving(demo) as address:
        results = race_raw(address, [signed(demo.registry, ref) for ref in references])
    assert all(status == 200 for status, _ in results), results
    outcomes = sorted(json.loads(body)["status"] for _, body in results)
    assert outcomes == ["approved"] + ["refused"] * (CLIENTS - 1)
    paid, actions, states = paid_and_history(engine)
    assert paid == Decimal("355.00")          # 65.00 before + 290.00: all that was due
    assert actions == ["payment"] + ["payment_refused"] * (CLIENTS - 1)
    assert states == ["approved"] + ["refused"] * (CLIENTS - 1)
    assert len(demo.registry.getUtility(IMailer).outbox) == 1
    assert lea.get(LEROY + "/@payments").json["balance"] == "0.00"


def test_replays_of_one_approval_at_the_same_instant_apply_it_once(demo, engine, lea):
    reference = lea.post(LEROY + "/@pay", {"amount": "100"}, status=201).json["reference"]
    with serving(demo) as address:
        results = race_raw(address, [signed(demo.registry, reference, "100.00")] * CLIENTS)
    assert all(status == 200 for status, _ in results), results
    outcomes = sorted(json.loads(body)["status"] for _, body in results)
    assert outcomes == ["already processed"] * (CLIENTS - 1) + ["approved"]
    paid, actions, _states = paid_and_history(engine)
    assert paid == Decimal("165.00") and actions == ["payment"]
    assert len(demo.registry.getUtility(IMailer).outbox) == 1
