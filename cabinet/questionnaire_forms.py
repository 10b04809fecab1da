"""The colander schema of a questionnaire's answers (issue #5, Q4), built from the
questions of a template version. One schema serves the deform fill page (the values
come as form strings) and the JSON API (``PATCH <response>``: typed JSON values);
each answer type accepts both and gives the JSON value that is stored:

=================  =====================================  ========================
type               accepted                               stored
=================  =====================================  ========================
short/long_text    a text                                 the text, stripped
number             a number, or a text such as "12,5"     int or float, in bounds
scale              a whole number 0-10 (or its text)      int
date               "AAAA-MM-JJ" (or "JJ/MM/AAAA")         "AAAA-MM-JJ"
yes_no             true/false (or "true"/"false")         bool
single_choice      one of the options                     the option
multiple_choice    a list of options (a set)              list, in the options' order
=================  =====================================  ========================

Conditions: a question with ``show_if`` {"question", "equals"} is asked only when
the earlier question's answer equals the value (for a multiple choice: includes
it). When it is not met the question is not required and its answer is dropped.
Questions are read in order, so a condition sees the earlier answers as checked.

A draft (``draft=True``) may leave required questions empty; types and bounds are
checked all the same. Answer keys that are no question of the version are refused.
"""
import math
import re
from datetime import date

import colander

from cabinet.i18n import N_, _

#: the messages, msgids: the form shows them in its language (deform translates them)
REQUIRED = N_("Cette question est obligatoire.")
UNKNOWN = N_("Cette question n'existe pas dans ce questionnaire.")
NOT_TEXT = N_("Réponse attendue : un texte.")
TOO_LONG = N_("Réponse trop longue (${max} caractères au plus).")
NOT_NUMBER = N_("Réponse attendue : un nombre.")
NOT_WHOLE = N_("Réponse attendue : un nombre entier.")
TOO_SMALL = N_("La valeur doit être au moins ${min}.")
TOO_BIG = N_("La valeur doit être au plus ${max}.")
NOT_DATE = N_("Date invalide : AAAA-MM-JJ ou JJ/MM/AAAA.")
NOT_YES_NO = N_("Répondez oui ou non.")
NOT_OPTION = N_("« ${value} » n'est pas un des choix proposés.")
NOT_LIST = N_("Réponse attendue : une liste de choix.")
SCALE_MIN, SCALE_MAX = 0, 10
TEXT_MAX = {"short_text": 500, "long_text": 5000}
_FR_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def _empty(cstruct):
    return cstruct is colander.null or cstruct is None or (
        isinstance(cstruct, str) and not cstruct.strip())


class _TextShown(colander.SchemaType):
    """An answer the form shows as its text (nothing when unanswered)."""

    def serialize(self, node, appstruct):
        return colander.null if appstruct in (colander.null, None) else str(appstruct)


class TextAnswer(_TextShown):
    def __init__(self, max_length):
        self.max_length = max_length

    def deserialize(self, node, cstruct):
        if _empty(cstruct):
            return colander.null
        if not isinstance(cstruct, str):
            raise colander.Invalid(node, _(NOT_TEXT))
        value = cstruct.strip()
        if len(value) > self.max_length:
            raise colander.Invalid(node, _(TOO_LONG, mapping={"max": self.max_length}))
        return value


def _display_number(value):
    return f"{value:g}".replace(".", ",") if isinstance(value, float) else str(value)


class NumberAnswer(colander.SchemaType):
    """A JSON number or its text (comma or point); ``whole``: integers only."""

    def __init__(self, minimum=None, maximum=None, whole=False):
        self.minimum, self.maximum, self.whole = minimum, maximum, whole

    def serialize(self, node, appstruct):
        if appstruct in (colander.null, None):
            return colander.null
        return _display_number(appstruct)

    def deserialize(self, node, cstruct):
        if _empty(cstruct):
            return colander.null
        if isinstance(cstruct, bool):
            raise colander.Invalid(node, _(NOT_NUMBER))
        if isinstance(cstruct, (int, float)):
            value = cstruct
        elif isinstance(cstruct, str):
            text = cstruct.strip().replace(" ", "").replace(",", ".")
            if len(text) > 40:
                raise colander.Invalid(node, _(NOT_NUMBER))
            try:
                value = int(text)
            except ValueError:
                try:
                    value = float(text)
                except ValueError:
                    raise colander.Invalid(node, _(NOT_NUMBER))
        else:
            raise colander.Invalid(node, _(NOT_NUMBER))
        if isinstance(value, float):
            if not math.isfinite(value):
                raise colander.Invalid(node, _(NOT_NUMBER))
            if value.is_integer() and self.whole:
                value = int(value)
        if self.whole and not isinstance(value, int):
            raise colander.Invalid(node, _(NOT_WHOLE))
        if self.minimum is not None and value < self.minimum:
            raise colander.Invalid(node, _(TOO_SMALL, mapping={
                "min": _display_number(self.minimum)}))
        if self.maximum is not None and value > self.maximum:
            raise colander.Invalid(node, _(TOO_BIG, mapping={"max": _display_number(self.maximum)}))
        return value


class DateAnswer(_TextShown):

    def deserialize(self, node, cstruct):
        if _empty(cstruct):
            return colander.null
        if not isinstance(cstruct, str):
            raise colander.Invalid(node, _(NOT_DATE))
        text = cstruct.strip()
        found = _FR_DATE.match(text)
        try:
            if found:
                day, month, year = (int(g) for g in found.groups())
                value = date(year, month, day)
            elif len(text) == 10:
                value = date.fromisoformat(text)
            else:
                raise ValueError(text)
        except ValueError:
            raise colander.Invalid(node, _(NOT_DATE))
        if value.year < 1800:
            raise colander.Invalid(node, _(NOT_DATE))
        return value.isoformat()


class YesNoAnswer(colander.SchemaType):
    def serialize(self, node, appstruct):
        if appstruct in (colander.null, None):
            return colander.null
        return "true" if appstruct else "false"

    def deserialize(self, node, cstruct):
        if _empty(cstruct):
            return colander.null
        if isinstance(cstruct, bool):
            return cstruct
        if isinstance(cstruct, str) and cstruct.strip().lower() in ("true", "false"):
            return cstruct.strip().lower() == "true"
        raise colander.Invalid(node, _(NOT_YES_NO))


class ChoiceAnswer(colander.SchemaType):
    def __init__(self, options):
        self.options = list(options)

    def serialize(self, node, appstruct):
        return colander.null if appstruct in (colander.null, None) else appstruct

    def deserialize(self, node, cstruct):
        if _empty(cstruct):
            return colander.null
        if not isinstance(cstruct, str):
            raise colander.Invalid(node, _(NOT_TEXT))
        if cstruct not in self.options:
            raise colander.Invalid(node, _(NOT_OPTION, mapping={"value": cstruct[:100]}))
        return cstruct


class MultipleChoiceAnswer(colander.SchemaType):
    """A set of options: duplicates collapse, stored in the options' order."""

    def __init__(self, options):
        self.options = list(options)

    def serialize(self, node, appstruct):
        if appstruct in (colander.null, None):
            return colander.null
        return list(appstruct)

    def deserialize(self, node, cstruct):
        if cstruct is colander.null or cstruct is None:
            return colander.null
        if isinstance(cstruct, str) or not isinstance(cstruct, (list, tuple, set)):
            raise colander.Invalid(node, _(NOT_LIST))
        chosen = set()
        for value in cstruct:
            if not isinstance(value, str):
                raise colander.Invalid(node, _(NOT_LIST))
            if value not in self.options:
                raise colander.Invalid(node, _(NOT_OPTION, mapping={"value": value[:100]}))
            chosen.add(value)
        if not chosen:
            return colander.null
        return [option for option in self.options if option in chosen]


def answer_type(question):
    kind = question["type"]
    if kind in TEXT_MAX:
        return TextAnswer(TEXT_MAX[kind])
    if kind == "number":
        return NumberAnswer(question.get("min"), question.get("max"))
    if kind == "scale":
        return NumberAnswer(SCALE_MIN, SCALE_MAX, whole=True)
    if kind == "date":
        return DateAnswer()
    if kind == "yes_no":
        return YesNoAnswer()
    if kind == "single_choice":
        return ChoiceAnswer(question.get("options") or ())
    if kind == "multiple_choice":
        return MultipleChoiceAnswer(question.get("options") or ())
    raise ValueError(f"unknown question type {kind!r}")


def condition_met(question, answers):
    """Is ``question`` asked, given the (checked) ``answers`` before it?"""
    condition = question.get("show_if")
    if not condition:
        return True
    value = answers.get(condition.get("question"))
    wanted = condition.get("equals")
    if value is None:
        return False
    if isinstance(value, list):
        return wanted in value
    if isinstance(value, bool) or isinstance(wanted, bool):
        return isinstance(value, bool) and isinstance(wanted, bool) and value == wanted
    return value == wanted


class AnswersSchema(colander.SchemaNode):
    """The mapping of the answers: reads the questions in order, skipping (and
    dropping) those whose condition is not met; refuses unknown keys. Errors are
    keyed by question id (``Invalid.asdict()``), as deform shows them by field."""
    schema_type = colander.Mapping

    def deserialize(self, cstruct=colander.null):
        if cstruct is colander.null or cstruct is None:
            cstruct = {}
        if not isinstance(cstruct, dict):
            raise colander.Invalid(self, "Les réponses sont un objet JSON.")
        error = colander.Invalid(self)
        known = {child.name for child in self.children}
        unknown = [key for key in cstruct if key not in known]
        answers = {}
        for pos, child in enumerate(self.children):
            if not condition_met(child.question, answers):
                continue
            try:
                value = child.deserialize(cstruct.get(child.name, colander.null))
            except colander.Invalid as exc:
                error.add(exc, pos)
                continue
            if value is colander.drop or value is colander.null:
                if getattr(child, "required_when_asked", False):
                    error.add(colander.Invalid(child, _(REQUIRED)), pos)
                continue
            answers[child.name] = value
        for offset, key in enumerate(unknown):
            node = colander.SchemaNode(colander.String(), name=str(key)[:100])
            error.add(colander.Invalid(node, _(UNKNOWN)), len(self.children) + offset)
        if error.children:
            raise error
        return answers


def question_node(question, *, draft=False, widgets=False):
    """The node of one question; a conditional required question is required only
    when asked (AnswersSchema checks it)."""
    required = bool(question.get("required")) and not draft
    conditional = bool(question.get("show_if"))
    node = colander.SchemaNode(
        answer_type(question), name=question["id"], title=question.get("text") or "",
        description=question.get("help") or "",
        missing=colander.required if required and not conditional else colander.drop,
        missing_msg=_(REQUIRED))
    node.required_when_asked = required and conditional
    node.question = question
    node.oid = f"q-{question['id']}"
    if widgets:
        from cabinet.questionnaire_widgets import widget_for
        node.widget = widget_for(question)
    return node


def answers_schema(questions, *, draft=False, widgets=False):
    """The schema of the answers to ``questions`` (a template version's list);
    ``widgets``: with the deform widgets of the fill page."""
    schema = AnswersSchema(name="")
    for question in questions:
        schema.add(question_node(question, draft=draft, widgets=widgets))
    return schema


def check_answers(questions, answers, *, draft=False):
    """(answers as stored, None) or (None, {question id: message})."""
    try:
        return answers_schema(questions, draft=draft).deserialize(answers), None
    except colander.Invalid as exc:
        return None, exc.asdict()
