"""Journey (issue #9, P5; #10, K3): dr.martin adds a radiograph to Léa Leroy's record
and shares the "Fin de traitement" radiographs from the cabinet's imaging selection;
on a phone, Léa opens "Mon imagerie" from her home, sees her images grouped by
treatment stage and type (the new one included), opens one and goes to the next and
back. axe-core finds no serious violation on the pages, which fit a 390 px phone."""
from tests.browser.axe import describe
from tests.browser.conftest import PHONE, follow, log_in
from tests.browser.test_accessibility import check, fits_a_phone

from cabinet.sample_files import make_png

PARC = "/cabinets/parc"
LEROY = f"{PARC}/patients/leroy"

#: an <img>'s natural width, once the browser has loaded it (or given up: 0)
LOADED_WIDTH = """img => img.complete ? img.naturalWidth : new Promise(done => {
    img.addEventListener("load", () => done(img.naturalWidth));
    img.addEventListener("error", () => done(0));
})"""


def test_staff_share_a_new_image_and_the_patient_browses_her_album(person, axe_source,
                                                                   tmp_path):
    found = {}
    staff = person()
    log_in(staff, "dr.martin")
    staff.goto(f"{LEROY}/imaging")
    check(staff, axe_source, found, "imaging (staff)")
    picture = tmp_path / "controle.png"
    picture.write_bytes(make_png(120, 80, (60, 60, 60)))
    staff.get_by_label("Fichier (JPEG, PNG ou DICOM)").set_input_files(str(picture))
    staff.get_by_label("Étape de traitement").select_option("fin")
    staff.get_by_label("Type d'image").select_option("radio-panoramique")
    staff.get_by_label("Titre").fill("Panoramique de fin")
    staff.get_by_role("button", name="Ajouter l'image").click()
    assert "Image ajoutée : Panoramique de fin." in staff.locator("body").inner_text()
    staff.goto(f"{PARC}/@@imaging-settings")
    check(staff, axe_source, found, "imaging selection")
    staff.locator("#f-share-fin-radio-panoramique").check()
    staff.get_by_role("button", name="Enregistrer la sélection").click()
    assert "Sélection de l'imagerie enregistrée." in staff.locator("body").inner_text()

    patient = person()
    log_in(patient, "p.leroy")
    patient.set_viewport_size(PHONE)
    patient.goto("/")
    follow(patient.get_by_role("link", name="Mon imagerie"))
    stages = patient.locator(".imaging-stage h2").all_inner_texts()
    assert stages == ["Début de traitement", "Fin de traitement"]
    assert patient.locator(".thumbnails img").count() == 4
    check(patient, axe_source, found, "my imaging")
    assert fits_a_phone(patient) == (True, [])
    patient.get_by_role("link", name="Panoramique initiale").click()
    assert patient.locator("h1").inner_text() == "Panoramique initiale"
    # the picture's own width once it has loaded (a loaded image that failed is 0)
    assert patient.locator("figure img").evaluate(LOADED_WIDTH) == 96
    check(patient, axe_source, found, "imaging viewer")
    assert fits_a_phone(patient) == (True, [])
    patient.get_by_role("link", name="Image suivante").click()
    assert patient.locator("h1").inner_text() == "Sourire en fin de traitement"
    patient.get_by_role("link", name="Image suivante").click()
    assert patient.locator("h1").inner_text() == "Panoramique de fin"
    assert patient.locator("a[rel=next]").count() == 0
    patient.get_by_role("link", name="Image précédente").click()
    assert patient.locator("h1").inner_text() == "Sourire en fin de traitement"
    with patient.expect_download() as download:
        patient.get_by_role("link", name="Tout télécharger (zip)").click()
    assert download.value.suggested_filename.startswith("imagerie-leroy-")
    assert found == {}, describe(found)
