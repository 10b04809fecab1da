"""The portal's home (issue #9, P1), my cabinet (P6) and manage patients (P8): what a
patient and a guardian see on "/" and in /@portal, the Carte Vitale flag, the
current patient kept in the session, and refusals for records that are not theirs."""
import pytest

from tests.conftest import login

PARC = "/cabinets/parc"
LEROY = f"{PARC}/patients/leroy"
HUGO = f"{PARC}/patients/hugo-leroy"
MULLER = f"{PARC}/patients/muller"
# the clock stands at 2026-03-10 10:00 in Luxembourg: Léa's next appointment is a
# consultation with Dr Martin on 13/03 at 10:00, Hugo's a check-up with Dr Weber on
# 20/03 at 16:00


@pytest.fixture
def lea(lea_page):
    return lea_page


def csrf(page):
    return page.html.select_one("input[name=csrf_token]")["value"]


def links(page, selector):
    return {a.get_text(strip=True): a["href"] for a in page.html.select(selector + " a")}


def test_the_home_page_of_a_patient_is_the_portal(lea):
    home = lea.get("/")
    assert 'name="viewport"' in home.text and "width=device-width" in home.text
    section = home.html.select_one("section.portal-home")
    assert section.h1.get_text(strip=True) == "Bonjour, Léa Leroy"
    nxt = section.select_one(".next-appointment")
    assert nxt.select_one(".when").get_text(" ", strip=True) == "13/03/2026 à 10:00"
    assert nxt.select_one(".practitioner").get_text(strip=True) == "Dr Paul Martin"
    for language, shown in (("de", "13.03.2026 um 10:00"), ("en", "Mar 13, 2026 at 10:00\u202fAM")):
        page = lea.get("/", headers={"Accept-Language": language})
        assert page.html.select_one(".next-appointment .when").get_text(strip=True) == shown
    assert not nxt.select_one(".carte-vitale")
    buttons = links(home, "nav.portal-buttons")
    assert list(buttons) == ["Mes rendez-vous", "Mes paiements", "Messagerie", "Documents"]
    assert buttons["Mes rendez-vous"].endswith("/@@my-appointments")
    assert buttons["Mes paiements"].endswith("/@@my-payments")
    assert buttons["Messagerie"].endswith("/@@my-messages")
    assert buttons["Documents"].endswith(f"{LEROY}/@@patient-documents")
    menu = links(home, "nav.portal-menu")
    assert list(menu) == ["Mes informations", "Mes formulaires", "Mon imagerie",
                          "Gérer les patients", "Mon cabinet", "Notifications"]
    assert menu["Mon imagerie"].endswith(f"{LEROY}/@@my-imaging")
    assert menu["Notifications"].endswith("/@@my-notifications")
    # the linked pages of this part answer
    for url in (buttons["Mes rendez-vous"], buttons["Documents"], menu["Mes informations"],
                menu["Mes formulaires"], menu["Gérer les patients"], menu["Mon cabinet"]):
        assert lea.get(url).status_int == 200, url


def test_the_carte_vitale_flag(lea, api):
    api("admin").patch(f"{PARC}/@appointment-types/consultation",
                       {"carte_vitale_required": True})
    home = lea.get("/")
    flag = home.html.select_one(".next-appointment .carte-vitale")
    assert flag.get_text(strip=True) == "Présentez votre Carte Vitale à ce rendez-vous."
    types = api("admin").get(f"{PARC}/@appointment-types").json["items"]
    assert {t["id"]: t["carte_vitale_required"] for t in types} == {
        "consultation": True, "controle": False}
    api("admin").patch(f"{PARC}/@appointment-types/consultation",
                       {"carte_vitale_required": "yes"}, status=422)


def test_the_portal_json(lea_api, api):
    data = lea_api.get("/@portal").json
    assert data["current"] == {"@id": "http://localhost" + LEROY, "title": "Léa Leroy",
                               "relation": "patient", "cabinet": "Cabinet dentaire du Parc"}
    assert [p["title"] for p in data["patients"]] == ["Léa Leroy", "Hugo Leroy"]
    appointment = data["next_appointment"]
    assert appointment["start"] == "2026-03-13T10:00:00+01:00"
    assert appointment["practitioner"] == "Dr Paul Martin"
    assert appointment["carte_vitale_required"] is False
    assert all(data["modules"].values())
    assert data["counts"]["appointments_coming"] == 1
    assert data["counts"]["documents"] >= 1
    assert data["closed"] is None


def test_staff_keep_their_home_page_and_have_no_portal(demo, testapp, api):
    login(testapp, "dr.martin")
    home = testapp.get("/")
    assert not home.html.select_one("section.portal-home")
    assert home.html.select_one("section.my-access")
    api("dr.martin").get("/@portal", status=403)
    api("dr.martin").get("/@my-cabinet", status=403)


def test_my_cabinet(lea, lea_api):
    data = lea_api.get("/@my-cabinet").json
    assert data["items"] == [{
        "@id": "http://localhost" + PARC, "title": "Cabinet dentaire du Parc",
        "address": "12 rue du Parc, L-1234 Luxembourg", "phone": "+35222000000",
        "email": "contact@parc.example",
        "map_url": "https://www.openstreetmap.org/search?query="
                   "12+rue+du+Parc%2C+L-1234+Luxembourg",
        "mailto": "mailto:contact@parc.example", "tel": "tel:+35222000000"}]
    page = lea.get("/@@my-cabinet")
    card = page.html.select_one("section.my-cabinet")
    assert card.h1.get_text(strip=True) == "Cabinet dentaire du Parc"
    assert card.select_one(".address").get_text(strip=True) == \
        "12 rue du Parc, L-1234 Luxembourg"
    assert card.select_one("a.tel")["href"] == "tel:+35222000000"
    assert card.select_one("a.mailto")["href"] == "mailto:contact@parc.example"
    assert card.select_one("a.map")["href"].startswith("https://www.openstreetmap.org/")


def test_a_guardian_switches_to_the_minor_and_back(lea):
    page = lea.get("/@@manage-patients")
    names = [li.select_one(".name").get_text(strip=True)
             for li in page.html.select("ul.patient-switcher li")]
    assert names == ["Léa Leroy", "Hugo Leroy"]
    hugo = page.html.select("ul.patient-switcher li")[1]
    lea.post(hugo.form["action"], {"csrf_token": csrf(page)}, status=303)
    home = lea.get("/")
    assert "Bonjour, Hugo Leroy" in home.text
    nxt = home.html.select_one(".next-appointment")
    assert nxt.select_one(".when").get_text(" ", strip=True) == "20/03/2026 à 16:00"
    assert nxt.select_one(".practitioner").get_text(strip=True) == "Dr Eva Weber"
    assert links(home, "nav.portal-buttons")["Documents"].endswith(
        f"{HUGO}/@@patient-documents")
    # the demo cabinet opens payments to the guardians of minors (cabinet.modules)
    assert "Mes paiements" in links(home, "nav.portal-buttons")
    page = lea.get("/@@manage-patients")
    lea.post(page.html.select("ul.patient-switcher li")[0].form["action"],
             {"csrf_token": csrf(page)}, status=303)
    assert "Bonjour, Léa Leroy" in lea.get("/").text


def test_nobody_switches_to_a_record_that_is_not_theirs(lea, lea_api, api):
    page = lea.get("/")
    response = lea.post(f"{MULLER}/@@portal-switch", {"csrf_token": csrf(page)},
                        status=403)
    assert "Muller" not in response.text
    assert "Bonjour, Léa Leroy" in lea.get("/").text
    lea.post(f"{HUGO}/@@portal-switch", {}, status=403)       # no CSRF token
    assert "Bonjour, Léa Leroy" in lea.get("/").text
    lea_api.post(f"{MULLER}/@portal-switch", status=403)
    api("dr.martin").post(f"{LEROY}/@portal-switch", status=403)   # staff: no portal


def test_the_switch_json(lea_api):
    data = lea_api.post(f"{HUGO}/@portal-switch").json
    assert data["title"] == "Hugo Leroy"
    listing = lea_api.get("/@manage-patients").json
    assert [p["relation"] for p in listing["items"]] == ["patient", "guardian"]


def test_the_home_of_one_record_through_its_url(lea_api, api):
    data = lea_api.get(f"{HUGO}/@portal").json
    assert data["current"]["title"] == "Hugo Leroy"
    assert data["next_appointment"]["practitioner"] == "Dr Eva Weber"
    response = lea_api.get(f"{MULLER}/@portal", status=403)
    assert "Muller" not in response.text
    api("dr.martin").get(f"{LEROY}/@portal", status=403)
