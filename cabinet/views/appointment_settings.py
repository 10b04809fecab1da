"""A cabinet's appointment types and questionnaire auto-send rules (Q2): the pages
``<cabinet>/@@appointment-types`` and ``<cabinet>/@@autosend-rules`` and the JSON
``@appointment-types`` and ``@autosend-rules`` (GET, POST; PATCH and DELETE on
``.../<id>``), for whoever holds ``appointment:configure`` on the cabinet. Every
template, practitioner, type and rule named by a client is looked up within the
cabinet; nothing from another cabinet is ever reachable."""
from pyramid.httpexceptions import HTTPConflict, HTTPNoContent, HTTPSeeOther
from sqlalchemy import func, select

from cabinet import errors
from cabinet.appointments import Invalid, appointment_types, check_type, type_json, type_named
from cabinet.autosend import (
    add_rule, cabinet_rules, check_rule, rule_in, rule_json,
)
from cabinet.i18n import _, flash
from cabinet.interfaces import ICabinet, INode
from cabinet.models import Appointment, AppointmentType
from cabinet.questionnaire_responses import (
    cabinet_practitioners, cabinet_templates,
)
from .base import cabinet_or_404, json_body, node_url, only_fields


def _invalid(exc):
    return errors.unprocessable("Some fields are invalid.", errors=exc.errors)


def _one(request, what):
    if len(request.subpath) != 1:
        raise errors.not_found(f"PATCH or DELETE <cabinet>/@{what}/<id>.")
    return request.subpath[0]


# -- appointment types ---------------------------------------------------------------------



def types_data(context, request):
    """GET <cabinet>/@appointment-types (on any resource inside the cabinet)."""
    context = cabinet_or_404(context)
    return {"@id": node_url(request, context.path) + "/@appointment-types",
            "items": [type_json(t) for t in appointment_types(request.dbsession, context)]}


def types_add(context, request):
    body = json_body(request)
    only_fields(body, ("id", "title", "duration", "carte_vitale_required"))
    values, problems = check_type(request.dbsession, context, body)
    if problems:
        if "existe déjà" in problems.get("id", ""):
            raise errors.conflict(problems["id"], field="id")
        raise errors.unprocessable("Some fields are invalid.", errors=problems)
    kind = AppointmentType(cabinet_id=context.id, **values)
    request.dbsession.add(kind)
    request.dbsession.flush()
    request.response.status_int = 201
    return type_json(kind)


def _type(context, request):
    kind = type_named(request.dbsession, context, _one(request, "appointment-types"))
    if kind is None:
        raise errors.not_found("There is no such appointment type in this cabinet.")
    return kind


def types_edit(context, request):
    kind = _type(context, request)
    body = json_body(request)
    only_fields(body, ("title", "duration", "carte_vitale_required"))
    values, problems = check_type(request.dbsession, context, body, current=kind)
    if problems:
        raise errors.unprocessable("Some fields are invalid.", errors=problems)
    for key, value in values.items():
        setattr(kind, key, value)
    request.dbsession.flush()
    return type_json(kind)


def _delete_type(request, kind):
    used = request.dbsession.scalar(select(func.count()).select_from(Appointment).where(
        Appointment.appointment_type_id == kind.id))
    if used:
        raise errors.conflict(_("Le type « ${title} » est utilisé par ${count} rendez-vous : "
                                "il ne peut pas être supprimé.",
                                mapping={"title": kind.title, "count": used}))
    request.dbsession.delete(kind)
    request.dbsession.flush()


def types_delete(context, request):
    _delete_type(request, _type(context, request))
    return HTTPNoContent()




def types_page(context, request, problems=None, values=None, status=200):
    request.response.status_int = status
    return {"context": context, "types": appointment_types(request.dbsession, context),
            "errors": problems or {}, "values": values or {},
            "url": node_url(request, context.path)}


def types_form(context, request):
    """One form per type (save or delete) and one to add a type."""
    post = request.POST
    action = post.get("action", "add")
    if action == "add":
        data = {k: post.get(k, "").strip() for k in ("id", "title", "duration")}
        values, problems = check_type(request.dbsession, context, data)
        if problems:
            return types_page(context, request, problems, data, status=422)
        request.dbsession.add(AppointmentType(cabinet_id=context.id, **values))
        flash(request, _("Type « ${title} » ajouté.", mapping={"title": values["title"]}))
    else:
        kind = type_named(request.dbsession, context, post.get("id", ""))
        if kind is None:
            raise errors.not_found("There is no such appointment type in this cabinet.")
        if action == "delete":
            try:
                _delete_type(request, kind)
            except HTTPConflict as exc:
                return types_page(context, request, {"list": exc.detail}, status=409)
            flash(request, _("Type « ${title} » supprimé.", mapping={"title": kind.title}))
        else:
            data = {k: post.get(k, "").strip() for k in ("title", "duration")}
            data["carte_vitale_required"] = "carte_vitale_required" in post
            values, problems = check_type(request.dbsession, context, data, current=kind)
            if problems:
                problems = {f"{kind.name}.{k}": v for k, v in problems.items()}
                return types_page(context, request, problems, status=422)
            for key, value in values.items():
                setattr(kind, key, value)
            flash(request, _("Type « ${title} » enregistré.", mapping={"title": kind.title}))
    request.dbsession.flush()
    return HTTPSeeOther(location=node_url(request, context.path) + "/@@appointment-types")


# -- auto-send rules ---------------------------------------------------------------------

RULE_FIELDS = ("template", "practitioner", "appointment_type", "days_before")


def rules_data(context, request):
    context = cabinet_or_404(context)
    session = request.dbsession
    return {"@id": node_url(request, context.path) + "/@autosend-rules",
            "items": [rule_json(session, r) for r in cabinet_rules(session, context)]}


def rules_add(context, request):
    body = json_body(request)
    only_fields(body, RULE_FIELDS)
    try:
        values = check_rule(request.dbsession, context, body)
    except Invalid as exc:
        raise _invalid(exc)
    rule = add_rule(request, context, values)
    request.response.status_int = 201
    return rule_json(request.dbsession, rule)


def _rule(context, request):
    rule = rule_in(request.dbsession, context, _one(request, "autosend-rules"))
    if rule is None:
        raise errors.not_found("There is no such auto-send rule in this cabinet.")
    return rule


def rules_edit(context, request):
    """Later appointments follow the changed rule; sends already scheduled keep
    their date."""
    rule = _rule(context, request)
    body = json_body(request)
    only_fields(body, RULE_FIELDS)
    try:
        values = check_rule(request.dbsession, context, body, current=rule)
    except Invalid as exc:
        raise _invalid(exc)
    for key, value in values.items():
        setattr(rule, key, value)
    request.dbsession.flush()
    return rule_json(request.dbsession, rule)


def rules_delete(context, request):
    """The rule's pending sends go with it (those sent stay sent)."""
    request.dbsession.delete(_rule(context, request))
    request.dbsession.flush()
    return HTTPNoContent()


def rules_page(context, request, problems=None, values=None, status=200):
    session = request.dbsession
    request.response.status_int = status
    return {"context": context, "url": node_url(request, context.path),
            "rules": [rule_json(session, r) for r in cabinet_rules(session, context)],
            "templates": cabinet_templates(session, context),
            "practitioners": cabinet_practitioners(session, context),
            "types": appointment_types(session, context),
            "errors": problems or {}, "values": values or {}}


def rules_form(context, request):
    post = request.POST
    action = post.get("action", "add")
    data = {k: post.get(k, "").strip() for k in RULE_FIELDS}
    rule = None
    if action in ("save", "delete"):
        rule = rule_in(request.dbsession, context, post.get("rule", ""))
        if rule is None:
            raise errors.not_found("There is no such auto-send rule in this cabinet.")
    if action == "delete":
        request.dbsession.delete(rule)
        flash(request, _("Règle supprimée."))
    else:
        try:
            values = check_rule(request.dbsession, context, data, current=rule)
        except Invalid as exc:
            return rules_page(context, request, exc.errors, data, status=422)
        except HTTPConflict as exc:
            return rules_page(context, request, {"template": exc.detail}, data,
                              status=409)
        if rule is None:
            add_rule(request, context, values)
            flash(request, _("Règle ajoutée."))
        else:
            for key, value in values.items():
                setattr(rule, key, value)
            flash(request, _("Règle enregistrée."))
    request.dbsession.flush()
    return HTTPSeeOther(location=node_url(request, context.path) + "/@@autosend-rules")


def includeme(config):
    add = config.add_view
    perm = "appointment:configure"
    add(types_data, context=INode, name="@appointment-types", request_method="GET",
        renderer="json", permission="cabinet:view")
    add(types_add, context=ICabinet, name="@appointment-types", request_method="POST",
        renderer="json", permission=perm)
    add(types_edit, context=ICabinet, name="@appointment-types", request_method="PATCH",
        renderer="json", permission=perm)
    add(types_delete, context=ICabinet, name="@appointment-types",
        request_method="DELETE", permission=perm)
    add(types_page, context=ICabinet, name="appointment-types", request_method="GET",
        renderer="appointment_types.jinja2", permission=perm)
    add(types_form, context=ICabinet, name="appointment-types", request_method="POST",
        renderer="appointment_types.jinja2", permission=perm)
    add(rules_data, context=INode, name="@autosend-rules", request_method="GET",
        renderer="json", permission=perm)
    add(rules_add, context=ICabinet, name="@autosend-rules", request_method="POST",
        renderer="json", permission=perm)
    add(rules_edit, context=ICabinet, name="@autosend-rules", request_method="PATCH",
        renderer="json", permission=perm)
    add(rules_delete, context=ICabinet, name="@autosend-rules", request_method="DELETE",
        permission=perm)
    add(rules_page, context=ICabinet, name="autosend-rules", request_method="GET",
        renderer="autosend_rules.jinja2", permission=perm)
    add(rules_form, context=ICabinet, name="autosend-rules", request_method="POST",
        renderer="autosend_rules.jinja2", permission=perm)
