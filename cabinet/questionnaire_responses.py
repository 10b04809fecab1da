"""Questionnaire responses (issue #5, Q2-Q4): creating one from a template, sending
it, saving a draft of the answers and the checks around submitting.

A response is a node under ``<patient>/questionnaires/`` in workflow
"questionnaire" (pending -> sent -> filled -> validated -> signed). It is pinned to
the template version that was current when it was created, so that editing the
template later never changes the questions a patient is answering.

``create_response`` and ``send_response`` do not check permissions: their callers
do (the content API checks ``questionnaire:add``; the workflow engine checks
``questionnaire:send`` unless the send is automatic, e.g. an auto-send rule).
"""
import hashlib
import json

from sqlalchemy import select

from cabinet import errors
from cabinet.content import add_node
from cabinet.document_sharing import cabinet_of, patient_of  # noqa: F401 (re-exported)
from cabinet.interfaces import IAfterTransition, IClock, IQuestionnaireResponse
from cabinet.locks import lock_node
from cabinet.models import LocalRole, Node, Professional, QuestionnaireTemplate
from cabinet.models.questionnaires import TemplateVersion
from cabinet.questionnaire_templates import current_version  # noqa: F401 (re-exported)
from cabinet.workflow import fire, record_history
from cabinet.i18n import N_, _

FOLDER = "questionnaires"
TEMPLATES = "questionnaire-templates"
NOT_SENT = ("Ce questionnaire n'est pas à remplir (état « {state} ») : il a peut-être "
            "déjà été envoyé depuis un autre onglet.")


def create_response(request, patient, template, *, practitioner=None, name=None):
    """A new ``pending`` response under ``patient``'s questionnaires folder, pinned to
    ``template``'s current version, titled like it. 409 when the template has no
    version (no questions) yet."""
    session = request.dbsession
    version = current_version(session, template)
    if version is None or not version.questions:
        raise errors.conflict(_("Le modèle « ${title} » n'a pas encore de questions : il "
                                "ne peut pas être envoyé.", mapping={"title": template.title}))
    folder = patient[FOLDER]
    node = add_node(session, request.registry, folder, "QuestionnaireResponse", name=name,
                    title=version.title or template.title, owner=request.identity,
                    template_id=template.id, template_version_id=version.id,
                    practitioner_id=practitioner.id if practitioner is not None else None,
                    answers=None)
    grant = (request.has_permission("questionnaire:add", folder)
             if request.identity is not None else None)
    record_history(request, node, "create", grant=grant or None, to_state=node.state,
                   details={"template": template.name, "version": version.number})
    return node


def send_response(request, response, *, automatic=False, comment=""):
    """Fire ``send`` (pending -> sent) through the workflow engine; ``sent_at`` is set
    from the clock by the IAfterTransition subscriber below. ``automatic``: sent by
    the system (an auto-send rule), without the user's ``questionnaire:send``."""
    return fire(request, response, "send", comment=comment, automatic=automatic)


def after_transition(event):
    """``sent_at`` is the clock's time of the first ``send``."""
    response = event.object
    if not IQuestionnaireResponse.providedBy(response) or event.transition != "send":
        return
    if response.sent_at is None:
        response.sent_at = event.request.registry.getUtility(IClock).now()


# -- looking up what a client names (never trusting an id) ----------------------------

def template_named(session, cabinet, name):
    """The template ``name`` of ``cabinet`` (its questionnaire-templates folder)."""
    if not isinstance(name, str) or not name or cabinet is None:
        return None
    folder_path = f"{cabinet.path}{TEMPLATES}/"
    return session.scalar(select(QuestionnaireTemplate).where(
        QuestionnaireTemplate.path == f"{folder_path}{name}/"))


def cabinet_templates(session, cabinet):
    """The templates of ``cabinet`` in their order."""
    return list(session.scalars(select(QuestionnaireTemplate).where(
        QuestionnaireTemplate.path.startswith(f"{cabinet.path}{TEMPLATES}/"),
        QuestionnaireTemplate.type == "questionnaire_template")
        .order_by(QuestionnaireTemplate.position, QuestionnaireTemplate.title)))


def cabinet_practitioners(session, cabinet):
    """The professionals practising in ``cabinet``: their account holds the local role
    ``professional`` on the cabinet."""
    users = select(LocalRole.principal).where(LocalRole.node_id == cabinet.id,
                                              LocalRole.role == "professional")
    principals = set(session.scalars(users))
    ids = [int(p[5:]) for p in principals if p.startswith("user:") and p[5:].isdigit()]
    if not ids:
        return []
    return list(session.scalars(select(Professional).where(Professional.user_id.in_(ids))
                                .order_by(Professional.title)))


def practitioner_named(session, cabinet, name):
    """The professional ``name`` (``/professionals/<name>``) if they practise in
    ``cabinet``, else None."""
    if not isinstance(name, str) or not name:
        return None
    return next((p for p in cabinet_practitioners(session, cabinet) if p.name == name),
                None)


def version_of(session, response):
    if response.template_version_id is None:
        return None
    return session.get(TemplateVersion, response.template_version_id)


def template_of(session, response):
    if response.template_id is None:
        return None
    return session.get(QuestionnaireTemplate, response.template_id)


def practitioner_of(session, response):
    if response.practitioner_id is None:
        return None
    return session.get(Professional, response.practitioner_id)


# -- drafts and submission -------------------------------------------------------------

def lock_sent(request, response):
    """Lock the response's row, read its state again and refuse (409) unless it is
    ``sent``: two tabs saving or submitting at once are served one after the other,
    and the second sees what the first did."""
    session = request.dbsession
    lock_node(session, response.id)
    state = session.scalar(select(Node.state).where(Node.id == response.id)
                           .execution_options(populate_existing=True))
    if state != "sent":
        raise errors.conflict(NOT_SENT.format(state=state_title(request, response, state)),
                              review_state=state)


def state_title(request, node, state=None):
    workflow = request.workflows.for_node(node)
    found = workflow.states.get(state or node.state)
    return found.title if found is not None else (state or node.state)


def start_language(request, response):
    """A response keeps the language it was started in: the request's, at its first
    save (issue #10, A4)."""
    from cabinet.i18n import LANGUAGES
    if response.language is None and request.locale_name in LANGUAGES:
        response.language = request.locale_name


def speak_started_language(request, response):
    """Those who fill ``response`` read its form in the language it was started in,
    whatever language they chose since; others (the cabinet) read their own."""
    from cabinet.i18n import use_language
    if response.language and request.has_permission("questionnaire:fill", response):
        use_language(request, response.language)


def save_answers(request, response, answers):
    """Store ``answers`` (already checked) as the response's draft; the first save
    records the language the response is filled in."""
    start_language(request, response)
    now = request.registry.getUtility(IClock).now()
    response.answers = dict(answers)
    response.draft_saved_at = now
    response.modified = now
    response.version = (response.version or 0) + 1
    grant = request.has_permission("questionnaire:fill", response)
    record_history(request, response, "edit", grant=grant or None,
                   details={"fields": ["answers"], "draft": True})


def check_response_answers(request, response, answers, *, draft):
    """(answers as stored, None) or (None, {question id: message}) for ``response``'s
    template version."""
    from cabinet.questionnaire_forms import check_answers
    version = version_of(request.dbsession, response)
    questions = version.questions if version is not None else []
    return check_answers(questions, answers, draft=draft)


def answers_problem(request, response):
    """The ``answers_complete`` guard of ``fill``: None when the stored answers pass
    the full checks (required questions, conditions), else 422 naming each question.
    Nothing answered at all: the guard's message (409), as for any guard."""
    if not response.answers:
        return "Le questionnaire n'a pas encore de réponses."
    _answers, problems = check_response_answers(request, response, response.answers or {},
                                                draft=False)
    if problems:
        raise errors.unprocessable(N_("Le questionnaire n'est pas complet : voir les "
                                   "questions signalées."), errors=problems)
    return None


def last_reopen_comment(session, response):
    """The comment of the last ``reopen`` (shown to the patient), or None."""
    from cabinet.models import HistoryEntry
    return session.scalar(
        select(HistoryEntry.comment).where(HistoryEntry.node_id == response.id,
                                           HistoryEntry.transition == "reopen")
        .order_by(HistoryEntry.when.desc(), HistoryEntry.id.desc()).limit(1)) or None


# -- evidence --------------------------------------------------------------------------

def canonical_json(response, version):
    """The bytes a signature of ``response`` covers: its answers and the template
    version they answer (id, number, title, questions), as canonical JSON (sorted
    keys, no spaces, UTF-8)."""
    payload = {"answers": response.answers or {},
               "template_version": None if version is None else {
                   "id": version.id, "template_id": version.template_id,
                   "number": version.number, "title": version.title,
                   "questions": version.questions}}
    return json.dumps(payload, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def answers_sha256(session, response):
    data = canonical_json(response, version_of(session, response))
    return hashlib.sha256(data).hexdigest(), len(data)


def includeme(config):
    config.add_subscriber(after_transition, IAfterTransition)
