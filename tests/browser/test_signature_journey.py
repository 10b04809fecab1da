"""Journey 2 (C1, C2, A3, C4): staff upload a document that needs the patient's
signature and send it; the patient logs in with phone, names, birth date and the
code received by SMS, opens the document, asks for a signing code and signs; staff
see it signed, with its evidence."""
import re

from cabinet.interfaces import ISmsGateway
from cabinet.sample_files import make_pdf
from tests.browser.conftest import ask_for_a_login_code, log_in, screenshot

DOCUMENTS = "/cabinets/parc/patients/leroy/documents"
TITLE = "Plan de traitement implantaire"


def last_code(registry, count):
    """The code of the ``count``-th SMS sent (the SMS gateway of the tests)."""
    outbox = registry.getUtility(ISmsGateway).outbox
    assert len(outbox) == count, outbox
    assert outbox[-1]["to"] == "+352621123456"
    return re.search(r"\b(\d{6})\b", outbox[-1]["text"]).group(1)


def test_staff_send_a_document_the_patient_signs_by_sms(person, registry, tmp_path):
    pdf = tmp_path / "plan-de-traitement.pdf"
    pdf.write_bytes(make_pdf(TITLE, "Cabinet dentaire du Parc"))

    # staff upload the document to Léa Leroy's record and send it
    doctor = person()
    log_in(doctor, "dr.martin")
    doctor.goto(DOCUMENTS)
    doctor.get_by_label("Fichier").set_input_files(str(pdf))
    doctor.get_by_label("Titre").fill(TITLE)
    doctor.get_by_label("Le patient doit le signer").check()
    doctor.get_by_role("button", name="Envoyer le fichier").click()
    assert f"« {TITLE} » ajouté." in doctor.locator("body").inner_text()
    doctor.get_by_role("link", name=TITLE).click()
    assert doctor.locator(".badge").inner_text() == "En attente"
    doctor.get_by_role("button", name="Envoyer", exact=True).click()
    assert doctor.locator(".badge").inner_text() == "Envoyé"
    document_url = doctor.url

    # the patient logs in with her phone, names, birth date and the SMS code
    patient = person()
    patient.goto("/patient/login")
    ask_for_a_login_code(patient)
    assert "+352••••••456" in patient.locator(".sent-to").inner_text()
    patient.get_by_label("Code reçu par SMS").fill(last_code(registry, 1))
    patient.get_by_role("button", name="Se connecter").click()
    assert "Mes dossiers" in patient.locator("h1").inner_text()

    # she opens the document, asks for a code and signs
    patient.get_by_role("link", name="Léa Leroy").click()
    patient.get_by_role("link", name=TITLE).click()
    assert patient.locator(".badge").inner_text() == "Envoyé"
    patient.get_by_role("button", name="Recevoir un code par SMS").click()
    assert "Un code de signature a été envoyé au +352••••••456." in \
        patient.locator("body").inner_text()
    patient.get_by_label("Code reçu par SMS").fill(last_code(registry, 2))
    patient.get_by_role("button", name="Signer").click()
    assert patient.locator(".badge").inner_text() == "Signé"
    screenshot(patient, "journey2-patient-signed")

    # staff see it signed, with its evidence
    doctor.goto(document_url)
    assert doctor.locator(".badge").inner_text() == "Signé"
    doctor.get_by_role("link", name="Preuve de signature").click()
    evidence = doctor.locator(".signature-evidence")
    assert "Léa Leroy (p.leroy)" in evidence.locator("[data-field=signer]").inner_text()
    assert evidence.locator("[data-field=otp_sent_to]").inner_text() == "+352••••••456"
    assert re.fullmatch(r"[0-9a-f]{64}",
                        evidence.locator("[data-field=signed_sha256]").inner_text())
    assert "Chrome" in evidence.locator("[data-field=user_agent]").inner_text()
    screenshot(doctor, "journey2-evidence")
