"""Sharing settings of documents (C2): a cabinet's document types and their default
sharing, its "share only signed documents" switch, a patient's overrides and GDPR
opt-out, a document's override. JSON (``@document-types``, ``@document-settings``,
``@document-sharing``) and the forms of the pages. cabinet.document_sharing turns
every change into the documents' local roles when the session flushes."""
import re

from pyramid.httpexceptions import HTTPSeeOther
from sqlalchemy import select

from cabinet import errors
from cabinet.document_sharing import (
    AUDIENCES, cabinet_settings, document_types, patient_of,
    patient_settings, shared_with,
)
from cabinet.i18n import _, flash
from cabinet.interfaces import ICabinet, IDocument, INode, IPatient
from cabinet.models import DocumentType
from .base import cabinet_or_404, json_body, node_url, only_fields

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
SHARE_FIELDS = tuple(f"share_{a}" for a in AUDIENCES)


def type_json(doc_type):
    return {"id": doc_type.name, "title": doc_type.title,
            **{field: getattr(doc_type, field) for field in SHARE_FIELDS}}


def _bool(body, field, nullable=False):
    value = body[field]
    if value is None and nullable:
        return None
    if not isinstance(value, bool):
        raise errors.unprocessable(f"'{field}' must be true or false"
                                   + (" or null." if nullable else "."), field=field)
    return value






# -- document types ---------------------------------------------------------------------

def list_types(context, request):
    context = cabinet_or_404(context)
    return {"@id": node_url(request, context.path) + "/@document-types",
            "items": [type_json(t) for t in document_types(request.dbsession, context)]}


def _type(context, request):
    if len(request.subpath) != 1:
        raise errors.not_found("PATCH <cabinet>/@document-types/<type>.")
    doc_type = request.dbsession.scalar(select(DocumentType).where(
        DocumentType.cabinet_id == context.id, DocumentType.name == request.subpath[0]))
    if doc_type is None:
        raise errors.not_found(f"There is no document type '{request.subpath[0]}'.")
    return doc_type


def add_type(context, request):
    body = json_body(request)
    only_fields(body, ("id", "title", *SHARE_FIELDS))
    name, title = body.get("id"), body.get("title")
    if not isinstance(name, str) or not _NAME.match(name):
        raise errors.unprocessable("'id' must be lowercase letters, digits, '-' or '_'.",
                                   field="id")
    if not isinstance(title, str) or not title.strip() or len(title) > 200:
        raise errors.unprocessable("'title' is required (at most 200 characters).",
                                   field="title")
    if request.dbsession.scalar(select(DocumentType.id).where(
            DocumentType.cabinet_id == context.id, DocumentType.name == name)):
        raise errors.conflict(f"The document type '{name}' exists already.", field="id")
    values = {field: _bool(body, field) for field in SHARE_FIELDS if field in body}
    doc_type = DocumentType(cabinet_id=context.id, name=name, title=title.strip(),
                            **{"share_patient": True, "share_guardian": True,
                               "share_correspondent": False, **values})
    request.dbsession.add(doc_type)
    request.dbsession.flush()
    request.response.status_int = 201
    return type_json(doc_type)


def edit_type(context, request):
    doc_type = _type(context, request)
    body = json_body(request)
    only_fields(body, ("title", *SHARE_FIELDS))
    if "title" in body:
        if not isinstance(body["title"], str) or not body["title"].strip():
            raise errors.unprocessable("'title' must be a non-empty text.", field="title")
        doc_type.title = body["title"].strip()[:200]
    for field in SHARE_FIELDS:
        if field in body:
            setattr(doc_type, field, _bool(body, field))
    request.dbsession.flush()
    return type_json(doc_type)


# -- the cabinet switch -----------------------------------------------------------------------

def get_cabinet_settings(context, request):
    context = cabinet_or_404(context)
    settings = cabinet_settings(request.dbsession, context)
    return {"@id": node_url(request, context.path) + "/@document-settings",
            "only_signed": bool(settings and settings.only_signed)}


def patch_cabinet_settings(context, request):
    body = json_body(request)
    only_fields(body, ("only_signed",))
    if "only_signed" in body:
        cabinet_settings(request.dbsession, context, create=True).only_signed = \
            _bool(body, "only_signed")
        request.dbsession.flush()
    return get_cabinet_settings(context, request)


# -- a patient's overrides and opt-out ----------------------------------------------------------

def get_patient_sharing(context, request):
    settings = patient_settings(request.dbsession, context)
    return {"@id": node_url(request, context.path) + "/@document-sharing",
            "opt_out": bool(settings and settings.opt_out),
            **{field: getattr(settings, field) if settings else None
               for field in SHARE_FIELDS}}


def patch_patient_sharing(context, request):
    body = json_body(request)
    only_fields(body, ("opt_out", *SHARE_FIELDS))
    values = {field: _bool(body, field, nullable=True) for field in SHARE_FIELDS
              if field in body}
    if "opt_out" in body:
        values["opt_out"] = _bool(body, "opt_out")
    if values:
        settings = patient_settings(request.dbsession, context, create=True)
        for field, value in values.items():
            setattr(settings, field, value)
        request.dbsession.flush()
    return get_patient_sharing(context, request)


def patient_sharing_form(context, request):
    """The documents page's form: opt-out and the three overrides ("", "1", "0")."""
    settings = patient_settings(request.dbsession, context, create=True)
    settings.opt_out = request.POST.get("opt_out") == "1"
    for field in SHARE_FIELDS:
        raw = request.POST.get(field, "")
        setattr(settings, field, None if raw not in ("0", "1") else raw == "1")
    request.dbsession.flush()
    flash(request, _("Règles de partage du patient enregistrées."))
    return HTTPSeeOther(location=node_url(request, context.path) + "/documents")


# -- a document's override -----------------------------------------------------------------

def get_document_sharing(context, request):
    return {"@id": node_url(request, context.path) + "/@document-sharing",
            **{field: getattr(context, field) for field in SHARE_FIELDS},
            "shared_with": sorted(shared_with(request.dbsession, context.id))}


def patch_document_sharing(context, request):
    patient = patient_of(context)
    if patient is None or not request.has_permission("patient:edit", patient):
        raise errors.forbidden("You may not change who this document is shared with.")
    body = json_body(request)
    only_fields(body, SHARE_FIELDS)
    for field in SHARE_FIELDS:
        if field in body:
            setattr(context, field, _bool(body, field, nullable=True))
    request.dbsession.flush()
    return get_document_sharing(context, request)


# -- the cabinet's page of settings -------------------------------------------------------------

def settings_page(context, request):
    settings = cabinet_settings(request.dbsession, context)
    return {"context": context, "types": document_types(request.dbsession, context),
            "only_signed": bool(settings and settings.only_signed),
            "audiences": AUDIENCES, "url": node_url(request, context.path)}


def settings_form(context, request):
    post = request.POST
    cabinet_settings(request.dbsession, context, create=True).only_signed = \
        post.get("only_signed") == "1"
    for doc_type in document_types(request.dbsession, context):
        for field in SHARE_FIELDS:
            setattr(doc_type, field, post.get(f"{doc_type.name}.{field}") == "1")
    name, title = post.get("new_id", "").strip(), post.get("new_title", "").strip()
    if name or title:
        if not _NAME.match(name) or not title or request.dbsession.scalar(
                select(DocumentType.id).where(DocumentType.cabinet_id == context.id,
                                              DocumentType.name == name)):
            flash(request, _("Nouveau type refusé : identifiant (minuscules, "
                              "chiffres, - ou _) unique et titre requis."))
        else:
            request.dbsession.add(DocumentType(
                cabinet_id=context.id, name=name, title=title[:200],
                **{field: post.get(f"new.{field}") == "1" for field in SHARE_FIELDS}))
    request.dbsession.flush()
    flash(request, _("Réglages des documents enregistrés."))
    return HTTPSeeOther(location=node_url(request, context.path) + "/@@document-settings")


def includeme(config):
    add = config.add_view
    # the GETs answer on any resource inside a cabinet, for that cabinet
    add(list_types, context=INode, name="@document-types", request_method="GET",
        renderer="json", permission="cabinet:view")
    add(add_type, context=ICabinet, name="@document-types", request_method="POST",
        renderer="json", permission="cabinet:edit")
    add(edit_type, context=ICabinet, name="@document-types", request_method="PATCH",
        renderer="json", permission="cabinet:edit")
    add(get_cabinet_settings, context=INode, name="@document-settings",
        request_method="GET", renderer="json", permission="cabinet:view")
    add(patch_cabinet_settings, context=ICabinet, name="@document-settings",
        request_method="PATCH", renderer="json", permission="cabinet:edit")
    add(settings_page, context=ICabinet, name="document-settings", request_method="GET",
        renderer="document_settings.jinja2", permission="cabinet:edit")
    add(settings_form, context=ICabinet, name="document-settings", request_method="POST",
        permission="cabinet:edit")
    add(get_patient_sharing, context=IPatient, name="@document-sharing",
        request_method="GET", renderer="json", permission="patient:view")
    add(patch_patient_sharing, context=IPatient, name="@document-sharing",
        request_method="PATCH", renderer="json", permission="patient:edit")
    add(patient_sharing_form, context=IPatient, name="document-sharing",
        request_method="POST", permission="patient:edit")
    add(get_document_sharing, context=IDocument, name="@document-sharing",
        request_method="GET", renderer="json", permission="document:view")
    add(patch_document_sharing, context=IDocument, name="@document-sharing",
        request_method="PATCH", renderer="json", permission="document:view")
