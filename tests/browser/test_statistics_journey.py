"""The console's statistics and the settings' status in a real browser (issue #10,
K1/K5): the administrator goes from the cabinet to its statistics, reads the charts
(inline SVG, no script) and their data tables, asks for a period that ends before it
starts and is told so next to the field, then reads the gateways' status on the
settings; axe-core finds no serious or critical violation on these pages."""
from tests.browser.axe import audit, describe
from tests.browser.conftest import log_in, screenshot

PARC = "/cabinets/parc"


def test_the_administrator_reads_the_statistics(person, axe_source):
    found = {}
    page = person()
    log_in(page, "admin")
    page.goto(PARC)
    page.get_by_role("link", name="Statistiques").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Statistiques"
    charts = page.get_by_role("img")
    assert charts.count() >= 6
    logins = page.get_by_role("img", name="Connexions au portail (patients et représentants)")
    assert logins.locator("rect.bar").count() == 30           # the last 30 days
    assert logins.bounding_box()["width"] > 300               # drawn, and visible
    page.get_by_text("Tableau des données").first.click()     # the figures as a table
    assert page.locator("table[data-series=logins] tbody tr").first.is_visible()
    violations = audit(page, axe_source)
    if violations:
        found["statistics"] = violations
    screenshot(page, "statistics")

    page.get_by_label("Premier jour").fill("2026-03-10")
    page.get_by_label("Dernier jour").fill("2026-03-01")
    page.get_by_role("button", name="Afficher").click()
    page.wait_for_load_state()
    end = page.get_by_label("Dernier jour")
    assert end.get_attribute("aria-invalid") == "true"
    error = page.locator("#" + end.get_attribute("aria-describedby"))
    assert "avant de commencer" in error.inner_text()
    assert page.get_by_role("img").count() == 0
    violations = audit(page, axe_source)
    if violations:
        found["statistics, bad period"] = violations

    page.goto(f"{PARC}/@@settings")
    rows = page.locator("table.gateway-status tbody tr")
    assert rows.count() == 2
    violations = audit(page, axe_source)
    if violations:
        found["settings with status"] = violations
    assert found == {}, describe(found)
