"""Questionnaire responses as pages (Q2-Q4).

- The response's page: the deform form while it is to fill (draft values, the
  cabinet's comment when it was sent back), else the answers read-only with what the
  user may do: staff "Valider" / "Renvoyer au patient" (with a comment), the patient
  "Recevoir un code par SMS" and "Signer" (as a document), the signature evidence.
- ``POST <response>/@@workflow`` from the fill form (``__formid__=questionnaire``,
  more specific than the generic transition form): "Enregistrer le brouillon" (types
  and bounds checked) or "Envoyer" (``transition=fill``: everything checked, then
  ``fill``); errors are shown next to each field with the typed values kept (422).
- ``<response>/@@print``: the answers on a page made for printing.
- ``<patient>/@@patient-questionnaires``: "Mes formulaires".
- ``POST <patient>/@@send-questionnaire``: staff send a template to the patient; its
  form is on the patient's page (a BeforeRender subscriber gives node.jinja2 the
  templates and practitioners).
"""
import deform
from markupsafe import Markup
from pyramid.events import BeforeRender
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.renderers import render_to_response

from cabinet import errors
from cabinet.i18n import N_, _, flash, text_for
from cabinet.interfaces import IPatient, IQuestionnaireResponse
from cabinet.labels import display
from cabinet.questionnaire_forms import condition_met
from cabinet.questionnaire_responses import (
    cabinet_of, cabinet_practitioners, cabinet_templates, create_response,
    last_reopen_comment, lock_sent, patient_of, practitioner_named, practitioner_of,
    save_answers, send_response, speak_started_language, start_language, state_title,
    template_named, version_of,
)
from cabinet.questionnaire_widgets import SUBMIT, conditions_json, response_form
from cabinet.workflow import fire
from .base import node_url, workflow_info

GROUP_TITLES = {"to_fill": N_("À remplir"), "to_sign": N_("À signer"), "done": N_("Terminés")}


def _questions(request, context):
    version = version_of(request.dbsession, context)
    return version.questions if version is not None else []


def _with_csrf(html, request):
    token = request.session.get_csrf_token()
    field = f'<input type="hidden" name="csrf_token" value="{Markup.escape(token)}"/>'
    return Markup(html.replace('<input type="hidden" name="_charset_" />',
                               '<input type="hidden" name="_charset_" />' + field, 1))


ANSWER_YES, ANSWER_NO = N_("Oui"), N_("Non")


def display_answer(question, value, request=None):
    """An answer as the reader reads it (yes and no, dates in their language)."""
    if value is None:
        return "—"
    if question["type"] == "yes_no":
        return text_for(request, ANSWER_YES if value else ANSWER_NO)
    if question["type"] == "multiple_choice":
        return ", ".join(value)
    if question["type"] == "number" and isinstance(value, float):
        return f"{value:g}".replace(".", ",")
    return display(value, request)


def answered(questions, answers, request=None):
    """[(question, text)] of the questions asked (conditions met), in order."""
    answers = answers or {}
    if not questions:      # a response made without a template: its answers as they are
        return [({"id": key, "text": key, "type": ""}, display(value, request))
                for key, value in answers.items()]
    return [(q, display_answer(q, answers.get(q["id"]), request)) for q in questions
            if condition_met(q, answers)]


def page_data(context, request, form_html=None):
    session = request.dbsession
    questions = _questions(request, context)
    url = node_url(request, context.path)
    can_fill = context.state == "sent" and bool(
        request.has_permission("questionnaire:fill", context))
    if can_fill and form_html is None:
        form = response_form(request, questions, f"{url}/@@workflow", draft=False)
        form_html = form.render(context.answers or {})
    info = workflow_info(request, context)
    transitions = {t["id"]: t for t in info["transitions"]}
    patient = patient_of(context)
    return {
        "context": context, "url": url, "workflow": info, "transitions": transitions,
        "patient": patient, "patient_url": node_url(request, patient.path) if patient else None,
        "practitioner": practitioner_of(session, context),
        "can_fill": can_fill,
        "form_html": _with_csrf(form_html, request) if can_fill else None,
        "conditions": Markup(conditions_json(questions)),
        "answered": answered(questions, context.answers, request),
        "reopen_comment": last_reopen_comment(session, context)
        if context.state == "sent" else None,
        "staff": bool(request.has_permission("questionnaire:validate", context)),
        "can_send": "send" in transitions,
    }


def response_page(context, request, form_html=None, status=200):
    speak_started_language(request, context)
    response = render_to_response("questionnaire_response.jinja2",
                                  page_data(context, request, form_html), request=request)
    response.status_int = status
    return response


def fill_submit(context, request):
    """POST <response>/@@workflow from the fill form: save the draft, or submit; in
    the language the response was started in (its first POST starts it)."""
    lock_sent(request, context)
    if not request.has_permission("questionnaire:fill", context):
        raise errors.forbidden(N_("Vous ne pouvez pas remplir ce questionnaire."))
    start_language(request, context)
    speak_started_language(request, context)
    submit = request.POST.get("transition") == SUBMIT
    url = node_url(request, context.path)
    form = response_form(request, _questions(request, context), f"{url}/@@workflow",
                         draft=not submit)
    try:
        values = form.validate(list(request.POST.items()))
    except deform.ValidationFailure as failure:
        return response_page(context, request, failure.render(), status=422)
    save_answers(request, context, values)
    if not submit:
        flash(request, _("Brouillon enregistré : vous pourrez le compléter plus tard."))
        return HTTPSeeOther(location=url)
    fire(request, context, "fill")
    flash(request, _("« ${title} » a été envoyé au cabinet. Merci !",
                      mapping={"title": context.title}))
    patient = patient_of(context)
    return HTTPSeeOther(location=node_url(request, patient.path)
                        + "/@@patient-questionnaires")


def print_page(context, request):
    return {**page_data(context, request), "form_html": None, "can_fill": False}


# -- the patient's "Mes formulaires" -------------------------------------------------------

def my_forms_page(context, request):
    from .questionnaire_responses import patient_questionnaires
    data = patient_questionnaires(context, request)
    groups = [(name, GROUP_TITLES[name], data[name]) for name in GROUP_TITLES]
    return {"context": context, "groups": groups, "url": node_url(request, context.path)}


# -- staff: send a questionnaire ---------------------------------------------------------

def send_form_data(request, patient):
    """What the patient page's "send a questionnaire" form offers, or None."""
    if not request.has_permission("questionnaire:add", patient):
        return None
    cabinet = cabinet_of(patient)
    if cabinet is None:
        return None
    session = request.dbsession
    return {"action": node_url(request, patient.path) + "/@@send-questionnaire",
            "templates": [(t.name, t.title) for t in cabinet_templates(session, cabinet)],
            "practitioners": [(p.name, p.title)
                              for p in cabinet_practitioners(session, cabinet)]}


def add_patient_box(event):
    """BeforeRender: the patient's page (node.jinja2) links to "Mes formulaires" and,
    for staff, has the "send a questionnaire" form."""
    if event.get("renderer_name") != "node.jinja2":
        return
    context, request = event.get("context"), event.get("request")
    if request is None or not IPatient.providedBy(context):
        return
    event["patient_questionnaires"] = {
        "forms_url": node_url(request, context.path) + "/@@patient-questionnaires",
        "send": send_form_data(request, context)}


def send_questionnaire(context, request):
    """POST <patient>/@@send-questionnaire (template, practitioner): create and send."""
    cabinet = cabinet_of(context)
    session = request.dbsession
    url = node_url(request, context.path)
    template = template_named(session, cabinet, request.POST.get("template", ""))
    if template is None:
        flash(request, _("Choisissez un modèle de questionnaire de ce cabinet."))
        return HTTPSeeOther(location=url)
    practitioner = None
    if request.POST.get("practitioner"):
        practitioner = practitioner_named(session, cabinet, request.POST["practitioner"])
        if practitioner is None:
            flash(request, _("Choisissez un praticien de ce cabinet."))
            return HTTPSeeOther(location=url)
    response = create_response(request, context, template, practitioner=practitioner)
    send_response(request, response)
    flash(request, _("Questionnaire « ${title} » envoyé à ${patient} (${state}).",
                      mapping={"title": response.title, "patient": context.title,
                               "state": _(state_title(request, response))}))
    return HTTPSeeOther(location=url)


def includeme(config):
    config.add_translation_dirs("colander:locale", "deform:locale")
    config.add_view(fill_submit, context=IQuestionnaireResponse, name="workflow",
                    request_method="POST", request_param="__formid__=questionnaire",
                    permission="questionnaire:view")
    config.add_view(print_page, context=IQuestionnaireResponse, name="print",
                    request_method="GET", renderer="questionnaire_print.jinja2",
                    permission="questionnaire:view")
    config.add_view(my_forms_page, context=IPatient, name="patient-questionnaires",
                    request_method="GET", renderer="patient_questionnaires.jinja2",
                    permission="patient:view")
    config.add_view(send_questionnaire, context=IPatient, name="send-questionnaire",
                    request_method="POST", permission="questionnaire:add")
    config.add_subscriber(add_patient_box, BeforeRender)
