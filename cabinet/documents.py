"""Documents (C1, C3, C5): reading an upload within the size limit, recognising its
type from its bytes, storing it, and the SQL-filtered listings (the patient's
documents by group, the documents awaiting signature across a cabinet)."""
from dataclasses import dataclass

from pyramid.csrf import check_csrf_token
from sqlalchemy import and_, func, select

from cabinet.content import add_node
from cabinet.i18n import N_, _, translate
from cabinet.interfaces import IBlobStorage
from cabinet.pdf_scan import active_content
from cabinet.models import Document, DocumentType, Node, User
from cabinet.search import readable_filter, subtree
from cabinet.security import uses_bearer_token
from cabinet.workflow import record_history

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
#: room for the multipart envelope and the other fields around the file
ENVELOPE_BYTES = 64 * 1024
CHUNK = 64 * 1024
ACCEPTED = {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG"}
EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}
SAME_TYPE_EXTENSIONS = {"image/jpeg": (".jpg", ".jpeg", ".jpe")}
#: where a PDF's end-of-file marker must be found (incremental updates and trailing
#: whitespace or NULs put it a little before the very end)
PDF_EOF_WINDOW = 2048


class UploadRefused(Exception):
    def __init__(self, status, message, field="file", **extra):
        super().__init__(message)
        self.status, self.message, self.field, self.extra = status, message, field, extra


def max_bytes(settings):
    try:
        return int(settings.get("cabinet.upload_max_bytes") or DEFAULT_MAX_BYTES)
    except ValueError:
        return DEFAULT_MAX_BYTES


#: an upload's refusals: msgids (a page shows them in the reader's language, JSON in
#: French); a size in them is a msgid too ("20 Mo", "20 MB")
SIZE_UNITS = ((1024 * 1024, N_("${n} Mo")), (1024, N_("${n} Ko")), (1, N_("${n} octets")))
TOO_LARGE = N_("Le fichier dépasse la taille maximale de ${size} (${bytes} octets).")
UNSUPPORTED = N_("Type de fichier refusé : seuls les fichiers PDF, JPEG et PNG sont "
                 "acceptés (reconnus à leur contenu, pas à leur nom).")
ACTIVE = N_("Ce PDF contient du contenu actif (JavaScript, lancement de programme ou "
            "page web) : il ne peut pas être partagé. Enregistrez-le à nouveau en PDF "
            "simple (par exemple en l'imprimant en PDF).")
NO_FILE = N_("Choisissez un fichier à envoyer.")
EMPTY = N_("Le fichier est vide.")
NOT_A_BOOLEAN = N_("« ${field} » doit valoir true ou false.")
UNKNOWN_TYPE = N_("Type de document inconnu : « ${name} ».")
TITLE_TOO_LONG = N_("Le titre dépasse 500 caractères.")


def size_message(size):
    """``size`` bytes as a msgid: the largest unit it fills."""
    for unit, message in SIZE_UNITS:
        if size >= unit or unit == 1:
            return _(message, mapping={"n": f"{size / unit:g}"})


def file_size(request, size):
    """``size`` bytes as the reader reads them (20 Mo, 20 MB)."""
    return translate(request, size_message(size))


def sniff(data):
    """The content type of ``data`` from its bytes, or None when it is not an accepted
    PDF, JPEG or PNG. A PDF starts with ``%PDF-`` and has ``%%EOF`` near its end."""
    if data.startswith(b"%PDF-"):
        return "application/pdf" if b"%%EOF" in data[-PDF_EOF_WINDOW:] else None
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 8 + 25:
        return "image/png"
    if data.startswith(b"\xff\xd8\xff") and len(data) > 4:
        return "image/jpeg"
    return None


def too_large(limit):
    return UploadRefused(413, _(TOO_LARGE, mapping={"size": size_message(limit),
                                                    "bytes": limit}),
                         max_bytes=limit)


def unsupported():
    return UploadRefused(415, _(UNSUPPORTED), accepted=sorted(ACCEPTED))


def read_body_within_limit(request):
    """Read an upload's body, or refuse it (413) past the size limit: early from
    Content-Length, before anything is read, and again while reading (a body without
    Content-Length, a file larger than announced). The CSRF token of a cookie session
    is checked once the size is known to be fine. Returns the limit, in bytes."""
    limit = max_bytes(request.registry.settings)
    length = request.content_length
    if length is not None and length > limit + ENVELOPE_BYTES:
        raise too_large(limit)
    if length is None:
        body, total, stream = [], 0, request.body_file_raw
        while chunk := stream.read(CHUNK):
            total += len(chunk)
            if total > limit + ENVELOPE_BYTES:
                raise too_large(limit)
            body.append(chunk)
        request.body = b"".join(body)
    if not uses_bearer_token(request):
        check_csrf_token(request, token="csrf_token", header="X-CSRF-Token")
    return limit


def read_upload(request):
    """(form fields, file bytes, file name) of a multipart upload, or UploadRefused
    (read_body_within_limit)."""
    limit = read_body_within_limit(request)
    upload = request.POST.get("file")
    if upload is None or not hasattr(upload, "file"):
        raise UploadRefused(422, _(NO_FILE))
    parts, total = [], 0
    while True:
        chunk = upload.file.read(CHUNK)
        if not chunk:
            break
        total += len(chunk)
        if total > limit:
            raise too_large(limit)
        parts.append(chunk)
    data = b"".join(parts)
    if not data:
        raise UploadRefused(422, _(EMPTY))
    return request.POST, data, (upload.filename or "")


def parse_bool(value, field):
    if isinstance(value, bool):
        return value
    text = (value or "").strip().lower()
    if text in ("", "0", "false", "off", "no", "non"):
        return False
    if text in ("1", "true", "on", "yes", "oui"):
        return True
    raise UploadRefused(422, _(NOT_A_BOOLEAN, mapping={"field": field}), field=field)


def find_type(session, cabinet, name):
    if not name:
        return None
    doc_type = session.scalar(select(DocumentType).where(
        DocumentType.cabinet_id == cabinet.id, DocumentType.name == name))
    if doc_type is None:
        raise UploadRefused(422, _(UNKNOWN_TYPE, mapping={"name": name}),
                            field="document_type")
    return doc_type


def active():
    return UploadRefused(415, _(ACTIVE), accepted=sorted(ACCEPTED))


def check_file(data):
    content_type = sniff(data)
    if content_type is None:
        raise unsupported()
    if content_type == "application/pdf" and active_content(data):
        raise active()
    return content_type


def clean_file_name(name, content_type):
    """The uploader's file name, safe to store and to send back: no folders, no
    control or quote characters, no leading dots, and an extension that says the
    type found in the content (``photo.pdf`` holding a PNG becomes ``photo.pdf.png``)."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable() and c not in '"\\;')[:200]
    name = name.strip().lstrip(". ")
    extension = EXTENSIONS[content_type]
    if not name:
        return f"document{extension}"
    if not name.lower().endswith(SAME_TYPE_EXTENSIONS.get(content_type, (extension,))):
        name = name[:200 - len(extension)] + extension
    return name


def create_document(request, folder, cabinet, fields, data, file_name):
    """Add a document with its file under ``folder`` (a patient's documents)."""
    content_type = check_file(data)
    title = (fields.get("title") or "").strip()
    file_name = clean_file_name(file_name, content_type)
    if not title:
        title = file_name.rsplit(".", 1)[0] or file_name
    if len(title) > 500:
        raise UploadRefused(422, _(TITLE_TOO_LONG), field="title")
    needs_signature = parse_bool(fields.get("needs_signature"), "needs_signature")
    doc_type = find_type(request.dbsession, cabinet, (fields.get("document_type") or "").strip())
    storage = request.registry.getUtility(IBlobStorage)
    sha256 = storage.store(data, request.tm)
    document = add_node(
        request.dbsession, request.registry, folder, "Document", title=title,
        owner=request.identity,
        needs_signature=needs_signature, blob_sha256=sha256, size=len(data),
        content_type=content_type, file_name=file_name,
        document_type_id=doc_type.id if doc_type is not None else None)
    grant = request.has_permission("document:add", folder)
    record_history(request, document, "create", grant=grant, to_state=document.state,
                   details={"sha256": sha256, "size": len(data), "file_name": file_name})
    return document


def replace_file(request, document, data, file_name):
    """New bytes for a document not yet sent or signed (the caller checks)."""
    content_type = check_file(data)
    storage = request.registry.getUtility(IBlobStorage)
    previous = document.blob_sha256
    document.blob_sha256 = storage.store(data, request.tm)
    document.size = len(data)
    document.content_type = content_type
    document.file_name = clean_file_name(file_name, content_type)
    document.version = Node.version + 1     # in SQL: concurrent changes all count
    grant = request.has_permission("document:edit", document)
    record_history(request, document, "replace-file", grant=grant, details={
        "sha256": document.blob_sha256, "previous_sha256": previous,
        "size": document.size})
    request.dbsession.flush()     # the version is read back as a number from here
    return document


# -- listings (the permission filter of cabinet.search, in SQL) -----------------------------

_nodes = Node.__table__
_docs = Document.__table__
_types = DocumentType.__table__


def _document_columns():
    folder, patient = _nodes.alias("folder"), _nodes.alias("patient")
    columns = (_nodes.c.id, _nodes.c.name, _nodes.c.type, _nodes.c.path, _nodes.c.title,
               _nodes.c.state, _nodes.c.created, _nodes.c.modified, _nodes.c.owner_id,
               _docs.c.needs_signature, _docs.c.size, _docs.c.content_type,
               _docs.c.file_name, _docs.c.blob_sha256,
               _types.c.name.label("type_name"), _types.c.title.label("type_title"),
               patient.c.title.label("patient_title"), patient.c.path.label("patient_path"))
    joins = (_nodes.join(_docs, _docs.c.id == _nodes.c.id)
             .outerjoin(_types, _types.c.id == _docs.c.document_type_id)
             .join(folder, folder.c.id == _nodes.c.parent_id)
             .join(patient, patient.c.id == folder.c.parent_id))
    return columns, joins


GROUPS = ("signed", "to_sign", "shared")


def group_of(row):
    if row.state == "signed":
        return "signed"
    if row.state == "sent":
        return "to_sign" if row.needs_signature else "shared"
    return None


def patient_documents(request, patient):
    """{"signed": [...], "to_sign": [...], "shared": [...]}: the documents of
    ``patient`` the user may view, sent or signed (newest first)."""
    columns, joins = _document_columns()
    rows = request.dbsession.execute(
        select(*columns).select_from(joins)
        .where(readable_filter(request, ("Document",)), subtree(patient.path),
               _nodes.c.state.in_(("sent", "signed")))
        .order_by(_nodes.c.modified.desc(), _nodes.c.id.desc()).limit(1000)).all()
    groups = {name: [] for name in GROUPS}
    for row in rows:
        group = group_of(row)
        if group:
            groups[group].append(row)
    return groups


@dataclass
class AwaitingQuery:
    practitioner: str = ""      # login of the user who added the document
    document_type: str = ""     # name of a document type of the cabinet
    b_start: int = 0
    b_size: int = 50


def awaiting_statement(request, cabinet, query):
    """(columns, joins, conditions) of the documents sent for signature in
    ``cabinet`` that the user may view (the console's list, and its work queue:
    cabinet.work_queues)."""
    columns, joins = _document_columns()
    owner = User.__table__
    conditions = [readable_filter(request, ("Document",)), subtree(cabinet.path),
                  _nodes.c.state == "sent", _docs.c.needs_signature.is_(True)]
    if query.practitioner:
        conditions.append(_nodes.c.owner_id == select(owner.c.id).where(
            owner.c.login == query.practitioner).scalar_subquery())
    if query.document_type:
        conditions.append(and_(_types.c.name == query.document_type,
                               _types.c.cabinet_id == cabinet.id))
    columns = (*columns, owner.c.login.label("owner_login"),
               owner.c.fullname.label("owner_name"))
    return columns, joins.outerjoin(owner, owner.c.id == _nodes.c.owner_id), conditions


def awaiting_signature(request, cabinet, query):
    """(rows, total): the documents sent for signature in ``cabinet`` that the user
    may view, oldest first (by the time they were last changed: sent)."""
    columns, joins, conditions = awaiting_statement(request, cabinet, query)
    rows = request.dbsession.execute(
        select(*columns).select_from(joins)
        .where(*conditions).order_by(_nodes.c.modified.asc(), _nodes.c.id.asc())
        .offset(query.b_start).limit(query.b_size)).all()
    if query.b_start == 0 and len(rows) < query.b_size:
        return rows, len(rows)
    total = request.dbsession.scalar(select(func.count()).select_from(joins)
                                     .where(*conditions))
    return rows, total


def cabinet_practitioners(request, cabinet):
    """(login, name) of the users who added documents in the cabinet (filter choices)."""
    owner = User.__table__
    return request.dbsession.execute(
        select(owner.c.login, owner.c.fullname).distinct()
        .join(_nodes, _nodes.c.owner_id == owner.c.id)
        .where(_nodes.c.type == "document", subtree(cabinet.path))
        .order_by(owner.c.fullname)).all()
