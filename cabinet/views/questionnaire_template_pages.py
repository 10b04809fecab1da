"""Staff pages of questionnaire templates (Q1): the cabinet's list with up/down
reorder, create, edit (questions added, removed and reordered by plain form posts),
delete with confirmation, and a read-only preview with the version history."""
import json

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.renderers import render_to_response

from cabinet import errors
from cabinet.i18n import _, flash, text
from cabinet.interfaces import IFolder, IQuestionnaireTemplate
from cabinet.questionnaire_templates.fhir import ImportRefused, from_fhir
from cabinet.questionnaire_templates.form import (
    apply_action, blank_row, field_errors, questions_from_rows, rows_from_post,
    rows_from_questions,
)
from cabinet.questionnaire_templates.questions import (
    QUESTION_TYPES, QuestionsInvalid, check_questions,
)
from cabinet.questionnaire_templates.store import (
    create_template, edit_template, list_templates, move_by, refuse_delete_in_use,
)
from cabinet.questionnaire_templates.versions import (
    current_version, template_in_use, version_in_use,
)
from .base import node_url
from .content import delete as generic_delete
from .questionnaire_templates import PORTAL_TYPE, version_rows

TITLE_MAX, DESCRIPTION_MAX = 500, 2000
IMPORT_MAX_BYTES = 1_000_000


def _cabinet(folder):
    return folder.__parent__


def question_types(request):
    """type -> its title in the reader's language."""
    return {kind: text(request.localizer, title) for kind, title in QUESTION_TYPES.items()}


def list_page(context, request):
    templates = list_templates(request, context)
    return {"context": context, "cabinet": _cabinet(context),
            "url": node_url(request, context.path),
            "templates": [{"node": t, "url": node_url(request, t.path),
                           "can_edit": bool(request.has_permission(
                               "questionnaire_template:edit", t))}
                          for t in templates],
            "can_add": bool(request.has_permission("questionnaire_template:add", context))}


def import_submit(context, request):
    """The list page's form: a FHIR Questionnaire file becomes a template, or the
    list again with what is wrong (the unsupported items by linkId)."""
    upload = request.POST.get("file")
    found, items = {}, []
    resource = None
    if not hasattr(upload, "file"):
        found["file"] = "Choisissez un fichier JSON (Questionnaire FHIR)."
    else:
        raw = upload.file.read(IMPORT_MAX_BYTES + 1)
        if len(raw) > IMPORT_MAX_BYTES:
            found["file"] = "Le fichier dépasse 1 Mo."
        else:
            try:
                resource = json.loads(raw)
            except (ValueError, UnicodeDecodeError, RecursionError):
                found["file"] = "Ce fichier n'est pas du JSON valide."
            if resource is not None and not isinstance(resource, dict):
                found["file"] = "Ce fichier n'est pas un Questionnaire FHIR."
    if not found:
        try:
            title, description, questions = from_fhir(resource)
        except ImportRefused as exc:
            found["file"] = ("Ce questionnaire ne peut pas être importé"
                             + (f" : {', '.join(exc.unsupported)}" if exc.unsupported
                                else "") + ".")
            items = sorted(exc.errors.items())
        else:
            node = create_template(request, context, title=title,
                                   description=description, questions=questions)
            flash(request, _("Questionnaire FHIR importé."))
            return HTTPSeeOther(location=node_url(request, node.path))
    response = render_to_response(
        "questionnaire_templates.jinja2",
        {**list_page(context, request), "errors": found, "import_errors": items},
        request=request)
    response.status_int = 422
    return response


def _form_response(request, context, *, folder, template, values, rows, errors_=None,
                   status=200):
    version = current_version(request.dbsession, template) if template else None
    response = render_to_response("questionnaire_template_form.jinja2", {
        "version": version,
        "in_use": version is not None and version_in_use(request.dbsession, version),
        "context": context, "folder": folder, "template": template,
        "cabinet": _cabinet(folder), "folder_url": node_url(request, folder.path),
        "url": node_url(request, context.path), "values": values, "rows": rows,
        "errors": errors_ or {}, "types": list(question_types(request).items()),
        "ids": [row["id"] for row in rows if row["id"]]}, request=request)
    response.status_int = status
    return response


def _read_form(request):
    """(values, rows, errors or None, saving): the posted form, after a row button."""
    post = request.POST
    values = {"title": post.get("title", "").strip(),
              "description": post.get("description", "").strip()}
    rows = rows_from_post(post)
    action = post.get("action", "save")
    if action != "save":
        changed = apply_action(rows, action)
        if changed is not None:
            return values, changed, None, False
    found = {}
    if not values["title"] or len(values["title"]) > TITLE_MAX:
        found["title"] = f"Le titre est requis ({TITLE_MAX} caractères au plus)."
    if len(values["description"]) > DESCRIPTION_MAX:
        found["description"] = f"{DESCRIPTION_MAX} caractères au plus."
    questions = questions_from_rows(rows)
    try:
        values["questions"] = check_questions(questions)
    except QuestionsInvalid as exc:
        found.update(field_errors(exc.errors))
    return values, rows, found, True


def add_form(context, request):
    return _form_response(request, context, folder=context, template=None,
                          values={"title": "", "description": ""}, rows=[blank_row()])


def add_submit(context, request):
    values, rows, found, saving = _read_form(request)
    if not saving or found:
        return _form_response(request, context, folder=context, template=None,
                              values=values, rows=rows, errors_=found,
                              status=422 if found else 200)
    node = create_template(request, context, title=values["title"],
                           description=values["description"],
                           questions=values["questions"])
    flash(request, _("Modèle de questionnaire créé."))
    return HTTPSeeOther(location=node_url(request, node.path))


def edit_form(context, request):
    version = current_version(request.dbsession, context)
    return _form_response(request, context, folder=context.__parent__, template=context,
                          values={"title": context.title,
                                  "description": context.description},
                          rows=rows_from_questions(version.questions if version else []))


def edit_submit(context, request):
    values, rows, found, saving = _read_form(request)
    if not saving or found:
        return _form_response(request, context, folder=context.__parent__,
                              template=context, values=values, rows=rows, errors_=found,
                              status=422 if found else 200)
    before = context.current_version
    changed = edit_template(request, context, title=values["title"],
                            description=values["description"],
                            questions=values["questions"])
    if not changed:
        flash(request, _("Aucune modification."))
    elif context.current_version != before:
        flash(request, _("Modèle enregistré en version ${version} : les questionnaires "
                          "déjà envoyés gardent leur version.",
                          mapping={"version": context.current_version}))
    else:
        flash(request, _("Modèle enregistré."))
    return HTTPSeeOther(location=node_url(request, context.path))


def preview(request, context):
    """The template's own page (the generic content page's hook)."""
    rows = version_rows(request, context)
    wanted = request.GET.get("version", "")
    shown = next((r for r in rows if str(r["number"]) == wanted), None) or \
        next((r for r in rows if r["current"]), None)
    return render_to_response("questionnaire_template.jinja2", {
        "context": context, "folder": context.__parent__,
        "cabinet": _cabinet(context.__parent__), "url": node_url(request, context.path),
        "folder_url": node_url(request, context.__parent__.path),
        "versions": rows, "shown": shown, "types": question_types(request),
        "can_edit": bool(request.has_permission("questionnaire_template:edit", context)),
        "can_delete": bool(request.has_permission("questionnaire_template:delete",
                                                  context))}, request=request)


def delete_confirm(context, request):
    return {"context": context, "url": node_url(request, context.path),
            "folder_url": node_url(request, context.__parent__.path),
            "in_use": template_in_use(request.dbsession, context)}


def delete_submit(context, request):
    refuse_delete_in_use(request, context)
    folder = context.__parent__
    title = context.title
    generic_delete(context, request)
    flash(request, _("Modèle « ${title} » supprimé.", mapping={"title": title}))
    return HTTPSeeOther(location=node_url(request, folder.path))


def move(context, request):
    direction = request.POST.get("direction")
    if direction not in ("up", "down"):
        raise errors.bad_request("'direction' must be 'up' or 'down'.")
    move_by(request.dbsession, context, -1 if direction == "up" else 1)
    return HTTPSeeOther(location=node_url(request, context.__parent__.path))


def includeme(config):
    add = config.add_view
    add(list_page, context=IFolder, holds_type=PORTAL_TYPE, request_method="GET",
        accept="text/html", renderer="questionnaire_templates.jinja2",
        permission="folder:view")
    add(add_form, context=IFolder, holds_type=PORTAL_TYPE, name="add",
        request_method="GET", permission="questionnaire_template:add")
    add(add_submit, context=IFolder, holds_type=PORTAL_TYPE, name="add",
        request_method="POST", permission="questionnaire_template:add")
    add(import_submit, context=IFolder, holds_type=PORTAL_TYPE, name="import",
        request_method="POST", permission="questionnaire_template:add")
    add(edit_form, context=IQuestionnaireTemplate, name="edit", request_method="GET",
        permission="questionnaire_template:edit")
    add(edit_submit, context=IQuestionnaireTemplate, name="edit", request_method="POST",
        permission="questionnaire_template:edit")
    add(delete_confirm, context=IQuestionnaireTemplate, name="delete",
        request_method="GET", renderer="questionnaire_template_delete.jinja2",
        permission="questionnaire_template:delete")
    add(delete_submit, context=IQuestionnaireTemplate, name="delete",
        request_method="POST", permission="questionnaire_template:delete")
    add(move, context=IQuestionnaireTemplate, name="move", request_method="POST",
        permission="questionnaire_template:edit")
