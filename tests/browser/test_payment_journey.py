"""Journey (issue #9, P2): on a phone, Léa Leroy opens "Mes paiements", sees the
overdue warning and her balance, pays part of it online through the development
provider's page, and sees the balance updated; staff record a new care item on the
record's payments page. axe-core finds no serious violation on the pages, which fit a
390 px wide phone."""
from tests.browser.axe import describe
from tests.browser.conftest import PHONE, log_in
from tests.browser.test_accessibility import check, fits_a_phone

LEROY = "/cabinets/parc/patients/leroy"


def test_a_patient_pays_part_of_her_balance_on_her_phone(person, axe_source):
    found = {}
    page = person()
    log_in(page, "p.leroy")
    page.set_viewport_size(PHONE)
    page.goto("/@@my-payments")
    record = page.locator("section.payment-record")
    assert "290,00 €" in record.locator(".balance").inner_text()
    assert "Honoraires en retard" in record.inner_text()
    amount = page.get_by_label("Montant à payer (€)")
    assert amount.input_value() == "290.00"
    check(page, axe_source, found, "my payments")
    assert fits_a_phone(page) == (True, [])
    amount.fill("300")
    page.get_by_role("button", name="Payer en ligne").click()
    assert "ne peut pas dépasser ce qui est dû : 290,00 €" in page.locator(
        ".field-error").inner_text()
    check(page, axe_source, found, "my payments, refused amount")
    page.get_by_label("Montant à payer (€)").fill("40,00")
    page.get_by_role("button", name="Payer en ligne").click()
    assert "40,00 €" in page.locator(".fake-payment").inner_text()
    check(page, axe_source, found, "fake provider")
    page.get_by_role("button", name="Approuver le paiement").click()
    body = page.locator("body").inner_text()
    assert "Paiement de 40,00 € accepté" in body
    assert "250,00 €" in page.locator("section.payment-record .balance").inner_text()
    assert "En retard" not in page.locator("section.payment-record").inner_text()
    assert found == {}, describe(found)


def test_staff_record_a_care_item(person, axe_source):
    found = {}
    page = person()
    log_in(page, "dr.martin")
    page.goto(f"{LEROY}/payments")
    check(page, axe_source, found, "payments (staff)")
    page.get_by_label("Libellé").fill("Radiographie panoramique")
    page.get_by_label("Montant dû (€)").fill("35,50")
    page.get_by_label("Échéance").fill("2026-04-10")
    page.get_by_role("button", name="Enregistrer la prestation").click()
    assert "Prestation enregistrée : Radiographie panoramique (35,50 €)." in \
        page.locator("body").inner_text()
    assert "Radiographie panoramique" in page.locator("table").inner_text()
    assert found == {}, describe(found)
