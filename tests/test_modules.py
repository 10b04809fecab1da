"""A cabinet's settings and module switches (issue #10, K1/K2): the settings API and
page, bad input (nothing changed), and every switch's effect on the portal and its
API (the cabinet's side keeps working); inactive practitioners close the portal."""
import pytest
from sqlalchemy import select

from cabinet import modules
from cabinet.models import Cabinet
from tests.conftest import Api, login
from tests.test_appointments import patient_token

PARC = "/cabinets/parc"
LEROY = f"{PARC}/patients/leroy"
HUGO = f"{PARC}/patients/hugo-leroy"


@pytest.fixture
def lea(demo, testapp, registry):
    """Léa Leroy (patient, and Hugo's guardian) logged in by SMS code."""
    return Api(testapp, patient_token(testapp, registry))


def switch(admin, **values):
    return admin.patch(f"{PARC}/@settings", {"modules": values}).json


def cabinet_row(db):
    with db() as request:
        cabinet = request.dbsession.scalar(select(Cabinet).where(Cabinet.name == "parc"))
        return modules.settings(cabinet), dict(inactive=cabinet.inactive_practitioners,
                                               phone=cabinet.phone, email=cabinet.email)


# -- the settings --------------------------------------------------------------------------

def test_settings_show_contact_practitioners_and_modules(admin):
    data = admin.get(f"{PARC}/@settings").json
    assert data["contact"] == {"address": "12 rue du Parc, L-1234 Luxembourg",
                               "phone": "+35222000000", "email": "contact@parc.example"}
    assert {(p["id"], p["active"]) for p in data["practitioners"]} == {
        ("martin", True), ("weber", True)}
    assert set(data["modules"]) == {"appointments", "messaging", "imaging", "payments",
                                    "documents", "questionnaires"}
    assert all(m["enabled"] for m in data["modules"].values())
    # the demo cabinet opens payments to the guardians of minors (Hugo's care items)
    assert data["modules"]["payments"] == {"enabled": True, "minors_access": True,
                                           "online_payment": True,
                                           "only_due_installments": False}
    assert data["can_edit"] is True


def test_the_worker_status_is_shown(admin, db, demo, testapp):
    from datetime import datetime
    from cabinet.models import WorkerJob
    with db() as request:
        request.dbsession.add(WorkerJob(
            name="autosend", last_run=datetime(2026, 3, 10, 8, 0),
            last_success=datetime(2026, 3, 10, 7, 59),
            last_error=datetime(2026, 3, 10, 8, 0), last_error_message="SMTP injoignable"))
    status = admin.get(f"{PARC}/@settings").json["status"]
    assert status == [{"job": "autosend", "last_success": "2026-03-10T07:59:00+00:00",
                       "last_error": "2026-03-10T08:00:00+00:00", "error": "SMTP injoignable"}]
    login(testapp, "admin")
    page = testapp.get(f"{PARC}/@@settings")
    assert "SMTP injoignable" in page.html.select_one("ul.worker-status").get_text()


def test_a_change_is_stored_with_the_sub_switches_and_the_existing_columns(admin, db):
    data = switch(admin, payments={"online_payment": False, "minors_access": True},
                  documents={"minors_access": True}, imaging={"enabled": False})
    assert data["modules"]["payments"]["online_payment"] is False
    assert data["modules"]["payments"]["minors_access"] is True
    assert data["modules"]["imaging"]["enabled"] is False
    stored, _ = cabinet_row(db)
    assert stored == data["modules"]
    with db() as request:
        cabinet = request.dbsession.scalar(select(Cabinet).where(Cabinet.name == "parc"))
        assert cabinet.minors_access_documents is True      # the documents' own column
        assert modules.enabled(cabinet, "payments", minor=True)
        assert not modules.enabled(cabinet, "imaging")
        assert modules.option(cabinet, "payments", "online_payment") is False
    history = admin.get(f"{PARC}/@history").json
    entries = history if isinstance(history, list) else history.get("items", history)
    assert any(e["action"] == "settings" for e in entries)


@pytest.mark.parametrize("body, field", [
    ({"modules": {"teleportation": {"enabled": True}, "imaging": {"enabled": False}}},
     "modules.teleportation"),
    ({"modules": {"payments": {"cash": True}, "imaging": {"enabled": False}}},
     "modules.payments.cash"),
    ({"modules": {"imaging": {"enabled": "no"}}}, "modules.imaging.enabled"),
    ({"modules": ["imaging"]}, "modules.modules"),
    ({"contact": {"email": "not an email"}, "modules": {"imaging": {"enabled": False}}},
     "contact.email"),
    ({"contact": {"phone": "12"}}, "contact.phone"),
    ({"practitioners": {"dr-who": {"active": False}}}, "practitioners.dr-who"),
    ({"practitioners": {"martin": {"active": "no"}}}, "practitioners.martin"),
    ({"colour": "blue"}, "colour"),
])
def test_bad_input_is_refused_and_nothing_changes(admin, db, body, field):
    before = cabinet_row(db)
    response = admin.patch(f"{PARC}/@settings", body, status=422)
    assert response.json["type"] == "ValidationError"
    assert field in response.json["errors"]
    assert cabinet_row(db) == before


def test_an_unknown_module_is_named_in_the_message(admin):
    response = admin.patch(f"{PARC}/@settings",
                           {"modules": {"teleportation": {"enabled": True}}}, status=422)
    assert "teleportation" in response.json["message"]
    assert "Rien n'a été modifié" in response.json["message"]


def test_the_cabinet_reads_its_settings_only_its_administrator_changes_them(
        martin, admin, lea):
    assert martin.get(f"{PARC}/@settings").json["can_edit"] is False
    martin.patch(f"{PARC}/@settings", {"modules": {"imaging": {"enabled": False}}},
                 status=403)
    lea.get(f"{PARC}/@settings", status=403)
    lea.patch(f"{PARC}/@settings", {"modules": {"imaging": {"enabled": False}}},
              status=403)
    assert admin.get(f"{PARC}/@settings").json["modules"]["imaging"]["enabled"]


def test_the_settings_page_saves_the_form(demo, testapp):
    login(testapp, "admin")
    page = testapp.get(f"{PARC}/@@settings")
    assert page.html.select_one("fieldset.contact-card")
    assert "Dr Paul Martin" in page.text
    form = page.forms["settings-form"]
    form["email"] = "accueil@parc.example"
    form["imaging.enabled"] = False
    form["practitioner.martin"] = False
    form.submit().follow()
    page = testapp.get(f"{PARC}/@@settings")
    assert page.html.select_one("#f-email")["value"] == "accueil@parc.example"
    assert not page.html.select_one("#f-imaging\\.enabled").has_attr("checked")
    assert page.html.select_one("#f-messaging\\.enabled").has_attr("checked")
    assert not page.html.select_one("#f-practitioner\\.martin").has_attr("checked")
    form = page.forms["settings-form"]
    form["email"] = "pas une adresse"
    response = form.submit(status=422)
    assert "Adresse électronique invalide" in response.text


def test_the_cabinet_page_links_to_its_settings(demo, testapp):
    login(testapp, "admin")
    page = testapp.get(PARC)
    assert page.html.find("a", string="Réglages du cabinet")["href"].endswith(
        "/@@settings")


# -- the switches' effect -------------------------------------------------------------------

def test_documents_off_hides_them_from_the_portal_and_its_api_not_from_staff(
        admin, martin, lea):
    assert lea.get(f"{LEROY}/@patient-documents").status_int == 200
    assert any(b["id"] == "documents" for b in lea.get("/@portal").json["buttons"])
    switch(admin, documents={"enabled": False})
    response = lea.get(f"{LEROY}/@patient-documents", status=404)
    assert response.json["message"] == modules.NOT_OFFERED
    lea.get(f"{LEROY}/documents/consentement", status=404)
    lea.get(f"{LEROY}/documents/consentement/@file", status=404)
    lea.get(f"{LEROY}/documents", status=404)
    lea.get(f"{HUGO}/@patient-documents", status=404)          # as his guardian too
    assert not any(b["id"] == "documents" for b in lea.get("/@portal").json["buttons"])
    # the cabinet's side keeps working
    assert martin.get(f"{LEROY}/@patient-documents").status_int == 200
    assert martin.get(f"{LEROY}/documents/consentement").status_int == 200
    switch(admin, documents={"enabled": True})
    assert lea.get(f"{LEROY}/@patient-documents").status_int == 200


def test_appointments_off_hides_them_everywhere_in_the_portal(admin, martin, lea,
                                                              testapp):
    feed = lea.post("/@calendar-feed").json["url"]
    assert "BEGIN:VEVENT" in testapp.get(feed).text
    switch(admin, appointments={"enabled": False})
    lea.get(f"{LEROY}/@appointments", status=404)
    lea.get(f"{LEROY}/appointments/consultation-a-venir", status=404)
    lea.get(f"{LEROY}/appointments/consultation-a-venir/@ics", status=404)
    assert "BEGIN:VEVENT" not in testapp.get(feed).text
    home = lea.get("/@portal").json
    assert home["modules"]["appointments"] is False and home["next_appointment"] is None
    ids = {link["id"] for link in home["buttons"] + home["menu"]}
    assert "appointments" not in ids and "notifications" not in ids
    assert martin.get(f"{LEROY}/@appointments").json["items_total"] >= 1


def test_appointments_off_empties_my_appointments(admin, demo, testapp, registry):
    patient_token(testapp, registry)
    login(testapp, "p.leroy")
    assert testapp.get("/@@my-appointments").html.select("li.appointment")
    switch(admin, appointments={"enabled": False})
    assert not testapp.get("/@@my-appointments").html.select("li.appointment")


def test_questionnaires_off(admin, martin, lea):
    assert any(m["id"] == "forms" for m in lea.get("/@portal").json["menu"])
    switch(admin, questionnaires={"enabled": False})
    lea.get(f"{LEROY}/@patient-questionnaires", status=404)
    lea.get(f"{LEROY}/questionnaires/anamnese", status=404)
    assert not any(m["id"] == "forms" for m in lea.get("/@portal").json["menu"])
    assert martin.get(f"{LEROY}/@patient-questionnaires").status_int == 200


@pytest.mark.parametrize("module, link, where", [
    ("payments", "payments", "buttons"), ("messaging", "messages", "buttons"),
    ("appointments", "notifications", "menu")])
def test_modules_of_other_parts_appear_by_their_switch(admin, lea, module, link, where):
    assert any(item["id"] == link for item in lea.get("/@portal").json[where])
    switch(admin, **{module: {"enabled": False}})
    assert not any(item["id"] == link for item in lea.get("/@portal").json[where])


def test_minors_access_for_payments_is_respected_for_guardians(admin, lea):
    switch(admin, payments={"minors_access": False})       # the default; the demo's on
    lea.post(f"{HUGO}/@portal-switch")
    home = lea.get("/@portal").json
    assert home["current"]["title"] == "Hugo Leroy"
    assert home["current"]["relation"] == "guardian"
    assert home["modules"]["payments"] is False            # off for minors
    assert home["modules"]["documents"] is True             # Hugo's record opens them
    switch(admin, payments={"minors_access": True})
    assert lea.get("/@portal").json["modules"]["payments"] is True
    lea.post(f"{LEROY}/@portal-switch")
    assert lea.get("/@portal").json["modules"]["payments"] is True


def test_require_is_the_api_for_the_other_parts(admin, lea, db, app):
    """modules.require: nothing for the cabinet's side, 404 for a patient when the
    module is off."""
    from pyramid.httpexceptions import HTTPNotFound
    switch(admin, payments={"enabled": False})
    with db() as request:
        cabinet = request.dbsession.scalar(select(Cabinet).where(Cabinet.name == "parc"))
        assert not modules.enabled(cabinet, "payments")
        with pytest.raises(ValueError):
            modules.enabled(cabinet, "teleportation")
        request.has_permission = lambda permission, context=None: False
        with pytest.raises(HTTPNotFound):
            modules.require(request, cabinet, "payments")
        modules.require(request, cabinet, "messaging")
        request.has_permission = lambda permission, context=None: True   # staff
        modules.require(request, cabinet, "payments")


# -- inactive practitioners (K1) -------------------------------------------------------------

def test_a_patient_whose_practitioners_are_all_inactive_gets_a_message(
        admin, martin, lea, demo, testapp):
    admin.patch(f"{PARC}/@settings", {"practitioners": {"martin": {"active": False}}})
    # Léa and Hugo also see Dr Weber: the portal stays open
    assert lea.get("/@portal").json["closed"] is None
    assert lea.get(f"{LEROY}/@patient-documents").status_int == 200
    admin.patch(f"{PARC}/@settings", {"practitioners": {"weber": {"active": False}}})
    home = lea.get("/@portal").json
    assert home["closed"] == modules.PORTAL_CLOSED and home["current"] is None
    response = lea.get(f"{LEROY}/@patient-documents", status=403)
    assert response.json["message"] == modules.PORTAL_CLOSED
    lea.get(LEROY, status=403)
    lea.get(f"{LEROY}/appointments/consultation-a-venir/@ics", status=403)
    # the cabinet keeps working
    assert martin.get(f"{LEROY}/@patient-documents").status_int == 200
    login(testapp, "p.leroy")
    assert modules.PORTAL_CLOSED in testapp.get("/").html.get_text()
    admin.patch(f"{PARC}/@settings", {"practitioners": {"weber": {"active": True}}})
    assert lea.get("/@portal").json["closed"] is None
