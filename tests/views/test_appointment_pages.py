"""The appointment pages (issue #5): booking, moving and cancelling by the staff, the
cabinet's agenda, appointment types and auto-send rules, and "Mes rendez-vous" of a
patient and guardian; what each person sees, errors next to the fields."""
import pytest

from tests.conftest import last_form, login
from tests.test_appointments import patient_token

PARC = "/cabinets/parc"
LEROY = f"{PARC}/patients/leroy"
BERNARD = f"{PARC}/patients/bernard"
# the clock stands at 2026-03-10 09:00 UTC; the demo's coming appointments are on the
# 13th (Léa, Consultation, Dr Paul Martin) and the 20th (Hugo, Contrôle, Dr Eva Weber)


@pytest.fixture
def staff(demo, testapp):
    login(testapp, "admin")
    return testapp


def booking_form(page):
    return next(f for f in page.forms.values() if f.action.endswith("/@@add"))


def book(testapp, patient=LEROY, status=303, **values):
    form = booking_form(testapp.get(patient + "/appointments"))
    fields = {"appointment_type": "consultation", "practitioner": "martin",
              "start": "2026-03-12T10:00", "place": "Salle 2", **values}
    for key, value in fields.items():
        form[key] = value
    return form.submit(status=status)


def test_staff_book_from_the_patients_appointments(staff):
    page = staff.get(LEROY + "/appointments")
    assert "Nouveau rendez-vous" in page.text
    response = book(staff).follow()
    assert "Rendez-vous enregistré : Consultation — 12/03/2026 10:00 — Dr Paul Martin" \
        in response.text
    row = response.html.select_one("tr[data-id^=consultation-12-03-2026]")
    text = row.get_text(" ", strip=True)
    assert "12/03/2026 10:00 – 10:30" in text and "Dr Paul Martin" in text
    assert "Salle 2" in text and "Prévu" in text
    # the patient page lists it too
    assert "Consultation — 12/03/2026 10:00 — Dr Paul Martin" in staff.get(LEROY).text


def test_errors_are_shown_next_to_the_fields_and_nothing_is_booked(staff):
    page = book(staff, status=422, start="2026-03-12T10:00", end="2026-03-12T09:00")
    error = page.html.select_one("#e-end")
    assert error.get_text(strip=True) == "La fin doit être après le début."
    assert page.html.select_one("#f-start")["value"] == "2026-03-12T10:00"
    page = book(staff, status=422, start="")
    assert "Début requis" in page.html.select_one("#e-start").get_text()
    form = booking_form(staff.get(LEROY + "/appointments"))
    form["start"] = "2026-03-12T10:00"
    form["appointment_type"].force_value("chirurgie")
    form["practitioner"].force_value("autre")
    page = form.submit(status=422)
    assert "Type de rendez-vous inconnu" in page.html.select_one("#e-appointment_type").text
    assert "n'exerce pas dans ce cabinet" in page.html.select_one("#e-practitioner").text
    assert "12/03/2026" not in staff.get(LEROY + "/appointments").text


def test_double_booking_is_refused_with_a_clear_message(staff):
    book(staff)
    page = book(staff, patient=BERNARD, status=409, start="2026-03-12T10:20")
    assert "Dr Paul Martin a déjà un rendez-vous qui chevauche ce créneau" in \
        page.html.select_one("#e-start").text
    assert "Aucun rendez-vous" in staff.get(BERNARD + "/appointments").text


def test_move_then_cancel_with_a_reason(staff):
    listing = book(staff).follow()
    mine = "tr[data-id^=consultation-12-03-2026]"
    link = listing.html.select_one(mine).find("a", string="Déplacer")["href"]
    form = staff.get(link).forms[1]
    assert form["start"].value == "2026-03-12T10:00"
    form["start"] = "2026-03-12T10:00"
    form["end"] = "2026-03-12T09:30"
    page = form.submit(status=422)
    assert "La fin doit être après le début." in page.text
    form = page.forms[1]
    form["start"], form["end"] = "2026-03-16T14:00", ""
    listing = form.submit(status=303).follow()
    assert "16/03/2026 14:00 – 14:30" in listing.html.select_one(mine).get_text(" ", strip=True)
    cancel = listing.html.select_one(mine).find("a", string="Annuler")["href"]
    page = staff.get(cancel).forms[1].submit(status=422)
    assert "Indiquez le motif" in page.text
    form = page.forms[1]
    form["reason"] = "Le patient est malade"
    listing = form.submit(status=303).follow()
    row = listing.html.select_one(mine).get_text(" ")
    assert "Annulé" in row and "Le patient est malade" in row
    assert "Déplacer" not in row


def test_posts_without_the_csrf_token_are_refused(staff):
    staff.post(LEROY + "/appointments/@@add", {
        "appointment_type": "consultation", "practitioner": "martin",
        "start": "2026-03-12T10:00"}, status=403)
    staff.post(PARC + "/@@appointment-types", {"id": "x", "title": "X",
                                               "duration": "20"}, status=403)


def test_the_agenda_of_a_day_by_practitioner(staff):
    book(staff, start="2026-03-13T08:00")
    book(staff, patient=BERNARD, start="2026-03-13T09:00", practitioner="weber")
    page = staff.get(PARC + "/@@appointments?start=2026-03-13")
    assert "3 rendez-vous" in page.text
    rows = [r.get_text(" ", strip=True) for r in page.html.select("table.agenda-list tbody tr")]
    assert [r.split(" ")[1] for r in rows] == ["08:00", "09:00", "10:00"]
    assert "Hugo Bernard" in rows[1] and "Léa Leroy" in rows[2]
    page = staff.get(PARC + "/@@appointments?start=2026-03-13&practitioner=weber")
    assert "1 rendez-vous" in page.text and "Hugo Bernard" in page.text
    assert "Aucun rendez-vous sur cette période" in staff.get(
        PARC + "/@@appointments?start=2026-04-01").text
    staff.get(PARC + "/@@appointments?start=2026-04-31", status=400)


def test_appointment_types_page(staff):
    page = staff.get(PARC + "/@@appointment-types")
    assert [f["data-type"] for f in page.html.select("form.type-row")] == [
        "consultation", "controle"]
    form = last_form(page)
    form["id"], form["title"], form["duration"] = "urgence", "Urgence", "3"
    page = form.submit(status=422)
    assert "de 5 à 480" in page.html.select_one("#e-duration").text
    form = last_form(page)
    form["id"], form["title"], form["duration"] = "urgence", "Urgence", "20"
    page = form.submit(status=303).follow()
    assert "Type « Urgence » ajouté." in page.text
    used = next(f for f in page.forms.values()
                if f.fields.get("id") and f["id"].value == "consultation")
    page = used.submit("action", value="delete", status=409)
    assert "est utilisé par" in page.text
    assert "Urgence (20 min)" in staff.get(LEROY + "/appointments").text


def test_autosend_rules_page(staff, db):
    from tests.test_autosend import add_template
    add_template(db, "anamnese-auto", "Questionnaire médical auto")
    page = staff.get(PARC + "/@@autosend-rules")
    form = last_form(page)
    form["template"] = "anamnese-auto"
    form["practitioner"] = "weber"
    form["appointment_type"] = "controle"
    form["days_before"] = "3"
    page = form.submit(status=303).follow()
    row = next(r for r in page.html.select("table.rule-list tbody tr")
               if "Questionnaire médical auto" in r.get_text())
    assert "Dr Eva Weber" in row.get_text() and "Contrôle" in row.get_text()
    form = last_form(page)
    form["template"] = "anamnese-auto"
    form["days_before"] = "400"
    page = form.submit(status=422)
    assert "de 0 à 365" in page.html.select_one("#e-days_before").text


def test_the_patient_and_guardian_see_their_coming_appointments(demo, testapp, registry):
    patient_token(testapp, registry)     # Léa's directory account (guardian of Hugo)
    login(testapp, "p.leroy")
    page = testapp.get("/@@my-appointments")
    cards = [c.get_text(" ", strip=True) for c in page.html.select("li.appointment")]
    assert len(cards) == 2
    assert "13/03/2026 10:00" in cards[0] and "Dr Paul Martin" in cards[0]
    assert "Pour Léa Leroy" in cards[0]
    assert "20/03/2026 16:00" in cards[1] and "Pour Hugo Leroy" in cards[1]
    every = testapp.get("/@@my-appointments?when=all")
    assert len(every.html.select("li.appointment")) == 5
    assert "Annulé" in every.text
    # she sees her list, without the staff's forms and links
    page = testapp.get(LEROY + "/appointments")
    assert "Nouveau rendez-vous" not in page.text and "Déplacer" not in page.text
    testapp.get(PARC + "/@@appointments", status=403)
    testapp.get(PARC + "/@@autosend-rules", status=403)
    testapp.get(LEROY + "/appointments/consultation-a-venir/@@move", status=403)
    testapp.get(BERNARD + "/appointments", status=403)


def test_anonymous_visitors_are_sent_to_log_in(demo, testapp):
    for url in (LEROY + "/appointments", PARC + "/@@appointments", "/@@my-appointments",
                PARC + "/@@appointment-types",
                LEROY + "/appointments/consultation-a-venir/@@cancel"):
        assert "/login" in testapp.get(url, status=302).location


def test_links_lead_to_the_pages(staff, demo, testapp, registry):
    cabinet = staff.get(PARC)
    links = {a.get_text(strip=True): a["href"] for a in cabinet.html.select(
        "p.appointment-links a")}
    assert links["Agenda"].endswith("/cabinets/parc/@@appointments")
    assert "Envoi automatique des questionnaires" in links
    appointment = staff.get(LEROY + "/appointments/consultation-a-venir")
    assert [a.get_text(strip=True) for a in appointment.html.select(
        "p.appointment-links a")] == ["Déplacer", "Annuler avec un motif"]
    staff.post("/logout", {"csrf_token": staff.get("/").html.select_one(
        "input[name=csrf_token]")["value"]})
    login(testapp, "p.leroy")
    home = testapp.get("/")
    assert home.html.find("a", string="Mes rendez-vous")["href"].endswith(
        "/@@my-appointments")
    appointment = testapp.get(LEROY + "/appointments/consultation-a-venir")
    assert not appointment.html.select("p.appointment-links a")
