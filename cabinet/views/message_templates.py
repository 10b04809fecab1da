"""Reply templates of a cabinet (issue #10, K3; used by issue #9, P3): a title, a text
and an optional file (JPEG, PNG or PDF, checked as a message's).

Page: ``<cabinet>/@@message-templates`` (list, add; POST ``.../<id>`` changes one,
``.../<id>/delete`` deletes it). JSON, on a cabinet or anything inside it:
``GET/POST <cabinet>/@message-templates``, ``GET/PATCH/POST/DELETE
<cabinet>/@message-templates/<id>`` (POST: multipart, to replace the file),
``GET .../<id>/attachment``. A template id is only looked up among the cabinet's
own (another cabinet's: 404)."""
from pyramid.httpexceptions import HTTPNoContent, HTTPSeeOther
from pyramid.renderers import render_to_response
from sqlalchemy import select

from cabinet import errors
from cabinet.document_sharing import cabinet_of
from cabinet.documents import UploadRefused, file_size, max_bytes
from cabinet.i18n import _, flash, N_
from cabinet.interfaces import ICabinet, INode
from cabinet.messages import (
    MAX_TEXT, MAX_TITLE, messaging_open, read_input, save_template, templates_of,
)
from cabinet.models import MessageTemplate
from .base import isoformat, node_url, refuse_upload
from .messages import serve_file


def _cabinet(request, context):
    cabinet = cabinet_of(context) if hasattr(context, "lineage") else None
    if cabinet is None or not messaging_open(request, cabinet):
        raise errors.not_found(N_("Il n'y a pas de messagerie ici."))
    return cabinet


def _template(request, cabinet, raw):
    """The cabinet's template ``raw`` (from the URL), or 404."""
    found = None
    if str(raw).isdigit() and int(raw) < 2**31:
        found = request.dbsession.scalar(select(MessageTemplate).where(
            MessageTemplate.id == int(raw), MessageTemplate.cabinet_id == cabinet.id))
    if found is None:
        raise errors.not_found(N_("Ce modèle de réponse n'existe pas."))
    return found


def template_json(request, cabinet, template):
    url = f"{node_url(request, cabinet.path)}/@message-templates/{template.id}"
    return {"@id": url, "@type": "MessageTemplate", "id": template.id,
            "title": template.title, "text": template.text,
            "modified": isoformat(template.modified),
            "attachment": ({"file_name": template.file_name,
                            "content_type": template.content_type,
                            "size": template.size, "download": f"{url}/attachment"}
                           if template.blob_sha256 else None)}


# -- JSON ------------------------------------------------------------------------------------

def templates_get(context, request):
    cabinet = _cabinet(request, context)
    sub = request.subpath
    if not sub:
        body = {"@id": node_url(request, cabinet.path) + "/@message-templates",
                "items": [template_json(request, cabinet, t)
                          for t in templates_of(request.dbsession, cabinet)]}
        return render_to_response("json", body, request=request)
    template = _template(request, cabinet, sub[0])
    if len(sub) == 1:
        return render_to_response("json", template_json(request, cabinet, template),
                                  request=request)
    if len(sub) == 2 and sub[1] == "attachment":
        return serve_file(request, template, "modele")
    raise errors.not_found()


def templates_write(context, request):
    """POST (new; on <id>: change, multipart for a file), PATCH, DELETE."""
    cabinet = _cabinet(request, context)
    sub = request.subpath
    try:
        entry = read_input(request)          # the size, then the CSRF token
        if len(sub) > 1 or (not sub and request.method != "POST"):
            raise errors.not_found()
        template = _template(request, cabinet, sub[0]) if sub else None
        if request.method == "DELETE":
            request.dbsession.delete(template)
            return HTTPNoContent()
        template = save_template(request, cabinet, template, entry)
    except UploadRefused as exc:
        refuse_upload(exc, wrong_type_status=422)
    if not sub:
        request.response.status_int = 201
        request.response.location = template_json(request, cabinet, template)["@id"]
    return render_to_response("json", template_json(request, cabinet, template),
                              request=request, response=request.response)


# -- the page ------------------------------------------------------------------------------

def _page(request, cabinet, errors_=None, values=None, editing=None):
    return {"context": cabinet, "templates": templates_of(request.dbsession, cabinet),
            "errors": errors_ or {}, "values": values or {}, "editing": editing,
            "url": node_url(request, cabinet.path), "max_length": MAX_TEXT,
            "max_title": MAX_TITLE,
            "max_size": file_size(request, max_bytes(request.registry.settings))}


def templates_page(context, request):
    if request.subpath:
        raise errors.not_found()
    return _page(request, _cabinet(request, context))


def templates_post(context, request):
    """POST <cabinet>/@@message-templates (add), .../<id> (change), .../<id>/delete."""
    cabinet = _cabinet(request, context)
    sub = request.subpath
    if len(sub) > 2 or (len(sub) == 2 and sub[1] != "delete"):
        raise errors.not_found()
    template = _template(request, cabinet, sub[0]) if sub else None
    try:
        entry = read_input(request)
        if len(sub) == 2:
            request.dbsession.delete(template)
            flash(request, _("Modèle « ${title} » supprimé.", mapping={"title": template.title}))
        else:
            template = save_template(request, cabinet, template, entry)
            flash(request, _("Modèle « ${title} » enregistré.", mapping={"title": template.title}))
    except UploadRefused as exc:
        if exc.status != 422:
            refuse_upload(exc, wrong_type_status=422)
        request.tm.doom()             # whatever the request began is not kept
        request.response.status_int = 422
        values = {k: request.POST.get(k, "") for k in ("title", "text")
                  if isinstance(request.POST.get(k), str)}
        return render_to_response("message_templates.jinja2", _page(
            request, cabinet, {exc.field: exc.message}, values,
            template.id if template is not None else None),
            request=request, response=request.response)
    return HTTPSeeOther(location=node_url(request, cabinet.path) + "/@@message-templates")


def includeme(config):
    add = config.add_view
    add(templates_get, context=INode, name="@message-templates", request_method="GET",
        permission="message:reply")
    for method in ("POST", "PATCH", "DELETE"):
        add(templates_write, context=INode, name="@message-templates",
            request_method=method, permission="message:configure",
            require_csrf=False)                   # read_input checks it
    add(templates_page, context=ICabinet, name="message-templates", request_method="GET",
        renderer="message_templates.jinja2", permission="message:configure")
    add(templates_post, context=ICabinet, name="message-templates",
        request_method="POST", permission="message:configure", require_csrf=False)
