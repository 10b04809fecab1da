"""Questionnaire templates (Q1): the rules of the questions, the JSON API through the
generic content API (create, read, edit with versions, reorder, delete), and who may
do what."""
import pytest
from sqlalchemy import func, select

from cabinet.content import add_node
from cabinet.models import QuestionnaireTemplate
from cabinet.models.questionnaires import TemplateVersion
from cabinet.questionnaire_templates import current_version
from cabinet.questionnaire_templates.questions import QuestionsInvalid, check_questions
from cabinet.resources import get_root
from tests.conftest import add_other_cabinet

PARC = "/cabinets/parc"
FOLDER = f"{PARC}/questionnaire-templates"
MEDICAL = f"{FOLDER}/questionnaire-medical"


def q(qid, kind="short_text", **more):
    return {"id": qid, "type": kind, "text": f"Question {qid}", **more}


def errors_of(questions):
    with pytest.raises(QuestionsInvalid) as caught:
        check_questions(questions)
    return caught.value.errors


# -- the rules of the questions -----------------------------------------------------------

def test_a_valid_list_is_normalised():
    questions = check_questions([
        q("age", "number", min=0, max=120, required=True),
        q("fumeur", "yes_no", text="  Fumez-vous ?  "),
        q("combien", "number", min=1, show_if={"question": "fumeur", "equals": True}),
        q("couleur", "single_choice", options=[" Bleu", "Rouge "]),
        q("sports", "multiple_choice", options=["Vélo", "Course"],
          show_if={"question": "couleur", "equals": "Rouge"}),
        q("note", "scale", show_if={"question": "age", "equals": 30}),
        q("naissance", "date"), q("remarques", "long_text", help="Facultatif"),
    ])
    assert [x["id"] for x in questions] == ["age", "fumeur", "combien", "couleur",
                                            "sports", "note", "naissance", "remarques"]
    assert questions[0] == {"id": "age", "type": "number", "text": "Question age",
                            "help": "", "required": True, "min": 0, "max": 120}
    assert questions[1]["text"] == "Fumez-vous ?" and questions[1]["required"] is False
    assert questions[3]["options"] == ["Bleu", "Rouge"]
    assert questions[7]["help"] == "Facultatif"


@pytest.mark.parametrize("questions, key, words", [
    ([], "questions", "au moins une question"),
    ("abc", "questions", "au moins une question"),
    ([q("a"), q("a")], "questions.1.id", "déjà celui d'une autre question"),
    ([q("a", show_if={"question": "b", "equals": "x"}), q("b")], "questions.0.show_if",
     "pas une question placée avant"),
    ([q("a", show_if={"question": "zz", "equals": "x"})], "questions.0.show_if",
     "« zz »"),
    ([q("a", show_if={"question": "a", "equals": "x"})], "questions.0.show_if",
     "placée avant"),
    ([q("a", "yes_no"), q("b", show_if={"question": "a", "equals": "peut-être"})],
     "questions.1.show_if", "n'est pas une réponse possible"),
    ([q("a", "single_choice", options=["x"]), q("b", show_if={"question": "a",
                                                             "equals": "y"})],
     "questions.1.show_if", "n'est pas une réponse possible"),
    ([q("a", "scale"), q("b", show_if={"question": "a", "equals": 11})],
     "questions.1.show_if", "n'est pas une réponse possible"),
    ([q("a", show_if={"question": "a"})], "questions.0.show_if", "La condition est"),
    ([q("a", "single_choice")], "questions.0.options", "au moins une option"),
    ([q("a", "multiple_choice", options=[])], "questions.0.options", "au moins une option"),
    ([q("a", "single_choice", options=["x", "x"])], "questions.0.options", "deux fois"),
    ([q("a", "single_choice", options=["x", ""])], "questions.0.options", "non vide"),
    ([q("a", "number", min=5, max=1)], "questions.0.max", "inférieur au minimum"),
    ([q("a", "number", min="5")], "questions.0.min", "est un nombre"),
    ([q("a", "short_text", min=1)], "questions.0.min", "Seules les questions de type nombre"),
    ([q("a", "short_text", options=["x"])], "questions.0.options", "Seuls les choix"),
    ([q("a", "checkbox")], "questions.0.type", "Type inconnu"),
    ([q("a", colour="red")], "questions.0.colour", "Champ inconnu"),
    ([q("A b")], "questions.0.id", "Identifiant requis"),
    ([{"type": "short_text", "text": "x"}], "questions.0.id", "Identifiant requis"),
    ([q("a", text="  ")], "questions.0.text", "intitulé est requis"),
    ([q("a", required="yes")], "questions.0.required", "true ou false"),
    ([q("a", help=3)], "questions.0.help", "2000 caractères"),
    (["a question"], "questions.0", "objet JSON"),
])
def test_each_rule_is_refused_clearly(questions, key, words):
    errors = errors_of(questions)
    assert key in errors, errors
    assert words in errors[key]


def test_every_error_is_listed_at_once():
    errors = errors_of([q("a", "single_choice"), q("a", "number", min=3, max=2),
                        q("c", "nope")])
    assert set(errors) == {"questions.0.options", "questions.1.id", "questions.1.max",
                           "questions.2.type"}


# -- the JSON API -------------------------------------------------------------------------

NEW = {"@type": "QuestionnaireTemplate", "title": "Allergies",
       "description": "Avant une anesthésie",
       "questions": [q("allergique", "yes_no", required=True),
                     q("lesquelles", "long_text",
                       show_if={"question": "allergique", "equals": True})]}


def template_count(db):
    with db() as request:
        return request.dbsession.scalar(
            select(func.count()).select_from(QuestionnaireTemplate))


def version_numbers(db, name):
    with db() as request:
        template = request.dbsession.scalar(select(QuestionnaireTemplate).where(
            QuestionnaireTemplate.name == name))
        return sorted(request.dbsession.scalars(select(TemplateVersion.number).where(
            TemplateVersion.template_id == template.id)))


def send_response(db, template_name, response_name="reponse"):
    """A response sent with the template's current version (what "qr" does)."""
    with db() as request:
        root = get_root(request)
        template = root["cabinets"]["parc"]["questionnaire-templates"][template_name]
        version = current_version(request.dbsession, template)
        folder = root["cabinets"]["parc"]["patients"]["leroy"]["questionnaires"]
        add_node(request.dbsession, request.registry, folder, "QuestionnaireResponse",
                 name=response_name, title=version.title, template_id=template.id,
                 template_version_id=version.id)
        return version.id


def test_create_read_a_template(demo, api):
    martin = api("dr.martin")
    response = martin.post(FOLDER, NEW, status=201)
    data = response.json
    assert response.location == data["@id"] == f"http://localhost{FOLDER}/allergies"
    assert data["@type"] == "QuestionnaireTemplate" and data["review_state"] == "active"
    assert data["current_version"] == 1
    assert [x["id"] for x in data["questions"]] == ["allergique", "lesquelles"]
    assert data["questions"][1]["show_if"] == {"question": "allergique", "equals": True}
    got = martin.get(f"{FOLDER}/allergies").json
    assert got["questions"] == data["questions"]
    assert got["description"] == "Avant une anesthésie"
    assert got["position"] == 2          # after the demo's two templates
    assert [(v["number"], v["title"], v["responses"], v["current"])
            for v in got["versions"]] == [(1, "Allergies", 0, True)]
    assert got["versions"][0]["created_by"]["id"] == "dr.martin"
    assert got["@components"]["fhir"]["@id"].endswith("/allergies/@fhir")


def test_invalid_template_is_refused_with_every_error(demo, api, db):
    before = template_count(db)
    body = {**NEW, "title": "", "questions": [q("a", "single_choice"), q("a")]}
    response = api("dr.martin").post(FOLDER, body, status=422)
    assert response.json["type"] == "ValidationError"
    errors = response.json["errors"]
    assert set(errors) == {"title", "questions.0.options", "questions.1.id"}
    assert template_count(db) == before


@pytest.mark.parametrize("body, key", [
    ({"@type": "QuestionnaireTemplate", "title": "Vide"}, "questions"),
    ({**NEW, "questions": []}, "questions"),
    ({**NEW, "current_version": 3}, "current_version"),
    ({**NEW, "position": "first"}, "position"),
    ({**NEW, "position": -1}, "position"),
])
def test_create_refusals(demo, api, db, body, key):
    before = template_count(db)
    response = api("dr.martin").post(FOLDER, body, status=422)
    assert key in response.json["errors"]
    assert template_count(db) == before


def test_edit_an_unused_version_in_place(demo, api, db):
    martin = api("dr.martin")
    martin.post(FOLDER, NEW, status=201)
    questions = [q("allergique", "yes_no"), q("date", "date")]
    data = martin.patch(f"{FOLDER}/allergies", {"questions": questions,
                                                "title": "Allergies (v2)"}).json
    assert data["current_version"] == 1 and len(data["versions"]) == 1
    assert [x["id"] for x in data["questions"]] == ["allergique", "date"]
    assert data["versions"][0]["title"] == "Allergies (v2)"
    assert version_numbers(db, "allergies") == [1]


def test_edit_a_used_version_adds_a_version(demo, api, db):
    martin = api("dr.martin")
    martin.post(FOLDER, NEW, status=201)
    old_version_id = send_response(db, "allergies")
    data = martin.patch(f"{FOLDER}/allergies", {"questions": [q("allergique", "yes_no")]}
                        ).json
    assert data["current_version"] == 2
    assert [(v["number"], v["responses"], v["current"]) for v in data["versions"]] == [
        (1, 1, False), (2, 0, True)]
    assert [x["id"] for x in data["questions"]] == ["allergique"]
    with db() as request:
        old = request.dbsession.get(TemplateVersion, old_version_id)
        assert old.number == 1
        assert [x["id"] for x in old.questions] == ["allergique", "lesquelles"]
        response = get_root(request)["cabinets"]["parc"]["patients"]["leroy"][
            "questionnaires"]["reponse"]
        assert response.template_version_id == old_version_id
    # version 2 is not used yet: the next edit changes it in place
    martin.patch(f"{FOLDER}/allergies", {"description": "Modifiée"})
    assert version_numbers(db, "allergies") == [1, 2]
    # a title change of a used version also makes a version
    send_response(db, "allergies", "reponse-2")
    data = martin.patch(f"{FOLDER}/allergies", {"title": "Allergies 2027"}).json
    assert data["current_version"] == 3 and data["title"] == "Allergies 2027"
    assert data["description"] == "Modifiée"


def test_an_edit_that_changes_nothing_adds_no_version(demo, api, db):
    martin = api("dr.martin")
    martin.post(FOLDER, NEW, status=201)
    send_response(db, "allergies")
    data = martin.patch(f"{FOLDER}/allergies", {"questions": NEW["questions"],
                                                "title": "Allergies"}).json
    assert data["current_version"] == 1
    history = martin.get(f"{FOLDER}/allergies/@history").json
    assert [h["action"] for h in history] == ["create"]


def test_edit_refusals_leave_the_template_unchanged(demo, api, db):
    martin = api("dr.martin")
    before = martin.get(MEDICAL).json
    response = martin.patch(MEDICAL, {"questions": [q("x", show_if={"question": "y",
                                                                     "equals": "z"}),
                                                   q("y")]}, status=422)
    assert "questions.0.show_if" in response.json["errors"]
    martin.patch(MEDICAL, {"current_version": 9}, status=422)
    after = martin.get(MEDICAL).json
    assert after["questions"] == before["questions"]
    assert after["current_version"] == before["current_version"] == 1


def test_reorder_templates_and_questions(demo, api):
    martin = api("dr.martin")
    martin.post(FOLDER, NEW, status=201)

    def order():
        return [i["id"] for i in martin.get(FOLDER).json["items"]]
    assert order() == ["questionnaire-medical", "satisfaction", "allergies"]
    martin.patch(f"{FOLDER}/allergies", {"position": 0})
    assert order() == ["allergies", "questionnaire-medical", "satisfaction"]
    martin.patch(f"{FOLDER}/questionnaire-medical", {"position": 99})
    assert order() == ["allergies", "satisfaction", "questionnaire-medical"]
    listing = martin.get(FOLDER).json
    assert [i["position"] for i in listing["items"]] == [0, 1, 2]
    # a position given at creation puts the new one there
    martin.post(FOLDER, {**NEW, "title": "Premier", "position": 0}, status=201)
    assert order() == ["premier", "allergies", "satisfaction", "questionnaire-medical"]
    # questions: their order is the list's
    questions = martin.get(f"{FOLDER}/satisfaction").json["questions"]
    data = martin.patch(f"{FOLDER}/satisfaction",
                        {"questions": list(reversed(questions))}).json
    assert [x["id"] for x in data["questions"]] == ["commentaire", "accueil", "note"]
    # a condition cannot end up before its question
    questions = martin.get(MEDICAL).json["questions"]
    response = martin.patch(MEDICAL, {"questions": [questions[1], questions[0]]},
                            status=422)
    assert "questions.0.show_if" in response.json["errors"]


def test_delete_unused_and_refuse_used(demo, api, db):
    martin = api("dr.martin")
    martin.post(FOLDER, NEW, status=201)
    martin.delete(f"{FOLDER}/allergies", status=204)
    martin.get(f"{FOLDER}/allergies", status=404)
    with db() as request:
        assert not request.dbsession.scalar(select(func.count()).select_from(
            TemplateVersion).where(TemplateVersion.title == "Allergies"))
    martin.post(FOLDER, NEW, status=201)
    send_response(db, "allergies")
    response = martin.delete(f"{FOLDER}/allergies", status=409)
    assert response.json["type"] == "Conflict"
    assert "utilisé par des questionnaires" in response.json["message"]
    assert martin.get(f"{FOLDER}/allergies").json["current_version"] == 1


# -- who may do what ------------------------------------------------------------------------

@pytest.fixture
def other_cabinet(demo, db):
    """Another cabinet with its own staff member, 'sec.autre'."""
    return add_other_cabinet(db)


def test_staff_of_another_cabinet_is_refused(other_cabinet, api):
    other = api(other_cabinet)
    other.get(MEDICAL, status=403)
    other.get(FOLDER, status=403)
    other.patch(MEDICAL, {"title": "Piraté"}, status=403)
    other.delete(MEDICAL, status=403)
    other.post(FOLDER, NEW, status=403)
    other.get(f"{MEDICAL}/@fhir", status=403)
    # in its own cabinet it may
    other.post("/cabinets/autre/questionnaire-templates", NEW, status=201)
    assert api("dr.martin").get(MEDICAL).json["title"] == "Questionnaire médical"


def test_patient_and_anonymous_are_refused(demo, api, testapp):
    leroy = api("p.leroy")
    leroy.get(MEDICAL, status=403)
    leroy.get(FOLDER, status=403)
    leroy.patch(MEDICAL, {"title": "x"}, status=403)
    leroy.delete(MEDICAL, status=403)
    leroy.post(FOLDER, NEW, status=403)
    headers = {"Accept": "application/json"}
    testapp.get(MEDICAL, headers=headers, status=401)
    testapp.post_json(FOLDER, NEW, headers=headers, status=(401, 403))
    testapp.delete(MEDICAL, headers=headers, status=(401, 403))


def test_staff_and_secretary_may(demo, api):
    """The cabinet's administrator and a delegated secretary manage templates too."""
    api("admin").patch(MEDICAL, {"description": "Par l'administratrice"})
    dupont = api("sec.dupont")
    assert dupont.get(MEDICAL).json["description"] == "Par l'administratrice"
