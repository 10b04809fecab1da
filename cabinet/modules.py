"""A cabinet's portal modules (issue #10, K1/K2): which services its patients and
guardians use, and whether their practitioners still use the portal.

The API other areas call (the staff side is never restricted: whoever may view the
cabinet, ``cabinet:view``, passes every check)::

    from cabinet import modules
    modules.enabled(cabinet, "payments")                 # the module is on
    modules.enabled(cabinet, "payments", minor=True)     # ... and open to guardians
    modules.option(cabinet, "payments", "online_payment")
    modules.require(request, cabinet, "payments", patient=record)   # in a view
    modules.allows(request, cabinet, "payments", patient=record)    # in a list

``require`` raises 404 ("this service does not exist for this cabinet") when the
module is off, or when ``patient`` is a record the user acts for as a guardian
(not as its patient) and the module's minors' access is off; and 403 with a clear
message when the portal is closed for ``patient`` (below). It does nothing for the
cabinet's side.

Modules (``MODULES``): appointments, messaging, imaging (``minors_access``: the
guardians of a minor see the images shared with the minor's record), payments (options
``minors_access``, ``online_payment``, ``only_due_installments``), documents
(``minors_access``: the cabinet's ``minors_access_documents``) and questionnaires
(``minors_access``: ``minors_access_questionnaires``). Every module is on by default.

Inactive practitioners (K1): a patient's practitioners are those of the patient's
appointments in the cabinet (any state). When the patient has at least one and all
of them are marked inactive in the cabinet, the portal is closed for that record:
its pages and API answer 403 with ``PORTAL_CLOSED`` (the cabinet's side keeps
working). A patient without any appointment keeps the portal.

GDPR opt-out (C2): a record whose patient refused the sharing of their data
(``PatientSharing.opt_out``) is hidden from the portal as a whole: its patient and
guardians get 403 with ``OPTED_OUT`` on the record and everything in it (documents,
questionnaires, appointments, messages, payments, images), and the portal's lists
leave it out (``allows``). The cabinet's side is unchanged.

Besides ``require``, ``guard`` (a ContextFound subscriber) hides the documents,
questionnaires and appointments of a patient record (the items, their folders, the
record's portal listings) from its patient and guardians when the module is off,
so that every existing view of them obeys the switch at once.
"""
from pyramid.events import ContextFound
from sqlalchemy import select

from cabinet import errors
from cabinet.i18n import N_

#: module -> {option: default}
MODULES = {
    "appointments": {},
    "messaging": {},
    "imaging": {"minors_access": False},
    "payments": {"minors_access": False, "online_payment": True,
                 "only_due_installments": False},
    "documents": {"minors_access": False},
    "questionnaires": {"minors_access": False},
}
#: options kept in the cabinet's own columns (older features read them there)
COLUMNS = {("documents", "minors_access"): "minors_access_documents",
           ("questionnaires", "minors_access"): "minors_access_questionnaires"}
#: what people read (msgids: the settings page translates them)
TITLES = {"appointments": N_("Rendez-vous"), "messaging": N_("Messagerie"),
          "imaging": N_("Imagerie"), "payments": N_("Paiements"),
          "documents": N_("Documents"), "questionnaires": N_("Questionnaires")}
OPTION_TITLES = {"minors_access": N_("Accès des représentants aux dossiers des mineurs"),
                 "online_payment": N_("Paiement en ligne"),
                 "only_due_installments": N_("Seulement les échéances dues")}
#: messages of the refusals, msgids: an error page shows them in the reader's language
NOT_OFFERED = N_("Ce service n'est pas proposé par votre cabinet.")
NOT_FOR_MINORS = N_("Le cabinet n'ouvre pas ce service aux représentants des patients "
                    "mineurs.")
PORTAL_CLOSED = N_("Votre praticien n'utilise plus le portail patient : contactez le "
                   "cabinet par téléphone ou par courriel.")
OPTED_OUT = N_("Ce dossier n'est pas partagé sur le portail patient (opposition au "
               "partage des données) : contactez le cabinet pour y revenir.")


class Invalid(Exception):
    def __init__(self, problems):
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.errors = problems


# -- reading ---------------------------------------------------------------------------

def settings(cabinet):
    """{module: {"enabled": bool, option: bool...}} of ``cabinet``."""
    stored = cabinet.modules or {}
    result = {}
    for name, options in MODULES.items():
        own = stored.get(name) or {}
        values = {"enabled": bool(own.get("enabled", True))}
        for option, default in options.items():
            column = COLUMNS.get((name, option))
            values[option] = bool(getattr(cabinet, column) if column
                                  else own.get(option, default))
        result[name] = values
    return result


def _known(name):
    if name not in MODULES:
        raise ValueError(f"unknown module {name!r}: one of {', '.join(MODULES)}")


def option(cabinet, name, key):
    _known(name)
    return settings(cabinet)[name][key]


def enabled(cabinet, name, minor=False):
    """Whether ``cabinet`` offers module ``name``; with ``minor``, whether it also
    opens it to the guardians of minors (modules without that option: as on)."""
    _known(name)
    values = settings(cabinet)[name]
    if not values["enabled"]:
        return False
    return not minor or values.get("minors_access", True)


def minors_allowed(cabinet, name, patient):
    """Guardians may use module ``name`` for ``patient``: the cabinet's switch, or
    the record's own override where there is one (documents, questionnaires)."""
    override = {"documents": "minors_access",
                "questionnaires": "minors_access_questionnaires"}.get(name)
    value = getattr(patient, override, "") if override else ""
    if value in ("on", "off"):
        return value == "on"
    return enabled(cabinet, name, minor=True)


# -- changing ------------------------------------------------------------------------------

def validate(changes):
    """Invalid for an unknown module or option or a value that is not a boolean."""
    problems = {}
    if not isinstance(changes, dict):
        raise Invalid({"modules": "Un objet {module: {enabled: true|false, ...}}."})
    for name, values in changes.items():
        if name not in MODULES:
            problems[name] = (f"Module inconnu « {str(name)[:50]} » : "
                              f"{', '.join(MODULES)}.")
            continue
        if not isinstance(values, dict):
            problems[name] = "Un objet {enabled: true|false, ...}."
            continue
        for key, value in values.items():
            if key != "enabled" and key not in MODULES[name]:
                allowed = ", ".join(["enabled", *MODULES[name]])
                problems[f"{name}.{key}"] = (f"Option inconnue « {str(key)[:50]} » "
                                             f"(options : {allowed}).")
            elif not isinstance(value, bool):
                problems[f"{name}.{key}"] = "true ou false."
    if problems:
        raise Invalid(problems)


def update(cabinet, changes):
    """Apply ``{module: {"enabled": bool, option: bool}}``; Invalid (nothing changed)
    for an unknown module or option or a value that is not true or false."""
    validate(changes)
    stored = {k: dict(v) for k, v in (cabinet.modules or {}).items()}
    for name, values in changes.items():
        for key, value in values.items():
            column = COLUMNS.get((name, key))
            if column:
                setattr(cabinet, column, value)
            else:
                stored.setdefault(name, {})[key] = value
    cabinet.modules = stored        # a new dict: the JSON column sees the change


# -- practitioners ----------------------------------------------------------------------

def inactive_ids(cabinet):
    return {int(i) for i in (cabinet.inactive_practitioners or []) if str(i).isdigit()}


def set_active(cabinet, practitioner_id, active):
    ids = inactive_ids(cabinet)
    if active:
        ids.discard(practitioner_id)
    else:
        ids.add(practitioner_id)
    cabinet.inactive_practitioners = sorted(ids)


def practitioners_of(session, patient):
    """Ids of the practitioners of ``patient``'s appointments."""
    from cabinet.models import Appointment
    return set(session.scalars(select(Appointment.practitioner_id).distinct().where(
        Appointment.patient_id == patient.id, Appointment.practitioner_id.is_not(None))))


def opted_out(session, patient):
    """The record's patient refused the sharing of their data on the portal."""
    from cabinet.models import PatientSharing
    return bool(session.scalar(select(PatientSharing.opt_out)
                               .where(PatientSharing.patient_id == patient.id)))


def portal_closed(session, cabinet, patient):
    """The portal is closed for ``patient``: all their practitioners are inactive."""
    inactive = inactive_ids(cabinet)
    if not inactive:
        return False
    ids = practitioners_of(session, patient)
    return bool(ids) and ids <= inactive


# -- requests ---------------------------------------------------------------------------------

def cabinet_side(request, cabinet):
    """The user works for the cabinet (its staff, professionals, administrators)."""
    return bool(request.has_permission("cabinet:view", cabinet))


PORTAL_ROLES = frozenset({"patient", "guardian", "questionnaire_guardian"})


def portal_roles(request, patient):
    """The user's portal roles on ``patient`` (its patient, a guardian)."""
    from cabinet.search import user_grants
    return user_grants(request).get(patient.path, set()) & PORTAL_ROLES


def holds_portal_role(request, patient):
    """Like ``portal_roles``, from what the request has already read: the local roles
    along the lineage and the computed roles (a guardian's), without a query for
    the staff."""
    from cabinet.security import computed_roles_on, roles_on
    if roles_on(request, patient, request.user_principals) & PORTAL_ROLES:
        return True
    return any(c.role in PORTAL_ROLES for c in computed_roles_on(request, patient))


def as_guardian(request, patient):
    """The user reaches ``patient`` as a guardian, not as its patient."""
    roles = portal_roles(request, patient)
    return bool(roles) and "patient" not in roles


def require(request, cabinet, name, patient=None, check_minors=True):
    """Raise unless the user may use module ``name`` of ``cabinet`` (for the record
    ``patient`` when given); see the module's docstring. ``check_minors=False``
    leaves minors' access to the resources' ACL (documents and questionnaires
    already compute the guardians' roles from it)."""
    _known(name)
    if cabinet is None or cabinet_side(request, cabinet):
        return
    if not enabled(cabinet, name):
        raise errors.not_found(NOT_OFFERED, module=name)
    if patient is None or not portal_roles(request, patient):
        return          # not the record's patient nor guardian: its ACL decides
    if opted_out(request.dbsession, patient):
        raise errors.forbidden(OPTED_OUT, reason="opt_out")
    if check_minors and as_guardian(request, patient) \
            and not minors_allowed(cabinet, name, patient):
        raise errors.not_found(NOT_FOR_MINORS, module=name)
    if portal_closed(request.dbsession, cabinet, patient):
        raise errors.forbidden(PORTAL_CLOSED, reason="inactive_practitioner")


def allows(request, cabinet, name, patient=None):
    """Whether ``require`` would let the user through (for lists: the records a
    module's page shows)."""
    from pyramid.httpexceptions import HTTPException
    try:
        require(request, cabinet, name, patient=patient)
    except HTTPException:
        return False
    return True


# -- the guard on existing resources ----------------------------------------------------------

#: what of a patient record belongs to which module: item types, folders, views
ITEM_TYPES = {"Document": "documents", "QuestionnaireResponse": "questionnaires",
              "Appointment": "appointments", "Image": "imaging"}
FOLDERS = {"documents": "documents", "questionnaires": "questionnaires",
           "appointments": "appointments", "imaging": "imaging"}
VIEWS = {"@patient-documents": "documents", "patient-documents": "documents",
         "@patient-questionnaires": "questionnaires",
         "patient-questionnaires": "questionnaires", "@appointments": "appointments"}


def _places(context):
    from cabinet.models import Cabinet, Patient
    cabinet = patient = None
    node = context
    while node is not None and hasattr(node, "lineage"):
        if isinstance(node, Patient):
            patient = node
        elif isinstance(node, Cabinet):
            cabinet = node
            break
        node = node.__parent__
    return cabinet, patient


def module_of(context, patient, view_name):
    from cabinet.models import Folder
    name = VIEWS.get(view_name)
    if name is None:
        name = ITEM_TYPES.get(getattr(context, "portal_type", None))
    if name is None and isinstance(context, Folder) and context.__parent__ is patient:
        name = FOLDERS.get(context.name)
    return name


def guard(event):
    """ContextFound: apply the switches and the closed portal to a patient record's
    resources for its patient and guardians. No query while every module is on and
    every practitioner active."""
    request = event.request
    if request.identity is None:
        return
    cabinet, patient = _places(request.context)
    if cabinet is None or patient is None:
        return
    if holds_portal_role(request, patient) and opted_out(request.dbsession, patient) \
            and not cabinet_side(request, cabinet):
        raise errors.forbidden(OPTED_OUT, reason="opt_out")
    name = module_of(request.context, patient, request.view_name)
    if name is None and not cabinet.inactive_practitioners:
        return
    if name is not None and enabled(cabinet, name) and not cabinet.inactive_practitioners:
        return
    if name is not None:
        require(request, cabinet, name, patient, check_minors=False)
    elif portal_roles(request, patient) and not cabinet_side(request, cabinet) \
            and portal_closed(request.dbsession, cabinet, patient):
        raise errors.forbidden(PORTAL_CLOSED, reason="inactive_practitioner")


def includeme(config):
    config.add_subscriber(guard, ContextFound)
