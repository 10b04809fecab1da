"""The staff pages of questionnaire templates as people see them: the cabinet's list
and its up/down order, the form that adds, removes and reorders questions without
JavaScript, errors shown next to the fields with what was typed, versions, delete
with confirmation, CSRF and who may see the pages."""
import json

import pytest
from bs4 import BeautifulSoup

from cabinet.content import add_node
from cabinet.questionnaire_templates import current_version
from cabinet.resources import get_root
from tests.conftest import login

PARC = "/cabinets/parc"
FOLDER = f"{PARC}/questionnaire-templates"
MEDICAL = f"{FOLDER}/questionnaire-medical"
HYGIENE = f"{FOLDER}/hygiene"


@pytest.fixture
def hygiene(demo, api):
    """A template of our own that no response uses (the demo's are in use)."""
    api("dr.martin").post(FOLDER, {
        "@type": "QuestionnaireTemplate", "title": "Hygiène", "questions": [
            {"id": "brossage", "type": "scale", "text": "Brossage ?"},
            {"id": "fil", "type": "single_choice", "text": "Fil dentaire ?",
             "options": ["Jamais", "Parfois", "Tous les jours"]},
            {"id": "remarque", "type": "long_text", "text": "Une remarque ?"}]},
        status=201)
    return HYGIENE


def soup(page):
    return BeautifulSoup(page.text, "html.parser")


def list_titles(page):
    return [row.select("td")[1].a.get_text(strip=True)
            for row in soup(page).select("table.templates tbody tr")]


def error_next_to(page, name):
    """The error shown in the field block of input ``name``, or None."""
    field = soup(page).find(attrs={"name": name})
    block = field.find_parent("div", class_="field")
    error = block.select_one(".field-error")
    return error.get_text(strip=True) if error else None


def send_response(db, template_name, name="envoye"):
    with db() as request:
        root = get_root(request)
        template = root["cabinets"]["parc"]["questionnaire-templates"][template_name]
        version = current_version(request.dbsession, template)
        folder = root["cabinets"]["parc"]["patients"]["leroy"]["questionnaires"]
        add_node(request.dbsession, request.registry, folder, "QuestionnaireResponse",
                 name=name, title=version.title, template_id=template.id,
                 template_version_id=version.id)


def test_the_list_in_order_with_up_and_down(demo, testapp):
    login(testapp, "dr.martin")
    page = testapp.get(FOLDER)
    assert page.content_type == "text/html"
    assert "Modèles de questionnaires" in soup(page).h1.get_text()
    assert list_titles(page) == ["Questionnaire médical", "Satisfaction"]
    assert soup(page).select_one("a.add-template")["href"].endswith("/@@add")
    # the first has only "down", the last only "up"
    down = next(f for f in page.forms.values()
                if f.action.endswith("questionnaire-medical/@@move"))
    assert down["direction"].value == "down"
    page = down.submit().follow()
    assert list_titles(page) == ["Satisfaction", "Questionnaire médical"]
    up = next(f for f in page.forms.values()
              if f.action.endswith("questionnaire-medical/@@move"))
    assert up["direction"].value == "up"
    assert list_titles(up.submit().follow()) == ["Questionnaire médical", "Satisfaction"]


def test_create_with_the_form_adding_rows_without_javascript(demo, testapp):
    login(testapp, "dr.martin")
    page = testapp.get(f"{FOLDER}/@@add")
    form = page.forms[1]
    assert form["count"].value == "1"
    form["title"] = "Hygiène"
    form["q-0-text"] = "Vous brossez-vous les dents ?"
    form["q-0-type"] = "yes_no"
    form["q-0-required"] = True
    page = form.submit("action", value="add")          # a second row, nothing saved
    assert page.status_int == 200
    form = page.forms[1]
    assert form["count"].value == "2"
    assert form["title"].value == "Hygiène"
    assert form["q-0-text"].value == "Vous brossez-vous les dents ?"
    form["q-1-text"] = "Combien de fois par jour ?"
    form["q-1-type"] = "number"
    form["q-1-min"] = "0"
    form["q-1-max"] = "10"
    form["q-1-show_if_question"] = "vous-brossez-vous-les-dents"
    form["q-1-show_if_equals"] = "oui"
    page = form.submit("action", value="save").follow()
    assert "Modèle de questionnaire créé." in page.text
    assert soup(page).h1.get_text(strip=True) == "Hygiène"
    items = soup(page).select("ol.questions li.question")
    assert [li["data-question"] for li in items] == ["vous-brossez-vous-les-dents",
                                                     "combien-de-fois-par-jour"]
    assert "Oui / non" in items[0].get_text() and items[0].select_one(".required")
    assert "min. 0, max. 10" in items[1].get_text()
    assert ("Affichée seulement si « Vous brossez-vous les dents ? » = oui"
            in " ".join(items[1].get_text().split()))
    assert list_titles(testapp.get(FOLDER))[-1] == "Hygiène"


def test_errors_next_to_the_fields_keeping_what_was_typed(demo, testapp, db):
    login(testapp, "dr.martin")
    form = testapp.get(f"{FOLDER}/@@add").forms[1]
    form["title"] = ""
    form["q-0-text"] = "Couleur préférée"
    form["q-0-type"] = "single_choice"
    form["q-0-id"] = "couleur"
    page = form.submit("action", value="add")
    form = page.forms[1]
    form["q-1-text"] = "Poids"
    form["q-1-type"] = "number"
    form["q-1-min"] = "90"
    form["q-1-max"] = "abc"
    form["q-1-show_if_question"] = "taille"
    page = form.submit("action", value="save", status=422)
    assert "Le formulaire contient des erreurs" in page.text
    assert error_next_to(page, "title").startswith("Le titre est requis")
    assert error_next_to(page, "q-0-options") == "Un choix demande au moins une option."
    assert error_next_to(page, "q-1-max") == "La borne est un nombre."
    assert "pas une question placée avant" in error_next_to(page, "q-1-show_if_question")
    assert error_next_to(page, "q-0-text") is None
    form = page.forms[1]
    assert (form["q-0-text"].value, form["q-0-type"].value) == ("Couleur préférée",
                                                                 "single_choice")
    assert (form["q-1-min"].value, form["q-1-max"].value) == ("90", "abc")
    assert form["q-1-show_if_question"].value == "taille"
    # corrected, it saves
    form["title"] = "Préférences"
    form["q-0-options"] = "Bleu\nRouge\n"
    form["q-1-max"] = "150"
    form["q-1-show_if_question"] = "couleur"
    form["q-1-show_if_equals"] = "Rouge"
    page = form.submit("action", value="save").follow()
    assert [li.get_text(strip=True) for li in soup(page).select("ul.options li")] == [
        "Bleu", "Rouge"]


def test_edit_removes_and_reorders_questions(hygiene, testapp, api):
    login(testapp, "dr.martin")
    page = testapp.get(f"{HYGIENE}/@@edit")
    assert ("La version 1 n'a encore été envoyée à personne : elle est modifiée telle "
            "quelle.") in soup(page).select_one(".version-note").get_text()
    form = page.forms[1]
    assert form["count"].value == "3"
    assert form["q-0-text"].value == "Brossage ?"
    assert form["q-1-options"].value == "Jamais\nParfois\nTous les jours"
    page = form.submit("action", value="remove-1")
    form = page.forms[1]
    assert form["count"].value == "2"
    assert [form[f"q-{i}-id"].value for i in range(2)] == ["brossage", "remarque"]
    form = form.submit("action", value="up-1").forms[1]
    assert [form[f"q-{i}-id"].value for i in range(2)] == ["remarque", "brossage"]
    page = form.submit("action", value="save").follow()
    assert "Modèle enregistré." in page.text
    data = api("dr.martin").get(HYGIENE).json
    assert [q["id"] for q in data["questions"]] == ["remarque", "brossage"]
    assert data["current_version"] == 1


def test_edit_of_a_used_template_makes_a_version_shown_in_the_history(hygiene, testapp,
                                                                        db):
    send_response(db, "hygiene")
    login(testapp, "dr.martin")
    page = testapp.get(f"{HYGIENE}/@@edit")
    assert ("Des questionnaires ont déjà été envoyés avec la version 1 : l'enregistrement "
            "crée une nouvelle version") in soup(page).select_one(".version-note").get_text()
    form = page.forms[1]
    form["title"] = "Hygiène 2027"
    page = form.submit("action", value="save").follow()
    assert ("Modèle enregistré en version 2 : les questionnaires déjà envoyés gardent "
            "leur version.") in page.text
    rows = soup(page).select("section.versions tbody tr")
    assert [r["data-version"] for r in rows] == ["2", "1"]
    cells = [[td.get_text(" ", strip=True) for td in r.select("td")] for r in rows]
    assert cells[0][0] == "2 actuelle" and cells[0][1] == "Hygiène 2027"
    assert cells[1][1] == "Hygiène" and cells[1][5] == "1"   # one response sent
    assert cells[0][3] == cells[1][3] == "Dr Paul Martin"
    assert cells[0][5] == "0"
    old = testapp.get(f"{HYGIENE}?version=1")
    assert soup(old).h1.get_text(strip=True) == "Hygiène"
    assert "Ancienne version, en lecture seule." in old.text


def test_delete_with_confirmation(hygiene, testapp, db):
    login(testapp, "dr.martin")
    page = testapp.get(f"{HYGIENE}/@@delete")
    assert "Supprimer le modèle « Hygiène » ?" in page.text
    page = page.forms[1].submit().follow()
    assert "Modèle « Hygiène » supprimé." in page.text
    assert list_titles(page) == ["Questionnaire médical", "Satisfaction"]
    testapp.get(HYGIENE, status=404)


def test_delete_of_a_used_template_is_refused(demo, testapp, db):
    send_response(db, "questionnaire-medical")
    login(testapp, "dr.martin")
    page = testapp.get(f"{MEDICAL}/@@delete")
    assert "il ne peut pas être supprimé" in page.text
    assert not [f for f in page.forms.values() if f.action.endswith("@@delete")]
    token = page.forms[0]["csrf_token"].value
    page = testapp.post(f"{MEDICAL}/@@delete", {"csrf_token": token}, status=409)
    assert "utilisé par des questionnaires" in page.text
    testapp.get(MEDICAL, status=200)


def test_forms_need_the_csrf_token(demo, testapp):
    login(testapp, "dr.martin")
    form = testapp.get(f"{MEDICAL}/@@edit").forms[1]
    form["csrf_token"] = "forged"
    page = form.submit("action", value="save", status=403)
    assert "jeton" in page.text.lower() or "security token" in page.text.lower()
    testapp.post(f"{FOLDER}/@@add", {"title": "x", "count": "0"}, status=403)
    testapp.post(f"{MEDICAL}/@@move", {"direction": "up"}, status=403)
    testapp.post(f"{MEDICAL}/@@delete", {}, status=403)
    testapp.get(MEDICAL, status=200)


def test_the_preview_reads_like_the_questionnaire(demo, testapp):
    login(testapp, "dr.martin")
    page = testapp.get(MEDICAL)
    text = " ".join(soup(page).get_text().split())
    assert "Questionnaire médical" in text and "Version 1 · actuelle" in text
    assert "À remplir avant votre premier rendez-vous." in text
    assert "Prenez-vous des médicaments ? * (Oui / non)" in text
    assert "Affichée seulement si « Prenez-vous des médicaments ? » = oui" in text
    assert "Nom et dosage de chaque médicament." in text
    assert "Cigarettes par jour (Nombre · min. 0, max. 100)" in text
    assert "Export FHIR (Questionnaire)" in text


def test_who_sees_the_pages(demo, testapp):
    # anonymous: to the login page
    for path in (FOLDER, MEDICAL, f"{MEDICAL}/@@edit", f"{FOLDER}/@@add",
                 f"{MEDICAL}/@@delete"):
        response = testapp.get(path, status=302)
        assert "/login" in response.location
    login(testapp, "p.leroy")
    for path in (FOLDER, MEDICAL, f"{MEDICAL}/@@edit", f"{FOLDER}/@@add",
                 f"{MEDICAL}/@@delete"):
        testapp.get(path, status=403)
    token = testapp.get("/").forms[0]["csrf_token"].value
    testapp.post(f"{MEDICAL}/@@move", {"direction": "up", "csrf_token": token},
                 status=403)
    testapp.post(f"{MEDICAL}/@@delete", {"csrf_token": token}, status=403)
    testapp.post(f"{FOLDER}/@@add", {"csrf_token": token, "title": "x", "count": "0"},
                 status=403)


def test_the_cabinet_page_links_to_the_templates(demo, testapp):
    login(testapp, "dr.martin")
    page = testapp.get(PARC)
    links = [a["href"] for a in soup(page).select("section.listing h2 a")]
    assert f"http://localhost{FOLDER}" in links


def test_import_a_fhir_file_from_the_list(demo, testapp, api):
    exported = api("dr.martin").get(f"{FOLDER}/satisfaction/@fhir").json
    login(testapp, "dr.martin")
    form = testapp.get(FOLDER).forms[3]           # logout, up/down, import
    assert form.action.endswith("/@@import")
    form["file"] = ("satisfaction.json", json.dumps(exported).encode())
    page = form.submit().follow()
    assert "Questionnaire FHIR importé." in page.text
    assert soup(page).h1.get_text(strip=True) == "Satisfaction"
    assert list_titles(testapp.get(FOLDER)) == ["Questionnaire médical", "Satisfaction",
                                                "Satisfaction"]


def test_import_refusals_are_shown_on_the_list(demo, testapp, db):
    login(testapp, "dr.martin")
    resource = {"resourceType": "Questionnaire", "status": "active", "title": "Radio",
                "item": [{"linkId": "scan", "text": "Radio", "type": "attachment"},
                         {"linkId": "nom", "text": "Nom", "type": "string"}]}
    form = testapp.get(FOLDER).forms[3]
    form["file"] = ("radio.json", json.dumps(resource).encode())
    page = form.submit(status=422)
    assert error_next_to(page, "file") == "Ce questionnaire ne peut pas être importé : scan."
    assert [li.get_text(" ", strip=True) for li in soup(page).select(".import-errors li")] \
        == ["item.scan : le type « attachment » n'est pas pris en charge"]
    assert list_titles(page) == ["Questionnaire médical", "Satisfaction"]
    form = page.forms[3]
    form["file"] = ("x.json", b"{not json")
    page = form.submit(status=422)
    assert error_next_to(page, "file") == "Ce fichier n'est pas du JSON valide."
