"""The colander schema of a questionnaire's answers (issue #5, Q4): every question
type from JSON values and from form strings, required questions, bounds, choices,
conditions, drafts and unknown answers; and the deform form built from it."""
import colander
import deform
import pytest

from cabinet.questionnaire_forms import (
    REQUIRED, UNKNOWN, answers_schema, check_answers, condition_met,
)

QUESTIONS = [
    {"id": "nom", "type": "short_text", "text": "Nom d'usage", "required": True},
    {"id": "histoire", "type": "long_text", "text": "Antécédents", "required": False},
    {"id": "poids", "type": "number", "text": "Poids (kg)", "min": 2, "max": 250},
    {"id": "naissance", "type": "date", "text": "Date de naissance"},
    {"id": "medicaments", "type": "yes_no", "text": "Des médicaments ?", "required": True},
    {"id": "lesquels", "type": "long_text", "text": "Lesquels ?", "required": True,
     "show_if": {"question": "medicaments", "equals": True}},
    {"id": "accueil", "type": "single_choice", "text": "Accueil",
     "options": ["Bon", "Moyen", "Mauvais"]},
    {"id": "allergies", "type": "multiple_choice", "text": "Allergies",
     "options": ["Latex", "Pénicilline", "Aucune"]},
    {"id": "latex", "type": "short_text", "text": "Réaction au latex", "required": True,
     "show_if": {"question": "allergies", "equals": "Latex"}},
    {"id": "douleur", "type": "scale", "text": "Douleur (0-10)", "required": True},
]

COMPLETE = {"nom": "Leroy", "medicaments": False, "douleur": 3}


def check(answers, draft=False):
    return check_answers(QUESTIONS, answers, draft=draft)


# -- every type, from JSON and from the form's strings -------------------------------

@pytest.mark.parametrize("question, given, stored", [
    ("nom", "  Léa  ", "Léa"),
    ("histoire", "Ligne 1\nLigne 2", "Ligne 1\nLigne 2"),
    ("poids", 61.5, 61.5),
    ("poids", "61,5", 61.5),
    ("poids", "70", 70),
    ("poids", 2, 2),
    ("poids", 250, 250),
    ("naissance", "1990-04-12", "1990-04-12"),
    ("naissance", "12/04/1990", "1990-04-12"),
    ("accueil", "Moyen", "Moyen"),
    ("allergies", ["Aucune", "Pénicilline", "Aucune"], ["Pénicilline", "Aucune"]),
    ("douleur", 0, 0),
    ("douleur", "10", 10),
    ("douleur", 7.0, 7),
])
def test_each_type_is_read_and_normalised(question, given, stored):
    values, problems = check({**COMPLETE, question: given})
    assert problems is None
    assert values[question] == stored


@pytest.mark.parametrize("given, stored", [(True, True), (False, False),
                                           ("true", True), ("false", False)])
def test_yes_no_from_json_and_from_the_form(given, stored):
    values, problems = check({**COMPLETE, "medicaments": given, "lesquels": "Aspirine"})
    assert problems is None and values["medicaments"] is stored


@pytest.mark.parametrize("question, given, message", [
    ("nom", 12, "Réponse attendue : un texte."),
    ("nom", "x" * 501, "Réponse trop longue (500 caractères au plus)."),
    ("poids", "beaucoup", "Réponse attendue : un nombre."),
    ("poids", True, "Réponse attendue : un nombre."),
    ("poids", 1, "La valeur doit être au moins 2."),
    ("poids", "250,5", "La valeur doit être au plus 250."),
    ("poids", "nan", "Réponse attendue : un nombre."),
    ("naissance", "1990-02-30", "Date invalide : AAAA-MM-JJ ou JJ/MM/AAAA."),
    ("naissance", "hier", "Date invalide : AAAA-MM-JJ ou JJ/MM/AAAA."),
    ("naissance", 19900412, "Date invalide : AAAA-MM-JJ ou JJ/MM/AAAA."),
    ("medicaments", "oui", "Répondez oui ou non."),
    ("medicaments", 1, "Répondez oui ou non."),
    ("accueil", "Excellent", "« Excellent » n'est pas un des choix proposés."),
    ("accueil", ["Bon"], "Réponse attendue : un texte."),
    ("allergies", "Latex", "Réponse attendue : une liste de choix."),
    ("allergies", ["Latex", "Pollen"], "« Pollen » n'est pas un des choix proposés."),
    ("allergies", [1], "Réponse attendue : une liste de choix."),
    ("douleur", 11, "La valeur doit être au plus 10."),
    ("douleur", -1, "La valeur doit être au moins 0."),
    ("douleur", 2.5, "Réponse attendue : un nombre entier."),
])
def test_wrong_answers_are_refused_with_a_message_for_their_question(question, given,
                                                                     message):
    values, problems = check({**COMPLETE, question: given})
    assert values is None
    assert problems == {question: message}


def test_required_questions():
    values, problems = check({})
    assert values is None
    assert problems == {"nom": REQUIRED, "medicaments": REQUIRED, "douleur": REQUIRED}
    # an empty text is no answer
    assert check({**COMPLETE, "nom": "   "})[1] == {"nom": REQUIRED}
    # optional questions left empty are simply absent
    values, problems = check({**COMPLETE, "histoire": "", "allergies": []})
    assert problems is None and values == COMPLETE


def test_every_error_is_reported_at_once():
    _values, problems = check({"poids": 500, "douleur": 12, "autre": "x"})
    assert problems == {"nom": REQUIRED, "medicaments": REQUIRED,
                        "poids": "La valeur doit être au plus 250.",
                        "douleur": "La valeur doit être au plus 10.", "autre": UNKNOWN}


def test_unknown_answers_are_refused():
    values, problems = check({**COMPLETE, "inconnue": "x", "__proto__": 1})
    assert values is None
    assert problems == {"inconnue": UNKNOWN, "__proto__": UNKNOWN}
    assert check(["not", "a", "mapping"])[1] == {"": "Les réponses sont un objet JSON."}


# -- conditions ----------------------------------------------------------------------

def test_a_condition_met_makes_its_question_asked_and_required():
    _values, problems = check({**COMPLETE, "medicaments": True})
    assert problems == {"lesquels": REQUIRED}
    values, problems = check({**COMPLETE, "medicaments": True, "lesquels": "Aspirine"})
    assert problems is None and values["lesquels"] == "Aspirine"


def test_a_condition_not_met_drops_the_answer_and_its_errors():
    values, problems = check({**COMPLETE, "medicaments": False, "lesquels": "Aspirine"})
    assert problems is None and "lesquels" not in values
    # even a wrong value is not looked at when the question is not asked
    values, problems = check({**COMPLETE, "lesquels": 42})
    assert problems is None and "lesquels" not in values


def test_a_condition_on_a_multiple_choice_is_met_when_the_option_is_chosen():
    _values, problems = check({**COMPLETE, "allergies": ["Pénicilline", "Latex"]})
    assert problems == {"latex": REQUIRED}
    values, problems = check({**COMPLETE, "allergies": ["Aucune"], "latex": "rougeurs"})
    assert problems is None and "latex" not in values


def test_a_condition_on_an_unanswered_or_invalid_question_is_not_met():
    question = QUESTIONS[5]
    assert not condition_met(question, {})
    assert not condition_met(question, {"medicaments": "true"})   # not checked yet
    assert condition_met(question, {"medicaments": True})
    # "medicaments" invalid: only its own error, "lesquels" is not asked
    assert check({**COMPLETE, "medicaments": "peut-être"})[1] == {
        "medicaments": "Répondez oui ou non."}


def test_conditions_on_numbers_and_dates():
    questions = [{"id": "n", "type": "number", "text": "N"},
                 {"id": "pourquoi", "type": "short_text", "text": "Pourquoi ?",
                  "required": True, "show_if": {"question": "n", "equals": 3}},
                 {"id": "b", "type": "yes_no", "text": "B"},
                 {"id": "si-non", "type": "short_text", "text": "?", "required": True,
                  "show_if": {"question": "b", "equals": False}}]
    assert check_answers(questions, {"n": "3"})[1] == {"pourquoi": REQUIRED}
    assert check_answers(questions, {"n": 4})[1] is None
    # False is an answer (not "nothing"), and 0 is not False
    assert check_answers(questions, {"b": False})[1] == {"si-non": REQUIRED}
    assert check_answers(questions, {"b": True})[1] is None
    assert check_answers([{"id": "z", "type": "number", "text": "Z"},
                          {"id": "q", "type": "short_text", "text": "Q", "required": True,
                           "show_if": {"question": "z", "equals": False}}],
                         {"z": 0})[1] is None


# -- drafts --------------------------------------------------------------------------

def test_a_draft_may_leave_required_questions_empty_but_is_still_checked():
    assert check({}, draft=True) == ({}, None)
    assert check({"medicaments": True}, draft=True) == ({"medicaments": True}, None)
    _values, problems = check({"poids": 1000, "douleur": "fort", "x": 1}, draft=True)
    assert problems == {"poids": "La valeur doit être au plus 250.",
                        "douleur": "Réponse attendue : un nombre.", "x": UNKNOWN}


# -- the deform form -------------------------------------------------------------------

def test_the_schema_has_one_node_per_question_with_its_texts():
    schema = answers_schema(QUESTIONS, widgets=True)
    assert [node.name for node in schema.children] == [q["id"] for q in QUESTIONS]
    assert schema["poids"].title == "Poids (kg)"
    assert schema["nom"].required and not schema["histoire"].required
    # a conditional question is required only when asked: never by the browser
    assert not schema["lesquels"].required
    assert isinstance(schema["allergies"].widget, deform.widget.CheckboxChoiceWidget)
    assert isinstance(schema["douleur"].widget, deform.widget.RadioChoiceWidget)
    assert [v for v, _t in schema["douleur"].widget.values] == [str(n) for n in range(11)]


def test_the_deform_form_validates_posted_controls():
    form = deform.Form(answers_schema(QUESTIONS, widgets=True))
    controls = [("nom", "Leroy"), ("poids", "61,5"), ("naissance", "1990-04-12"),
                ("__start__", "medicaments:rename"), ("q-medicaments", "true"),
                ("__end__", "medicaments:rename"), ("lesquels", "Aspirine"),
                ("__start__", "allergies:sequence"), ("checkbox", "Latex"),
                ("__end__", "allergies:sequence"), ("latex", "Rougeurs"),
                ("__start__", "douleur:rename"), ("q-douleur", "4"),
                ("__end__", "douleur:rename")]
    assert form.validate(controls) == {
        "nom": "Leroy", "poids": 61.5, "naissance": "1990-04-12", "medicaments": True,
        "lesquels": "Aspirine", "allergies": ["Latex"], "latex": "Rougeurs", "douleur": 4}
    with pytest.raises(deform.ValidationFailure) as failure:
        form.validate([("nom", ""), ("poids", "300")])
    html = failure.value.render()
    assert "La valeur doit être au plus 250." in html
    assert 'value="300"' in html                    # the typed value is kept
    assert failure.value.error.asdict()["medicaments"] == REQUIRED


def test_stored_answers_render_back_into_the_form():
    form = deform.Form(answers_schema(QUESTIONS, widgets=True))
    html = form.render({"nom": "Leroy", "poids": 61.5, "medicaments": True,
                        "allergies": ["Latex"], "douleur": 4})
    assert 'value="61,5"' in html
    assert 'value="Latex"\n             id="q-allergies-0" checked="checked"' in html
    assert 'value="4"\n             id="q-douleur-4" checked="checked"' in html


def test_colander_invalid_is_keyed_by_question():
    with pytest.raises(colander.Invalid) as invalid:
        answers_schema(QUESTIONS).deserialize({"douleur": 99})
    assert set(invalid.value.asdict()) == {"nom", "medicaments", "douleur"}
