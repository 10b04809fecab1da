"""Patient messaging (issue #9, P3): the patient's and guardian's page, and the JSON
API of a conversation.

Pages: ``/@@my-messages`` (the first record the user manages as patient or guardian,
with a switcher), ``<patient>/@@my-messages`` (that record; POST sends).

JSON (plone.restapi style), on a patient record or anything inside it:

- ``GET <patient>/@messages``: the conversation, newest first, batched; ``POST``
  (JSON ``{"text", "template"}`` or multipart with ``file``) writes as the user's side;
- ``POST <patient>/@messages/read``: the other side's messages are read;
- ``GET <patient>/@messages/<id>`` one message, ``.../<id>/attachment`` its file
  (as an attachment, nosniff); ``POST .../<id>/file``: staff file a patient's
  attachment into the record's documents (cabinet.views.message_console);
- ``GET /@my-messages``: the records the user manages, with their unread counts.

A message id is only looked up in the conversation of the record in the URL
(another record's id: 404); the record's ACL decides the rest. Every view goes
through cabinet.messages.conversation_of (the module switch's place)."""

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.renderers import render_to_response

from cabinet import errors
from cabinet.documents import UploadRefused, file_size, max_bytes
from cabinet.i18n import _, flash, N_
from cabinet.interfaces import INode, IPatient, ISite
from cabinet.messages import (
    MAX_TEXT, PAGE_SIZE, authors, conversation_of, filed_documents, mark_read, message_of,
    messages_page, my_conversations, post_message, read_input, side_of, unread_count,
)
from .base import (
    batching, blob_download, int_param, isoformat, node_url, refuse_upload,
)


def page_helpers(request):
    """What the pages show times and sizes with: the cabinet's wall-clock time (the
    clock and the database keep UTC) in the reader's language, sizes in French units."""
    from datetime import datetime, timezone
    from cabinet.labels import display
    from cabinet.appointments import zone
    tz = zone(request.registry)

    def local_time(value):
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return display(value.replace(tzinfo=timezone.utc).astimezone(tz).replace(tzinfo=None),
                       request)
    return {"local_time": local_time, "file_size": lambda size: file_size(request, size)}


# -- JSON shapes -------------------------------------------------------------------------

def conversation_url(request, patient):
    return node_url(request, patient.path) + "/@messages"


def message_json(request, patient, message, acting=None, documents=None):
    """A message as JSON; ``documents`` ({document id: path}, staff only) adds the
    document its attachment was filed into."""
    url = f"{conversation_url(request, patient)}/{message.id}"
    data = {"@id": url, "@type": "Message", "id": message.id, "side": message.side,
            "text": message.text, "author": message.author_name or None,
            "acting_for": (acting or {}).get(message.acting_for_id),
            "created": isoformat(message.created), "read": message.read_at is not None,
            "read_at": isoformat(message.read_at),
            "attachment": ({"file_name": message.file_name,
                            "content_type": message.content_type, "size": message.size,
                            "download": f"{url}/attachment"}
                           if message.blob_sha256 else None)}
    if documents is not None:
        path = documents.get(message.document_id)
        data["document"] = node_url(request, path) if path else None
    return data


def conversation_data(request, patient, cabinet):
    b_start = int_param(request, "b_start", 0)
    b_size = int_param(request, "b_size", PAGE_SIZE, minimum=1, maximum=PAGE_SIZE)
    rows, total = messages_page(request.dbsession, patient, b_start, b_size)
    side = side_of(request, patient)
    acting = authors(request.dbsession, rows)
    documents = filed_documents(request.dbsession, rows) if side == "cabinet" else None
    reader = side or "patient"
    return {"@id": conversation_url(request, patient),
            "patient": {"@id": node_url(request, patient.path), "title": patient.title},
            "cabinet": {"@id": node_url(request, cabinet.path), "title": cabinet.title},
            "side": side, "unread": unread_count(request.dbsession, patient, reader),
            "max_length": MAX_TEXT, "max_bytes": max_bytes(request.registry.settings),
            "items": [message_json(request, patient, m, acting, documents)
                      for m in rows],
            "items_total": total, "batching": batching(request, b_start, b_size, total)}


# -- files ---------------------------------------------------------------------------------

def serve_file(request, holder, default_name="piece-jointe"):
    """The file of a message or template: as an attachment, nosniff, its type found
    in its bytes, never cached."""
    return blob_download(request, holder, default_name,
                         N_("Il n'y a pas de pièce jointe."), N_("Le fichier est introuvable."))


# -- the JSON views --------------------------------------------------------------------

def messages_get(context, request):
    """GET <patient>/@messages[/<id>[/attachment]]."""
    patient, cabinet = conversation_of(request, context)
    sub = request.subpath
    if not sub:
        return render_to_response("json", conversation_data(request, patient, cabinet),
                                  request=request)
    message = message_of(request.dbsession, patient, sub[0])
    if len(sub) == 1:
        documents = filed_documents(request.dbsession, [message]) \
            if side_of(request, patient) == "cabinet" else None
        return render_to_response("json", message_json(
            request, patient, message, authors(request.dbsession, [message]), documents),
            request=request)
    if len(sub) == 2 and sub[1] == "attachment":
        return serve_file(request, message)
    raise errors.not_found()


def messages_post(context, request):
    """POST <patient>/@messages (a new message), ``.../read``, ``.../<id>/file``."""
    patient, cabinet = conversation_of(request, context)
    sub = request.subpath
    try:
        entry = read_input(request)          # the size, then the CSRF token
        side = side_of(request, patient)
        if side is None:
            raise errors.forbidden(N_("Vous ne pouvez pas écrire dans cette conversation."))
        if not sub:
            message = post_message(request, patient, cabinet, side, entry)
            request.response.status_int = 201
            request.response.location = f"{conversation_url(request, patient)}/{message.id}"
            return render_to_response("json", message_json(
                request, patient, message, authors(request.dbsession, [message])),
                request=request, response=request.response)
        if sub == ("read",):
            marked = mark_read(request, patient, side)
            return render_to_response("json", {
                "@id": conversation_url(request, patient), "marked_read": marked,
                "unread": unread_count(request.dbsession, patient, side)},
                request=request)
        if len(sub) == 2 and sub[1] == "file":
            from cabinet.views.message_console import file_json
            return file_json(request, patient, cabinet, sub[0], entry)
    except UploadRefused as exc:
        refuse_upload(exc, wrong_type_status=422)
    raise errors.not_found()


def my_messages_data(context, request):
    """GET /@my-messages: the records the user manages, unread counts, last message."""
    items = []
    for record, unread, last in my_conversations(request):
        items.append({"patient": {"@id": node_url(request, record.path),
                                  "title": record.title},
                      "@id": conversation_url(request, record), "unread": unread,
                      "last_message": message_json(request, record, last) if last else None})
    return {"@id": request.application_url + "/@my-messages", "items": items,
            "unread": sum(item["unread"] for item in items)}


# -- the patient's page ------------------------------------------------------------------

def _page(request, record, errors_=None, values=None):
    conversations = my_conversations(request)
    data = {"conversations": conversations, "record": record, "errors": errors_ or {},
            "values": values or {}, "max_length": MAX_TEXT,
            "max_size": file_size(request, max_bytes(request.registry.settings)),
            "messages": [], "total": 0, **page_helpers(request)}
    if record is None:
        return data
    patient, cabinet = conversation_of(request, record)
    if not errors_:
        mark_read(request, patient, "patient")
    rows, total = messages_page(request.dbsession, patient)
    data.update({"messages": list(reversed(rows)), "total": total, "cabinet": cabinet,
                 "patient": patient,
                 "action": node_url(request, patient.path) + "/@@my-messages"})
    # the switcher's counts were read before this record's messages were marked read
    data["conversations"] = [(r, 0 if r.id == patient.id else n, last)
                             for r, n, last in conversations]
    return data


def my_messages_page(context, request):
    """GET /@@my-messages: the first record's conversation (one record: the only one)."""
    conversations = my_conversations(request)
    record = conversations[0][0] if conversations else None
    return _page(request, record)


def record_messages_page(context, request):
    """GET <patient>/@@my-messages."""
    conversation_of(request, context)
    return _page(request, context)


def record_messages_post(context, request):
    """POST <patient>/@@my-messages: send, then back to the conversation."""
    patient, cabinet = conversation_of(request, context)
    try:
        entry = read_input(request)
        post_message(request, patient, cabinet, "patient", entry)
    except UploadRefused as exc:
        if exc.status != 422:
            refuse_upload(exc, wrong_type_status=422)
        request.tm.doom()             # whatever the request began is not kept
        request.response.status_int = 422
        values = {"text": request.POST.get("text", "")} if request.POST else {}
        return render_to_response("my_messages.jinja2", _page(
            request, patient, {exc.field: exc.message}, values), request=request,
            response=request.response)
    flash(request, _("Message envoyé."))
    return HTTPSeeOther(location=node_url(request, patient.path) + "/@@my-messages")


def includeme(config):
    add = config.add_view
    add(messages_get, context=INode, name="@messages", request_method="GET",
        permission="message:view")
    add(messages_post, context=INode, name="@messages", request_method="POST",
        permission="message:view", require_csrf=False)   # read_input checks it
    add(my_messages_data, context=ISite, name="@my-messages", request_method="GET",
        renderer="json", permission="site:view")
    add(my_messages_page, context=ISite, name="my-messages", request_method="GET",
        renderer="my_messages.jinja2", permission="site:view")
    add(record_messages_page, context=IPatient, name="my-messages", request_method="GET",
        renderer="my_messages.jinja2", permission="message:send")
    add(record_messages_post, context=IPatient, name="my-messages", request_method="POST",
        permission="message:send", require_csrf=False)    # read_input checks it
    config.include("cabinet.views.message_console")
