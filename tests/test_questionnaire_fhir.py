"""FHIR R4 Questionnaire: every template exports as a resource that fhir.resources
validates, an export imports back to the same questions, and an import refuses what
it cannot represent, naming the linkIds."""
import copy

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire
from sqlalchemy import func, select

from cabinet.models import QuestionnaireTemplate
from cabinet.scripts.demo import DEMO_TEMPLATES

PARC = "/cabinets/parc"
FOLDER = f"{PARC}/questionnaire-templates"
MEDICAL = f"{FOLDER}/questionnaire-medical"
IMPORT = f"{FOLDER}/@fhir-import"

EVERY_TYPE = {"@type": "QuestionnaireTemplate", "title": "Tous les types",
              "description": "Un de chaque", "questions": [
                  {"id": "nom", "type": "short_text", "text": "Nom", "required": True},
                  {"id": "histoire", "type": "long_text", "text": "Histoire",
                   "help": "Aussi long que nécessaire"},
                  {"id": "poids", "type": "number", "text": "Poids (kg)", "min": 2.5,
                   "max": 300},
                  {"id": "taille", "type": "number", "text": "Taille (cm)", "max": 250},
                  {"id": "naissance", "type": "date", "text": "Né le"},
                  {"id": "fumeur", "type": "yes_no", "text": "Fumeur ?"},
                  {"id": "couleur", "type": "single_choice", "text": "Couleur",
                   "options": ["Bleu", "Rouge"],
                   "show_if": {"question": "fumeur", "equals": False}},
                  {"id": "sports", "type": "multiple_choice", "text": "Sports",
                   "options": ["Vélo", "Nage", "Course"],
                   "show_if": {"question": "couleur", "equals": "Rouge"}},
                  {"id": "douleur", "type": "scale", "text": "Douleur",
                   "show_if": {"question": "poids", "equals": 80}},
                  {"id": "quand", "type": "date", "text": "Depuis quand ?",
                   "show_if": {"question": "naissance", "equals": "2000-01-01"}},
                  {"id": "note", "type": "short_text", "text": "Note",
                   "show_if": {"question": "douleur", "equals": 7}},
                  {"id": "fin", "type": "long_text", "text": "Fin",
                   "show_if": {"question": "nom", "equals": "Dupont"}}]}


def validate(resource):
    return Questionnaire.model_validate(resource)


def test_every_demo_template_is_a_valid_questionnaire(demo, api):
    martin = api("dr.martin")
    for name, title, _description, questions in DEMO_TEMPLATES:
        response = martin.get(f"{FOLDER}/{name}/@fhir")
        assert response.content_type == "application/fhir+json"
        resource = response.json
        validate(resource)
        assert resource["resourceType"] == "Questionnaire"
        assert resource["status"] == "active" and resource["title"] == title
        assert resource["version"] == "1" and resource["id"] == name
        assert resource["url"] == f"http://localhost{FOLDER}/{name}"
        assert [i["linkId"] for i in resource["item"]] == [q["id"] for q in questions]


def test_the_export_of_the_medical_questionnaire(demo, api):
    items = {i["linkId"]: i for i in api("dr.martin").get(f"{MEDICAL}/@fhir").json["item"]}
    assert items["medicaments"] == {"linkId": "medicaments", "type": "boolean",
                                    "required": True,
                                    "text": "Prenez-vous des médicaments ?"}
    assert items["lesquels"]["type"] == "text"
    assert items["lesquels"]["enableWhen"] == [
        {"question": "medicaments", "operator": "=", "answerBoolean": True}]
    assert items["lesquels"]["item"][0]["type"] == "display"
    assert items["lesquels"]["item"][0]["text"] == "Nom et dosage de chaque médicament."
    assert items["allergies"]["type"] == "choice" and items["allergies"]["repeats"] is True
    assert items["allergies"]["answerOption"][0] == {"valueString": "Pénicilline"}
    assert items["derniere-visite"]["type"] == "date"
    assert items["cigarettes"]["type"] == "decimal"
    assert items["cigarettes"]["extension"] == [
        {"url": "http://hl7.org/fhir/StructureDefinition/minValue", "valueDecimal": 0},
        {"url": "http://hl7.org/fhir/StructureDefinition/maxValue", "valueDecimal": 100}]


def test_the_scale_is_an_integer_slider_from_0_to_10(demo, api):
    resource = api("dr.martin").get(f"{FOLDER}/satisfaction/@fhir").json
    validate(resource)
    note = resource["item"][0]
    assert note["type"] == "integer"
    values = {e["url"].rsplit("/", 1)[1]: e.get("valueInteger") for e in note["extension"]}
    assert values["minValue"] == 0 and values["maxValue"] == 10
    assert note["extension"][2]["valueCodeableConcept"]["coding"][0]["code"] == "slider"
    accueil = resource["item"][1]
    assert accueil["type"] == "choice" and "repeats" not in accueil


def test_round_trip_export_import_gives_the_same_questions(demo, api):
    martin = api("dr.martin")
    created = martin.post(FOLDER, EVERY_TYPE, status=201).json
    exported = martin.get(f"{created['@id']}/@fhir").json
    validate(exported)
    imported = martin.post(IMPORT, exported, status=201)
    data = imported.json
    assert imported.location == data["@id"] != created["@id"]
    assert data["title"] == "Tous les types" and data["description"] == "Un de chaque"
    assert data["questions"] == created["questions"]
    assert data["current_version"] == 1
    for name, *_rest in DEMO_TEMPLATES:
        original = martin.get(f"{FOLDER}/{name}").json
        again = martin.post(IMPORT, martin.get(f"{FOLDER}/{name}/@fhir").json,
                            status=201).json
        assert again["questions"] == original["questions"], name


def test_import_of_a_questionnaire_written_elsewhere(demo, api):
    resource = {"resourceType": "Questionnaire", "status": "draft", "name": "PHQ2",
                "item": [
                    {"linkId": "1.1", "text": "Peu d'intérêt ?", "type": "choice",
                     "answerOption": [{"valueCoding": {"code": "0", "display": "Jamais"}},
                                      {"valueCoding": {"code": "1",
                                                       "display": "Parfois"}}]},
                    {"linkId": "1.2", "text": "Depuis ?", "type": "integer",
                     "enableWhen": [{"question": "1.1", "operator": "=",
                                     "answerCoding": {"code": "1",
                                                      "display": "Parfois"}}]}]}
    data = api("dr.martin").post(IMPORT, resource, status=201).json
    assert data["title"] == "PHQ2"
    assert data["questions"] == [
        {"id": "1-1", "type": "single_choice", "text": "Peu d'intérêt ?", "help": "",
         "required": False, "options": ["Jamais", "Parfois"]},
        {"id": "1-2", "type": "number", "text": "Depuis ?", "help": "",
         "required": False, "show_if": {"question": "1-1", "equals": "Parfois"}}]


def count(db):
    with db() as request:
        return request.dbsession.scalar(
            select(func.count()).select_from(QuestionnaireTemplate))


def test_unsupported_items_are_refused_with_their_link_ids(demo, api, db):
    before = count(db)
    resource = {"resourceType": "Questionnaire", "status": "active", "title": "Divers",
                "item": [
                    {"linkId": "ok", "text": "Nom", "type": "string"},
                    {"linkId": "scan", "text": "Radio", "type": "attachment"},
                    {"linkId": "medecin", "text": "Médecin", "type": "reference"},
                    {"linkId": "dose", "text": "Dose", "type": "quantity"},
                    {"linkId": "bloc", "text": "Bloc", "type": "group", "item": [
                        {"linkId": "bloc.1", "text": "x", "type": "string"}]},
                    {"linkId": "parent", "text": "Parent", "type": "string", "item": [
                        {"linkId": "enfant", "text": "Enfant", "type": "string"}]},
                    {"linkId": "deux", "text": "Deux conditions", "type": "string",
                     "enableWhen": [
                         {"question": "ok", "operator": "exists", "answerBoolean": True},
                         {"question": "ok", "operator": "=", "answerString": "a"}]},
                    {"linkId": "autre", "text": "Autre", "type": "string",
                     "enableWhen": [{"question": "ok", "operator": "!=",
                                     "answerString": "a"}]}]}
    response = api("dr.martin").post(IMPORT, resource, status=422)
    body = response.json
    assert body["type"] == "ValidationError"
    assert body["unsupported"] == ["scan", "medecin", "dose", "bloc", "enfant", "deux",
                                   "autre"]
    assert "scan" in body["message"] and "attachment" in body["errors"]["item.scan"]
    assert "imbriquées" in body["errors"]["item.enfant"]
    assert "=" in body["errors"]["item.autre"]
    assert count(db) == before


@pytest.mark.parametrize("change, key", [
    (lambda r: r.update(resourceType="Patient"), "resourceType"),
    (lambda r: r.pop("status"), "status"),
    (lambda r: r["item"][0].update(type="nonsense"), None),
    (lambda r: r.pop("title"), "title"),
    (lambda r: r["item"][2].pop("answerOption"), "questions.2.options"),
    (lambda r: r["item"][1].update(enableWhen=[{"question": "zz", "operator": "=",
                                                "answerString": "x"}]),
     "questions.1.show_if"),
])
def test_invalid_questionnaires_are_refused(demo, api, db, change, key):
    resource = {"resourceType": "Questionnaire", "status": "active", "title": "T",
                "item": [{"linkId": "a", "text": "A", "type": "string"},
                         {"linkId": "b", "text": "B", "type": "string"},
                         {"linkId": "c", "text": "C", "type": "choice",
                          "answerOption": [{"valueString": "x"}]}]}
    resource = copy.deepcopy(resource)
    change(resource)
    before = count(db)
    response = api("dr.martin").post(IMPORT, resource, status=422)
    if key is not None:
        assert any(k.startswith(key) for k in response.json["errors"]), response.json
    assert count(db) == before


def test_fhir_import_and_export_need_the_staffs_rights(demo, api, testapp):
    leroy = api("p.leroy")
    leroy.get(f"{MEDICAL}/@fhir", status=403)
    exported = api("dr.martin").get(f"{MEDICAL}/@fhir").json
    leroy.post(IMPORT, exported, status=403)
    testapp.get(f"{MEDICAL}/@fhir", status=401)
    testapp.post_json(IMPORT, exported, status=(401, 403))
    # the import answers on a templates folder only
    api("dr.martin").post(f"{PARC}/patients/@fhir-import", exported, status=404)
