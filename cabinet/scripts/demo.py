"""The site skeleton and the demo data (idempotent)."""
from datetime import date, timedelta
from functools import lru_cache

from sqlalchemy import select

from cabinet.content import add_node
from cabinet.interfaces import IClock
from cabinet.models import LocalRole, Node, User
from cabinet.passwords import hash_password
from cabinet.models.terms import TermsVersion
from cabinet.terms import accept_for_all_users


def ensure_site(request):
    """The root and its top folders; nothing happens if they exist."""
    session = request.dbsession
    root = session.scalar(select(Node).where(Node.parent_id.is_(None)))
    if root is None:
        root = add_node(session, request.registry, None, "Site", name="", title="Cabinet")
    return root


@lru_cache(maxsize=None)
def _demo_hash(password):
    """Demo accounts share one password: hash it once (argon2 is slow by design)."""
    return hash_password(password)


def _user(session, login, fullname, password="demo", **fields):
    user = session.scalar(select(User).where(User.login == login))
    if user is None:
        user = User(login=login, fullname=fullname, password_hash=_demo_hash(password),
                    **fields)
        session.add(user)
        session.flush()
    return user


def _child(request, parent, portal_type, name, title, **fields):
    existing = request.dbsession.scalar(
        select(Node).where(Node.parent_id == parent.id, Node.name == name))
    if existing is not None:
        existing.__parent__ = parent
        return existing
    return add_node(request.dbsession, request.registry, parent, portal_type, name=name,
                    title=title, **fields)


def _grant(session, node, user, role):
    exists = session.scalar(select(LocalRole.id).where(
        LocalRole.node_id == node.id, LocalRole.principal == user.principal,
        LocalRole.role == role))
    if not exists:
        session.add(LocalRole(node_id=node.id, principal=user.principal, role=role))


def _state(request, node, state):
    """Demo content in a given state (set directly: the demo has no history to tell)."""
    node.state = state


#: demo people of the national registry (cabinet/data/registry.csv)
DUPONT_MATRICULE = "1988051704221"
FABER_MATRICULE = "1987031770999"

def _mandates_demo(request, spaces, mandant, today):
    """S4: a provider space (a fiduciary) with its own administrator, holding an
    active mandate of Santé Services for invoicing. Its code was never shown (only a
    hash of a random code is stored): create a new mandate to see one."""
    from cabinet.mandates import code_hash, generate_code
    session = request.dbsession
    fidu_admin = _user(session, "fidu.admin", "Marc Fiduciaire", email="marc@fidu.example")
    fidu_admin.certificate_serial = fidu_admin.certificate_serial or "11112222333344445555"
    fidu = _child(request, spaces, "Space", "fidu-conseil", "Fidu Conseil SA",
                  company_number="B654321")
    _grant(session, fidu, fidu_admin, "space_admin")
    membership = _child(request, fidu["members"], "Membership", "fidu-admin",
                        "Marc Fiduciaire (administrateur)", user_id=fidu_admin.id,
                        certificate="11112222333344445555", role="space_admin")
    _state(request, membership, "active")
    mandate = _child(request, mandant["mandates"], "Mandate", "facturation-fidu",
                     "Facturation — Fidu Conseil SA", provider_id=fidu.id,
                     domain="facturation", activation_deadline=today + timedelta(days=30),
                     end_date=today + timedelta(days=365),
                     code_hash=code_hash(generate_code()))
    _state(request, mandate, "active")


#: issue #4 (C1, C2): the demo's document types, with whom they are shared by default
#: (patient, guardians, correspondents), and the type and file of each demo document
DEMO_DOCUMENT_TYPES = (
    ("consentement", "Consentement", True, True, True),
    ("devis", "Devis", True, True, False),
    ("radiographie", "Radiographie", True, True, True),
    ("ordonnance", "Ordonnance", True, True, False),
)
DEMO_DOCUMENT_FILES = {"consentement": ("consentement", "pdf"), "devis": ("devis", "pdf"),
                       "radio": ("radiographie", "pdf"),   # a signed report
                       "ordonnance": ("ordonnance", "pdf")}


def _documents_demo(request, cabinet):
    """Document types of the cabinet, and real bytes (a small PDF or PNG made in code)
    in the blob storage for every demo document that has no file yet."""
    from cabinet.blobs import FileBlobStorage
    from cabinet.interfaces import IBlobStorage
    from cabinet.models import Document, DocumentType
    from cabinet.sample_files import make_pdf, make_png
    session = request.dbsession
    types = {}
    for name, title, patient, guardian, correspondent in DEMO_DOCUMENT_TYPES:
        doc_type = session.scalar(select(DocumentType).where(
            DocumentType.cabinet_id == cabinet.id, DocumentType.name == name))
        if doc_type is None:
            doc_type = DocumentType(cabinet_id=cabinet.id, name=name, title=title,
                                    share_patient=patient, share_guardian=guardian,
                                    share_correspondent=correspondent)
            session.add(doc_type)
            session.flush()
        types[name] = doc_type
    storage = request.registry.queryUtility(IBlobStorage)
    documents = list(session.scalars(select(Document).where(
        Document.path.startswith(cabinet.path + "patients/"),
        Document.name.in_(DEMO_DOCUMENT_FILES)).order_by(Document.path)))
    for document in documents:
        type_name, kind = DEMO_DOCUMENT_FILES[document.name]
        if document.document_type_id is None:
            document.document_type_id = types[type_name].id
        if document.blob_sha256 is None and isinstance(storage, FileBlobStorage):
            patient = document.path.split("/")[4]
            if kind == "pdf":
                data = make_pdf(document.title, f"Cabinet dentaire du Parc - {patient}")
                content_type, file_name = "application/pdf", f"{document.name}.pdf"
            else:
                data = make_png()
                content_type, file_name = "image/png", f"{document.name}.png"
            document.blob_sha256 = storage.store(data, request.tm)
            document.size, document.content_type = len(data), content_type
            document.file_name = file_name
            if document.state == "signed":
                _sign_demo_document(request, document, data)
    session.flush()


def _sign_demo_document(request, document, data):
    """A signed demo document gets its evidence and its signed PDF through the real
    signing path (cabinet.signatures), signed by its patient."""
    from cabinet.models import Patient
    from cabinet.signatures import sign_outside_a_request, signature_of
    session = request.dbsession
    session.flush()
    if signature_of(session, document) is not None:
        return
    patient_path = "/".join(document.path.split("/")[:5]) + "/"
    patient = session.scalar(select(Patient).where(Patient.path == patient_path))
    signer = session.get(User, patient.user_id) if patient is not None and \
        patient.user_id is not None else None
    sign_outside_a_request(request, document, signer=signer,
                           signer_name=patient.title if patient is not None else "",
                           data=data)


DEMO_TERMS_VERSION = "2026-01"
DEMO_TERMS_TEXT = """Conditions particulières d'utilisation de Cabinet (démonstration)

1. Cabinet sert à gérer les documents, questionnaires, délégations et mandats d'un cabinet médical.
2. Vous gardez vos identifiants pour vous et agissez uniquement dans le cadre de vos fonctions.
3. Les données des patients sont confidentielles (secret médical, RGPD).

En cliquant sur « J'accepte », vous acceptez ces conditions."""


def _terms(request, root, admin):
    """The demo's terms of use, published by the site administrator and accepted by
    every demo user (every account present when the demo is loaded)."""
    session = request.dbsession
    _grant(session, root, admin, "site_admin")
    terms = session.scalar(select(TermsVersion).where(
        TermsVersion.version == DEMO_TERMS_VERSION))
    now = request.registry.getUtility(IClock).now()
    if terms is None:
        terms = TermsVersion(version=DEMO_TERMS_VERSION, text=DEMO_TERMS_TEXT,
                             published=now, published_by_id=admin.id)
        session.add(terms)
        session.flush()
    accept_for_all_users(session, terms, now)


def _minors_demo(request, patients):
    """A3: Hugo Leroy, a minor whose parent 1 is Léa Leroy (p.leroy); minors' access
    for documents is on for his record, so Léa sees it as his guardian."""
    _child(request, patients, "Patient", "hugo-leroy", "Hugo Leroy", first_name="Hugo",
           last_name="Leroy", birth_date=date(2015, 6, 1), phone="",
           parent1_first_name="Léa", parent1_last_name="Leroy",
           parent1_birth_date=date(1990, 4, 12), parent1_phone="+352621123456",
           minors_access="on")


DEMO_TEMPLATES = [
    ("questionnaire-medical", "Questionnaire médical",
     "À remplir avant votre premier rendez-vous.", [
         {"id": "medicaments", "type": "yes_no", "text": "Prenez-vous des médicaments ?",
          "help": "", "required": True},
         {"id": "lesquels", "type": "long_text", "text": "Lesquels ?",
          "help": "Nom et dosage de chaque médicament.", "required": True,
          "show_if": {"question": "medicaments", "equals": True}},
         {"id": "allergies", "type": "multiple_choice", "text": "Allergies connues",
          "help": "", "required": False,
          "options": ["Pénicilline", "Latex", "Anesthésiques locaux", "Aucune"]},
         {"id": "derniere-visite", "type": "date",
          "text": "Date de votre dernière visite chez un dentiste", "help": "",
          "required": False},
         {"id": "cigarettes", "type": "number", "text": "Cigarettes par jour",
          "help": "", "required": False, "min": 0, "max": 100}]),
    ("satisfaction", "Satisfaction", "Votre avis sur votre dernière visite.", [
        {"id": "note", "type": "scale", "text": "Recommanderiez-vous le cabinet ?",
         "help": "0 : pas du tout, 10 : certainement.", "required": True},
        {"id": "accueil", "type": "single_choice", "text": "Comment jugez-vous l'accueil ?",
         "help": "", "required": True,
         "options": ["Très bon", "Bon", "Moyen", "Mauvais"]},
        {"id": "commentaire", "type": "long_text", "text": "Un commentaire ?", "help": "",
         "required": False}]),
]


def _questionnaire_templates_demo(request, cabinet):
    """Q1: two templates of the cabinet, each with its version 1."""
    from cabinet.questionnaire_templates.versions import (
        current_version, write_first_version,
    )
    for position, (name, title, description, questions) in enumerate(DEMO_TEMPLATES):
        template = _child(request, cabinet["questionnaire-templates"],
                          "QuestionnaireTemplate", name, title, description=description,
                          position=position)
        if current_version(request.dbsession, template) is None:
            write_first_version(request.dbsession, request.registry, template,
                                title=title, description=description,
                                questions=questions)


def _questionnaire_responses_demo(request, cabinet, practitioner):
    """Q2-Q4: Léa Leroy's medical questionnaire (sent, to fill) and her satisfaction
    questionnaire (filled, then validated by the cabinet: hers to sign) answer the
    demo templates' versions (cabinet.questionnaire_responses)."""
    from cabinet.models import QuestionnaireTemplate
    from cabinet.questionnaire_templates import current_version
    session = request.dbsession
    now = request.registry.getUtility(IClock).now()
    folder = cabinet["patients"]["leroy"]["questionnaires"]
    for name, template_name, days, answers in (
            ("anamnese", "questionnaire-medical", 2, None),
            ("satisfaction", "satisfaction", 9, {"note": 9, "accueil": "Très bon",
                                                  "commentaire": "Équipe très accueillante."})):
        response = folder[name]
        template = session.scalar(select(QuestionnaireTemplate).where(
            QuestionnaireTemplate.path == f"{cabinet.path}questionnaire-templates/"
                                          f"{template_name}/"))
        version = current_version(session, template) if template is not None else None
        if version is None or response.template_version_id is not None:
            continue
        response.template_id, response.template_version_id = template.id, version.id
        response.practitioner_id = practitioner.id
        response.sent_at = now - timedelta(days=days)
        if answers is not None:
            response.answers = answers
            response.draft_saved_at = now - timedelta(days=days - 1)


#: issue #5: the demo's appointment types (name, title, minutes) and appointments
#: (patient, name, type, practitioner, days from today, hour, state)
DEMO_APPOINTMENT_TYPES = (("consultation", "Consultation", 30), ("controle", "Contrôle", 15))
DEMO_APPOINTMENTS = (
    ("leroy", "consultation-a-venir", "consultation", "martin", 3, 10, "scheduled"),
    ("leroy", "controle-passe", "controle", "weber", -20, 14, "done"),
    ("leroy", "controle-annule", "controle", "martin", 5, 9, "cancelled"),
    ("hugo-leroy", "controle-hugo", "controle", "weber", 10, 16, "scheduled"),
    ("hugo-leroy", "consultation-hugo-passee", "consultation", "martin", -40, 11, "done"),
)


def _appointments_demo(request, cabinet, professionals, today):
    """Appointment types, a few appointments of Léa Leroy and of Hugo (coming and
    past), and one auto-send rule for the cabinet's first questionnaire template."""
    from datetime import datetime, time
    from cabinet.appointments import Values, apply, make_title
    from cabinet.models import AppointmentType, AutosendRule, QuestionnaireTemplate
    session = request.dbsession
    kinds = {}
    for name, title, minutes in DEMO_APPOINTMENT_TYPES:
        kind = session.scalar(select(AppointmentType).where(
            AppointmentType.cabinet_id == cabinet.id, AppointmentType.name == name))
        if kind is None:
            kind = AppointmentType(cabinet_id=cabinet.id, name=name, title=title,
                                   duration=minutes)
            session.add(kind)
            session.flush()
        kinds[name] = kind
    patients = cabinet["patients"]
    for patient_name, name, kind, pro, days, hour, state in DEMO_APPOINTMENTS:
        patient = patients[patient_name]
        folder = patient["appointments"]
        if session.scalar(select(Node.id).where(Node.parent_id == folder.id,
                                                Node.name == name)):
            continue
        start = datetime.combine(today + timedelta(days=days), time(hour, 0))
        values = Values(kinds[kind], professionals[pro], start,
                        start + timedelta(minutes=kinds[kind].duration))
        node = _child(request, folder, "Appointment", name, make_title(values),
                      place="Cabinet dentaire du Parc, salle 1")
        apply(node, values, cabinet, patient)
        _state(request, node, state)
        if state == "cancelled":
            node.cancel_reason = "Empêchement du patient."
    template = session.scalar(select(QuestionnaireTemplate).where(
        QuestionnaireTemplate.path.startswith(cabinet.path + "questionnaire-templates/"))
        .order_by(QuestionnaireTemplate.position, QuestionnaireTemplate.id))
    if template is not None and session.scalar(select(AutosendRule.id).where(
            AutosendRule.cabinet_id == cabinet.id)) is None:
        session.add(AutosendRule(cabinet_id=cabinet.id, template_id=template.id,
                                 practitioner_id=None,
                                 appointment_type_id=kinds["consultation"].id,
                                 days_before=2,
                                 created=request.registry.getUtility(IClock).now()))
    session.flush()


#: issue #9, P2: care items (patient, name, label, days from today of the care, of
#: the due date, amount due, amount paid): one overdue, one paid, one still to come
DEMO_CARE_ITEMS = (
    ("leroy", "detartrage", "Détartrage", -40, -10, "60.00", "20.00"),     # overdue
    ("leroy", "consultation", "Consultation de contrôle", -20, -5, "45.00", "45.00"),
    ("leroy", "couronne", "Couronne céramique (1re échéance)", -3, 27, "250.00", "0.00"),
    ("hugo-leroy", "bilan-ortho", "Bilan orthodontique", -30, -2, "80.00", "0.00"),
    ("hugo-leroy", "scellement", "Scellement de sillons", -15, 15, "35.00", "35.00"),
)


def _payments_demo(request, cabinet, today):
    """A few care items of Léa Leroy (whose record has her e-mail) and of Hugo, whose
    guardian pays them: the cabinet opens payments to the guardians of minors (K2)."""
    from decimal import Decimal
    from cabinet import modules
    if not modules.option(cabinet, "payments", "minors_access"):
        modules.update(cabinet, {"payments": {"minors_access": True}})
    patients = cabinet["patients"]
    for patient_name, name, title, cared, due, amount_due, paid in DEMO_CARE_ITEMS:
        patient = patients[patient_name]
        if patient_name == "leroy" and not patient.email:
            patient.email = "lea.leroy@example.org"
        _child(request, patient["payments"], "CareItem", name, title,
               patient_id=patient.id, care_date=today + timedelta(days=cared),
               due_date=today + timedelta(days=due), amount_due=Decimal(amount_due),
               amount_paid=Decimal(paid))


def _portal_logins_demo(request, cabinet, user):
    """Léa Leroy's logins to the patient portal over the last two weeks, so that the
    console's statistics (issue #10, K5) have something to draw; once only."""
    from cabinet.models import PortalLogin
    session = request.dbsession
    if session.scalar(select(PortalLogin.id).where(PortalLogin.cabinet_id == cabinet.id)
                      .limit(1)) is not None:
        return
    now = request.registry.getUtility(IClock).now()
    for days_ago, hours_ago in ((1, 2), (2, 5), (2, 9), (5, 1), (9, 4), (13, 7)):
        session.add(PortalLogin(cabinet_id=cabinet.id, user_id=user.id,
                                at=now - timedelta(days=days_ago, hours=hours_ago)))


def load_demo(request):
    session = request.dbsession
    root = ensure_site(request)
    today = request.registry.getUtility(IClock).today()

    admin = _user(session, "admin", "Anne Admin", email="admin@parc.example")
    martin = _user(session, "dr.martin", "Dr Paul Martin", email="martin@parc.example")
    weber = _user(session, "dr.weber", "Dr Eva Weber", email="weber@parc.example")
    dupont = _user(session, "sec.dupont", "Sophie Dupont", email="dupont@parc.example",
                   matricule=DUPONT_MATRICULE)   # as in cabinet/data/registry.csv
    leroy = _user(session, "p.leroy", "Léa Leroy", email="lea.leroy@example.org",
                  phone="+352621123456")
    # A3 (issue #4): the demo's Lucie Leroy became Léa Leroy (a database loaded before)
    leroy.fullname, leroy.email, leroy.phone = \
        "Léa Leroy", "lea.leroy@example.org", "+352621123456"

    cabinets = root["cabinets"]
    professionals = root["professionals"]
    spaces = root["spaces"]
    parc = _child(request, cabinets, "Cabinet", "parc", "Cabinet dentaire du Parc",
                  address="12 rue du Parc, L-1234 Luxembourg", phone="+35222000000",
                  email="contact@parc.example")
    _grant(session, parc, admin, "administrator")
    _grant(session, parc, martin, "professional")
    _grant(session, parc, weber, "professional")
    _questionnaire_templates_demo(request, parc)

    pro_martin = _child(request, professionals, "Professional", "martin", "Dr Paul Martin",
                        user_id=martin.id, speciality="Chirurgien-dentiste")
    _grant(session, pro_martin, martin, "professional")
    pro_weber = _child(request, professionals, "Professional", "weber", "Dr Eva Weber",
                       user_id=weber.id, speciality="Orthodontiste")
    _grant(session, pro_weber, weber, "professional")

    delegations = pro_martin["delegations"]
    delegation = _child(request, delegations, "Delegation", "sec-dupont",
                        "Sophie Dupont pour Dr Paul Martin", professional_id=pro_martin.id,
                        delegate_id=dupont.id, start_date=today - timedelta(days=30),
                        end_date=None, can_sign=False, matricule=DUPONT_MATRICULE,
                        email="dupont@parc.example", delegate_name="Sophie Dupont")
    _state(request, delegation, "active")
    _grant(session, delegation, dupont, "delegate")
    # an invitation still waiting for its account (a registry person with no account);
    # its link is unknown (only its hash is stored): re-invite to get a working one
    invited = _child(request, delegations, "Delegation", "invitation-faber",
                     "Nicole Faber pour Dr Paul Martin", professional_id=pro_martin.id,
                     start_date=today, end_date=today + timedelta(days=180),
                     can_sign=False, matricule=FABER_MATRICULE,
                     email="nicole.faber@parc.example", delegate_name="Nicole Faber")
    if invited.invitation_expires is None:
        invited.invitation_hash = "demo-" + "0" * 59
        invited.invitation_expires = request.registry.getUtility(IClock).now() \
            + timedelta(days=7)

    space = _child(request, spaces, "Space", "sante-services", "Santé Services SARL",
                   company_number="B123456")
    _grant(session, space, weber, "space_admin")
    membership = _child(request, space["members"], "Membership", "weber",
                        "Dr Eva Weber (administratrice)", user_id=weber.id,
                        certificate="12345678901234567890", role="space_admin")
    _state(request, membership, "active")
    # S1-S3: the accounts' certificate serial numbers (in production the TLS proxy's
    # header gives them); dr.martin is invited as manager and has not accepted yet.
    weber.certificate_serial = weber.certificate_serial or "12345678901234567890"
    martin.certificate_serial = martin.certificate_serial or "98765432109876543210"
    _child(request, space["members"], "Membership", "98765432109876543210",
           "Invitation 98765432109876543210", certificate="98765432109876543210",
           role="space_manager")
    _mandates_demo(request, spaces, space, today)

    patients = parc["patients"]
    people = [("leroy", "Léa", "Leroy", date(1990, 4, 12), "+352621123456"),
              ("bernard", "Hugo", "Bernard", date(1979, 9, 3), "+352621000002"),
              ("muller", "Lena", "Muller", date(2012, 1, 22), "+352621000003"),
              ("schmit", "Marc", "Schmit", date(1990, 6, 30), "+352621000004")]
    for name, first, last, born, phone in people:
        patient = _child(request, patients, "Patient", name, f"{first} {last}",
                         first_name=first, last_name=last, birth_date=born, phone=phone)
        if name == "leroy":
            patient.title, patient.first_name = "Léa Leroy", "Léa"
            patient.birth_date, patient.phone = date(1990, 4, 12), "+352621123456"
            patient.user_id = leroy.id
            _grant(session, patient, leroy, "patient")
        docs = patient["documents"]
        for doc_name, title, state, sign in (
                ("consentement", "Consentement éclairé", "sent", True),
                ("devis", "Devis de traitement", "pending", True),
                ("radio", "Radiographie panoramique", "signed", True),
                ("ordonnance", "Ordonnance", "withdrawn", False)):
            doc = _child(request, docs, "Document", doc_name, title, needs_signature=sign)
            _state(request, doc, state)
        questionnaires = patient["questionnaires"]
        for q_name, title, state, answers in (
                ("anamnese", "Questionnaire médical", "sent", None),
                ("suivi", "Suivi post-opératoire", "filled", {"douleur": 2}),
                ("satisfaction", "Satisfaction", "validated", {"note": 9})):
            q = _child(request, questionnaires, "QuestionnaireResponse", q_name, title,
                       answers=answers)
            _state(request, q, state)
    _minors_demo(request, patients)
    _questionnaire_responses_demo(request, parc, pro_martin)
    _documents_demo(request, parc)   # issue #4: document types and files
    _appointments_demo(request, parc, {"martin": pro_martin, "weber": pro_weber}, today)
    from cabinet.messages_demo import messages_demo
    messages_demo(request, parc)     # issue #9, P3: Léa's conversation, reply templates
    _payments_demo(request, parc, today)   # issue #9, P2
    _portal_logins_demo(request, parc, leroy)   # issue #10, K5: statistics
    from cabinet.imaging_demo import imaging_demo
    imaging_demo(request, parc)      # issue #9, P5: Léa's and Hugo's images, K3 selection
    session.flush()
    # last: the terms of use, accepted by all the demo users created above
    _terms(request, root, admin)
