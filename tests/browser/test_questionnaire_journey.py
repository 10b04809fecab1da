"""Journey (Q2-Q4): staff send the medical questionnaire from the patient's page; the
patient opens "Mes formulaires", sees the conditional question appear when she
answers "Oui" (static/questionnaires.js), saves a draft, gets an error next to the
field, submits; staff validate; she signs with a code received by SMS."""
import re

from playwright.sync_api import expect

from cabinet.interfaces import ISmsGateway
from tests.browser.conftest import log_in, screenshot

LEROY = "/cabinets/parc/patients/leroy"


def test_a_questionnaire_from_sending_to_signature(person, registry):
    doctor = person()
    log_in(doctor, "dr.martin")
    doctor.goto(LEROY)
    doctor.get_by_label("Modèle").select_option("questionnaire-medical")
    doctor.get_by_label("Praticien").select_option("martin")
    doctor.get_by_role("button", name="Envoyer le questionnaire").click()
    assert "Questionnaire « Questionnaire médical » envoyé à Léa Leroy" in \
        doctor.locator(".flash").inner_text()

    patient = person()
    log_in(patient, "p.leroy")
    patient.goto(LEROY)
    patient.get_by_role("link", name="Mes formulaires").click()
    patient.locator("#to_fill").get_by_role("link").first.click()
    expect(patient.locator("#item-q-medicaments")).to_be_visible()
    conditional = patient.locator("#item-q-lesquels")
    expect(conditional).to_be_hidden()                  # hidden until "Oui"
    patient.locator("#item-q-medicaments").get_by_label("Oui").check()
    expect(conditional).to_be_visible()
    patient.locator("#item-q-medicaments").get_by_label("Non").check()
    expect(conditional).to_be_hidden()
    patient.locator("#item-q-medicaments").get_by_label("Oui").check()
    patient.get_by_label("Cigarettes par jour").fill("500")
    patient.get_by_role("button", name="Enregistrer le brouillon").click()
    assert "La valeur doit être au plus 100." in \
        patient.locator("#error-q-cigarettes").inner_text()
    assert patient.get_by_label("Cigarettes par jour").input_value() == "500"
    expect(conditional).to_be_visible()                 # the typed answers are kept
    screenshot(patient, "questionnaire-fill-errors")
    patient.get_by_label("Cigarettes par jour").fill("3")
    patient.get_by_role("button", name="Enregistrer le brouillon").click()
    assert "Brouillon enregistré" in patient.locator(".flash").inner_text()
    patient.get_by_label("Lesquels ?").fill("Doliprane 1 g")
    patient.get_by_role("button", name="Envoyer", exact=True).click()
    assert "a été envoyé au cabinet" in patient.locator(".flash").inner_text()
    response_url = patient.locator("#done").get_by_role("link").first.get_attribute("href")

    doctor.goto(response_url)
    assert "Doliprane 1 g" in doctor.locator("dl.answers").inner_text()
    doctor.get_by_role("button", name="Valider").click()
    assert doctor.locator(".badge").inner_text() == "Validé"

    patient.goto(response_url)
    patient.get_by_role("button", name="Recevoir un code par SMS").click()
    outbox = registry.getUtility(ISmsGateway).outbox
    code = re.search(r"\b(\d{6})\b", outbox[-1]["text"]).group(1)
    patient.get_by_label("Code reçu par SMS").fill(code)
    patient.get_by_role("button", name="Signer").click()
    assert patient.locator(".badge").inner_text() == "Signé"
    screenshot(patient, "questionnaire-signed")
    patient.get_by_role("link", name="Preuve de signature").click()
    assert "Empreinte SHA-256 des réponses signées" in patient.locator("body").inner_text()
