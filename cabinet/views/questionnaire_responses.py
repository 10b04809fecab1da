"""Questionnaire responses in the JSON API (Q2-Q4): the generic content API with this
type's hooks — ``POST <patient>/questionnaires`` {"@type": "QuestionnaireResponse",
"template", "practitioner"?} and ``PATCH <response>`` {"answers"} (a draft) —, the
FHIR ``QuestionnaireResponse`` (``<response>/@fhir``) and the patient's list
(``<patient>/@patient-questionnaires``). Transitions go through ``@workflow``: the
``fill`` guard checks the answers in full, ``reopen`` needs a comment, ``sign`` a
one-time code (``POST <response>/@sign-code``, cabinet.views.patient_login)."""
from pyramid.renderers import render_to_response

from cabinet import errors
from cabinet.interfaces import INode, IQuestionnaireResponse
from cabinet.questionnaire_response_fhir import to_fhir
from cabinet.questionnaire_responses import (
    cabinet_of, check_response_answers, create_response, last_reopen_comment, lock_sent,
    patient_of, practitioner_named, practitioner_of, save_answers, template_named,
    template_of, version_of,
)
from cabinet.search import Query, search
from .base import isoformat, node_url, summary
from .content import ContentHooks, add_content_hooks, node_json
from cabinet.i18n import N_

PORTAL_TYPE = "QuestionnaireResponse"
CREATE_FIELDS = ("template", "practitioner")
#: the patient's groups: to fill (sent), waiting for the cabinet (filled), to sign
#: (validated), done (signed)
GROUPS = {"to_fill": ("sent",), "to_sign": ("validated",), "done": ("filled", "signed")}


class ResponseHooks(ContentHooks):
    """What QuestionnaireResponse adds to cabinet.views.content."""

    def create(self, request, folder, body, name):
        if "template" not in body:
            return None     # a response without a template: title and answers as sent
        unknown = {k: "Ce champ n'existe pas ou ne peut pas être donné ainsi."
                   for k in body if k not in CREATE_FIELDS}
        if unknown:
            raise errors.unprocessable(f"Fields that cannot be set: "
                                       f"{', '.join(sorted(unknown))}.", errors=unknown)
        session = request.dbsession
        cabinet = cabinet_of(folder)
        problems = {}
        template = template_named(session, cabinet, body.get("template"))
        if template is None:
            problems["template"] = ("Nommez un modèle de questionnaire de ce cabinet "
                                    "(son identifiant).")
        practitioner = None
        if body.get("practitioner") not in (None, ""):
            practitioner = practitioner_named(session, cabinet, body["practitioner"])
            if practitioner is None:
                problems["practitioner"] = ("Nommez un praticien de ce cabinet "
                                            "(son identifiant).")
        if problems:
            raise errors.unprocessable("Some fields are invalid.", errors=problems)
        return create_response(request, folder.__parent__, template,
                               practitioner=practitioner, name=name)

    def patch(self, request, node, body):
        if "answers" not in body or node.template_version_id is None:
            return None     # the generic edit (questionnaire:edit, while pending)
        others = {k: "Les réponses s'enregistrent seules." for k in body if k != "answers"}
        if others:
            raise errors.unprocessable("Only 'answers' can be sent with answers.",
                                       errors=others)
        _values, problems = save_draft(request, node, body["answers"])
        if problems:
            raise errors.unprocessable(N_("Certaines réponses sont invalides."), errors=problems)
        return node_json(node, request)

    def to_json(self, request, node, data):
        session = request.dbsession
        version = version_of(session, node)
        template = template_of(session, node)
        practitioner = practitioner_of(session, node)
        data["template"] = ({"@id": node_url(request, template.path), "id": template.name,
                             "title": template.title} if template is not None else None)
        data["template_version"] = version.number if version is not None else None
        data["questions"] = version.questions if version is not None else []
        data["practitioner"] = ({"@id": node_url(request, practitioner.path),
                                 "id": practitioner.name, "title": practitioner.title}
                                if practitioner is not None else None)
        data["sent_at"] = isoformat(node.sent_at)
        data["draft_saved_at"] = isoformat(node.draft_saved_at)
        data["reopen_comment"] = (last_reopen_comment(session, node)
                                  if node.state == "sent" else None)
        base = node_url(request, node.path)
        data["@components"]["fhir"] = {"@id": f"{base}/@fhir"}
        if node.state == "signed":
            data["@components"]["signature"] = {"@id": f"{base}/@signature"}

    def page(self, request, node):
        from .questionnaire_response_pages import response_page
        return response_page(node, request)


def save_draft(request, response, answers):
    """Check ``answers`` as a draft (types and bounds; required questions may stay
    empty) and store them: (stored answers, None) or (None, {question id: message}),
    the response then unchanged. 409 unless the response is ``sent``
    (locked first: two tabs are served one after the other), 403 for whoever may
    not fill it."""
    lock_sent(request, response)
    if not request.has_permission("questionnaire:fill", response):
        raise errors.forbidden(N_("Vous ne pouvez pas remplir ce questionnaire."))
    values, problems = check_response_answers(request, response, answers, draft=True)
    if problems:
        return None, problems
    save_answers(request, response, values)
    return values, None


def fhir_json(context, request):
    """GET <response>/@fhir: its FHIR R4 QuestionnaireResponse."""
    response = render_to_response("json", to_fhir(request, context), request=request)
    response.content_type = "application/fhir+json"
    return response


# -- the patient's questionnaires -----------------------------------------------------

def patient_responses(request, patient):
    """{group: [rows]} of the responses of ``patient`` the user may view (the
    search's permission filter), newest first; pending ones are never listed."""
    rows, _total, _relation = search(request, Query(
        portal_types=(PORTAL_TYPE,), path=f"{patient.path}questionnaires/",
        review_states=tuple(s for states in GROUPS.values() for s in states),
        b_size=500))
    return {name: [r for r in rows if r.state in states] for name, states in GROUPS.items()}


def patient_questionnaires(context, request):
    patient = patient_of(context)
    if patient is None:
        raise errors.not_found("This resource is not inside a patient record.")
    groups = patient_responses(request, patient)
    return {"@id": node_url(request, patient.path) + "/@patient-questionnaires",
            "patient": {"@id": node_url(request, patient.path), "title": patient.title},
            **{name: [summary(request, row) for row in rows]
               for name, rows in groups.items()}}


def openapi_parts(_op, _json, _errors, PATH):
    """Paths and schemas of the questionnaire responses for /@openapi.json
    (``<path>/@fhir`` is described with the templates')."""
    obj, string = {"type": "object"}, {"type": "string"}
    paths = {
        "/{path}/questionnaires": {"post": _op(
            "Send a questionnaire to a patient (Q2): create a response (pending) from a "
            "template of the patient's cabinet, pinned to its current version; then "
            "POST <response>/@workflow/send. 422 names an unknown template or "
            "practitioner", {"201": _json("QuestionnaireResponse"),
                             **_errors(400, 401, 403, 404, 409, 422)},
            body="NewQuestionnaireResponse", params=[PATH])},
        "/cabinets/{cabinet}/patients/{patient}/questionnaires/{response}": {"patch": _op(
            "Save a draft of the answers (Q4), while the response is 'sent', by whoever "
            "may fill it (the patient, a guardian where minors' access for questionnaires "
            "is on): types, bounds and choices are checked, required questions may stay "
            "empty; 422 names each question (unknown ones too), 409 when it is not to "
            "fill. Then POST @workflow/fill checks everything (422 per question)",
            {"200": _json("QuestionnaireResponse"),
             **_errors(400, 401, 403, 404, 409, 422)}, body="QuestionnaireAnswers",
            params=[{"name": n, "in": "path", "required": True, "schema": string}
                    for n in ("cabinet", "patient", "response")])},
        "/{path}/@patient-questionnaires": {"get": _op(
            "The questionnaires of the patient record the user may see (Q4): to_fill "
            "(sent), to_sign (validated), done (filled, signed)",
            {"200": _json("PatientQuestionnaires"), **_errors(401, 403, 404)},
            params=[PATH])},
        "/{path}/@questionnaires": {"get": _op(
            "The console's questionnaires (Q5) of the cabinet holding the resource: "
            "responses sent over a period (from, to; "
            "default the last 30 days), filtered by state (sent, filled, validated, "
            "signed), practitioner and template (ids), 50 a page, with the total and "
            "the count per state", {"200": _json("QuestionnaireConsole"),
                                    **_errors(400, 401, 403, 404)},
            params=[PATH, *({"name": n, "in": "query", "schema": s} for n, s in (
                        ("from", {"type": "string", "format": "date"}),
                        ("to", {"type": "string", "format": "date"}),
                        ("state", {"enum": ["sent", "filled", "validated", "signed"]}),
                        ("practitioner", string), ("template", string),
                        ("b_start", {"type": "integer", "minimum": 0})))])},
    }
    item = {"type": "array", "items": obj}
    schemas = {
        "NewQuestionnaireResponse": {"type": "object", "required": ["@type", "template"],
                                     "additionalProperties": False, "properties": {
            "@type": {"const": "QuestionnaireResponse"}, "id": string,
            "template": {"type": "string", "description": "a template id of the cabinet"},
            "practitioner": {"type": "string",
                             "description": "a professional of the cabinet (id)"}}},
        "QuestionnaireResponse": {"type": "object", "properties": {
            "@id": string, "review_state": string, "answers": {"type": ["object", "null"]},
            "template": obj, "template_version": {"type": ["integer", "null"]},
            "questions": item, "practitioner": {"type": ["object", "null"]},
            "sent_at": {"type": ["string", "null"]},
            "draft_saved_at": {"type": ["string", "null"]},
            "reopen_comment": {"type": ["string", "null"]}}},
        "QuestionnaireAnswers": {"type": "object", "required": ["answers"], "properties": {
            "answers": {"type": "object", "description": "question id -> answer"}}},
        "PatientQuestionnaires": {"type": "object", "properties": {
            "to_fill": item, "to_sign": item, "done": item}},
        "QuestionnaireConsole": {"type": "object", "properties": {
            "items": item, "items_total": {"type": "integer"},
            "counts": {"type": "object", "properties": {
                s: {"type": "integer"} for s in ("sent", "filled", "validated", "signed")}},
            "from": string, "to": string, "batching": obj}},
    }
    return paths, schemas


def includeme(config):
    config.include("cabinet.questionnaire_responses")
    config.include("cabinet.questionnaire_access")
    add_content_hooks(config, PORTAL_TYPE, ResponseHooks())
    config.add_view(fhir_json, context=IQuestionnaireResponse, name="@fhir",
                    request_method="GET", permission="questionnaire:view")
    config.add_view(patient_questionnaires, context=INode, name="@patient-questionnaires",
                    request_method="GET", renderer="json", permission="patient:view")
    config.include("cabinet.views.questionnaire_response_pages")
    config.include("cabinet.views.questionnaire_console")
