"""The console's work queues (issue #10, K4) in a browser: each page and the
patient's console pass axe-core (no serious or critical violation) and fit a 390 px
wide phone; a sortable column header and the filter form work by clicking."""
from tests.browser.conftest import follow, log_in
from tests.browser.test_accessibility import check, fits_a_phone
from tests.browser.axe import describe

PARC = "/cabinets/parc"
PAGES = {"work queues": f"{PARC}/@@work-queues",
         "patients using the portal": f"{PARC}/@@work-queues/patients",
         "payments of the day": f"{PARC}/@@work-queues/payments",
         "unread messages": f"{PARC}/@@work-queues/messages",
         "awaiting signature (queue)": f"{PARC}/@@work-queues/signatures",
         "questionnaires (queue)": f"{PARC}/@@work-queues/questionnaires",
         "a bad period": f"{PARC}/@@work-queues/questionnaires?from=2026-03-10&to=2026-01-01",
         "patient console": f"{PARC}/patients/leroy/@@patient-console"}


def test_the_work_queue_pages(person, axe_source):
    found, wide = {}, {}
    page = person()
    log_in(page, "dr.martin")
    for name, url in PAGES.items():
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(url)
        check(page, axe_source, found, name)
        fits, what = fits_a_phone(page)
        if not fits:
            wide[name] = what
        check(page, axe_source, found, name + " (phone)")
    assert found == {}, describe(found)
    assert wide == {}, wide


def test_sorting_and_filtering_by_clicking(person):
    page = person()
    log_in(page, "dr.martin")
    page.goto(f"{PARC}/@@work-queues/signatures")
    follow(page.locator('a[data-sort="patient_title"]'))
    assert "sort_on=patient_title" in page.url
    patients = page.locator("table.queue-list tbody tr td:nth-child(2)").all_inner_texts()
    assert patients == sorted(patients) and patients
    page.goto(f"{PARC}/@@work-queues/patients")
    page.fill("#f-q", "leroy")
    follow(page.locator("form.queue-filters button[type=submit]"))
    assert page.locator("table.queue-list tbody tr").count() == 1
