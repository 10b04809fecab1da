"""Journeys (issue #9, P1, P7, P8): on a 390 px phone, Léa Leroy logs in with a code
sent by SMS and lands on the portal's home: her next appointment (with the Carte
Vitale flag the cabinet has just switched on for consultations), the buttons and
the menu; she switches to her son Hugo, a minor, and back. Then she opens
"Notifications": the default reminder, a rule she adds, the refusals of a bad rule
(0 days, 25:00) with nothing changed, the removal of her rule, and the switch that
stops and restarts her reminders. axe-core finds no serious violation on any of these
pages, and none of them scrolls sideways.

The clock stands at 2026-03-10 10:00 in Luxembourg: Léa's next appointment is a
consultation with Dr Martin on 13/03 at 10:00, Hugo's a check-up with Dr Weber on
20/03 at 16:00 (the demo data)."""
import re

from sqlalchemy import select

from cabinet.interfaces import ISmsGateway
from cabinet.models import ReminderRule, User
from tests.browser.axe import describe
from tests.browser.conftest import PHONE, ask_for_a_login_code, follow, log_in, screenshot
from tests.browser.test_accessibility import check, fits_a_phone

PARC = "/cabinets/parc"
BUTTONS = ["Mes rendez-vous", "Mes paiements", "Messagerie", "Documents"]
MENU = ["Mes informations", "Mes formulaires", "Mon imagerie", "Gérer les patients",
        "Mon cabinet", "Notifications"]


def log_in_by_sms(page, registry):
    """Léa Leroy's login on her phone: phone, names, birth date, then the code that
    the SMS gateway of the tests received."""
    page.set_viewport_size(PHONE)
    page.goto("/patient/login")
    ask_for_a_login_code(page)
    assert "+352••••••456" in page.locator(".sent-to").inner_text()
    code = re.search(r"\b(\d{6})\b",
                     registry.getUtility(ISmsGateway).outbox[-1]["text"]).group(1)
    page.get_by_label("Code reçu par SMS").fill(code)
    follow(page.get_by_role("button", name="Se connecter"))


def names(locator):
    return [text.strip() for text in locator.all_inner_texts()]


def look(page, axe_source, found, wide, name):
    """axe-core's serious violations and the sideways scrolling of the page shown."""
    check(page, axe_source, found, name)
    fits, too_wide = fits_a_phone(page)
    if not fits:
        wide[name] = too_wide


def flash(page):
    return " ".join(names(page.locator("p.flash")))


def test_the_portal_home_and_switching_to_a_minor(person, registry, axe_source):
    found, wide = {}, {}
    # the cabinet asks for the Carte Vitale at consultations (its console)
    admin = person()
    log_in(admin, "admin")
    admin.goto(f"{PARC}/@@appointment-types")
    consultation = admin.locator("form.type-row[data-type=consultation]")
    consultation.locator("input[name=carte_vitale_required]").check()
    follow(consultation.get_by_role("button", name="Enregistrer"))
    assert admin.locator("form.type-row[data-type=consultation] "
                         "input[name=carte_vitale_required]").is_checked()

    page = person()
    log_in_by_sms(page, registry)
    follow(page.get_by_role("link", name="Cabinet", exact=True))     # the brand: home
    home = page.locator("section.portal-home")
    assert home.locator("h1").inner_text() == "Bonjour, Léa Leroy"
    assert "Patient affiché : Léa Leroy" in home.locator(".current-patient").inner_text()
    nxt = home.locator(".next-appointment")
    assert nxt.locator("h2").inner_text() == "Prochain rendez-vous"
    assert nxt.locator(".when").inner_text() == "13/03/2026 à 10:00"
    assert nxt.locator(".practitioner").inner_text() == "Dr Paul Martin"
    assert nxt.get_by_role("note").inner_text() == \
        "Présentez votre Carte Vitale à ce rendez-vous."
    services = page.get_by_role("navigation", name="Services")
    assert names(services.get_by_role("link")) == BUTTONS
    menu = page.get_by_role("navigation", name="Menu")
    assert names(menu.get_by_role("link")) == MENU
    look(page, axe_source, found, wide, "portal home")

    # a button leads to its page, and the brand back home
    follow(services.get_by_role("link", name="Mes rendez-vous"))
    assert "13/03/2026" in page.locator("main").inner_text()
    page.go_back()

    # the minor: "change patient", then "show" on Hugo's line
    follow(home.get_by_role("link", name="Changer de patient"))
    assert page.locator("h1").inner_text() == "Gérer les patients"
    lines = page.locator("ul.patient-switcher li")
    assert names(lines.locator(".name")) == ["Léa Leroy", "Hugo Leroy"]
    assert names(lines.locator(".relation")) == [
        "vous", "patient dont vous êtes responsable"]
    assert lines.nth(0).locator(".badge").inner_text() == "affiché"
    look(page, axe_source, found, wide, "manage patients")
    follow(lines.nth(1).get_by_role("button", name="Afficher"))
    assert flash(page) == "Patient affiché : Hugo Leroy."
    assert home.locator("h1").inner_text() == "Bonjour, Hugo Leroy"
    assert nxt.locator(".when").inner_text() == "20/03/2026 à 16:00"
    assert nxt.locator(".practitioner").inner_text() == "Dr Eva Weber"
    assert nxt.get_by_role("note").count() == 0          # a check-up: no card asked
    # the demo cabinet opens payments and documents to the guardians of minors, not
    # the questionnaires: no "my forms" for Hugo
    assert names(services.get_by_role("link")) == BUTTONS
    assert names(menu.get_by_role("link")) == [m for m in MENU if m != "Mes formulaires"]
    assert services.get_by_role("link", name="Documents").get_attribute("href") \
        .endswith(f"{PARC}/patients/hugo-leroy/@@patient-documents")
    assert menu.get_by_role("link", name="Mon imagerie").get_attribute("href") \
        .endswith(f"{PARC}/patients/hugo-leroy/@@my-imaging")
    look(page, axe_source, found, wide, "portal home (Hugo)")
    screenshot(page, "portal-home-hugo")

    # and back to herself
    follow(menu.get_by_role("link", name="Gérer les patients"))
    follow(page.locator("ul.patient-switcher li").nth(0).get_by_role(
        "button", name="Afficher"))
    assert home.locator("h1").inner_text() == "Bonjour, Léa Leroy"
    assert nxt.locator(".when").inner_text() == "13/03/2026 à 10:00"
    assert found == {}, describe(found)
    assert wide == {}, wide


def rules(page):
    return names(page.locator("ul.reminder-rules li .rule-text"))


def stored_rules(db):
    with db() as request:
        session = request.dbsession
        user = session.scalar(select(User).where(User.login == "p.leroy"))
        return sorted((r.days_before, r.at_time, r.channel) for r in session.scalars(
            select(ReminderRule).where(ReminderRule.user_id == user.id)))


def test_reminder_rules_on_the_notifications_page(person, registry, db, axe_source):
    found, wide = {}, {}
    page = person()
    log_in_by_sms(page, registry)
    page.goto("/")
    follow(page.get_by_role("navigation", name="Menu").get_by_role(
        "link", name="Notifications"))
    assert page.locator("h1").inner_text() == "Mes rappels de rendez-vous"
    assert "jamais le motif du rendez-vous" in page.locator("main").inner_text()
    assert page.get_by_role("status").first.inner_text() == "Rappels activés."
    # no rule of her own yet: the default one, one day before at noon by SMS
    assert rules(page) == ["1 jour avant à 12:00, par SMS"]
    assert page.locator(".rule-default").inner_text() == "(rappel par défaut)"
    assert "SMS au +352••••••456" in page.locator(".reminder-targets").inner_text()
    look(page, axe_source, found, wide, "notifications")

    # a rule of her own: three days before at 18:30
    page.get_by_label("Jours avant le rendez-vous (1 à 60)").fill("3")
    page.get_by_label("Heure").fill("18:30")
    page.get_by_label("Par").select_option("sms")
    follow(page.get_by_role("button", name="Ajouter le rappel"))
    assert flash(page) == "Rappel ajouté."
    assert rules(page) == ["3 jours avant à 18:30, par SMS"]
    assert stored_rules(db) == [(3, "18:30", "sms")]

    # 0 days: the browser itself says no (min 1) and nothing is sent
    days = page.get_by_label("Jours avant le rendez-vous (1 à 60)")
    days.fill("0")
    page.get_by_role("button", name="Ajouter le rappel").click()
    assert days.evaluate("field => field.validity.rangeUnderflow") is True
    assert page.locator("p.flash").count() == 1            # still the page it was
    # a browser that lets it through (no form validation): the server's message in
    # place, announced, the value kept, nothing changed
    page.locator("section.add-reminder form").evaluate("form => form.noValidate = true")
    follow(page.get_by_role("button", name="Ajouter le rappel"))
    assert "Le formulaire contient des erreurs" in page.locator(
        "section.add-reminder p.error").inner_text()
    assert page.locator("#e-days_before").inner_text() == \
        "Nombre de jours avant le rendez-vous : de 1 à 60."
    days = page.get_by_label("Jours avant le rendez-vous (1 à 60)")
    assert days.get_attribute("aria-invalid") == "true"
    assert days.input_value() == "0"
    assert rules(page) == ["3 jours avant à 18:30, par SMS"]
    assert stored_rules(db) == [(3, "18:30", "sms")]
    look(page, axe_source, found, wide, "notifications, 0 days refused")

    # 25:00, typed where the browser has no time picker (a text field)
    days.fill("2")
    time = page.get_by_label("Heure")
    time.evaluate("field => { field.type = 'text'; field.form.noValidate = true; }")
    time.fill("25:00")
    follow(page.get_by_role("button", name="Ajouter le rappel"))
    assert page.locator("#e-time").inner_text() == \
        "Heure au format HH:MM, de 00:00 à 23:59."
    assert page.locator("#e-days_before").count() == 0
    assert page.get_by_label("Heure").get_attribute("aria-invalid") == "true"
    assert rules(page) == ["3 jours avant à 18:30, par SMS"]
    assert stored_rules(db) == [(3, "18:30", "sms")]
    look(page, axe_source, found, wide, "notifications, 25:00 refused")

    # the same rule twice is refused too
    page.get_by_label("Jours avant le rendez-vous (1 à 60)").fill("3")
    page.get_by_label("Heure").fill("18:30")
    follow(page.get_by_role("button", name="Ajouter le rappel"))
    assert page.locator("#e-days_before").inner_text() == "Vous avez déjà ce rappel."
    assert stored_rules(db) == [(3, "18:30", "sms")]

    # a second rule, then the first one removed
    page.get_by_label("Jours avant le rendez-vous (1 à 60)").fill("1")
    page.get_by_label("Heure").fill("08:15")
    follow(page.get_by_role("button", name="Ajouter le rappel"))
    assert flash(page) == "Rappel ajouté."
    assert sorted(rules(page)) == ["1 jour avant à 08:15, par SMS",
                                   "3 jours avant à 18:30, par SMS"]
    follow(page.locator("li.reminder-rule", has_text="3 jours avant").get_by_role(
        "button", name="Supprimer ce rappel"))
    assert flash(page) == "Rappel supprimé."
    assert rules(page) == ["1 jour avant à 08:15, par SMS"]
    assert stored_rules(db) == [(1, "08:15", "sms")]
    look(page, axe_source, found, wide, "notifications, two rules then one")

    # opting out (a button that looks like what it does: red), no reminders, no form
    # to add one; then back on, her rule kept
    opt_out = page.get_by_role("button", name="Ne plus recevoir de rappels")
    assert opt_out.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(170, 17, 17)"
    follow(opt_out)
    assert flash(page) == "Vous ne recevrez plus de rappels de rendez-vous."
    assert page.locator(".reminders-state").inner_text() == \
        "Vous ne recevez pas de rappels de rendez-vous."
    assert page.locator("section.add-reminder").count() == 0
    assert rules(page) == []
    look(page, axe_source, found, wide, "notifications, opted out")
    follow(page.get_by_role("button", name="Recevoir des rappels"))
    assert flash(page) == "Rappels activés."
    assert rules(page) == ["1 jour avant à 08:15, par SMS"]
    screenshot(page, "notifications")
    assert found == {}, describe(found)
    assert wide == {}, wide
