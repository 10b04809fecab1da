"""Who a document is shared with (C2), as local roles the security policy evaluates.

The rules, for each audience (the record's patient, guardians, correspondents):

1. the document's own override (``Document.share_<audience>``) if set, else
2. the patient record's override (``PatientSharing.share_<audience>``) if set, else
3. the document type's default (``DocumentType.share_<audience>``); a document
   without a type is shared with all three (as before types existed);
4. the cabinet switch "share only signed documents"
   (``CabinetDocumentSettings.only_signed``) overrides all of that: then only a
   document that is signed, or sent to be signed, is shared;
5. the patient's GDPR opt-out (``PatientSharing.opt_out``) hides every document of
   the record from everyone outside the cabinet.

How it becomes security: the patient, guardians and correspondents hold their role
(``patient``, ``guardian``, ``correspondent``) on the patient record, which the
document workflow no longer honours on documents. Instead, the decision lands on the
document itself, as one local role row per audience it is shared with:
``(document, "role:patient", "shared_patient")`` means "whoever holds ``patient``
here holds ``shared_patient`` on this document" (cabinet.roles.DERIVED_ROLES). The
document workflow grants ``document:view`` (and ``document:sign`` while ``sent``) to
the ``shared_*`` roles. cabinet.security.derived_roles() adds them to the principals
of the per-object check, and cabinet.search.derived_conditions() to the @search SQL
filter as an EXISTS on the document's local roles: no filtering in Python, and the
people themselves can change (a new guardian) without anything being recomputed.

The rows are recomputed (recompute()) whenever an input changes: an ``after_flush``
session listener sees new documents and changed documents, types, patient settings
and cabinet settings (whichever code changed them, the API or a script), and an
IAfterTransition subscriber sees state changes, which the workflow engine writes
with a plain UPDATE. Only documents inside a patient record (…/patients/<p>/
documents/<d>) are ever shared.
"""
from sqlalchemy import and_, delete, event, insert, inspect, select
from zope.sqlalchemy import mark_changed

from cabinet.interfaces import IAfterTransition
from cabinet.models import (
    CabinetDocumentSettings, Document, DocumentType, LocalRole, Node, Patient,
    PatientSharing,
)
from cabinet.roles import DERIVED_ROLES
from cabinet.security import forget_local_roles

AUDIENCES = ("patient", "guardian", "correspondent")
#: audience -> the role given on shared documents
SHARED_ROLE = {source: role for role, source in DERIVED_ROLES.items()}
UNTYPED_DEFAULT = {"patient": True, "guardian": True, "correspondent": True}


def decide(document, doc_type=None, patient=None, only_signed=False):
    """The audiences ``document`` is shared with. Arguments are objects or rows with
    the ``share_*`` attributes (``patient`` also ``opt_out``), or None."""
    if patient is not None and patient.opt_out:
        return set()
    if only_signed and not (document.state == "signed"
                            or (document.state == "sent" and document.needs_signature)):
        return set()
    shared = set()
    for audience in AUDIENCES:
        value = getattr(document, f"share_{audience}")
        if value is None and patient is not None:
            value = getattr(patient, f"share_{audience}")
        if value is None:
            value = (getattr(doc_type, f"share_{audience}") if doc_type is not None
                     else UNTYPED_DEFAULT[audience])
        if value:
            shared.add(audience)
    return shared


class _Row:
    def __init__(self, **kw):
        self.__dict__.update(kw)


def _inputs_statement(document_ids):
    nodes, folder, patient_node, patients_folder = (Node.__table__, Node.__table__.alias(),
                                                    Node.__table__.alias(),
                                                    Node.__table__.alias())
    d, t = Document.__table__, DocumentType.__table__
    ps, cs = PatientSharing.__table__, CabinetDocumentSettings.__table__
    return (select(d.c.id, nodes.c.state, d.c.needs_signature, d.c.share_patient,
                   d.c.share_guardian, d.c.share_correspondent, d.c.document_type_id,
                   t.c.share_patient.label("t_patient"),
                   t.c.share_guardian.label("t_guardian"),
                   t.c.share_correspondent.label("t_correspondent"),
                   ps.c.patient_id.label("ps_id"), ps.c.opt_out,
                   ps.c.share_patient.label("p_patient"),
                   ps.c.share_guardian.label("p_guardian"),
                   ps.c.share_correspondent.label("p_correspondent"),
                   cs.c.only_signed)
            .select_from(d)
            .join(nodes, nodes.c.id == d.c.id)
            .join(folder, folder.c.id == nodes.c.parent_id)
            .join(patient_node, and_(patient_node.c.id == folder.c.parent_id,
                                     patient_node.c.type == "patient",
                                     folder.c.name == "documents"))
            .join(patients_folder, patients_folder.c.id == patient_node.c.parent_id)
            .outerjoin(t, t.c.id == d.c.document_type_id)
            .outerjoin(ps, ps.c.patient_id == patient_node.c.id)
            .outerjoin(cs, cs.c.cabinet_id == patients_folder.c.parent_id)
            .where(d.c.id.in_(document_ids)))


def recompute(session, document_ids):
    """Rewrite the sharing rows of the documents ``document_ids`` (Core statements on
    the session's connection: usable inside a flush)."""
    document_ids = sorted(set(document_ids))
    if not document_ids:
        return
    connection = session.connection()
    wanted = []
    for chunk in range(0, len(document_ids), 500):
        ids = document_ids[chunk:chunk + 500]
        for row in connection.execute(_inputs_statement(ids)):
            doc_type = (_Row(share_patient=row.t_patient, share_guardian=row.t_guardian,
                             share_correspondent=row.t_correspondent)
                        if row.document_type_id is not None and row.t_patient is not None
                        else None)
            patient = (_Row(opt_out=row.opt_out, share_patient=row.p_patient,
                            share_guardian=row.p_guardian,
                            share_correspondent=row.p_correspondent)
                       if row.ps_id is not None else None)
            for audience in sorted(decide(row, doc_type, patient, bool(row.only_signed))):
                wanted.append({"node_id": row.id, "principal": f"role:{audience}",
                               "role": SHARED_ROLE[audience]})
        connection.execute(delete(LocalRole.__table__).where(
            LocalRole.node_id.in_(ids), LocalRole.principal.like("role:%"),
            LocalRole.role.in_(sorted(DERIVED_ROLES))))
    if wanted:
        connection.execute(_insert_ignoring_duplicates(connection), wanted)
    tm = session.info.get("tm")
    if tm is not None:      # Core statements: tell the transaction there is work
        mark_changed(session, tm)
    forget_local_roles(session.info.get("request"), document_ids)


def _insert_ignoring_duplicates(connection):
    """INSERT of sharing rows that a concurrent recomputation may have written too."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:
        return insert(LocalRole.__table__)
    return dialect_insert(LocalRole.__table__).on_conflict_do_nothing()


def shared_with(session, document_id):
    """The audiences a document is shared with now (its rows)."""
    return {principal[5:] for principal, in session.execute(
        select(LocalRole.principal).where(LocalRole.node_id == document_id,
                                          LocalRole.principal.like("role:%")))}


def documents_below(session, path):
    d = Document.__table__
    nodes = Node.__table__
    return list(session.connection().scalars(
        select(d.c.id).join(nodes, nodes.c.id == d.c.id)
        .where(nodes.c.path >= path, nodes.c.path < path[:-1] + "0")))


# -- keeping the rows in step ----------------------------------------------------------------

_WATCHED = {
    Document: ("state", "needs_signature", "share_patient", "share_guardian",
               "share_correspondent", "document_type_id", "parent_id"),
    DocumentType: ("share_patient", "share_guardian", "share_correspondent"),
    PatientSharing: ("share_patient", "share_guardian", "share_correspondent", "opt_out"),
    CabinetDocumentSettings: ("only_signed",),
}


def _changed(obj):
    for cls, attributes in _WATCHED.items():
        if isinstance(obj, cls):
            state = inspect(obj)
            return any(state.attrs[name].history.has_changes() for name in attributes)
    return False


def _node_paths(session, ids):
    if not ids:
        return []
    nodes = Node.__table__
    return list(session.connection().scalars(select(nodes.c.path)
                                             .where(nodes.c.id.in_(sorted(ids)))))


#: what a flushed object says must be recomputed: (bucket, attribute holding its id)
_BUCKETS = {Document: ("documents", "id"), DocumentType: ("types", "id"),
            PatientSharing: ("patients", "patient_id"),
            CabinetDocumentSettings: ("cabinets", "cabinet_id")}
#: the buckets that an added and a deleted object count in (a changed one: all of
#: them, when a watched attribute changed); a new type has no documents yet, and a
#: deleted document or type takes its rows with it
_ON_NEW = frozenset({"documents", "patients", "cabinets"})
_ON_DELETE = frozenset({"patients", "cabinets"})


def _bucket(obj):
    for cls, (bucket, attribute) in _BUCKETS.items():
        if isinstance(obj, cls):
            return bucket, getattr(obj, attribute)
    return None, None


def after_flush(session, _context):
    found = {"documents": set(), "patients": set(), "cabinets": set(), "types": set()}
    for objects, buckets in ((session.new, _ON_NEW), (session.dirty, None),
                             (session.deleted, _ON_DELETE)):
        for obj in objects:
            bucket, key = _bucket(obj)
            if bucket is None or (buckets is not None and bucket not in buckets):
                continue
            if buckets is None and not _changed(obj):
                continue
            found[bucket].add(key)
    documents, patients, cabinets, types = (
        found["documents"], found["patients"], found["cabinets"], found["types"])
    if not (documents or patients or cabinets or types):
        return
    for path in _node_paths(session, patients | cabinets):
        documents.update(documents_below(session, path))
    if types:
        documents.update(session.connection().scalars(
            select(Document.__table__.c.id)
            .where(Document.__table__.c.document_type_id.in_(sorted(types)))))
    recompute(session, documents)


def after_transition(event):
    """A state change (a plain UPDATE of the engine) may change the sharing."""
    if isinstance(event.object, Document):
        recompute(event.request.dbsession, [event.object.id])


# -- settings, as the views change them ---------------------------------------------------

def patient_settings(session, patient, create=False):
    settings = session.get(PatientSharing, patient.id)
    if settings is None and create:
        settings = PatientSharing(patient_id=patient.id, opt_out=False)
        session.add(settings)
    return settings


def cabinet_settings(session, cabinet, create=False):
    settings = session.get(CabinetDocumentSettings, cabinet.id)
    if settings is None and create:
        settings = CabinetDocumentSettings(cabinet_id=cabinet.id, only_signed=False)
        session.add(settings)
    return settings


def cabinet_of(node):
    """The cabinet a node (a patient, a document) belongs to."""
    for ancestor in node.lineage():
        if ancestor.portal_type == "Cabinet":
            return ancestor
    return None


def patient_of(node):
    for ancestor in node.lineage():
        if isinstance(ancestor, Patient):
            return ancestor
    return None


def document_types(session, cabinet):
    return list(session.scalars(select(DocumentType).where(
        DocumentType.cabinet_id == cabinet.id).order_by(DocumentType.title)))


def includeme(config):
    factory = config.registry["dbsession_factory"]
    event.listen(factory, "after_flush", after_flush)
    config.add_subscriber(after_transition, IAfterTransition)

