"""Names people read for roles, types and fields (French source strings, translated
through the message catalogs)."""
from datetime import date, datetime

from cabinet import formats
from cabinet.i18n import C_, N_, text_for

ROLE_TITLES = {
    "administrator": N_("Administrateur du cabinet"),
    "professional": N_("Professionnel de santé"),
    "staff": N_("Personnel du cabinet"),
    "patient": N_("Patient"),
    "guardian": N_("Représentant légal"),
    "correspondent": N_("Correspondant"),
    "delegate": N_("Secrétaire (délégation)"),
    "space_admin": N_("Administrateur de l'espace"),
    "space_manager": N_("Gestionnaire"),
    "space_member": N_("Membre sans signature"),
    "mandatary": N_("Mandataire"),
    "site_admin": N_("Administrateur du site"),
    "shared_patient": N_("Patient (document partagé)"),
    "shared_guardian": N_("Représentant légal (document partagé)"),
    "shared_correspondent": N_("Correspondant (document partagé)"),
    "mandate_holder": N_("Titulaire du mandat"),
    "questionnaire_guardian": N_("Représentant légal (questionnaires)"),
    "authenticated": N_("Tout utilisateur connecté"),
}

#: a type's name, singular (the folders of FOLDER_TITLES hold them)
TYPE_TITLES = {
    "Site": C_("type", "Accueil"),
    "Folder": C_("type", "Dossier"),
    "Cabinet": C_("type", "Cabinet"),
    "Patient": C_("type", "Patient"),
    "Document": C_("type", "Document"),
    "QuestionnaireResponse": C_("type", "Questionnaire"),
    "QuestionnaireTemplate": C_("type", "Modèle de questionnaire"),
    "Appointment": C_("type", "Rendez-vous"),
    "CareItem": C_("type", "Prestation"),
    "Image": C_("type", "Image"),
    "Professional": C_("type", "Professionnel"),
    "Delegation": C_("type", "Délégation"),
    "Space": C_("type", "Espace professionnel"),
    "Membership": C_("type", "Membre"),
    "Mandate": C_("type", "Mandat"),
}

FOLDER_TITLES = {
    "cabinets": N_("Cabinets"),
    "professionals": N_("Professionnels"),
    "spaces": N_("Espaces professionnels"),
    "patients": N_("Patients"),
    "documents": N_("Documents"),
    "questionnaires": N_("Questionnaires"),
    "delegations": N_("Secrétaires"),
    "questionnaire-templates": N_("Modèles de questionnaires"),
    "appointments": N_("Rendez-vous"),
    "payments": N_("Paiements"),
    "imaging": N_("Imagerie"),
    "members": N_("Membres"),
    "mandates": N_("Mandats"),
}

FIELD_TITLES = {
    "address": N_("Adresse"), "phone": N_("Téléphone"), "email": N_("E-mail"),
    "first_name": N_("Prénom"), "last_name": C_("last name", "Nom"), "birth_date": N_("Date de naissance"),
    "description": N_("Description"), "needs_signature": N_("Signature requise"),
    "answers": N_("Réponses"), "speciality": N_("Spécialité"), "start_date": N_("Début"),
    "end_date": N_("Fin"), "can_sign": N_("Peut signer en mon nom"),
    "company_number": N_("Numéro RCS"), "certificate": N_("Numéro de certificat"),
    "role": N_("Rôle"), "activation_deadline": N_("Date limite d'activation"),
    "delegate_name": N_("Secrétaire"), "matricule": N_("Matricule"),
    "start": N_("Début"), "end": N_("Fin"), "place": N_("Lieu"),
    "care_date": N_("Date du soin"), "due_date": N_("Échéance"), "amount_due": N_("Montant dû"),
    "amount_paid": N_("Montant réglé"), "remaining": N_("Reste dû"),
    "taken_on": N_("Date de l'image"), "stage": N_("Étape de traitement"),
    "image_type": N_("Type d'image"), "file_name": N_("Fichier"),
    # a patient's parents and financial guarantor, and the access of a minor's
    # representatives (shown on the record, to staff and to the patient: issue #8)
    "parent1_first_name": N_("Parent 1 : prénom"),
    "parent1_last_name": N_("Parent 1 : nom"),
    "parent1_birth_date": N_("Parent 1 : date de naissance"),
    "parent1_phone": N_("Parent 1 : téléphone"),
    "parent2_first_name": N_("Parent 2 : prénom"),
    "parent2_last_name": N_("Parent 2 : nom"),
    "parent2_birth_date": N_("Parent 2 : date de naissance"),
    "parent2_phone": N_("Parent 2 : téléphone"),
    "guarantor_first_name": N_("Garant financier : prénom"),
    "guarantor_last_name": N_("Garant financier : nom"),
    "guarantor_birth_date": N_("Garant financier : date de naissance"),
    "guarantor_phone": N_("Garant financier : téléphone"),
    "minors_access": N_("Accès des représentants aux documents"),
    "minors_access_documents": N_("Accès des représentants aux documents des mineurs"),
    "minors_access_questionnaires": N_("Accès des représentants aux questionnaires"),
}


def node_title(node, request=None):
    """A node's title (a node or its JSON summary); a folder's in the language of
    ``request`` while it keeps the title Cabinet gave it (FOLDER_TITLES): the stored
    title is French."""
    if isinstance(node, dict):
        kind, name, title = node.get("@type"), node.get("id"), node.get("title")
    else:
        kind, name, title = node.portal_type, node.name, node.title
    if kind == "Folder" and title and FOLDER_TITLES.get(name) == title:
        return text_for(request, title)
    return title


YES, NO = N_("oui"), N_("non")


def display(value, request=None):
    """A field value as people read it: yes and no, dates and times in the language
    of ``request`` (French without one)."""
    if value is None or value == "":
        return "—"
    if value is True or value is False:
        return text_for(request, YES if value else NO)
    if isinstance(value, str) and len(value) >= 10 and value[4:5] == "-" and value[7:8] == "-":
        try:   # an ISO date or timestamp (a page's JSON): a date stays a date
            value = (date if len(value) == 10 else datetime).fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        return formats.date_time(request, value)
    if isinstance(value, date):
        return formats.date(request, value)
    return str(value)


def add_renderer_globals(event):
    """The templates' helpers for the names of roles, types, fields and states, in
    the reader's language (a name without a title is shown as it is; without a
    request, in French)."""
    request = event.get("request")

    def translated(message):
        return text_for(request, message)

    def titled(titles):
        return lambda name: translated(titles[name]) if name in titles else name
    event.update(role_title=titled(ROLE_TITLES), type_title=titled(TYPE_TITLES),
                 field_title=titled(FIELD_TITLES),
                 display=lambda value: display(value, request),
                 node_title=lambda node: node_title(node, request))
    if request is not None and "state_title" not in event:
        workflows = request.registry.get("workflows")

        def state_title(item):
            from cabinet.models import CONTENT_TYPES
            cls = CONTENT_TYPES.get(item["@type"])
            if workflows is None or cls is None:
                return item["review_state"]
            state = workflows[cls.workflow_name].states.get(item["review_state"])
            return translated(state.title) if state else item["review_state"]
        event["state_title"] = state_title
