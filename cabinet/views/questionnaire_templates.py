"""Questionnaire templates in the JSON API (Q1): the generic content API with this
type's hooks (questions kept per version, order in the cabinet's list, a template in
use never deleted), the cabinet's list in order, and FHIR ``Questionnaire`` export
(``<template>/@fhir``) and import (``<folder>/@fhir-import``)."""
from sqlalchemy import func, select

from cabinet import errors
from cabinet.interfaces import IFolder, IQuestionnaireTemplate
from cabinet.models import QuestionnaireResponse, User
from cabinet.models.questionnaires import TemplateVersion
from cabinet.questionnaire_templates.fhir import ImportRefused, from_fhir, to_fhir
from cabinet.questionnaire_templates.questions import QuestionsInvalid, check_questions
from cabinet.questionnaire_templates.store import (
    create_template, delete_template_versions, list_templates, move_template,
    on_created, store_content,
)
from cabinet.questionnaire_templates.versions import current_version
from .base import isoformat, json_body, node_url, summary
from .content import ContentHooks, add_content_hooks, node_json

PORTAL_TYPE = "QuestionnaireTemplate"


def version_rows(request, template):
    """Each version of ``template``, oldest first, with its author and the number of
    responses sent with it (one query)."""
    responses = QuestionnaireResponse.__table__     # no join to the nodes table
    used = (select(func.count()).select_from(responses)
            .where(responses.c.template_version_id == TemplateVersion.id)
            .correlate(TemplateVersion).scalar_subquery())     # the index counts
    rows = request.dbsession.execute(
        select(TemplateVersion, User.login, User.fullname, used)
        .outerjoin(User, User.id == TemplateVersion.created_by_id)
        .where(TemplateVersion.template_id == template.id)
        .order_by(TemplateVersion.number))
    return [{"number": v.number, "title": v.title, "created": isoformat(v.created),
             "created_by": {"id": login, "fullname": fullname} if login else None,
             "responses": n or 0, "questions_total": len(v.questions or ()),
             "current": v.number == template.current_version, "version": v}
            for v, login, fullname, n in rows]


class TemplateHooks(ContentHooks):
    """What QuestionnaireTemplate adds to cabinet.views.content."""
    extra_fields = ("questions",)

    def check(self, request, context, extra, creating):
        if "questions" not in extra:
            return {"questions": "Le questionnaire doit avoir au moins une question."} \
                if creating else {}
        try:
            extra["questions"] = check_questions(extra["questions"])
        except QuestionsInvalid as exc:
            return exc.errors
        return {}

    def created(self, request, node, values, extra):
        on_created(request, node, extra["questions"], "position" in values)

    def edited(self, request, node, extra, changed):
        if "position" in changed:
            move_template(request.dbsession, node, node.position)
        before = current_version(request.dbsession, node)
        old = before.questions if before is not None else None
        store_content(request, node, questions=extra.get("questions"))
        return ["questions"] if extra.get("questions", old) != old else []

    def to_json(self, request, node, data):
        version = current_version(request.dbsession, node)
        data["current_version"] = node.current_version
        data["questions"] = version.questions if version is not None else []
        data["versions"] = [{k: v for k, v in row.items() if k != "version"}
                            for row in version_rows(request, node)]
        base = node_url(request, node.path)
        data["@components"]["fhir"] = {"@id": f"{base}/@fhir"}

    def deleting(self, request, node):
        delete_template_versions(request, node)

    def page(self, request, node):
        """The template's page is its preview (questionnaire_template_pages)."""
        from .questionnaire_template_pages import preview
        return preview(request, node)


def folder_json(context, request):
    """The cabinet's templates in their order (the generic listing sorts by date)."""
    data = node_json(context, request)
    templates = list_templates(request, context)
    data["items"] = [{**summary(request, t), "position": t.position,
                      "current_version": t.current_version} for t in templates]
    data["items_total"] = len(templates)
    data.pop("items_total_relation", None)
    data["batching"] = {"@id": request.path_url}
    return data


def fhir_export(context, request):
    version = current_version(request.dbsession, context)
    if version is None:
        raise errors.not_found("This template has no version.")
    request.response.content_type = "application/fhir+json"
    return to_fhir(version, url=node_url(request, context.path), name=context.name)


def fhir_import(context, request):
    """POST <cabinet>/questionnaire-templates/@fhir-import: a FHIR Questionnaire
    becomes a new template (201), or 422 listing what cannot be imported."""
    body = json_body(request)
    try:
        title, description, questions = from_fhir(body)
    except ImportRefused as exc:
        extra = {"unsupported": exc.unsupported} if exc.unsupported else {}
        raise errors.unprocessable(exc.message, errors=exc.errors, **extra)
    node = create_template(request, context, title=title, description=description,
                           questions=questions)
    request.response.status_int = 201
    request.response.location = node_url(request, node.path)
    return node_json(node, request)


def openapi_parts(_op, _json, _errors, PATH):
    """Paths and schemas of the questionnaire templates for /@openapi.json."""
    question = {"type": "object", "additionalProperties": False,
                "required": ["id", "type", "text"], "properties": {
                    "id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,63}$"},
                    "type": {"enum": ["short_text", "long_text", "number", "date",
                                      "yes_no", "single_choice", "multiple_choice",
                                      "scale"]},
                    "text": {"type": "string"}, "help": {"type": "string"},
                    "required": {"type": "boolean"},
                    "options": {"type": "array", "items": {"type": "string"},
                                "description": "choices only: non-empty, unique"},
                    "min": {"type": "number", "description": "numbers only"},
                    "max": {"type": "number", "description": "numbers only, >= min"},
                    "show_if": {"type": "object", "required": ["question", "equals"],
                                "properties": {"question": {"type": "string"},
                                               "equals": {}},
                                "description": "an earlier question and an answer"}}}
    fhir = {"type": "object", "description": "a FHIR R4 Questionnaire",
            "properties": {"resourceType": {"const": "Questionnaire"}}}
    paths = {
        "/{path}/@fhir": {"get": _op(
            "FHIR R4: a template's Questionnaire (current version), a response's "
            "QuestionnaireResponse", {"200": {"description": "application/fhir+json",
                                              "content": {"application/fhir+json": {
                                                  "schema": {"oneOf": [fhir, {
                                                      "type": "object",
                                                      "description": "a FHIR R4 "
                                                      "QuestionnaireResponse",
                                                      "properties": {"resourceType": {
                                                          "const": "QuestionnaireResponse"
                                                      }}}]}}}},
                                      **_errors(401, 403, 404)}, params=[PATH])},
        "/{path}/@fhir-import": {"post": _op(
            "On a cabinet's questionnaire-templates folder: create a template from a "
            "FHIR R4 Questionnaire (string, text, decimal, integer, date, boolean, "
            "choice; one enableWhen '='). 422 lists the linkIds of unsupported items "
            "in 'unsupported'",
            {"201": _json("QuestionnaireTemplate"), **_errors(400, 401, 403, 422)},
            body="FhirQuestionnaire", params=[PATH])},
    }
    content = {"title": {"type": "string"}, "description": {"type": "string"},
               "position": {"type": "integer", "minimum": 0},
               "questions": {"type": "array", "minItems": 1,
                             "items": {"$ref": "#/components/schemas/Question"}}}
    schemas = {
        "Question": question,
        "FhirQuestionnaire": fhir,
        # bodies of POST / PATCH /{path} for this type (cabinet.views.openapi adds them)
        "NewQuestionnaireTemplate": {"type": "object", "additionalProperties": False,
                                     "required": ["@type", "title", "questions"],
                                     "properties": {
                                         "@type": {"const": PORTAL_TYPE},
                                         "id": {"type": "string"}, **content}},
        "QuestionnaireTemplateEdit": {"type": "object", "additionalProperties": False,
                                      "properties": content},
        "QuestionnaireTemplate": {"allOf": [{"$ref": "#/components/schemas/Resource"}, {
            "type": "object", "properties": {
                **content, "current_version": {"type": "integer"},
                "versions": {"type": "array", "items": {"type": "object", "properties": {
                    "number": {"type": "integer"}, "title": {"type": "string"},
                    "created": {"type": "string"}, "created_by": {},
                    "responses": {"type": "integer"},
                    "questions_total": {"type": "integer"},
                    "current": {"type": "boolean"}}}}}}]},
        "TemplateList": {"type": "object", "properties": {"items": {
            "type": "array", "items": {"type": "object", "properties": {
                "@id": {"type": "string"}, "title": {"type": "string"},
                "position": {"type": "integer"},
                "current_version": {"type": "integer"}}}}}},
    }
    return paths, schemas


def includeme(config):
    add_content_hooks(config, PORTAL_TYPE, TemplateHooks())
    config.add_view(folder_json, context=IFolder, holds_type=PORTAL_TYPE,
                    request_method="GET", accept="application/json", renderer="json",
                    permission="folder:view")
    config.add_view(fhir_export, context=IQuestionnaireTemplate, name="@fhir",
                    request_method="GET", renderer="json",
                    permission="questionnaire_template:view")
    config.add_view(fhir_import, context=IFolder, holds_type=PORTAL_TYPE,
                    name="@fhir-import", request_method="POST", renderer="json",
                    permission="questionnaire_template:add")
