"""A questionnaire response as a FHIR R4 ``QuestionnaireResponse`` (issue #5).

- ``questionnaire``: the canonical URL of the template's FHIR Questionnaire (the
  template's URL, as cabinet.questionnaire_templates.fhir exports it) with the
  version the response answers: ``<template url>|<version number>``.
- ``status`` from the workflow state: pending and sent -> ``in-progress`` (being
  filled, or not started); filled, validated and signed -> ``completed``: the
  answers are final, and validating or signing changes none of them. They become
  ``amended`` when the cabinet sent the response back (``reopen``) after a first
  submission and the patient submitted it again: FHIR's "filled out, marked as
  complete, yet has been modified".
- One item per answered question (linkId = question id), answers typed as the
  exported Questionnaire declares them: valueString (texts, choices — one answer
  per option chosen), valueDecimal (numbers), valueInteger (the 0-10 scale),
  valueDate, valueBoolean.
"""
import re

from sqlalchemy import func, select

from cabinet.models import HistoryEntry
from cabinet.questionnaire_responses import patient_of, template_of, version_of
from cabinet.views.base import node_url

IN_PROGRESS = {"pending", "sent"}


def fhir_status(session, response):
    if response.state in IN_PROGRESS:
        return "in-progress"
    reopened = session.scalar(select(func.count(HistoryEntry.id)).where(
        HistoryEntry.node_id == response.id, HistoryEntry.transition == "reopen"))
    return "amended" if reopened else "completed"


def _value(kind, value):
    if kind == "number":
        return [{"valueDecimal": value}]
    if kind == "scale":
        return [{"valueInteger": int(value)}]
    if kind == "date":
        return [{"valueDate": value}]
    if kind == "yes_no":
        return [{"valueBoolean": bool(value)}]
    if kind == "multiple_choice":
        return [{"valueString": option} for option in value]
    return [{"valueString": str(value)}]


def _instant(value):
    return value.replace(microsecond=0).isoformat() + "+00:00"


def _fhir_id(name):
    return re.sub(r"[^A-Za-z0-9.-]", "-", name)[:64] or "response"


def to_fhir(request, response):
    """The FHIR R4 QuestionnaireResponse of ``response`` (a dict)."""
    session = request.dbsession
    version = version_of(session, response)
    template = template_of(session, response)
    answers = response.answers or {}
    items = []
    for question in (version.questions if version is not None else []):
        if question["id"] not in answers:
            continue
        items.append({"linkId": question["id"], "text": question.get("text") or "",
                      "answer": _value(question["type"], answers[question["id"]])})
    resource = {"resourceType": "QuestionnaireResponse", "id": _fhir_id(response.name),
                "status": fhir_status(session, response)}
    if template is not None:
        canonical = node_url(request, template.path)
        resource["questionnaire"] = (f"{canonical}|{version.number}"
                                     if version is not None else canonical)
    patient = patient_of(response)
    if patient is not None:
        resource["subject"] = {"reference": node_url(request, patient.path),
                               "display": patient.title}
    authored = response.draft_saved_at or response.sent_at
    if authored is not None:
        resource["authored"] = _instant(authored)
    resource["identifier"] = {"system": request.application_url + "/questionnaires",
                              "value": node_url(request, response.path)}
    if items:
        resource["item"] = items
    return resource


def validate(resource):
    """Raise pydantic's ValidationError when ``resource`` is no valid FHIR R4
    QuestionnaireResponse (fhir.resources' R4B models, whose QuestionnaireResponse
    is R4's)."""
    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
    return QuestionnaireResponse.model_validate(resource)
