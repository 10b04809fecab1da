"""Patient messaging (issue #9, P3): one conversation per patient record with its
cabinet, attachments both ways, read/unread state per side, unread counts.

- ``conversation_of(request, context)`` finds the patient record and its cabinet of
  every messaging view, patient-facing or not: the one place where a module switch
  (K2, "messagerie") is to be checked.
- The side a user writes as follows from the record's ACL: ``message:reply`` (the
  cabinet's staff, professionals, their secretaries) writes as the cabinet,
  ``message:send`` (the patient, a guardian of a minor) as the patient.
- A message holds a text (at most MAX_TEXT characters) and/or one file: JPEG, PNG or
  PDF recognised from its bytes (cabinet.documents.sniff; active PDFs refused), at
  most the upload limit (``cabinet.upload_max_bytes``), stored in the blob storage
  (cabinet.message_input); the cabinet may answer with a reply template
  (cabinet.message_templates).
- ``read_at`` is set on the other side's messages when a side reads the conversation.
"""
from dataclasses import dataclass

from sqlalchemy import and_, case, func, select, update

from cabinet import errors, modules
from cabinet.document_sharing import cabinet_of, patient_of
from cabinet.i18n import N_
from cabinet.interfaces import IBlobStorage, IClock
from cabinet.message_input import (  # noqa: F401 - the views' names
    MAX_TEXT, MAX_TITLE, TITLE_TOO_LONG, Input, _refuse, clean_text, copy_attachment,
    read_input, store_attachment,
)
from cabinet.message_templates import (  # noqa: F401
    save_template, template_of, templates_of,
)
from cabinet.models import Message, Node, User
from cabinet.workflow import record_history

#: messages of a conversation per page (newest first)
PAGE_SIZE = 50
EMPTY = N_("Écrivez un message ou joignez un fichier.")


# -- where: the record, its cabinet, the side of the user ----------------------------

def messaging_open(request, cabinet):
    """Whether messaging is open to the user in ``cabinet``: always to the cabinet's
    side (its console); to patients and guardians while the module is on (K2)."""
    return modules.cabinet_side(request, cabinet) or modules.enabled(cabinet, "messaging")


def conversation_of(request, context):
    """(patient, cabinet) of the conversation ``context`` lies in, or 404 (403 where
    the record's portal is closed: cabinet.modules)."""
    patient = patient_of(context) if hasattr(context, "lineage") else None
    cabinet = cabinet_of(patient) if patient is not None else None
    if patient is None or cabinet is None:
        raise errors.not_found(N_("Il n'y a pas de messagerie ici."))
    modules.require(request, cabinet, "messaging", patient=patient)
    if context is not patient and not request.has_permission(context.view_permission,
                                                             context):
        # reached through an item of the record the user may not see (a document not
        # shared with her): no answer tells that item exists
        raise errors.forbidden()
    return patient, cabinet


def side_of(request, patient):
    """``cabinet`` or ``patient``: the side the user writes as on ``patient``; None
    when they may not write."""
    if request.has_permission("message:reply", patient):
        return "cabinet"
    if request.has_permission("message:send", patient):
        return "patient"
    return None


def other(side):
    return "patient" if side == "cabinet" else "cabinet"


# -- writing and reading a conversation ----------------------------------------------------

def post_message(request, patient, cabinet, side, entry):
    """A new message of ``side`` from ``entry`` (Input: text, file, template)."""
    text = clean_text(entry.fields.get("text"))
    template = None
    raw_template = entry.fields.get("template")
    if raw_template not in (None, ""):
        if side != "cabinet":
            raise _refuse(422, N_("Seul le cabinet utilise des modèles de réponse."),
                          field="template")
        template = template_of(request.dbsession, cabinet, raw_template)
        text = text or template.text
    if not text and entry.data is None and (template is None or not template.blob_sha256):
        raise _refuse(422, EMPTY, field="text")
    user = request.identity
    message = Message(patient_id=patient.id, cabinet_id=cabinet.id, side=side, text=text,
                      author_id=user.id, author_name=user.fullname or user.login,
                      created=request.registry.getUtility(IClock).now(),
                      content_type="", file_name="")
    if entry.data is not None:
        store_attachment(request, message, entry.data, entry.file_name)
    elif template is not None and template.blob_sha256:
        copy_attachment(template, message)
    permission = "message:reply" if side == "cabinet" else "message:send"
    grant = request.has_permission(permission, patient)
    delegation = getattr(grant, "delegation", None)
    if delegation is not None:
        message.acting_for_id = delegation.professional.user_id
    request.dbsession.add(message)
    request.dbsession.flush()
    if side == "cabinet":      # answering: the patient's messages have been read
        mark_read(request, patient, "cabinet")
    record_history(request, patient, "message", grant=grant,
                   details={"message": message.id, "side": side,
                            "attachment": bool(message.blob_sha256)})
    from cabinet.message_mail import notify
    notify(request, patient, cabinet, message)
    return message


def mark_read(request, patient, reader_side):
    """The other side's messages of ``patient`` are read by ``reader_side`` now."""
    result = request.dbsession.execute(
        update(Message).where(Message.patient_id == patient.id,
                              Message.side == other(reader_side),
                              Message.read_at.is_(None))
        .values(read_at=request.registry.getUtility(IClock).now())
        .execution_options(synchronize_session=False))
    return result.rowcount


def message_of(session, patient, raw):
    """The message ``raw`` (its id, from the URL) of ``patient``'s conversation, or
    404: another record's message is as absent as a missing one."""
    if not str(raw).isdigit() or int(raw) >= 2**31:
        raise errors.not_found(N_("Ce message n'existe pas."))
    message = session.scalar(select(Message).where(Message.id == int(raw),
                                                    Message.patient_id == patient.id))
    if message is None:
        raise errors.not_found(N_("Ce message n'existe pas."))
    return message


def messages_page(session, patient, b_start=0, b_size=PAGE_SIZE):
    """(messages newest first, total) of a conversation."""
    rows = list(session.scalars(select(Message).where(Message.patient_id == patient.id)
                                .order_by(Message.id.desc())
                                .offset(b_start).limit(b_size)))
    if b_start == 0 and len(rows) < b_size:
        return rows, len(rows)
    return rows, session.scalar(select(func.count(Message.id))
                                .where(Message.patient_id == patient.id))


def unread_count(session, patient, reader_side):
    return session.scalar(select(func.count(Message.id)).where(
        Message.patient_id == patient.id, Message.side == other(reader_side),
        Message.read_at.is_(None)))


def cabinet_unread(session, cabinet):
    """The patients' messages the cabinet has not read."""
    return session.scalar(select(func.count(Message.id)).where(
        Message.cabinet_id == cabinet.id, Message.side == "patient",
        Message.read_at.is_(None)))


def authors(session, messages):
    """{user id: fullname} of the professionals secretaries wrote for."""
    ids = {m.acting_for_id for m in messages if m.acting_for_id}
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.fullname)
                                .where(User.id.in_(ids))).all())


def filed_documents(session, messages):
    """{document id: path} of the documents the messages' files were filed into."""
    ids = {m.document_id for m in messages if m.document_id}
    if not ids:
        return {}
    return dict(session.execute(select(Node.id, Node.path).where(Node.id.in_(ids))).all())


# -- listings: the patient's records, the cabinet's conversations ---------------------------

def my_conversations(request):
    """[(record node, unread count, last message or None)] of the records the user
    manages as a patient or guardian (cabinet.appointments.my_records), in order."""
    from cabinet.appointments import my_records
    paths = my_records(request)
    if not paths:
        return []
    session = request.dbsession
    records = list(session.scalars(select(Node).where(Node.path.in_(paths))
                                   .order_by(Node.path)))
    ids = [r.id for r in records]
    unread = dict(session.execute(
        select(Message.patient_id, func.count(Message.id))
        .where(Message.patient_id.in_(ids), Message.side == "cabinet",
               Message.read_at.is_(None)).group_by(Message.patient_id)).all())
    last_ids = select(func.max(Message.id)).where(Message.patient_id.in_(ids)) \
        .group_by(Message.patient_id)
    last = {m.patient_id: m for m in session.scalars(
        select(Message).where(Message.id.in_(last_ids)))}
    out = []
    for record in records:
        cabinet = cabinet_of(record)
        if cabinet is not None and modules.allows(request, cabinet, "messaging",
                                                  patient=record):
            out.append((record, unread.get(record.id, 0), last.get(record.id)))
    return out


def cabinet_conversations(session, cabinet, only_unread=True, b_start=0, b_size=50):
    """(rows, total): the cabinet's conversations, the one with the newest message
    first (only those with unread patient messages by default). Each row: patient
    id, path and title, unread count, and the last message."""
    unread = func.sum(case((and_(Message.side == "patient", Message.read_at.is_(None)),
                            1), else_=0))
    conditions = [Message.cabinet_id == cabinet.id]
    if only_unread:
        conditions += [Message.side == "patient", Message.read_at.is_(None)]
    grouped = (select(Message.patient_id, func.max(Message.id).label("last_id"))
               .where(*conditions).group_by(Message.patient_id))
    total = session.scalar(select(func.count()).select_from(grouped.subquery()))
    page = session.execute(grouped.order_by(func.max(Message.id).desc())
                           .offset(b_start).limit(b_size)).all()
    ids = [row.patient_id for row in page]
    if not ids:
        return [], total
    counts = dict(session.execute(select(Message.patient_id, unread)
                                  .where(Message.patient_id.in_(ids))
                                  .group_by(Message.patient_id)).all())
    lasts = {m.id: m for m in session.scalars(
        select(Message).where(Message.id.in_([row.last_id for row in page])))}
    nodes = {n.id: n for n in session.execute(
        select(Node.id, Node.path, Node.title).where(Node.id.in_(ids))).all()}
    rows = [Conversation(nodes[row.patient_id].path, nodes[row.patient_id].title,
                         counts.get(row.patient_id, 0), lasts[row.last_id])
            for row in page]
    return rows, total


@dataclass
class Conversation:
    path: str
    title: str
    unread: int
    last: Message


# -- filing a patient's attachment into their documents ------------------------------------

def file_attachment(request, patient, cabinet, message, fields):
    """A Document under ``<patient>/documents`` with the bytes of ``message``'s file
    (a patient's message), through cabinet.documents.create_document."""
    from cabinet.documents import create_document
    if not message.blob_sha256:
        raise errors.not_found(N_("Ce message n'a pas de pièce jointe."))
    if message.side != "patient":
        raise _refuse(422, N_("Seules les pièces jointes du patient sont à classer."))
    if message.document_id is not None:
        raise errors.conflict(N_("Cette pièce jointe est déjà classée dans les documents."))
    folder = patient["documents"]
    if not request.has_permission("document:add", folder):
        raise errors.forbidden(N_("Vous ne pouvez pas ajouter de document à ce dossier."))
    data = request.registry.getUtility(IBlobStorage).read(message.blob_sha256)
    document = create_document(request, folder, cabinet, {
        "title": clean_text(fields.get("title"), "title", 500, TITLE_TOO_LONG),
        "document_type": fields.get("document_type") or "", "needs_signature": False},
        data, message.file_name)
    message.document_id = document.id
    return document
