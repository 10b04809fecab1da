"""Appointments (issue #5): the generic content API's hooks for ``Appointment``
(POST ``<patient>/appointments``, PATCH to move, ``@workflow/cancel``), the staff
pages (a patient's appointments with the booking form, moving, cancelling, the
cabinet's agenda), the patient's "Mes rendez-vous", and the JSON listings
``<cabinet>/@appointments`` and ``<patient>/@appointments``."""
from datetime import timedelta

from pyramid.httpexceptions import HTTPConflict, HTTPSeeOther

from cabinet import errors
from cabinet.appointments import (
    AgendaQuery, Invalid, agenda, appointment_types, apply, check_values,
    create_appointment, local_isoformat, local_now, make_title,
    move_appointment, parse_date, patient_appointments,
    refuse_double_booking, row_json, today,
)
from cabinet.autosend import sends_of, sync_sends
from cabinet.i18n import _, flash, N_
from cabinet.interfaces import IAppointment, ICabinet, IFolder, INode, ISite
from cabinet.models import AppointmentType, AutosendRule, Professional, QuestionnaireTemplate
from cabinet.questionnaire_responses import cabinet_of, cabinet_practitioners, patient_of
from cabinet.workflow import fire
from .base import batching, int_param, isoformat, node_url
from .content import ContentHooks, add_content_hooks

WHEN = ("coming", "all")
MAX_DAYS = 31


# -- the generic content API -------------------------------------------------------------

class AppointmentHooks(ContentHooks):
    """``appointment_type`` and ``practitioner`` (names within the cabinet), ``start``
    and ``end`` (local times) are checked together by cabinet.appointments."""
    extra_fields = ("appointment_type", "practitioner", "start", "end")

    def check(self, request, context, extra, creating):
        if not creating and not extra:
            return {}
        current = None if creating else context
        try:
            extra["_values"] = check_values(request, cabinet_of(context), extra, current)
        except Invalid as exc:
            return exc.errors
        return {}

    def created(self, request, node, values, extra):
        checked = extra["_values"]
        refuse_double_booking(request, checked, exclude_id=node.id)
        patient = patient_of(node)
        apply(node, checked, cabinet_of(patient), patient)
        if not node.title:
            node.title = make_title(checked)
        request.dbsession.flush()
        sync_sends(request, node)

    def edited(self, request, node, extra, changed):
        if "_values" not in extra:
            return []
        return move_appointment(request, node, extra["_values"])

    def to_json(self, request, node, data):
        data.update(appointment_json(request, node))


def appointment_json(request, node):
    session = request.dbsession
    kind = session.get(AppointmentType, node.appointment_type_id) \
        if node.appointment_type_id else None
    practitioner = session.get(Professional, node.practitioner_id) \
        if node.practitioner_id else None
    patient = patient_of(node)
    sends = []
    # the staff's view (whoever may book for this patient): the questionnaire sends
    if node.__parent__ is not None and request.has_permission("appointment:add",
                                                               node.__parent__):
        for send in sends_of(session, node):
            rule = session.get(AutosendRule, send.rule_id)
            template = session.get(QuestionnaireTemplate, rule.template_id) if rule else None
            sends.append({"template": template.title if template else None,
                          "due_date": isoformat(send.due_date), "state": send.state})
    return {"start": local_isoformat(request, node.start),
            "end": local_isoformat(request, node.end),
            "appointment_type": ({"id": kind.name, "title": kind.title,
                                  "duration": kind.duration} if kind else None),
            "practitioner": ({"id": practitioner.name, "title": practitioner.title}
                             if practitioner else None),
            "patient": ({"@id": node_url(request, patient.path), "title": patient.title}
                        if patient is not None else None),
            "cancel_reason": node.cancel_reason or None,
            "questionnaire_sends": sends}


# -- JSON listings ---------------------------------------------------------------------------

def _agenda_query(request):
    raw = request.GET.get("start") or request.GET.get("day")
    start = parse_date(raw) if raw else today(request)
    if start is None:
        raise errors.bad_request("'start' must be a date (YYYY-MM-DD).")
    raw_end = request.GET.get("end")
    end = parse_date(raw_end) if raw_end else start
    if end is None:
        raise errors.bad_request("'end' must be a date (YYYY-MM-DD).")
    if end < start or (end - start).days >= MAX_DAYS:
        raise errors.bad_request(f"'end' must be on or after 'start', at most "
                                 f"{MAX_DAYS} days in all.")
    state = request.GET.get("review_state", "")
    if state not in ("", "scheduled", "cancelled", "done"):
        raise errors.bad_request("'review_state' must be scheduled, cancelled or done.")
    return AgendaQuery(start=start, end=end,
                       practitioner=request.GET.get("practitioner", "").strip()[:200],
                       state=state, b_start=int_param(request, "b_start", 0),
                       b_size=int_param(request, "b_size", 50, minimum=1, maximum=200))


def agenda_data(context, request):
    query = _agenda_query(request)
    rows, total = agenda(request, context, query)
    return {"@id": request.url, "start": query.start.isoformat(),
            "end": query.end.isoformat(), "items": [row_json(request, r) for r in rows],
            "items_total": total,
            "batching": batching(request, query.b_start, query.b_size, total)}


def _when(request):
    when = request.GET.get("when", "coming")
    if when not in WHEN:
        raise errors.bad_request("'when' must be 'coming' or 'all'.")
    return when


def patient_data(context, request):
    """GET <patient>/@appointments (on any resource inside a patient record)."""
    context = patient_of(context)
    if context is None:
        raise errors.not_found("This resource is not inside a patient record.")
    when = _when(request)
    rows = patient_appointments(request, [context.path], when)
    return {"@id": node_url(request, context.path) + "/@appointments", "when": when,
            "items": [row_json(request, r) for r in rows], "items_total": len(rows)}


# -- pages ---------------------------------------------------------------------------------

def _form_choices(request, cabinet):
    return {"types": appointment_types(request.dbsession, cabinet),
            "practitioners": cabinet_practitioners(request.dbsession, cabinet)}


def folder_page(context, request, errors_=None, values=None, status=200):
    patient = context.__parent__
    cabinet = cabinet_of(patient)
    when = request.GET.get("when", "all")
    when = when if when in WHEN else "all"
    rows = patient_appointments(request, [patient.path], when)
    request.response.status_int = status
    return {"context": context, "patient": patient, "cabinet": cabinet, "when": when,
            "rows": rows, "url": node_url(request, context.path),
            "can_add": bool(request.has_permission("appointment:add", context)),
            "errors": errors_ or {}, "values": values or {},
            **_form_choices(request, cabinet)}


FORM_FIELDS = ("appointment_type", "practitioner", "start", "end", "place")


def _form_values(request):
    return {k: request.POST.get(k, "").strip() for k in FORM_FIELDS}


def _place(values, problems):
    if len(values["place"]) > 500:
        problems["place"] = "Le lieu fait au plus 500 caractères."
    return values["place"]


def add_form(context, request):
    """POST <patient>/appointments/@@add: book, then back to the list; the form again
    with the errors next to the fields (422), or the clash (409)."""
    values = _form_values(request)
    problems = {}
    place = _place(values, problems)
    try:
        checked = check_values(request, cabinet_of(context), values)
    except Invalid as exc:
        problems.update(exc.errors)
    if problems:
        return folder_page(context, request, problems, values, status=422)
    try:
        node = create_appointment(request, context, checked, place=place)
    except HTTPConflict as exc:
        return folder_page(context, request, {"start": exc.detail}, values, status=409)
    flash(request, _("Rendez-vous enregistré : ${title}.", mapping={"title": node.title}))
    return HTTPSeeOther(location=node_url(request, context.path))


def move_page(context, request, errors_=None, values=None, status=200):
    request.response.status_int = status
    values = values or {"start": context.start.strftime("%Y-%m-%dT%H:%M"),
                        "end": context.end.strftime("%Y-%m-%dT%H:%M"),
                        "place": context.place}
    return {"context": context, "patient": patient_of(context), "values": values,
            "errors": errors_ or {}, "url": node_url(request, context.path)}


def move_form(context, request):
    if context.state != "scheduled":
        raise errors.conflict(N_("Seul un rendez-vous prévu peut être déplacé."),
                              review_state=context.state)
    values = {k: request.POST.get(k, "").strip() for k in ("start", "end", "place")}
    problems = {}
    place = _place({"place": values["place"]}, problems)
    try:
        checked = check_values(request, cabinet_of(context),
                               {"start": values["start"], "end": values["end"]}, context)
    except Invalid as exc:
        problems.update(exc.errors)
    if problems:
        return move_page(context, request, problems, values, status=422)
    try:
        move_appointment(request, context, checked, place=place)
    except HTTPConflict as exc:
        return move_page(context, request, {"start": exc.detail}, values, status=409)
    flash(request, _("Rendez-vous déplacé : ${title}.", mapping={"title": context.title}))
    return HTTPSeeOther(location=node_url(request, context.__parent__.path))


def cancel_page(context, request, error=None, status=200):
    request.response.status_int = status
    return {"context": context, "patient": patient_of(context), "error": error,
            "url": node_url(request, context.path)}


def cancel_form(context, request):
    reason = request.POST.get("reason", "").strip()
    if not reason or len(reason) > 2000:
        return cancel_page(context, request, "Indiquez le motif de l'annulation "
                                             "(2000 caractères au plus).", status=422)
    fire(request, context, "cancel", comment=reason)
    flash(request, _("Rendez-vous annulé : ${title}.", mapping={"title": context.title}))
    return HTTPSeeOther(location=node_url(request, context.__parent__.path))


def agenda_page(context, request):
    query = _agenda_query(request)
    rows, total = agenda(request, context, query)
    return {"context": context, "query": query, "rows": rows, "total": total,
            "batching": batching(request, query.b_start, query.b_size, total),
            "practitioners": cabinet_practitioners(request.dbsession, context),
            "previous": query.start - timedelta(days=1),
            "next": query.start + timedelta(days=1),
            "url": node_url(request, context.path)}


def final_is_final(context, request):
    """PATCH of a cancelled or done appointment: it no longer moves (409)."""
    raise errors.conflict(N_("Seul un rendez-vous prévu peut être déplacé."),
                          review_state=context.state)


def my_appointments_page(request):
    """The patient's (and a guardian's, for their minors) appointments."""
    when = request.GET.get("when", "coming")
    when = when if when in WHEN else "coming"
    # issue #10, K2: only the records whose cabinet offers appointments
    from cabinet.portal import module_paths
    rows = patient_appointments(request, module_paths(request, "appointments"), when)
    from cabinet.views.patient_appointments import page_extras   # issue #9, P1
    return {"rows": rows, "when": when, "now": local_now(request),
            **page_extras(request, rows)}


def includeme(config):
    config.include("cabinet.autosend")
    add_content_hooks(config, "Appointment", AppointmentHooks())
    add = config.add_view
    add(agenda_data, context=ICabinet, name="@appointments", request_method="GET",
        renderer="json", permission="cabinet:view")
    add(patient_data, context=INode, name="@appointments", request_method="GET",
        renderer="json", permission="patient:view")
    add(folder_page, context=IFolder, holds_type="Appointment", request_method="GET",
        accept="text/html", renderer="appointments.jinja2", permission="folder:view")
    add(add_form, context=IFolder, holds_type="Appointment", name="add",
        request_method="POST", renderer="appointments.jinja2",
        permission="appointment:add")
    for state in ("cancelled", "done"):
        add(final_is_final, context=IAppointment, request_method="PATCH",
            review_state=state, renderer="json", permission="appointment:view")
    add(move_page, context=IAppointment, name="move", request_method="GET",
        renderer="appointment_move.jinja2", permission="appointment:edit")
    add(move_form, context=IAppointment, name="move", request_method="POST",
        renderer="appointment_move.jinja2", permission="appointment:edit")
    add(cancel_page, context=IAppointment, name="cancel", request_method="GET",
        renderer="appointment_cancel.jinja2", permission="appointment:cancel")
    add(cancel_form, context=IAppointment, name="cancel", request_method="POST",
        renderer="appointment_cancel.jinja2", permission="appointment:cancel")
    add(agenda_page, context=ICabinet, name="appointments", request_method="GET",
        renderer="agenda.jinja2", permission="cabinet:view")
    add(my_appointments_page, context=ISite, name="my-appointments",
        request_method="GET", renderer="my_appointments.jinja2", permission="site:view")
