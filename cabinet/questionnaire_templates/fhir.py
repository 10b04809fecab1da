"""Questionnaire templates as FHIR R4 ``Questionnaire`` resources, both ways.

Export: a question becomes an item (linkId = question id). Numbers are ``decimal``
with the standard minValue/maxValue extensions; the 0-10 scale is an ``integer`` with
bounds 0 and 10 and the SDC item control ``slider``; multiple choice is a ``choice``
that ``repeats``; the help text is a child ``display`` item with the item control
``help``; ``show_if`` is one ``enableWhen`` with the operator ``=``.

Import reads the same shapes back (``integer`` without the slider and ``decimal``
are numbers) and refuses, with their linkIds, the items it cannot represent.
"""
import re

from .questions import (
    CHOICE_TYPES, SCALE_MAX, SCALE_MIN, QuestionsInvalid, check_questions,
)

MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
ITEM_CONTROL = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"
ITEM_CONTROL_SYSTEM = "http://hl7.org/fhir/questionnaire-item-control"

_FHIR_TYPE = {"short_text": "string", "long_text": "text", "number": "decimal",
              "date": "date", "yes_no": "boolean", "single_choice": "choice",
              "multiple_choice": "choice", "scale": "integer"}
_ANSWER = {"short_text": "answerString", "long_text": "answerString",
           "number": "answerDecimal", "date": "answerDate", "yes_no": "answerBoolean",
           "single_choice": "answerString", "multiple_choice": "answerString",
           "scale": "answerInteger"}
_SUPPORTED = ("string", "text", "decimal", "integer", "date", "boolean", "choice")


class ImportRefused(ValueError):
    """The Questionnaire cannot become a template: ``errors`` {key: message}, and
    ``unsupported`` the linkIds of the items that have no equivalent."""

    def __init__(self, message, errors, unsupported=()):
        super().__init__(message)
        self.message, self.errors, self.unsupported = message, errors, list(unsupported)


def _control(code):
    return {"url": ITEM_CONTROL, "valueCodeableConcept": {"coding": [
        {"system": ITEM_CONTROL_SYSTEM, "code": code}]}}


def fhir_id(name):
    """A FHIR id ([A-Za-z0-9-.]{1,64}) from a node name."""
    return re.sub(r"[^A-Za-z0-9.-]", "-", name)[:64] or "questionnaire"


def _item(question):
    kind = question["type"]
    item = {"linkId": question["id"], "text": question["text"],
            "type": _FHIR_TYPE[kind], "required": bool(question.get("required"))}
    extensions = []
    if kind == "number":
        for name, url in (("min", MIN_VALUE), ("max", MAX_VALUE)):
            if question.get(name) is not None:
                extensions.append({"url": url, "valueDecimal": question[name]})
    elif kind == "scale":
        extensions += [{"url": MIN_VALUE, "valueInteger": SCALE_MIN},
                       {"url": MAX_VALUE, "valueInteger": SCALE_MAX}, _control("slider")]
    if extensions:
        item["extension"] = extensions
    if kind in CHOICE_TYPES:
        item["answerOption"] = [{"valueString": option} for option in question["options"]]
    if kind == "multiple_choice":
        item["repeats"] = True
    condition = question.get("show_if")
    if condition:
        item["enableWhen"] = [{"question": condition["question"], "operator": "=",
                               _ANSWER[condition["target_type"]]: condition["equals"]}]
    if question.get("help"):
        item["item"] = [{"linkId": f"{question['id']}-help", "text": question["help"],
                         "type": "display", "extension": [_control("help")]}]
    return item


def to_fhir(version, *, url, name):
    """The FHIR R4 Questionnaire of a TemplateVersion."""
    by_id = {q["id"]: q for q in version.questions}
    questions = []
    for question in version.questions:
        question = dict(question)
        if question.get("show_if"):
            target = by_id[question["show_if"]["question"]]
            question["show_if"] = {**question["show_if"], "target_type": target["type"]}
        questions.append(question)
    resource = {"resourceType": "Questionnaire", "id": fhir_id(name), "url": url,
                "version": str(version.number), "title": version.title,
                "status": "active",
                "date": version.created.replace(microsecond=0).isoformat() + "+00:00",
                "item": [_item(q) for q in questions]}
    if version.description:
        resource["description"] = version.description
    return resource


# -- import ----------------------------------------------------------------------------------

def _link_id(value):
    """A question id from a linkId ('1.2' -> '1-2', 'Q_A' -> 'q_a')."""
    text = re.sub(r"[^a-z0-9_-]+", "-", str(value).lower()).strip("-_")
    return text[:64]


def _extension(item, url):
    for extension in item.get("extension") or ():
        if extension.get("url") == url:
            for key, value in extension.items():
                if key.startswith("value"):
                    return value
    return None


def _controls(item):
    codes = set()
    for extension in item.get("extension") or ():
        if extension.get("url") == ITEM_CONTROL:
            for coding in (extension.get("valueCodeableConcept") or {}).get("coding") or ():
                codes.add(coding.get("code"))
    return codes


def _option(option):
    if "valueString" in option:
        return option["valueString"]
    coding = option.get("valueCoding")
    if isinstance(coding, dict):
        return coding.get("display") or coding.get("code")
    return None


def _condition_value(condition):
    for key, value in condition.items():
        if key.startswith("answer"):
            if key == "answerCoding" and isinstance(value, dict):
                return value.get("display") or value.get("code")
            return value
    return None


def _question(item, refuse):
    """One item as a question (not yet checked by the question rules), or None."""
    link_id = item.get("linkId", "?")
    kind = item.get("type")
    if kind not in _SUPPORTED:
        refuse(link_id, f"le type « {kind} » n'est pas pris en charge")
        return None
    question = {"id": _link_id(link_id), "text": item.get("text") or "",
                "required": bool(item.get("required", False))}
    help_texts = []
    for child in item.get("item") or ():
        if child.get("type") == "display" and "help" in _controls(child):
            help_texts.append(child.get("text") or "")
        else:
            refuse(child.get("linkId", "?"), "les questions imbriquées ne sont pas "
                                             "prises en charge")
    if help_texts:
        question["help"] = "\n".join(help_texts)
    low, high = _extension(item, MIN_VALUE), _extension(item, MAX_VALUE)
    if kind == "integer" and "slider" in _controls(item):
        if (low, high) not in ((SCALE_MIN, SCALE_MAX), (None, None)):
            refuse(link_id, "une échelle va de 0 à 10")
        question["type"] = "scale"
    elif kind in ("integer", "decimal"):
        question["type"] = "number"
        if low is not None:
            question["min"] = low
        if high is not None:
            question["max"] = high
    elif kind == "choice":
        question["type"] = "multiple_choice" if item.get("repeats") else "single_choice"
        question["options"] = [_option(o) for o in item.get("answerOption") or ()]
        if item.get("answerValueSet"):
            refuse(link_id, "les listes de valeurs (answerValueSet) ne sont pas prises "
                            "en charge ; utiliser answerOption")
    else:
        question["type"] = {"string": "short_text", "text": "long_text", "date": "date",
                            "boolean": "yes_no"}[kind]
    conditions = item.get("enableWhen") or []
    if len(conditions) > 1:
        refuse(link_id, "une seule condition (enableWhen) est prise en charge")
    elif conditions:
        condition = conditions[0]
        if condition.get("operator") != "=":
            refuse(link_id, "seul l'opérateur « = » est pris en charge dans enableWhen")
        else:
            question["show_if"] = {"question": _link_id(condition.get("question", "")),
                                   "equals": _condition_value(condition)}
    return question


def _validate_fhir(resource):
    """Refuse what is not a valid FHIR Questionnaire (fhir.resources, R4B models,
    whose Questionnaire is R4's)."""
    from fhir.resources.R4B.questionnaire import Questionnaire
    from pydantic import ValidationError
    try:
        Questionnaire.model_validate(resource)
    except ValidationError as exc:
        errors = {".".join(str(p) for p in e["loc"]) or "Questionnaire": e["msg"]
                  for e in exc.errors()[:20]}
        raise ImportRefused("This is not a valid FHIR Questionnaire.", errors)
    except (TypeError, ValueError) as exc:
        raise ImportRefused("This is not a valid FHIR Questionnaire.",
                            {"Questionnaire": str(exc)[:500]})


def from_fhir(resource):
    """(title, description, questions) of a FHIR Questionnaire, or ImportRefused."""
    if resource.get("resourceType") != "Questionnaire":
        raise ImportRefused("The body must be a FHIR Questionnaire.",
                            {"resourceType": "Ce n'est pas un Questionnaire FHIR."})
    _validate_fhir(resource)
    refused = {}

    def refuse(link_id, message):
        refused.setdefault(f"item.{link_id}", message)

    questions = []
    for item in resource.get("item") or ():
        question = _question(item, refuse)
        if question is not None:
            questions.append(question)
    if refused:
        link_ids = [key.removeprefix("item.") for key in refused]
        raise ImportRefused(
            f"Unsupported items: {', '.join(link_ids)}.", refused, unsupported=link_ids)
    title = (resource.get("title") or resource.get("name") or "").strip()
    errors = {} if title else {"title": "Le questionnaire FHIR n'a ni titre ni nom."}
    try:
        questions = check_questions(questions)
    except QuestionsInvalid as exc:
        errors.update(exc.errors)
    if errors:
        raise ImportRefused("The questions of this Questionnaire are invalid.", errors)
    return title[:500], (resource.get("description") or "")[:2000], questions
