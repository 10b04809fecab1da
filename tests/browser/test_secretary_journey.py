"""Journey 1 (D1-D5): a professional adds a secretary; the secretary accepts the
invitation, works for the professional, and is stopped once the delegation ends."""
import re

from tests.browser.conftest import log_in, screenshot

SCHMIT = "1990063047606"          # Marc Schmit: in the national registry, no account


def invitation_link(smtp_server):
    [message] = smtp_server.wait_for(1)
    text = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"https?://\S+/@@invitation/[A-Za-z0-9_-]+", text).group(0)


def test_a_professional_adds_a_secretary_who_works_until_the_end(person, smtp_server):
    doctor = person()
    log_in(doctor, "dr.martin")
    doctor.goto("/professionals/martin/delegations")
    doctor.get_by_role("link", name="Ajouter une secrétaire").click()

    # the matricule is looked up in the national registry, the person shown
    doctor.get_by_label("Matricule national").fill(SCHMIT)
    doctor.get_by_role("button", name="Rechercher").click()
    assert doctor.locator(".person-name").inner_text() == "Marc Schmit"
    doctor.get_by_label("E-mail professionnel").fill("marc.schmit@parc.example")
    doctor.get_by_label("Date de début").fill("2026-03-10")      # the clock's today
    doctor.get_by_role("button", name="Ajouter la secrétaire").click()
    row = doctor.locator("li.delegation", has_text="Marc Schmit")
    assert row.locator(".badge").inner_text() == "invitée"

    # the invitation mail, really sent over SMTP, carries the single-use link
    link = invitation_link(smtp_server)
    secretary = person()
    secretary.goto(link)
    assert "Dr Paul Martin" in secretary.locator("main").inner_text()
    secretary.get_by_label("Nom complet").fill("Marc Schmit")
    secretary.get_by_label("Identifiant").fill("marc.schmit")
    secretary.get_by_label("Mot de passe (10 caractères au moins)").fill("un mot de passe sûr")
    secretary.get_by_label("Mot de passe (encore une fois)").fill("un mot de passe sûr")
    secretary.get_by_role("button", name="Créer mon compte").click()
    secretary.wait_for_load_state()

    log_in(secretary, "marc.schmit", "un mot de passe sûr")
    if "/@@terms" in secretary.url or "/terms" in secretary.url:
        secretary.get_by_role("button", name=re.compile("accepte", re.I)).click()
    secretary.goto("/cabinets/parc/patients")
    patients = secretary.locator("main").inner_text()
    assert "Léa Leroy" in patients and "Hugo Bernard" in patients

    doctor.reload()
    row = doctor.locator("li.delegation", has_text="Marc Schmit")
    assert row.locator(".badge").inner_text() == "active"
    row.get_by_role("button", name="Terminer aujourd'hui").click()
    row = doctor.locator("li.delegation", has_text="Marc Schmit")
    assert row.locator(".badge").inner_text() == "terminée"

    # the secretary's next click is refused
    secretary.get_by_role("link", name="Léa Leroy").first.click()
    assert "Accès refusé" in secretary.locator("main").inner_text()
    assert "Léa Leroy" not in secretary.locator("main").inner_text()
    screenshot(secretary, "journey1-secretary-refused")
    screenshot(doctor, "journey1-delegations")
