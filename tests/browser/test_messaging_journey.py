"""Journey (issue #9, P3): Léa Leroy, on her phone, reads the cabinet's answer and
sends a photo; dr.martin finds her message in the console, answers with a reply
template that carries a PDF, and files her photo into her documents; Léa then reads
the answer and downloads its PDF. axe-core finds no serious violation on the pages,
and the patient's page fits a 390 px phone."""
from cabinet.sample_files import make_png
from tests.browser.axe import audit, describe
from tests.browser.conftest import PHONE, follow, log_in, screenshot
from tests.browser.test_accessibility import fits_a_phone

PARC = "/cabinets/parc"
LEROY = f"{PARC}/patients/leroy"


def test_a_patient_and_her_cabinet_exchange_messages(person, axe_source, tmp_path):
    found = {}

    def check(page, name):
        violations = audit(page, axe_source)
        if violations:
            found[name] = violations

    photo = tmp_path / "gencive.png"
    photo.write_bytes(make_png())

    # Léa, on her phone: the cabinet's last answer, then her photo
    lea = person()
    lea.set_viewport_size(PHONE)
    log_in(lea, "p.leroy")
    lea.goto("/@@my-messages")
    assert lea.locator("h1").inner_text() == "Messagerie"
    assert "rien d'inquiétant" in lea.locator("li.message").last.inner_text()
    check(lea, "patient messages")
    fits, wide = fits_a_phone(lea)
    assert fits, wide
    lea.get_by_label("Votre message").fill("Voici une autre photo, la douleur revient.")
    lea.get_by_label("Pièce jointe (facultative)").set_input_files(str(photo))
    lea.get_by_role("button", name="Envoyer").click()
    assert "Message envoyé." in lea.locator(".flash").inner_text()
    last = lea.locator("li.message").last
    assert "la douleur revient" in last.inner_text() and "gencive.png" in last.inner_text()
    screenshot(lea, "messaging-patient")

    # dr.martin: the console, her conversation, a reply template, filing her photo
    doctor = person()
    log_in(doctor, "dr.martin")
    doctor.goto(PARC)
    doctor.locator(".message-links").get_by_role("link", name="Messagerie").click()
    assert "1 message(s) non lu(s)" in doctor.locator("header").last.inner_text()
    check(doctor, "messages console")
    doctor.get_by_role("link", name="Léa Leroy").click()
    assert doctor.locator("h1").inner_text() == "Messages"
    check(doctor, "conversation (staff)")
    doctor.get_by_label("Modèle de réponse").select_option(
        label="Consignes après extraction (avec pièce jointe)")
    follow(doctor.get_by_role("button", name="Utiliser ce modèle"))
    assert doctor.get_by_label("Votre réponse").input_value().startswith(
        "Bonjour, vous trouverez ci-joint les consignes")
    doctor.get_by_role("button", name="Envoyer").click()
    assert "Réponse envoyée." in doctor.locator(".flash").inner_text()
    filing = doctor.locator("form.file-attachment").last
    filing.get_by_label("Classer dans les documents, type :").select_option(
        label="Radiographie")
    filing.get_by_label("Titre du document").fill("Photo de la gencive")
    filing.get_by_role("button", name="Classer").click()
    assert "« Photo de la gencive »" in doctor.locator(".flash").inner_text()
    check(doctor, "conversation after filing")
    screenshot(doctor, "messaging-staff")
    doctor.goto(f"{PARC}/@@message-templates")
    check(doctor, "reply templates")

    # Léa reads the answer and takes its PDF
    lea.goto("/@@my-messages")
    last = lea.locator("li.message").last
    assert "consignes" in last.inner_text()
    with lea.expect_download() as download:
        last.get_by_role("link", name="consignes-extraction.pdf").click()
    assert download.value.suggested_filename == "consignes-extraction.pdf"
    assert found == {}, describe(found)
