"""Names people read for roles, types and fields (French source strings, translated
through the message catalogs)."""
from datetime import date, datetime

ROLE_TITLES = {
    "administrator": "Administrateur du cabinet",
    "professional": "Professionnel de santé",
    "staff": "Personnel du cabinet",
    "patient": "Patient",
    "guardian": "Représentant légal",
    "correspondent": "Correspondant",
    "delegate": "Secrétaire (délégation)",
    "space_admin": "Administrateur de l'espace",
    "space_manager": "Gestionnaire",
    "space_member": "Membre sans signature",
    "mandatary": "Mandataire",
    "site_admin": "Administrateur du site",
    "shared_patient": "Patient (document partagé)",
    "shared_guardian": "Représentant légal (document partagé)",
    "shared_correspondent": "Correspondant (document partagé)",
    "mandate_holder": "Titulaire du mandat",
    "questionnaire_guardian": "Représentant légal (questionnaires)",
    "authenticated": "Tout utilisateur connecté",
}

TYPE_TITLES = {
    "Site": "Accueil", "Folder": "Dossier", "Cabinet": "Cabinet", "Patient": "Patient",
    "Document": "Document", "QuestionnaireResponse": "Questionnaire",
    "QuestionnaireTemplate": "Modèle de questionnaire", "Appointment": "Rendez-vous",
    "CareItem": "Prestation", "Image": "Image", "Professional": "Professionnel", "Delegation": "Délégation",
    "Space": "Espace professionnel", "Membership": "Membre", "Mandate": "Mandat",
}

FOLDER_TITLES = {
    "cabinets": "Cabinets", "professionals": "Professionnels",
    "spaces": "Espaces professionnels", "patients": "Patients", "documents": "Documents",
    "questionnaires": "Questionnaires", "delegations": "Secrétaires",
    "questionnaire-templates": "Modèles de questionnaires", "appointments": "Rendez-vous",
    "payments": "Paiements", "imaging": "Imagerie", "members": "Membres", "mandates": "Mandats",
}

FIELD_TITLES = {
    "address": "Adresse", "phone": "Téléphone", "email": "E-mail",
    "first_name": "Prénom", "last_name": "Nom", "birth_date": "Date de naissance",
    "description": "Description", "needs_signature": "Signature requise",
    "answers": "Réponses", "speciality": "Spécialité", "start_date": "Début",
    "end_date": "Fin", "can_sign": "Peut signer en mon nom",
    "company_number": "Numéro RCS", "certificate": "Numéro de certificat",
    "role": "Rôle", "activation_deadline": "Date limite d'activation",
    "delegate_name": "Secrétaire", "matricule": "Matricule",
    "start": "Début", "end": "Fin", "place": "Lieu",
    "care_date": "Date du soin", "due_date": "Échéance", "amount_due": "Montant dû",
    "amount_paid": "Montant réglé", "remaining": "Reste dû",
    "taken_on": "Date de l'image", "stage": "Étape de traitement",
    "image_type": "Type d'image", "file_name": "Fichier",
    # a patient's parents and financial guarantor, and the access of a minor's
    # representatives (shown on the record, to staff and to the patient: issue #8)
    **{f"{who}_{field}": f"{title} : {what}"
       for who, title in (("parent1", "Parent 1"), ("parent2", "Parent 2"),
                          ("guarantor", "Garant financier"))
       for field, what in (("first_name", "prénom"), ("last_name", "nom"),
                           ("birth_date", "date de naissance"), ("phone", "téléphone"))},
    "minors_access": "Accès des représentants aux documents",
    "minors_access_documents": "Accès des représentants aux documents des mineurs",
    "minors_access_questionnaires": "Accès des représentants aux questionnaires",
}


def display(value):
    """A field value as people read it."""
    if value is None or value == "":
        return "—"
    if value is True:
        return "oui"
    if value is False:
        return "non"
    if isinstance(value, str) and len(value) >= 10 and value[4:5] == "-" and value[7:8] == "-":
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def add_renderer_globals(event):
    request = event.get("request")
    event.update(role_title=lambda r: ROLE_TITLES.get(r, r),
                 type_title=lambda t: TYPE_TITLES.get(t, t),
                 field_title=lambda f: FIELD_TITLES.get(f, f),
                 display=display)
    if request is not None and "state_title" not in event:
        workflows = request.registry.get("workflows")

        def state_title(item):
            from cabinet.models import CONTENT_TYPES
            cls = CONTENT_TYPES.get(item["@type"])
            if workflows is None or cls is None:
                return item["review_state"]
            state = workflows[cls.workflow_name].states.get(item["review_state"])
            return state.title if state else item["review_state"]
        event["state_title"] = state_title
