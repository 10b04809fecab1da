"""The cabinet's side of patient messaging (issue #9, P3; issue #10, K4): the console
list of conversations (``<cabinet>/@@messages``, JSON ``<cabinet>/@messages``: with
unread patient messages by default, newest first, 50 a page), a patient's
conversation for staff (``<patient>/@@conversation``: reads it, answers with a reply
template, files a patient's attachment into the record's documents:
``<patient>/@@conversation/<id>/file``, JSON ``<patient>/@messages/<id>/file``).

Staff, professionals and secretaries acting for a professional hold ``message:reply``
on the cabinet and its records (workflows/cabinet.yaml, patient.yaml)."""
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.renderers import render_to_response

from cabinet import errors
from cabinet.document_sharing import document_types
from cabinet.documents import UploadRefused, file_size, max_bytes
from cabinet.i18n import _, flash, N_
from cabinet.interfaces import ICabinet, IPatient
from cabinet.messages import (
    MAX_TEXT, authors, cabinet_conversations, cabinet_unread, conversation_of,
    file_attachment, filed_documents, mark_read, message_of, messages_page,
    messaging_open, post_message, read_input, template_of, templates_of,
)
from .base import batching, int_param, isoformat, node_url, refuse_upload
from .messages import message_json, page_helpers


def _cabinet(request, context):
    if not messaging_open(request, context):
        raise errors.not_found(N_("Il n'y a pas de messagerie ici."))
    return context


# -- the console list ----------------------------------------------------------------------

def _list_query(request):
    only = request.GET.get("filter", "unread")
    if only not in ("unread", "all"):
        raise errors.bad_request("'filter' must be 'unread' or 'all'.")
    return (only == "unread", int_param(request, "b_start", 0),
            int_param(request, "b_size", 50, minimum=1, maximum=50))


def conversations_data(context, request):
    """GET <cabinet>/@messages."""
    if request.subpath:
        raise errors.not_found()
    cabinet = _cabinet(request, context)
    only_unread, b_start, b_size = _list_query(request)
    rows, total = cabinet_conversations(request.dbsession, cabinet, only_unread,
                                        b_start, b_size)
    items = []
    for row in rows:
        url = node_url(request, row.path)
        items.append({"@id": url + "/@messages",
                      "patient": {"@id": url, "title": row.title},
                      "unread": row.unread,
                      "last_message": {"side": row.last.side,
                                       "created": isoformat(row.last.created),
                                       "text": row.last.text[:200],
                                       "attachment": bool(row.last.blob_sha256)}})
    return {"@id": request.url, "filter": "unread" if only_unread else "all",
            "unread": cabinet_unread(request.dbsession, cabinet), "items": items,
            "items_total": total, "batching": batching(request, b_start, b_size, total)}


def conversations_page(context, request):
    data = conversations_data(context, request)
    return {"context": context, "data": data, "url": node_url(request, context.path),
            **page_helpers(request)}


# -- a patient's conversation, for staff ---------------------------------------------------

def _page(request, patient, cabinet, errors_=None, values=None):
    if not errors_:
        mark_read(request, patient, "cabinet")
    rows, total = messages_page(request.dbsession, patient)
    templates = templates_of(request.dbsession, cabinet)
    values = dict(values or {})
    chosen = None
    raw = values.get("template") or request.GET.get("template")
    if raw:
        try:
            chosen = template_of(request.dbsession, cabinet, raw)
        except UploadRefused as exc:
            errors_ = {**(errors_ or {}), "template": exc.message}
        else:
            values.setdefault("text", chosen.text)
    url = node_url(request, patient.path)
    return {"context": patient, "patient": patient, "cabinet": cabinet,
            "messages": list(reversed(rows)), "total": total,
            "acting": authors(request.dbsession, rows),
            "documents": filed_documents(request.dbsession, rows),
            "templates": templates, "template": chosen, "values": values,
            "errors": errors_ or {}, "types": document_types(request.dbsession, cabinet),
            "can_file": bool(request.has_permission("document:add",
                                                    patient["documents"])),
            "url": url, "action": url + "/@@conversation", "max_length": MAX_TEXT,
            "max_size": file_size(request, max_bytes(request.registry.settings)),
            "console": node_url(request, cabinet.path) + "/@@messages",
            **page_helpers(request)}


def conversation_page(context, request):
    """GET <patient>/@@conversation[?template=<id>]."""
    if request.subpath:
        raise errors.not_found()
    patient, cabinet = conversation_of(request, context)
    return _page(request, patient, cabinet)


def conversation_post(context, request):
    """POST <patient>/@@conversation (a reply) or .../<id>/file (filing)."""
    patient, cabinet = conversation_of(request, context)
    sub = request.subpath
    if sub and not (len(sub) == 2 and sub[1] == "file"):
        raise errors.not_found()
    try:
        entry = read_input(request)
        if sub:
            message = message_of(request.dbsession, patient, sub[0])
            document = file_attachment(request, patient, cabinet, message, entry.fields)
            flash(request, _("Pièce jointe classée dans les documents : « ${title} ».",
                              mapping={"title": document.title}))
        else:
            post_message(request, patient, cabinet, "cabinet", entry)
            flash(request, _("Réponse envoyée."))
    except UploadRefused as exc:
        if exc.status != 422:
            refuse_upload(exc, wrong_type_status=422)
        request.tm.doom()             # whatever the request began is not kept
        request.response.status_int = 422
        values = {k: request.POST.get(k, "") for k in ("text", "template")
                  if isinstance(request.POST.get(k), str)} if not sub else {}
        return render_to_response("conversation.jinja2", _page(
            request, patient, cabinet, {exc.field: exc.message}, values),
            request=request, response=request.response)
    return HTTPSeeOther(location=node_url(request, patient.path) + "/@@conversation")


def file_json(request, patient, cabinet, raw_id, entry):
    """POST <patient>/@messages/<id>/file: {"document_type", "title"} -> 201 with
    the new document (its @id) and the message."""
    if not request.has_permission("message:reply", patient):
        raise errors.forbidden(N_("Seul le cabinet classe les pièces jointes."))
    message = message_of(request.dbsession, patient, raw_id)
    fields = entry.fields
    if not isinstance(fields.get("document_type", ""), str) or \
            not isinstance(fields.get("title", ""), (str, type(None))):
        raise UploadRefused(422, "« document_type » et « title » sont des textes.",
                            field="document_type")
    document = file_attachment(request, patient, cabinet, message, fields)
    request.response.status_int = 201
    request.response.location = node_url(request, document.path)
    body = {"document": {"@id": node_url(request, document.path), "title": document.title,
                         "review_state": document.state},
            "message": message_json(request, patient, message, documents={
                document.id: document.path})}
    return render_to_response("json", body, request=request, response=request.response)


def includeme(config):
    add = config.add_view
    add(conversations_data, context=ICabinet, name="@messages", request_method="GET",
        renderer="json", permission="message:reply")
    add(conversations_page, context=ICabinet, name="messages", request_method="GET",
        renderer="messages_console.jinja2", permission="message:reply")
    add(conversation_page, context=IPatient, name="conversation", request_method="GET",
        renderer="conversation.jinja2", permission="message:reply")
    add(conversation_post, context=IPatient, name="conversation", request_method="POST",
        permission="message:reply", require_csrf=False)    # read_input checks it
    config.include("cabinet.views.message_templates")

