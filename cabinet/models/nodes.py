"""The content tree: one ``nodes`` table for every resource (Kotti's Node model),
with joined-table subtypes for the types that carry fields of their own.

A node is also the traversal resource: ``__name__``, ``__parent__``, ``__acl__``
and ``__getitem__`` live here; the ACL comes from the node's workflow state.
"""
from datetime import date, datetime

from sqlalchemy import (
    JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship
from zope.interface import implementer

from cabinet import interfaces as i
from .meta import Base, PathString


@implementer(i.INode)
class Node(Base):
    __tablename__ = "nodes"
    __table_args__ = (
        UniqueConstraint("parent_id", "name", name="uq_nodes_parent_id_name"),
        # Listing: prefix range on the materialised path, then type/state/order.
        Index("ix_nodes_path", "path"),
        Index("ix_nodes_type_state_modified", "type", "state", "modified"),
        # (type, path range, state) without reading the table: the capped count of
        # cabinet.search is an index-only range scan per grant (migration 0002).
        Index("ix_nodes_type_path_state", "type", "path", "state"),
        Index("ix_nodes_modified", "modified"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("nodes.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(50))
    path: Mapped[str] = mapped_column(PathString)
    title: Mapped[str] = mapped_column(String(500), default="")
    state: Mapped[str] = mapped_column(String(50))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created: Mapped[datetime] = mapped_column(DateTime)
    modified: Mapped[datetime] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"polymorphic_on": "type", "polymorphic_identity": "node",
                       "with_polymorphic": "*"}

    #: JSON ``@type``; set by each subtype.
    portal_type = "Node"
    #: name of the workflow in workflows/ that gives this type its states and ACL.
    workflow_name = "folder"
    #: prefix of this type's permissions (``document`` -> ``document:view``).
    permission_prefix = "folder"
    #: folders created with a node of this type: name -> portal_type they contain.
    subfolders: dict[str, str] = {}
    #: fields (beyond title) that the JSON API reads and writes.
    fields: tuple[str, ...] = ()
    #: bound at start-up to the loaded workflow definitions (cabinet.workflow).
    workflows = None

    # -- traversal -----------------------------------------------------------------

    @property
    def __name__(self):
        return self.name

    @property
    def __parent__(self):
        parent = self.__dict__.get("_traversal_parent")
        if parent is None and self.parent_id is not None:
            # from the identity map when loaded (no SQL); not a relationship(): the ORM
            # sets up a relationship's loader for every class of every query's result,
            # ~5% of the document page
            parent = object_session(self).get(Node, self.parent_id)
            self.__dict__["_traversal_parent"] = parent
        return parent

    @__parent__.setter
    def __parent__(self, value):
        self.__dict__["_traversal_parent"] = value

    def __getitem__(self, name):
        if not name or name.startswith("@"):
            raise KeyError(name)
        preloaded = self.__dict__.get("_preloaded")
        if preloaded is not None:
            path = f"{self.path}{name}/"
            child = preloaded.get(path)
            if child is not None:
                child.__parent__ = self
                return child
            if path in preloaded.asked:
                # the lineage query looked for it (cabinet.resources): no such child
                raise KeyError(name)
        child = object_session(self).scalar(
            select(Node).where(Node.parent_id == self.id, Node.name == name))
        if child is None:
            raise KeyError(name)
        child.__parent__ = self
        return child

    @property
    def __acl__(self):
        return self.workflows.acl(self)

    @property
    def view_permission(self):
        return f"{self.permission_prefix}:view"

    def lineage(self):
        node = self
        while node is not None:
            yield node
            node = node.__parent__

    def __repr__(self):
        return f"<{type(self).__name__} {self.path}>"


@implementer(i.ISite)
class Site(Node):
    __mapper_args__ = {"polymorphic_identity": "site"}
    portal_type = "Site"
    workflow_name = "site"
    permission_prefix = "site"
    subfolders = {"cabinets": "Cabinet", "professionals": "Professional",
                  "spaces": "Space"}


@implementer(i.IFolder)
class Folder(Node):
    __mapper_args__ = {"polymorphic_identity": "folder"}
    portal_type = "Folder"
    workflow_name = "folder"
    permission_prefix = "folder"

    @property
    def addable_type(self):
        parent = self.__parent__
        return parent.subfolders.get(self.name) if parent is not None else None


@implementer(i.ICabinet)
class Cabinet(Node):
    __tablename__ = "cabinets"
    id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"),
                                    primary_key=True)
    address: Mapped[str] = mapped_column(String(500), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    #: guardians of minors see the minors' documents (A3; a patient may override)
    minors_access_documents: Mapped[bool] = mapped_column(Boolean, default=False)
    #: guardians of minors fill and sign the minors' questionnaires (Q4, issue #5)
    minors_access_questionnaires: Mapped[bool] = mapped_column(Boolean, default=False)
    #: K2 module switches (issue #10, migration 0018): read them through
    #: cabinet.modules, never directly (None: every module on, the defaults)
    modules: Mapped[dict | None] = mapped_column(JSON)
    #: K1: ids of the cabinet's practitioners marked inactive (cabinet.modules)
    inactive_practitioners: Mapped[list | None] = mapped_column(JSON)

    __mapper_args__ = {"polymorphic_identity": "cabinet"}
    portal_type = "Cabinet"
    workflow_name = "cabinet"
    permission_prefix = "cabinet"
    subfolders = {"patients": "Patient",
                  "questionnaire-templates": "QuestionnaireTemplate"}
    fields = ("address", "phone", "email", "minors_access_documents",
              "minors_access_questionnaires")


@implementer(i.IPatient)
class Patient(Node):
    __tablename__ = "patients"
    id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"),
                                    primary_key=True)
    first_name: Mapped[str] = mapped_column(String(200), default="")
    last_name: Mapped[str] = mapped_column(String(200), default="")
    birth_date: Mapped[date | None] = mapped_column(Date, index=True)
    phone: Mapped[str] = mapped_column(String(32), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    #: postal address (issue #9, P4; migration 0018)
    address: Mapped[str] = mapped_column(String(500), default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # A3: the guardians of the cabinet directory (parent 1, parent 2, financial
    # guarantor), who log in with phone + names + birth date (cabinet.patient_login)
    parent1_first_name: Mapped[str] = mapped_column(String(200), default="")
    parent1_last_name: Mapped[str] = mapped_column(String(200), default="")
    parent1_birth_date: Mapped[date | None] = mapped_column(Date, index=True)
    parent1_phone: Mapped[str] = mapped_column(String(32), default="")
    parent2_first_name: Mapped[str] = mapped_column(String(200), default="")
    parent2_last_name: Mapped[str] = mapped_column(String(200), default="")
    parent2_birth_date: Mapped[date | None] = mapped_column(Date, index=True)
    parent2_phone: Mapped[str] = mapped_column(String(32), default="")
    guarantor_first_name: Mapped[str] = mapped_column(String(200), default="")
    guarantor_last_name: Mapped[str] = mapped_column(String(200), default="")
    guarantor_birth_date: Mapped[date | None] = mapped_column(Date, index=True)
    guarantor_phone: Mapped[str] = mapped_column(String(32), default="")
    #: minors' access for documents: "" follows the cabinet, "on" / "off" override it
    minors_access: Mapped[str] = mapped_column(String(8), default="")
    #: the same for questionnaires (issue #5, migration 0012: cabinet.questionnaire_access)
    minors_access_questionnaires: Mapped[str] = mapped_column(String(8), default="")

    __mapper_args__ = {"polymorphic_identity": "patient"}
    portal_type = "Patient"
    workflow_name = "patient"
    permission_prefix = "patient"
    subfolders = {"documents": "Document", "questionnaires": "QuestionnaireResponse",
                  "appointments": "Appointment", "payments": "CareItem",
                  "imaging": "Image"}
    fields = ("first_name", "last_name", "birth_date", "phone", "email", "address",
              "parent1_first_name", "parent1_last_name", "parent1_birth_date",
              "parent1_phone", "parent2_first_name", "parent2_last_name",
              "parent2_birth_date", "parent2_phone", "guarantor_first_name",
              "guarantor_last_name", "guarantor_birth_date", "guarantor_phone",
              "minors_access", "minors_access_questionnaires")


@implementer(i.IDocument)
class Document(Node):
    __tablename__ = "documents"
    id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"),
                                    primary_key=True)
    description: Mapped[str] = mapped_column(String(2000), default="")
    needs_signature: Mapped[bool] = mapped_column(Boolean, default=False)
    #: the file (issue #4, migration 0008): SHA-256 of its bytes in the blob storage
    #: (cabinet.blobs), size, type sniffed from the content, the uploader's file name
    blob_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    size: Mapped[int | None] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(100), default="")
    file_name: Mapped[str] = mapped_column(String(255), default="")
    document_type_id: Mapped[int | None] = mapped_column(
        ForeignKey("document_types.id", ondelete="SET NULL"), index=True)
    #: sharing overrides of this document (None: as the patient / the type says);
    #: cabinet.document_sharing turns them into local roles
    share_patient: Mapped[bool | None] = mapped_column(Boolean)
    share_guardian: Mapped[bool | None] = mapped_column(Boolean)
    share_correspondent: Mapped[bool | None] = mapped_column(Boolean)

    __mapper_args__ = {"polymorphic_identity": "document"}
    portal_type = "Document"
    workflow_name = "document"
    permission_prefix = "document"
    fields = ("description", "needs_signature")


@implementer(i.IQuestionnaireTemplate)
class QuestionnaireTemplate(Node):
    """A cabinet's questionnaire (Q1). Its questions live in versions
    (cabinet.models.questionnaires.TemplateVersion): editing a template that a
    response already uses adds a version, and responses keep theirs."""
    __tablename__ = "questionnaire_templates"
    id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"),
                                    primary_key=True)
    description: Mapped[str] = mapped_column(String(2000), default="")
    #: order of the templates in the cabinet's list
    position: Mapped[int] = mapped_column(Integer, default=0)
    #: number of the version new responses are sent with
    current_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"polymorphic_identity": "questionnaire_template"}
    portal_type = "QuestionnaireTemplate"
    workflow_name = "questionnaire_template"
    permission_prefix = "questionnaire_template"
    fields = ("description", "position")


@implementer(i.IQuestionnaireResponse)
class QuestionnaireResponse(Node):
    __tablename__ = "questionnaire_responses"
    id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"),
                                    primary_key=True)
    #: the answers, question id -> value; saved as a draft until ``fill``
    answers: Mapped[dict | None] = mapped_column(JSON)
    #: the template and the exact version sent (issue #5, migration 0010)
    template_id: Mapped[int | None] = mapped_column(
        ForeignKey("questionnaire_templates.id", ondelete="SET NULL"), index=True)
    template_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("questionnaire_template_versions.id", ondelete="SET NULL"),
        index=True)
    #: the practitioner it is sent for (console filter, auto-send)
    practitioner_id: Mapped[int | None] = mapped_column(
        ForeignKey("professionals.id", ondelete="SET NULL"), index=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    draft_saved_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: the language it was started in (fr, de, en), recorded at the first save: its
    #: form keeps it for those who fill it (issue #10, A4; migration 0022)
    language: Mapped[str | None] = mapped_column(String(5))

    __mapper_args__ = {"polymorphic_identity": "questionnaire"}
    portal_type = "QuestionnaireResponse"
    workflow_name = "questionnaire"
    permission_prefix = "questionnaire"
    fields = ("answers",)


@implementer(i.IAppointment)
class Appointment(Node):
    """An appointment (issue #5), a node under its patient record
    (``<patient>/appointments/<a>``) so that its ACL comes from the record's local
    roles. ``start`` and ``end`` are the cabinet's wall-clock time (cabinet.timezone,
    naive), as the agenda shows them; cabinet.appointments holds the rules."""
    __tablename__ = "appointments"
    __table_args__ = (
        # a cabinet's agenda of a day, a patient's coming appointments, and a
        # practitioner's appointments (double booking): ranges on the start
        Index("ix_appointments_cabinet_id_starts_at", "cabinet_id", "starts_at"),
        Index("ix_appointments_patient_id_starts_at", "patient_id", "starts_at"),
        Index("ix_appointments_practitioner_id_starts_at", "practitioner_id",
              "starts_at"),
    )
    id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"),
                                    primary_key=True)
    cabinet_id: Mapped[int | None] = mapped_column(
        ForeignKey("cabinets.id", ondelete="CASCADE"))
    patient_id: Mapped[int | None] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"))
    practitioner_id: Mapped[int | None] = mapped_column(
        ForeignKey("professionals.id", ondelete="SET NULL"))
    appointment_type_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointment_types.id", ondelete="SET NULL"), index=True)
    #: set by cabinet.appointments (nullable only so that a bare node can be added
    #: first and filled in next, as the generic content API does)
    start: Mapped[datetime | None] = mapped_column("starts_at", DateTime)
    end: Mapped[datetime | None] = mapped_column("ends_at", DateTime)
    place: Mapped[str] = mapped_column(String(500), default="")
    cancel_reason: Mapped[str] = mapped_column(String(2000), default="")

    __mapper_args__ = {"polymorphic_identity": "appointment"}
    portal_type = "Appointment"
    workflow_name = "appointment"
    permission_prefix = "appointment"
    #: start, end, practitioner and type are checked together (cabinet.appointments)
    fields = ("place",)
    #: the title is made from the type, date and practitioner when none is given
    title_required = False


@implementer(i.IProfessional)
class Professional(Node):
    __tablename__ = "professionals"
    id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"),
                                    primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True)
    speciality: Mapped[str] = mapped_column(String(200), default="")

    __mapper_args__ = {"polymorphic_identity": "professional"}
    portal_type = "Professional"
    workflow_name = "professional"
    permission_prefix = "professional"
    subfolders = {"delegations": "Delegation"}
    fields = ("speciality",)


@implementer(i.IDelegation)
class Delegation(Node):
    """A secretary (``delegate``) acting for a professional between two dates."""
    __tablename__ = "delegations"
    __table_args__ = (Index("ix_delegations_delegate_active", "delegate_id", "start_date"),)
    id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"),
                                    primary_key=True)
    professional_id: Mapped[int] = mapped_column(
        ForeignKey("professionals.id", ondelete="CASCADE"), index=True)
    delegate_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    can_sign: Mapped[bool] = mapped_column(Boolean, default=False)
    #: a group of secretaries: every member, present or future, acts for the
    #: professional (migration 0006; then delegate_id stays empty)
    delegate_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    #: the person named by the delegation (national registry), their work email
    matricule: Mapped[str | None] = mapped_column(String(13), index=True)
    email: Mapped[str] = mapped_column(String(254), default="")
    delegate_name: Mapped[str] = mapped_column(String(200), default="")
    #: invitation link: SHA-256 of the single-use token and its expiry
    invitation_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    invitation_expires: Mapped[datetime | None] = mapped_column(DateTime)

    professional: Mapped[Professional] = relationship(
        foreign_keys=[professional_id], lazy="joined")

    __mapper_args__ = {"polymorphic_identity": "delegation"}
    portal_type = "Delegation"
    workflow_name = "delegation"
    permission_prefix = "delegation"
    fields = ("start_date", "end_date", "can_sign", "email", "delegate_name")

    def in_effect(self, today):
        """Grants roles only while active and today lies within its dates."""
        return (self.state == "active" and self.start_date <= today
                and (self.end_date is None or today <= self.end_date))


@implementer(i.ISpace)
class Space(Node):
    __tablename__ = "spaces"
    id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"),
                                    primary_key=True)
    company_number: Mapped[str] = mapped_column(String(50), default="")

    __mapper_args__ = {"polymorphic_identity": "space"}
    portal_type = "Space"
    workflow_name = "space"
    permission_prefix = "space"
    subfolders = {"members": "Membership", "mandates": "Mandate"}
    fields = ("company_number",)


@implementer(i.IMembership)
class Membership(Node):
    __tablename__ = "memberships"
    id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"),
                                    primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    certificate: Mapped[str] = mapped_column(String(20), default="", index=True)
    role: Mapped[str] = mapped_column(String(50), default="space_member")

    __mapper_args__ = {"polymorphic_identity": "membership"}
    portal_type = "Membership"
    workflow_name = "membership"
    permission_prefix = "membership"
    fields = ("certificate", "role")


@implementer(i.IMandate)
class Mandate(Node):
    __tablename__ = "mandates"
    id: Mapped[int] = mapped_column(ForeignKey("nodes.id", ondelete="CASCADE"),
                                    primary_key=True)
    provider_id: Mapped[int | None] = mapped_column(
        ForeignKey("spaces.id", ondelete="SET NULL"), index=True)
    activation_deadline: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    #: what the provider may do for the mandant (cabinet.mandates.DOMAINS; migration 0005)
    domain: Mapped[str] = mapped_column(String(50), default="")
    #: SHA-256 of the activation code, which is shown once and never stored
    code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)

    __mapper_args__ = {"polymorphic_identity": "mandate"}
    portal_type = "Mandate"
    workflow_name = "mandate"
    permission_prefix = "mandate"
    fields = ("domain", "activation_deadline", "end_date")

    def in_effect(self, today):
        """Grants the mandatary role only while active and not past its end date."""
        return (self.state == "active" and self.provider_id is not None
                and self.end_date is not None and today <= self.end_date)


#: portal_type -> class, for the JSON API and the search filter.
CONTENT_TYPES = {cls.portal_type: cls for cls in (
    Site, Folder, Cabinet, Patient, Document, QuestionnaireTemplate,
    QuestionnaireResponse, Appointment, Professional, Delegation, Space, Membership,
    Mandate)}

#: the types a user searches and lists (folders and the site are structure).
SEARCHABLE_TYPES = tuple(name for name in CONTENT_TYPES if name not in ("Site", "Folder"))
