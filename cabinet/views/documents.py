"""Documents (C1, C2, C3, C5): the patient's documents page with its upload form,
``POST <patient>/documents`` (multipart), ``<document>/@@download``, replacing the
file, the patient's "Documents" (signed, to sign, shared) as a page and JSON, the
console's documents awaiting signature, and the sharing settings (document types,
the cabinet switch, the patient's overrides and opt-out, a document's override)."""

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.renderers import render_to_response
from sqlalchemy import select

from cabinet import errors
from cabinet.document_sharing import (
    AUDIENCES, cabinet_of, document_types, patient_of, patient_settings, shared_with,
)
from cabinet.documents import (
    GROUPS, AwaitingQuery, UploadRefused, awaiting_signature, cabinet_practitioners,
    create_document, file_size, max_bytes, patient_documents, read_upload,
    replace_file,
)
from cabinet.i18n import N_, _, flash
from cabinet.interfaces import (
    ICabinet, IDocument, IFolder, INode, IPatient,
)
from cabinet.locks import lock_unchanged
from cabinet.models import Document, DocumentType
from .base import (
    batching, blob_download, int_param, isoformat, node_url, refuse_upload, wants_json,
)
from .content import children_page, node_json
from .errors import LOGIN_REQUIRED

GROUP_TITLES = {"signed": N_("Documents signés"), "to_sign": N_("Documents à signer"),
                "shared": N_("Documents partagés sans signature")}


def document_item(request, row):
    """A document of a listing (a row of cabinet.documents) as JSON."""
    url = node_url(request, row.path)
    item = {"@id": url, "@type": "Document", "id": row.name, "title": row.title,
            "review_state": row.state, "needs_signature": row.needs_signature,
            "document_type": row.type_name, "document_type_title": row.type_title,
            "content_type": row.content_type or None, "size": row.size,
            "file_name": row.file_name or None, "created": isoformat(row.created),
            "modified": isoformat(row.modified),
            "patient": {"@id": node_url(request, row.patient_path),
                        "title": row.patient_title},
            "download": f"{url}/@@download" if row.blob_sha256 else None}
    return item


def file_json(context, request):
    data = node_json(context, request)
    data.update({"document_type": context.document_type_id and request.dbsession.get(
                     DocumentType, context.document_type_id).name,
                 "content_type": context.content_type or None, "size": context.size,
                 "file_name": context.file_name or None, "sha256": context.blob_sha256,
                 "download": (node_url(request, context.path) + "/@@download"
                              if context.blob_sha256 else None)})
    return data


# -- the patient's documents folder: list, upload form, upload -------------------------------

def folder_page(context, request, errors_=None, values=None):
    patient = context.__parent__
    cabinet = cabinet_of(patient)
    b_start = int_param(request, "b_start", 0)
    items, total, _relation = children_page(request, context, b_start)
    docs = {row.id for row in items}
    details = {}
    if docs:
        details = {d.id: d for d in request.dbsession.scalars(
            select(Document).where(Document.id.in_(docs)))}
    types = document_types(request.dbsession, cabinet) if cabinet is not None else []
    type_titles = {t.id: t.title for t in types}
    rows = []
    for row in items:
        d = details.get(row.id)
        rows.append({"row": row, "url": node_url(request, row.path),
                     "type": type_titles.get(d.document_type_id) if d else None,
                     "file": d is not None and d.blob_sha256 is not None,
                     "needs_signature": d is not None and d.needs_signature,
                     "shared": sorted(shared_with(request.dbsession, row.id))})
    settings = patient_settings(request.dbsession, patient)
    return {"context": context, "patient": patient, "rows": rows, "total": total,
            "batching": batching(request, b_start, 50, total), "types": types,
            "url": node_url(request, context.path),
            "can_add": bool(request.has_permission("document:add", context)),
            "can_edit_patient": bool(request.has_permission("patient:edit", patient)),
            "settings": settings, "audiences": AUDIENCES,
            "max_size": file_size(request, max_bytes(request.registry.settings)),
            "errors": errors_ or {}, "values": values or {}}


def upload(context, request):
    """POST <patient>/documents (multipart: file, title, document_type,
    needs_signature): 201 with the document's JSON, or the page again."""
    patient = context.__parent__
    html = not wants_json(request)
    try:
        fields, data, file_name = read_upload(request)
        document = create_document(request, context, cabinet_of(patient), fields, data,
                                   file_name)
    except UploadRefused as exc:
        if html and exc.status == 422:
            request.response.status_int = 422
            values = {k: request.POST.get(k, "") for k in ("title", "document_type")}
            return folder_page(context, request, {exc.field: exc.message}, values)
        refuse_upload(exc)
    if html:
        flash(request, _("« ${title} » ajouté.", mapping={"title": document.title}))
        return HTTPSeeOther(location=node_url(request, context.path))
    request.response.status_int = 201
    request.response.location = node_url(request, document.path)
    return file_json(document, request)


def render_upload(context, request):
    """The upload view renders the page for HTML errors, JSON otherwise."""
    result = upload(context, request)
    if not isinstance(result, dict):
        return result
    status = request.response.status_int
    response = render_to_response("documents.jinja2" if "rows" in result else "json",
                                  result, request=request)
    response.status_int = status
    if status == 201:
        response.location = request.response.location
    return response


# -- one document: download, replace, JSON -----------------------------------------------

def _viewable_or_404(context, request):
    """Someone else's document answers like a document that does not exist."""
    if request.identity is None:
        raise errors.forbidden(LOGIN_REQUIRED)
    if not request.has_permission("document:view", context):
        raise errors.not_found()


def download(context, request):
    _viewable_or_404(context, request)
    response = blob_download(request, context, "document",
                             N_("Ce document n'a pas de fichier."),
                             N_("Le fichier de ce document est introuvable."))
    response.headers["X-Content-SHA256"] = context.blob_sha256
    return response


def replace(context, request):
    """POST <document>/@@file (multipart: file): new bytes while the document is
    pending; a signed document's bytes never change (409)."""
    _viewable_or_404(context, request)
    try:
        # first, as for every unsafe request: the CSRF token (in the multipart body)
        _fields, data, file_name = read_upload(request)
        changed_state = lock_unchanged(request.dbsession, context)
        if changed_state is not None:          # sent or signed meanwhile
            raise errors.conflict(N_("Ce document a changé d'état entre-temps."),
                                  review_state=changed_state)
        if context.state == "signed":
            raise errors.conflict(N_("Un document signé ne peut plus être modifié."),
                                  review_state=context.state)
        if not request.has_permission("document:edit", context):
            raise errors.conflict(N_("Seul un document en attente peut être modifié."),
                                  review_state=context.state)
        replace_file(request, context, data, file_name)
    except UploadRefused as exc:
        refuse_upload(exc)
    if not wants_json(request):
        flash(request, _("« ${title} » : fichier remplacé.", mapping={"title": context.title}))
        return HTTPSeeOther(location=node_url(request, context.__parent__.path))
    return render_to_response("json", file_json(context, request), request=request)


def signed_is_final(context, request):
    """PATCH of a signed document: its content can never change (409)."""
    raise errors.conflict(N_("Un document signé ne peut plus être modifié."),
                          review_state=context.state)


class StatePredicate:
    def __init__(self, value, config):
        self.value = value

    def text(self):
        return f"review_state = {self.value}"

    phash = text

    def __call__(self, context, request):
        return getattr(context, "state", None) == self.value


# -- the patient's "Documents" (C3) ------------------------------------------------------

def _holder(context, find, what):
    found = find(context)
    if found is None:
        raise errors.not_found(f"This resource is not inside a {what}.")
    return found


def portal_data(context, request):
    context = _holder(context, patient_of, "patient record")
    groups = patient_documents(request, context)
    return {"@id": node_url(request, context.path) + "/@patient-documents",
            "patient": {"@id": node_url(request, context.path), "title": context.title},
            **{name: [document_item(request, row) for row in groups[name]]
               for name in GROUPS}}


def portal_page(context, request):
    data = portal_data(context, request)
    return {"context": context, "groups": [(name, GROUP_TITLES[name], data[name])
                                           for name in GROUPS],
            "url": node_url(request, context.path)}


# -- documents awaiting signature (C5) ------------------------------------------------------

def _awaiting_query(request):
    return AwaitingQuery(practitioner=request.GET.get("practitioner", "").strip(),
                         document_type=request.GET.get("document_type", "").strip(),
                         b_start=int_param(request, "b_start", 0),
                         b_size=int_param(request, "b_size", 50, minimum=1, maximum=50))


def awaiting_data(context, request):
    context = _holder(context, cabinet_of, "cabinet")
    query = _awaiting_query(request)
    rows, total = awaiting_signature(request, context, query)
    items = []
    for row in rows:
        item = document_item(request, row)
        item["sent_by"] = ({"id": row.owner_login, "fullname": row.owner_name}
                           if row.owner_login else None)
        items.append(item)
    return {"@id": request.url, "items": items, "items_total": total,
            "batching": batching(request, query.b_start, query.b_size, total)}


def awaiting_page(context, request):
    data = awaiting_data(context, request)
    query = _awaiting_query(request)
    return {"context": context, "data": data, "query": query,
            "types": document_types(request.dbsession, context),
            "practitioners": cabinet_practitioners(request, context),
            "url": node_url(request, context.path)}


def includeme(config):
    config.include("cabinet.blobs")
    config.include("cabinet.document_sharing")
    config.add_view_predicate("review_state", StatePredicate)
    config.add_view(folder_page, context=IFolder, holds_type="Document",
                    request_method="GET", accept="text/html", renderer="documents.jinja2",
                    permission="folder:view")
    config.add_view(render_upload, context=IFolder, holds_type="Document",
                    request_method="POST", header="Content-Type:multipart/form-data",
                    permission="document:add", require_csrf=False)
    # "site:view": every signed-in user (anonymous visitors are sent to log in); the
    # view checks document:view itself and answers 404 to whoever may not see it
    config.add_view(download, context=IDocument, name="download", request_method="GET",
                    permission="site:view")
    config.add_view(replace, context=IDocument, name="file", request_method="POST",
                    permission="site:view", require_csrf=False)
    config.add_view(signed_is_final, context=IDocument, request_method="PATCH",
                    review_state="signed", renderer="json", permission="document:view")
    config.add_view(file_json, context=IDocument, name="@file", request_method="GET",
                    renderer="json", permission="document:view")
    # the JSON listings answer on any resource, for the patient record / the cabinet
    # that holds it (GET <document>/@patient-documents: the documents of its patient)
    config.add_view(portal_data, context=INode, name="@patient-documents",
                    request_method="GET", renderer="json", permission="patient:view")
    config.add_view(portal_page, context=IPatient, name="patient-documents",
                    request_method="GET", renderer="patient_documents.jinja2",
                    permission="patient:view")
    config.add_view(awaiting_data, context=INode, name="@awaiting-signature",
                    request_method="GET", renderer="json", permission="cabinet:view")
    config.add_view(awaiting_page, context=ICabinet, name="awaiting-signature",
                    request_method="GET", renderer="awaiting_signature.jinja2",
                    permission="cabinet:view")
    config.include("cabinet.views.document_settings")

