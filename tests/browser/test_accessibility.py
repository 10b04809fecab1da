"""Accessibility (issue #8): axe-core, fetched from the npm registry and injected into
the page, reports no serious or critical violation on the login pages, the patient's
pages, the document and questionnaire pages, the sharing page and the console lists;
the patient's pages fit a 390 px wide phone; the login form works with the keyboard
alone."""
import re

from cabinet.interfaces import ISmsGateway
from tests.browser.axe import audit, describe
from tests.browser.conftest import PHONE, ask_for_a_login_code, follow, log_in

PARC = "/cabinets/parc"
LEROY = f"{PARC}/patients/leroy"
DOCUMENT = f"{LEROY}/documents/consentement"          # sent, awaiting her signature
QUESTIONNAIRE = f"{LEROY}/questionnaires/anamnese"    # sent, hers to fill


def check(page, axe_source, found, name):
    """Record the page's serious and critical violations under ``name``."""
    violations = audit(page, axe_source)
    if violations:
        found[name] = violations


def fits_a_phone(page):
    """No horizontal scrolling at 390 px: neither the page nor a box inside it (a
    wide table in a card that scrolls sideways); ``(fits, what is too wide)``."""
    page.wait_for_load_state()
    page.set_viewport_size(PHONE)
    wide = page.evaluate("""() => {
        const wide = [];
        if (document.documentElement.scrollWidth > window.innerWidth)
            wide.push('page: ' + document.documentElement.scrollWidth);
        for (const box of document.querySelectorAll('main *')) {
            const overflow = getComputedStyle(box).overflowX;
            if ((overflow === 'auto' || overflow === 'scroll')
                    && box.scrollWidth > box.clientWidth + 1)
                wide.push(box.tagName.toLowerCase() + '.' + box.className + ': '
                          + box.scrollWidth + ' > ' + box.clientWidth);
        }
        return wide;
    }""")
    return not wide, wide


def test_login_pages(person, registry, axe_source):
    found = {}
    page = person()
    page.goto("/login")
    check(page, axe_source, found, "staff login")
    page.get_by_label("Identifiant").fill("dr.martin")
    page.get_by_label("Mot de passe").fill("not the password")
    follow(page.get_by_role("button", name="Se connecter"))
    assert page.get_by_role("alert").count() == 1                 # announced
    check(page, axe_source, found, "staff login, wrong password")

    page.set_viewport_size(PHONE)
    page.goto("/patient/login")
    check(page, axe_source, found, "patient login: phone step")
    assert fits_a_phone(page)[0], fits_a_phone(page)
    ask_for_a_login_code(page, phone="12")
    phone = page.get_by_label("Téléphone portable")
    assert phone.get_attribute("aria-invalid") == "true"          # announced in place
    error = page.locator("#" + phone.get_attribute("aria-describedby"))
    assert error.get_attribute("role") == "alert" and error.inner_text()
    check(page, axe_source, found, "patient login: phone step, with errors")
    ask_for_a_login_code(page)
    assert "+352••••••456" in page.locator(".sent-to").inner_text()
    check(page, axe_source, found, "patient login: code step")
    assert fits_a_phone(page)[0], fits_a_phone(page)
    outbox = registry.getUtility(ISmsGateway).outbox
    code = re.search(r"\b(\d{6})\b", outbox[-1]["text"]).group(1)
    page.get_by_label("Code reçu par SMS").fill("000000" if code != "000000" else "111111")
    follow(page.get_by_role("button", name="Se connecter"))
    assert page.get_by_label("Code reçu par SMS").get_attribute("aria-invalid") == "true"
    assert page.get_by_role("alert").inner_text()                 # announced
    check(page, axe_source, found, "patient login: code step, wrong code")
    page.get_by_label("Code reçu par SMS").fill(code)
    page.get_by_role("button", name="Se connecter").click()
    assert "Mes dossiers" in page.locator("h1").inner_text()
    assert found == {}, describe(found)


def focus_on(page, name, presses=12):
    """Press Tab until the field ``name`` has the focus; the names met on the way."""
    met = [page.evaluate("() => document.activeElement.name")]
    while met[-1] != name and len(met) <= presses:
        page.keyboard.press("Tab")
        met.append(page.evaluate("() => document.activeElement.name || "
                                 "document.activeElement.textContent.trim()"))
    assert met[-1] == name, met
    return met


def type_date(page, day, month, year):
    """Type a date into the focused date field, segment by segment. Its segments'
    order is the browser's (day first in French, month first in a US build): when
    the day went into the month, go back to the first segment and type it again."""
    page.keyboard.type(day + month + year)
    if page.evaluate("() => document.activeElement.value") != f"{year}-{month}-{day}":
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Shift+Tab")
        page.keyboard.type(month + day + year)
    assert page.evaluate("() => document.activeElement.value") == f"{year}-{month}-{day}"


def test_the_login_forms_work_with_the_keyboard_alone(person, registry):
    page = person()
    page.goto("/login")
    focus_on(page, "login")
    page.keyboard.type("dr.martin")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.name") == "password"
    # the focus is shown where the keyboard is
    assert page.evaluate("() => getComputedStyle(document.activeElement)"
                         ".outlineStyle") != "none"
    page.keyboard.type("demo")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Dr Paul Martin" in page.locator("header.topbar").inner_text()

    patient = person()
    patient.goto("/patient/login")
    focus_on(patient, "phone")
    patient.keyboard.type("+352 621 123 456")
    patient.keyboard.press("Tab")
    patient.keyboard.type("Leroy")
    patient.keyboard.press("Tab")
    patient.keyboard.type("Léa")
    patient.keyboard.press("Tab")
    assert patient.evaluate("() => document.activeElement.name") == "birth_date"
    type_date(patient, "12", "04", "1990")
    with patient.expect_navigation():
        patient.keyboard.press("Enter")
    assert "+352••••••456" in patient.locator(".sent-to").inner_text()
    code = re.search(r"\b(\d{6})\b",
                     registry.getUtility(ISmsGateway).outbox[-1]["text"]).group(1)
    focus_on(patient, "code")
    patient.keyboard.type(code)
    with patient.expect_navigation():
        patient.keyboard.press("Enter")
    assert "Mes dossiers" in patient.locator("h1").inner_text()


def test_the_patient_pages(person, axe_source):
    found, wide = {}, {}
    page = person()
    log_in(page, "p.leroy")
    page.set_viewport_size(PHONE)
    for name, url in (("patient home", "/my-patients"),
                      ("patient record", LEROY),
                      ("patient documents", f"{LEROY}/documents"),
                      ("document (patient)", DOCUMENT),
                      ("patient questionnaires", f"{LEROY}/@@patient-questionnaires"),
                      ("questionnaire to fill", QUESTIONNAIRE),
                      ("patient appointments", "/@@my-appointments"),
                      # issue #9: the portal's home, my cabinet, my information,
                      # manage patients, add a patient
                      ("portal home", "/"), ("my cabinet", "/@@my-cabinet"),
                      ("my information", "/@@my-information"),
                      ("manage patients", "/@@manage-patients"),
                      ("add a patient", "/@@add-patient"),
                      ("patient payments", "/@@my-payments"),
                      # issue #9, P5: the album and the viewer
                      ("my imaging", f"{LEROY}/@@my-imaging"),
                      ("imaging viewer", f"{LEROY}/@@my-imaging/panoramique-debut")):
        response = page.goto(url)
        assert response.status == 200, (url, response.status)
        check(page, axe_source, found, name)
        fits, too_wide = fits_a_phone(page)
        if not fits:
            wide[name] = too_wide
    page.goto(LEROY)                     # the record's fields by their French names
    fields = page.locator("dl.fields").inner_text()
    assert "Parent 1 : prénom" in fields and "parent1_first_name" not in fields
    page.goto(QUESTIONNAIRE)
    page.get_by_label("Cigarettes par jour").fill("500")
    page.get_by_role("button", name="Enregistrer le brouillon").click()
    assert "La valeur doit être au plus 100." in page.locator("body").inner_text()
    check(page, axe_source, found, "questionnaire with errors")
    assert found == {}, describe(found)
    assert wide == {}, wide


def test_the_staff_pages(person, axe_source):
    found = {}
    page = person()
    log_in(page, "dr.martin")
    for name, url in (("home (staff)", "/"),
                      ("patients listing", f"{PARC}/patients"),
                      ("patient record (staff)", LEROY),
                      ("documents (staff)", f"{LEROY}/documents"),
                      ("document (staff)", DOCUMENT),
                      ("sharing page", f"{LEROY}/@@sharing"),
                      ("sharing page, search", f"{LEROY}/@@sharing?search=weber"),
                      ("questionnaire console", f"{PARC}/@@questionnaires"),
                      ("awaiting signature", f"{PARC}/@@awaiting-signature"),
                      ("questionnaire (staff)", f"{LEROY}/questionnaires/satisfaction"),
                      ("questionnaire templates", f"{PARC}/questionnaire-templates"),
                      ("agenda", f"{PARC}/@@appointments"),
                      ("payments (staff)", f"{LEROY}/payments"),
                      ("imaging (staff)", f"{LEROY}/imaging"),
                      ("imaging selection", f"{PARC}/@@imaging-settings"),
                      ("secretaries", "/professionals/martin/delegations")):
        response = page.goto(url)
        assert response.status == 200, (url, response.status)
        check(page, axe_source, found, name)
    assert found == {}, describe(found)
