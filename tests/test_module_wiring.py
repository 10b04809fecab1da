"""The module switches (issue #10, K2) on the portal's payments, messaging and
reminders (issue #9, P2, P3, P7): switched off, a module leaves the patient's pages and
API at once, the cabinet's side keeps it; the payment options (online payment, only
due installments) change what may be paid."""
from datetime import datetime

import pytest

from cabinet.interfaces import ISmsGateway
from tests.test_modules import HUGO, LEROY, PARC, switch
from tests.test_modules import lea as lea_signed_in  # noqa: F401 (fixture)
from tests.test_reminders import run


@pytest.fixture
def lea(lea_signed_in, registry):  # noqa: F811
    """Léa Leroy (patient, and Hugo's guardian) with a bearer token; her login code
    is out of the SMS outbox."""
    registry.getUtility(ISmsGateway).outbox.clear()
    return lea_signed_in


def test_payments_off_leaves_the_portal_and_its_api(admin, lea, api):
    assert {r["id"] for r in lea.get("/@my-payments").json["items"]} == {
        "leroy", "hugo-leroy"}
    switch(admin, payments={"enabled": False})
    assert lea.get("/@my-payments").json["items"] == []
    response = lea.get(f"{LEROY}/@payments", status=404)
    assert "pas proposé par votre cabinet" in response.json["message"]
    lea.post(f"{LEROY}/@pay", {"amount": "10.00"}, status=404)
    # the cabinet's side keeps the care items
    assert api("dr.martin").get(f"{LEROY}/@payments").json["balance"] == "290.00"


def test_payments_for_minors_follow_their_option(admin, lea):
    switch(admin, payments={"enabled": True, "minors_access": False})
    assert {r["id"] for r in lea.get("/@my-payments").json["items"]} == {"leroy"}
    lea.get(f"{HUGO}/@payments", status=404)
    switch(admin, payments={"minors_access": True})
    assert lea.get(f"{HUGO}/@payments").status_int == 200


def test_without_online_payment_the_balance_shows_but_nothing_is_paid(admin, lea):
    switch(admin, payments={"online_payment": False})
    record = lea.get(f"{LEROY}/@payments").json
    assert record["balance"] == "290.00" and record["can_pay"] is False
    response = lea.post(f"{LEROY}/@pay", {"amount": "10.00"}, status=404)
    assert "paiement en ligne" in response.json["message"]


def test_only_due_installments_limit_what_may_be_paid(admin, lea):
    """Léa owes 290.00, of which the consultation's 250.00 falls due later."""
    assert lea.get(f"{LEROY}/@payments").json["payable"] == "290.00"
    switch(admin, payments={"only_due_installments": True})
    record = lea.get(f"{LEROY}/@payments").json
    assert record["balance"] == "290.00" and record["payable"] == "40.00"
    response = lea.post(f"{LEROY}/@pay", {"amount": "50.00"}, status=422)
    assert "amount" in response.json["errors"]


def test_messaging_off_leaves_the_portal_the_console_keeps_it(admin, lea, api):
    assert any(r["patient"]["@id"].endswith(LEROY)
               for r in lea.get("/@my-messages").json["items"])
    switch(admin, messaging={"enabled": False})
    assert lea.get("/@my-messages").json["items"] == []
    lea.get(f"{LEROY}/@messages", status=404)
    lea.post(f"{LEROY}/@messages", {"text": "Bonjour"}, status=404)
    martin = api("dr.martin")
    assert martin.get(f"{LEROY}/@messages").status_int == 200
    assert martin.get(f"{PARC}/@messages").status_int == 200


def test_appointments_off_no_reminder_leaves(admin, lea, registry, clock, api):
    switch(admin, appointments={"enabled": False})
    clock.set(datetime(2026, 3, 12, 11, 0, 40))     # Léa's reminder would be due now
    assert run(registry)["reminders"] == (True, "0 queued")
    assert registry.getUtility(ISmsGateway).outbox == []
    switch(api("admin"), appointments={"enabled": True})    # (a new token: time moved)
    assert run(registry)["reminders"] == (True, "1 queued")
    assert len(registry.getUtility(ISmsGateway).outbox) == 1
