"""Journey 4 (issue #8): a professional opens the sharing page of a patient record,
finds a colleague, gives them a role; the colleague (own browser) then sees the
record; the professional takes the role back, and the colleague's next click is
refused.

The colleague is a dentist of another practice, Dr Jonas Klein, with no role in the
Cabinet du Parc: the demo's dr.weber holds the professional role on the whole
cabinet, so a role given on one record would change nothing for her."""
import pytest

from cabinet.models import User
from cabinet.passwords import hash_password
from cabinet.terms import accept_current_terms
from tests.browser.conftest import log_in, screenshot

LEROY = "/cabinets/parc/patients/leroy"


@pytest.fixture
def colleague(demo, db):
    with db() as request:
        klein = User(login="dr.klein", fullname="Dr Jonas Klein",
                     password_hash=hash_password("demo"))
        request.dbsession.add(klein)
        request.dbsession.flush()
        accept_current_terms(request, klein)     # like the demo users
    return "dr.klein"


def test_a_professional_shares_a_record_then_takes_it_back(person, colleague, live_server):
    # the colleague has no access to Léa Leroy's record yet
    klein = person()
    log_in(klein, colleague)
    assert klein.goto(LEROY).status == 403
    assert "Accès refusé" in klein.locator("h1").inner_text()

    # dr.martin opens the record's sharing page and looks the colleague up
    doctor = person()
    log_in(doctor, "dr.martin")
    doctor.goto(LEROY)
    doctor.get_by_role("link", name="Partage").click()
    assert doctor.locator("h1").inner_text() == "Partage : Léa Leroy"
    assert doctor.locator("[data-principal='user:dr.klein']").count() == 0
    doctor.get_by_label("Rechercher un utilisateur ou un groupe").fill("Klein")
    doctor.get_by_role("button", name="Rechercher").click()
    found = doctor.locator("form.grant").filter(has_text="Dr Jonas Klein (dr.klein)")
    found.get_by_label("Rôle").select_option(label="Professionnel de santé")
    found.get_by_role("button", name="Donner : Dr Jonas Klein").click()
    assert "Rôle « Professionnel de santé » donné à Dr Jonas Klein." in \
        doctor.locator(".flash").inner_text()
    row = doctor.locator("[data-principal='user:dr.klein']")
    assert "Dr Jonas Klein" in row.inner_text()
    assert "Professionnel de santé (donné ici)" in row.locator("li.role").inner_text()

    # the colleague now finds the record among their accesses and opens it
    klein.goto("/")
    access = klein.locator(".my-access")
    assert "Léa Leroy · Professionnel de santé" in access.inner_text()
    access.get_by_role("link", name="Léa Leroy").click()
    assert klein.locator("h1").first.inner_text().startswith("Léa Leroy")
    klein.get_by_role("link", name="Documents").first.click()
    assert "Consentement éclairé" in klein.locator("main").inner_text()
    documents_url = klein.url

    # dr.martin takes the role back
    # (each button names what it takes back, for those who hear the page)
    row.get_by_role("button", name="Retirer : Professionnel de santé, Dr Jonas Klein").click()
    assert "Rôle « Professionnel de santé » retiré à Dr Jonas Klein." in \
        doctor.locator(".flash").inner_text()
    assert doctor.locator("[data-principal='user:dr.klein']").count() == 0

    # the colleague's next visit is refused, and says so
    response = klein.goto(documents_url)
    assert response.status == 403
    assert klein.locator("h1").inner_text() == "403 · Accès refusé"
    assert klein.get_by_role("alert").is_visible()       # the reason, announced
    assert "Consentement éclairé" not in klein.locator("main").inner_text()
    klein.goto("/")
    assert "Léa Leroy" not in klein.locator("main").inner_text()
    klein.goto(documents_url)
    screenshot(klein, "journey4-colleague-refused")
