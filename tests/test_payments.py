"""Patient payments (issue #9, P2): the care items a patient and a guardian see (label,
date, amounts, due date, overdue warning, balance), "payer en ligne" (pre-filled with
what is due, any amount up to it, never more, never zero or less, an e-mail
required), the fake provider's page, the signed and idempotent callback, the receipt
mail, the history entry, the staff's care items, and another patient's ids."""
import json
import re
from decimal import Decimal
from urllib.parse import urlparse

import pytest
from pyramid_mailer.interfaces import IMailer
from sqlalchemy import func, select

from cabinet.interfaces import IPaymentProvider
from cabinet.models import CareItem, HistoryEntry, Node, OnlinePayment, Patient
from cabinet.payment_provider import SIGNATURE_HEADER
from cabinet.payments import parse_amount
from tests.conftest import last_form, login

PARC = "/cabinets/parc"
LEROY = f"{PARC}/patients/leroy"
HUGO = f"{PARC}/patients/hugo-leroy"
BERNARD = f"{PARC}/patients/bernard"
JSON = {"Accept": "application/json"}
# the clock stands at 2026-03-10: Léa owes 40.00 (détartrage, overdue) + 250.00
# (couronne, due 06/04); her consultation is paid. Hugo owes 80.00 (overdue).


@pytest.fixture
def lea(lea_page):
    return lea_page


def csrf(page):
    return page.html.select_one("input[name=csrf_token]")["value"]


def outbox(registry):
    return registry.getUtility(IMailer).outbox


def record_section(page, name):
    return page.html.select_one(f"section.payment-record[data-record={name}]")


def amounts(db, path):
    with db() as request:
        item = request.dbsession.scalar(select(CareItem).where(CareItem.path == path + "/"))
        return item.amount_due, item.amount_paid


def history(db, path, action=None):
    with db() as request:
        node_id = request.dbsession.scalar(select(Node.id).where(Node.path == path + "/"))
        query = select(HistoryEntry).where(HistoryEntry.node_id == node_id) \
            .order_by(HistoryEntry.id)
        if action:
            query = query.where(HistoryEntry.action == action)
        return [(e.action, e.comment, e.details) for e in request.dbsession.scalars(query)]


def payments(db):
    with db() as request:
        return [(p.state, p.amount) for p in request.dbsession.scalars(
            select(OnlinePayment).order_by(OnlinePayment.id))]


def callback(testapp, registry, reference, outcome, amount, signature=None, **kw):
    provider = registry.getUtility(IPaymentProvider)
    body = json.dumps({"reference": reference, "status": outcome,
                       "amount": amount}).encode()
    headers = {"Content-Type": "application/json", "Accept": "application/json",
               SIGNATURE_HEADER: signature if signature is not None else provider.sign(body)}
    return testapp.post("/@payment-callback", body, headers=headers, **kw)


# -- what the patient sees --------------------------------------------------------------------

def test_the_page_shows_each_records_care_items_overdue_warning_and_balance(lea):
    page = lea.get("/@@my-payments")
    mine = record_section(page, "leroy")
    assert "Pour Léa Leroy" in mine.text
    assert "290,00 €" in mine.select_one(".balance").text
    items = {li["data-id"]: li for li in mine.select("li.care-item")}
    assert set(items) == {"detartrage", "consultation", "couronne"}
    scaling = items["detartrage"].get_text(" ", strip=True)
    assert "Détartrage" in scaling and "Dû 60,00 €" in scaling
    assert "Réglé 20,00 €" in scaling and "Échéance 28/02/2026" in scaling
    assert "Soin du 29/01/2026" in scaling and "En retard" in scaling
    assert "overdue" in items["detartrage"]["class"]
    assert "En retard" not in items["couronne"].text
    assert "Réglé" in items["consultation"].select_one(".paid").text
    assert "Honoraires en retard" in mine.select_one(".overdue-warning").text
    # pre-filled with what is due; her record has an e-mail: none asked
    assert mine.select_one("input[name=amount]")["value"] == "290.00"
    assert mine.select_one("input[name=email]") is None
    hugo = record_section(page, "hugo-leroy")
    assert "Pour Hugo Leroy" in hugo.text and "80,00 €" in hugo.select_one(".balance").text
    assert hugo.select_one("input[name=email]") is not None     # his record has none
    assert record_section(page, "bernard") is None


def test_the_json_lists_the_same_with_amounts_as_strings(lea_api):
    data = lea_api.get("/@my-payments").json
    records = {r["id"]: r for r in data["items"]}
    assert set(records) == {"leroy", "hugo-leroy"}
    lea = records["leroy"]
    assert lea["@id"].endswith(LEROY) and lea["currency"] == "EUR"
    assert (lea["amount_due"], lea["amount_paid"], lea["balance"], lea["payable"]) == \
        ("355.00", "65.00", "290.00", "290.00")
    assert lea["overdue"] is True and lea["email_required"] is False
    items = {i["id"]: i for i in lea["items"]}
    assert items["detartrage"] == {
        "@id": items["detartrage"]["@id"], "@type": "CareItem", "id": "detartrage",
        "title": "Détartrage", "date": "2026-01-29", "due_date": "2026-02-28",
        "amount_due": "60.00", "amount_paid": "20.00", "remaining": "40.00",
        "overdue": True}
    assert items["consultation"]["overdue"] is False
    assert records["hugo-leroy"]["email_required"] is True
    assert lea_api.get(LEROY + "/@payments").json["balance"] == "290.00"


def test_staff_see_a_records_payments_and_another_patient_sees_nothing(demo, api, testapp):
    martin = api("dr.martin")
    assert martin.get(LEROY + "/@payments").json["balance"] == "290.00"
    assert martin.get("/@my-payments").json["items"] == []
    page = testapp.get(LEROY + "/payments", headers={"Accept": "text/html"},
                       expect_errors=True)
    assert page.status_int in (302, 303)


# -- paying -----------------------------------------------------------------------------

def provider_form(page):
    return next(f for f in page.forms.values() if f.action.endswith("/@@fake-payment"))


def pay_from_page(lea, record="leroy", **fields):
    page = lea.get("/@@my-payments")
    form = next(f for f in page.forms.values()
                if f.action.endswith(f"/patients/{record}/@@pay"))
    for key, value in fields.items():
        form[key] = value
    return form.submit(expect_errors=True)


def test_paying_online_from_the_page_through_the_fake_provider(lea, db, registry):
    answer = pay_from_page(lea, amount="40,00")
    assert answer.status_int == 303
    provider = lea.get(answer.location)
    assert "40,00 €" in provider.text and "simulation" in provider.text
    done = provider_form(provider).submit("decision", value="approve")
    assert done.status_int == 303 and done.location.endswith("/@@my-payments")
    page = done.follow()
    assert "Paiement de 40,00 € accepté" in page.text
    mine = record_section(page, "leroy")
    assert "250,00 €" in mine.select_one(".balance").text
    assert "En retard" not in mine.text            # the overdue item is paid now
    assert amounts(db, LEROY + "/payments/detartrage") == (Decimal("60.00"),
                                                           Decimal("60.00"))
    # the receipt, to the record's address; the entry in the record's history
    [mail] = outbox(registry)
    assert mail.recipients == ["lea.leroy@example.org"]
    assert "40,00 €" in mail.body and "Détartrage" in mail.body
    assert "Reste dû : 250,00 €" in mail.body
    [(action, comment, details)] = history(db, LEROY, "payment")
    assert "Paiement en ligne de 40,00 € reçu" in comment
    assert details["amount"] == "40.00" and details["payer"] == "p.leroy"


def test_declined_by_the_bank_nothing_is_paid_nothing_is_sent(lea, db, registry):
    answer = pay_from_page(lea, amount="10")
    done = provider_form(lea.get(answer.location)).submit("decision", value="decline")
    assert "refusé" in done.follow().text
    assert amounts(db, LEROY + "/payments/detartrage")[1] == Decimal("20.00")
    assert outbox(registry) == []
    assert [a for a, _c, _d in history(db, LEROY)] == ["payment_declined"]


@pytest.mark.parametrize("amount, message", [
    ("290.01", "Le montant ne peut pas dépasser ce qui est dû : 290,00 €."),
    ("1000", "Le montant ne peut pas dépasser ce qui est dû : 290,00 €."),
    ("0", "Le montant doit être supérieur à zéro."),
    ("-5", "Le montant doit être supérieur à zéro."),
    ("douze", "Indiquez un montant en euros, par exemple 45,50."),
    ("12.345", "Indiquez un montant en euros, par exemple 45,50."),
    ("NaN", "Indiquez un montant en euros, par exemple 45,50."),
])
def test_bad_amounts_are_refused_with_a_clear_message_and_nothing_changes(
        lea, lea_api, db, registry, amount, message):
    answer = pay_from_page(lea, amount=amount)
    assert answer.status_int == 422
    error = record_section(answer, "leroy").select_one(".field-error")
    assert error.text.strip() == message
    refused = lea_api.post(LEROY + "/@pay", {"amount": amount}, status=422)
    assert refused.json["message"] == message
    assert refused.json["errors"]["amount"] == message
    assert payments(db) == [] and outbox(registry) == []


def test_an_email_is_required_before_paying(lea, lea_api, db, registry, testapp):
    """Hugo's record has no e-mail: the API refuses without one, the page asks for it
    (pre-filled with the account's); the address goes with the payment (the receipt
    goes there), the record is not changed (P4: staff accept changes)."""
    refused = lea_api.post(HUGO + "/@pay", {"amount": "80"}, status=422)
    assert "adresse e-mail est obligatoire" in refused.json["message"]
    lea_api.post(HUGO + "/@pay", {"amount": "80", "email": "pas une adresse"}, status=422)
    page = lea.get("/@@my-payments")
    field = record_section(page, "hugo-leroy").select_one("input[name=email]")
    assert field["value"] == "lea.leroy@example.org"
    answer = pay_from_page(lea, "hugo-leroy", amount="80", email="")
    assert answer.status_int == 422
    assert "obligatoire" in record_section(answer, "hugo-leroy").select_one(
        ".field-error").text
    assert payments(db) == []
    answer = pay_from_page(lea, "hugo-leroy", amount="80", email="parents@example.org")
    assert answer.status_int == 303
    assert payments(db) == [("pending", Decimal("80.00"))]
    provider_form(lea.get(answer.location)).submit("decision", value="approve")
    [mail] = outbox(registry)
    assert mail.recipients == ["parents@example.org"] and "Hugo Leroy" in mail.body
    with db() as request:
        assert request.dbsession.scalar(select(Patient.email).where(
            Patient.path == HUGO + "/")) == ""
    assert [a for a, _c, _d in history(db, HUGO)] == ["payment"]


def test_json_payment_then_signed_callback_replayed_and_forged(lea_api, testapp, registry,
                                                             db):
    created = lea_api.post(LEROY + "/@pay", {"amount": "100.50"}, status=201).json
    assert created["review_state"] == "pending" and created["amount"] == "100.50"
    assert urlparse(created["redirect_url"]).path == "/@@fake-payment"
    ref = created["reference"]
    # forged: a wrong signature, then none; nothing changes
    forged = callback(testapp, registry, ref, "approved", "100.50",
                      signature="0" * 64, status=400)
    assert "Signature" in forged.json["message"]
    callback(testapp, registry, ref, "approved", "100.50", signature="", status=400)
    assert payments(db) == [("pending", Decimal("100.50"))]
    # the amount must be the payment's
    callback(testapp, registry, ref, "approved", "290.00", status=400)
    ok = callback(testapp, registry, ref, "approved", "100.50", status=200).json
    assert ok["status"] == "approved"
    # spread: 40.00 on the overdue scaling, 60.50 on the crown
    assert amounts(db, LEROY + "/payments/detartrage")[1] == Decimal("60.00")
    assert amounts(db, LEROY + "/payments/couronne")[1] == Decimal("60.50")
    assert len(outbox(registry)) == 1
    again = callback(testapp, registry, ref, "approved", "100.50", status=200).json
    assert again["status"] == "already processed"
    assert callback(testapp, registry, ref, "declined", "100.50").json["status"] == \
        "already processed"
    assert amounts(db, LEROY + "/payments/couronne")[1] == Decimal("60.50")
    assert len(outbox(registry)) == 1
    assert len(history(db, LEROY, "payment")) == 1
    assert lea_api.get("/@my-payments").json["items"][1]["balance"] == "189.50"
    callback(testapp, registry, "unknown", "approved", "1.00", status=404)


def test_two_payments_that_together_exceed_what_is_due(lea_api, testapp, registry, db):
    """Both are created (each is within what is due); the second approval is refused
    and recorded as such: the record is never paid more than is due."""
    first = lea_api.post(LEROY + "/@pay", {"amount": "200"}, status=201).json
    second = lea_api.post(LEROY + "/@pay", {"amount": "200"}, status=201).json
    assert callback(testapp, registry, first["reference"], "approved",
                    "200.00").json["status"] == "approved"
    refused = callback(testapp, registry, second["reference"], "approved", "200.00").json
    assert refused["status"] == "refused" and "90,00 €" in refused["message"]
    assert lea_api.get(LEROY + "/@payments").json["balance"] == "90.00"
    assert [a for a, _c, _d in history(db, LEROY)] == ["payment", "payment_refused"]
    assert len(outbox(registry)) == 1
    # the page now offers at most what is left
    refused = lea_api.post(LEROY + "/@pay", {"amount": "90.01"}, status=422)
    assert "90,00 €" in refused.json["message"]


def test_paying_one_care_item_only(lea_api, testapp, registry, db):
    item = LEROY + "/payments/couronne"
    lea_api.post(item + "/@pay", {"amount": "250.01"}, status=422)
    created = lea_api.post(item + "/@pay", {"amount": "250"}, status=201).json
    callback(testapp, registry, created["reference"], "approved", "250.00")
    assert amounts(db, item)[1] == Decimal("250.00")
    assert amounts(db, LEROY + "/payments/detartrage")[1] == Decimal("20.00")
    lea_api.post(item + "/@pay", {"amount": "1"}, status=422)   # nothing due any more


# -- another patient's ids, and the cabinet's side ------------------------------------------

def test_another_patients_record_and_items_are_refused(lea_api, db, api):
    lea_api.post(BERNARD + "/@pay", {"amount": "1"}, status=403)
    lea_api.get(BERNARD + "/@payments", status=403)
    staff = api("dr.martin")
    staff.post(BERNARD + "/payments", {"@type": "CareItem", "title": "Soin",
                                       "amount_due": "10"}, status=201)
    lea_api.post(BERNARD + "/payments/soin/@pay", {"amount": "1"}, status=403)
    lea_api.get(BERNARD + "/payments/soin", status=403)
    lea_api.post(LEROY + "/payments/nothing-here/@pay", {"amount": "1"}, status=404)
    # staff do not pay for the patient
    staff.post(LEROY + "/@pay", {"amount": "1"}, status=403)
    assert payments(db) == []


def test_staff_record_care_items_in_json_and_on_the_page(demo, api, testapp, db):
    staff = api("dr.martin")
    created = staff.post(LEROY, {"@type": "CareItem", "title": "Radiographie",
                                 "care_date": "2026-03-09", "due_date": "2026-04-09",
                                 "amount_due": "35.5"}, status=201).json
    assert created["@type"] == "CareItem" and created["amount_due"] == "35.50"
    assert created["amount_paid"] == "0.00" and created["overdue"] is False
    bad = staff.post(LEROY + "/payments", {"@type": "CareItem", "title": "X",
                                           "amount_due": "-3", "amount_paid": "abc"},
                     status=422).json
    assert set(bad["errors"]) == {"amount_due", "amount_paid"}
    staff.post(LEROY + "/payments", {"@type": "CareItem", "title": "X", "amount_due": "3",
                                     "amount_paid": "4"}, status=422)
    staff.patch(created["@id"], {"amount_paid": "10"}, status=200)
    assert amounts(db, LEROY + "/payments/radiographie")[1] == Decimal("10.00")
    staff.delete(LEROY + "/payments/consultation", status=409)   # paid: kept
    staff.delete(created["@id"] + "-absent", status=404)
    # the page's form
    login(testapp, "dr.martin")
    page = testapp.get(LEROY + "/payments", headers={"Accept": "text/html"})
    assert "Détartrage" in page.text and "Nouvelle prestation" in page.text
    item = testapp.get(LEROY + "/payments/detartrage", headers={"Accept": "text/html"})
    fields = item.html.select_one("dl.fields").get_text(" ", strip=True)
    assert "Montant dû 60,00 €" in fields and "Reste dû 40,00 €" in fields
    assert "Échéance" in fields
    form = last_form(page)
    form["title"], form["amount_due"], form["due_date"] = "Empreinte", "12,00", "2026-02-01"
    shown = form.submit().follow(headers={"Accept": "text/html"})
    row = shown.html.select_one("tr[data-id=empreinte]")
    assert "12,00 €" in row.text and "En retard" in row.text
    form = last_form(shown)
    form["title"], form["amount_due"] = "Rien", "0"
    refused = form.submit(expect_errors=True)
    assert refused.status_int == 422 and "supérieur à zéro" in refused.text


def test_patients_cannot_record_or_change_care_items(lea_api, db):
    lea_api.post(LEROY + "/payments", {"@type": "CareItem", "title": "X",
                                       "amount_due": "1"}, status=403)
    lea_api.patch(LEROY + "/payments/detartrage", {"amount_paid": "60"}, status=403)
    lea_api.delete(LEROY + "/payments/detartrage", status=403)
    assert amounts(db, LEROY + "/payments/detartrage")[1] == Decimal("20.00")


def test_the_provider_page_is_only_the_payers(lea_api, testapp, api):
    created = lea_api.post(LEROY + "/@pay", {"amount": "5"}, status=201).json
    login(testapp, "dr.martin")
    testapp.get(created["redirect_url"], status=404, headers={"Accept": "text/html"})


def test_the_page_works_at_phone_width_markup(lea):
    page = lea.get("/@@my-payments")
    assert page.html.select_one("meta[name=viewport]") is not None
    assert page.html.select_one("label[for=amount-leroy]") is not None


def test_the_pages_query_count_does_not_grow_with_the_items(lea_api, api, demo):
    from tests.views.test_query_budget import selects, statements
    engine = demo.registry["db_engine"]

    def cost():
        with statements(engine) as seen:
            lea_api.get("/@my-payments")
        return len(selects(seen))

    before = cost()
    staff = api("dr.martin")
    for n in range(5):
        staff.post(HUGO + "/payments", {"@type": "CareItem", "title": f"Soin {n}",
                                        "amount_due": "10"}, status=201)
    for _ in range(3):
        lea_api.post(LEROY + "/@pay", {"amount": "1"}, status=201)
    assert cost() == before


def test_the_home_page_links_to_my_payments(lea):
    home = lea.get("/")
    link = home.html.find("a", string="Mes paiements")
    assert link["href"].endswith("/@@my-payments")


@pytest.mark.parametrize("body, status", [
    ({"amount": True}, 422), ({"amount": None}, 422), ({"amount": [1]}, 422),
    ({"amount": "1e999"}, 422), ({"amount": "Infinity"}, 422), ({}, 422),
    ([1], 400), ({"amount": 40.5}, 201), ({"amount": 40}, 201),
    ({"amount": " 12,30 € "}, 201),
])
def test_json_amounts_of_every_kind(lea_api, db, body, status):
    response = lea_api.post(LEROY + "/@pay", body, status=status)
    if status == 201:
        assert parse_amount(response.json["amount"]) == parse_amount(
            body["amount"] if not isinstance(body["amount"], str) else "12.30")
        assert payments(db) == [("pending", parse_amount(response.json["amount"]))]
    else:
        assert payments(db) == []
