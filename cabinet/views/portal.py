"""The patient portal's home (issue #9, P1), "my cabinet" (P6) and the choice of the
current patient (P8).

- ``/`` for a patient or a guardian (a user with no other role anywhere): the next
  appointment of the current patient (date, time, practitioner, the Carte Vitale
  flag), buttons and a menu to the modules the cabinet switched on
  (cabinet.modules); JSON: ``GET /@portal`` (any patient or guardian).
- ``/@@my-cabinet``, ``GET /@my-cabinet``: the cabinets of the user's records, with
  map, mail and call links.
- ``/@@manage-patients``: oneself and the minors one is responsible for, to switch
  between (``POST <record>/@@portal-switch``, JSON ``POST <record>/@portal-switch``:
  the record comes through traversal; one that is not the user's answers 403).
"""
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.renderers import render_to_response
from sqlalchemy import select

from cabinet import errors, modules
from cabinet.appointments import local_isoformat, patient_appointments
from cabinet.calendars import map_url
from cabinet.documents import patient_documents
from cabinet.i18n import N_, _, flash
from cabinet.interfaces import IPatient, ISite
from cabinet.models import AppointmentType
from cabinet.portal import choose, current, module_on, open_records, records
from cabinet.search import user_grants
from .base import isoformat, node_url
from .content import ContentHooks, add_content_hooks

#: roles a portal user may hold (anything else: the cabinet's side or a space's)
PORTAL_ONLY_ROLES = frozenset({"authenticated", "patient", "guardian",
                               "questionnaire_guardian", "shared_patient",
                               "shared_guardian"})
#: the portal's pages built by other parts (payments, messaging, reminders)
ELSEWHERE = {"payments": "/@@my-payments", "messaging": "/@@my-messages",
             "notifications": "/@@my-notifications"}


def portal_only(request):
    """The user is only a patient or a guardian (the home page is the portal)."""
    if request.identity is None or request.acting_for or not records(request):
        return False
    roles = set().union(*user_grants(request).values())
    return roles <= PORTAL_ONLY_ROLES


def _require_portal_user(request):
    if request.identity is None or not records(request):
        raise errors.forbidden(N_("Le portail est réservé aux patients et à leurs "
                               "représentants."))


def next_appointment(request, record):
    if not module_on(record, "appointments"):
        return None, 0
    rows = patient_appointments(request, [record.patient.path], "coming")
    if not rows:
        return None, 0
    row = rows[0]
    vitale = False
    if row.type_name:
        vitale = bool(request.dbsession.scalar(select(AppointmentType.carte_vitale_required)
                                               .where(AppointmentType.cabinet_id ==
                                                      record.cabinet.id,
                                                      AppointmentType.name == row.type_name)))
    return {"@id": node_url(request, row.path), "title": row.title,
            "start": local_isoformat(request, row.starts_at),
            "end": local_isoformat(request, row.ends_at),
            "date": row.starts_at.strftime("%d/%m/%Y"),
            "time": row.starts_at.strftime("%H:%M"),
            "practitioner": row.practitioner_title,
            "appointment_type": row.type_title,
            "carte_vitale_required": vitale}, len(rows)


def links(request, record):
    """{key: {"url", "title"}} of the buttons and the menu, by module."""
    base = request.application_url
    record_url = node_url(request, record.patient.path)
    on = {name: module_on(record, name) for name in modules.MODULES}
    buttons, menu = [], []
    if on["appointments"]:
        buttons.append(("appointments", N_("Mes rendez-vous"),
                        base + "/@@my-appointments"))
    if on["payments"]:
        buttons.append(("payments", N_("Mes paiements"), base + ELSEWHERE["payments"]))
    if on["messaging"]:
        buttons.append(("messages", N_("Messagerie"), base + ELSEWHERE["messaging"]))
    if on["documents"]:
        buttons.append(("documents", N_("Documents"), record_url + "/@@patient-documents"))
    menu.append(("information", N_("Mes informations"), base + "/@@my-information"))
    if on["questionnaires"]:
        menu.append(("forms", N_("Mes formulaires"),
                     record_url + "/@@patient-questionnaires"))
    if on["imaging"]:
        menu.append(("imaging", N_("Mon imagerie"), record_url + "/@@my-imaging"))
    menu.append(("patients", N_("Gérer les patients"), base + "/@@manage-patients"))
    menu.append(("cabinet", N_("Mon cabinet"), base + "/@@my-cabinet"))
    if on["appointments"]:
        menu.append(("notifications", N_("Notifications"),
                     base + ELSEWHERE["notifications"]))

    def as_list(items):
        return [{"id": key, "title": title, "url": url} for key, title, url in items]
    return on, as_list(buttons), as_list(menu)


def record_json(request, record):
    return {"@id": node_url(request, record.patient.path), "title": record.patient.title,
            "relation": "guardian" if record.guardian else "patient",
            "cabinet": record.cabinet.title}


def home_data(request, patient=None):
    """The home of the current patient, or of ``patient`` (one of the user's records,
    else 403) for API clients that keep no session."""
    _require_portal_user(request)
    record = current(request)
    if patient is not None:
        record = next((r for r in open_records(request) if r.patient.id == patient.id),
                      None)
        if record is None:
            raise errors.forbidden(N_("Ce dossier ne fait pas partie de vos patients."))
    data = {"@id": request.application_url + "/@portal",
            "patients": [record_json(request, r) for r in open_records(request)],
            "current": None, "closed": None}
    if record is None:
        # every record's practitioners are inactive: a message, not the portal
        data["closed"] = modules.PORTAL_CLOSED
        return data
    appointment, coming = next_appointment(request, record)
    on, buttons, menu = links(request, record)
    counts = {"appointments_coming": coming}
    if on["documents"]:
        groups = patient_documents(request, record.patient)
        counts["documents"] = sum(len(v) for v in groups.values())
        counts["documents_to_sign"] = len(groups.get("to_sign", []))
    data.update({"current": record_json(request, record),
                 "next_appointment": appointment, "modules": on,
                 "buttons": buttons, "menu": menu, "counts": counts,
                 "cabinet": {"title": record.cabinet.title,
                             "phone": record.cabinet.phone}})
    return data


def portal_json(context, request):
    return home_data(request, context if IPatient.providedBy(context) else None)


class SiteHooks(ContentHooks):
    """The site's home page: the portal for patients and guardians."""

    def page(self, request, node):
        if not portal_only(request):
            return None
        return render_to_response("portal_home.jinja2",
                                  {"data": home_data(request)}, request=request)


# -- my cabinet (P6) ------------------------------------------------------------------------

def tel_url(phone):
    return "tel:" + "".join(c for c in phone if c.isdigit() or c == "+") if phone else None


def cabinet_json(request, cabinet):
    place = (cabinet.address or "").strip()
    return {"@id": node_url(request, cabinet.path), "title": cabinet.title,
            "address": cabinet.address, "phone": cabinet.phone, "email": cabinet.email,
            "map_url": map_url(place or cabinet.title),
            "mailto": f"mailto:{cabinet.email}" if cabinet.email else None,
            "tel": tel_url(cabinet.phone)}


def my_cabinet_json(context, request):
    _require_portal_user(request)
    record = current(request)
    seen, items = set(), []
    for r in ([record] if record else []) + open_records(request):
        if r.cabinet.id not in seen:
            seen.add(r.cabinet.id)
            items.append(cabinet_json(request, r.cabinet))
    return {"@id": request.application_url + "/@my-cabinet", "items": items}


def my_cabinet_page(context, request):
    return {"data": my_cabinet_json(context, request)}


# -- manage patients (P8) -------------------------------------------------------------------

def manage_data(request):
    _require_portal_user(request)
    record = current(request)
    return {"@id": request.application_url + "/@manage-patients",
            "current": record_json(request, record) if record else None,
            "items": [{**record_json(request, r),
                       "switch": node_url(request, r.patient.path) + "/@@portal-switch"}
                      for r in open_records(request)]}


def manage_json(context, request):
    return manage_data(request)


def manage_page(context, request):
    return {"data": manage_data(request)}


def _switch(context, request):
    _require_portal_user(request)
    if not choose(request, context):
        raise errors.forbidden(N_("Ce dossier ne fait pas partie de vos patients."))


def switch_form(context, request):
    _switch(context, request)
    flash(request, _("Patient affiché : ${title}.", mapping={"title": context.title}))
    return HTTPSeeOther(location=request.application_url + "/")


def switch_json(context, request):
    _switch(context, request)
    return {"current": node_url(request, context.path), "title": context.title}


def includeme(config):
    add_content_hooks(config, "Site", SiteHooks())
    add = config.add_view
    add(portal_json, context=ISite, name="@portal", request_method="GET",
        renderer="json", permission="site:view")
    add(portal_json, context=IPatient, name="@portal", request_method="GET",
        renderer="json", permission="patient:view")
    add(my_cabinet_json, context=ISite, name="@my-cabinet", request_method="GET",
        renderer="json", permission="site:view")
    add(my_cabinet_page, context=ISite, name="my-cabinet", request_method="GET",
        renderer="my_cabinet.jinja2", permission="site:view")
    add(manage_json, context=ISite, name="@manage-patients", request_method="GET",
        renderer="json", permission="site:view")
    add(manage_page, context=ISite, name="manage-patients", request_method="GET",
        renderer="manage_patients.jinja2", permission="site:view")
    add(switch_form, context=IPatient, name="portal-switch", request_method="POST",
        permission="patient:view")
    add(switch_json, context=IPatient, name="@portal-switch", request_method="POST",
        renderer="json", permission="patient:view")
