"""Secretaries (D1-D8): "Mes secrétaires", "Ajouter une secrétaire" (matricule look-up,
then details), the invitation link, ending at a chosen date, the JSON API, and the
cabinet's report of secretaries (HTML, CSV) with attaching by person or group.

The delegations folder of a professional keeps the generic content machinery (JSON,
@workflow, @history...); only its HTML page and its POST (create) are specific, chosen
by the ``holds_type`` view predicate.
"""
import csv
import io

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED
from sqlalchemy import select

from cabinet import audit, errors, formats
from cabinet.delegations import (
    DelegationInvalid, accept_invitation, cabinet_professionals, check_details,
    create_delegation, create_group_delegation, delegation_for_token, delegation_rows,
    lookup_person, set_end_date,
)
from cabinet.i18n import _, flash, N_
from cabinet.interfaces import ICabinet, IClock, IDelegation, IFolder, IProfessional, ISite
from cabinet.matricule import format_matricule
from cabinet.models import Group, Professional
from cabinet.workflow import available_transitions, fire
from .base import isoformat, json_body, node_url
from .content import history_rows, node_json

ACTION_TRANSITIONS = ("end", "cancel")


def _raise(exc):
    """DelegationInvalid -> the JSON/HTML error with the fields."""
    message = exc.message
    field = next(iter(exc.errors))
    if exc.status == 409:
        raise errors.conflict(message, field=field, errors=exc.errors)
    if exc.status in (404, 410):
        raise errors.not_found(message, field=field)
    if exc.status == 503:
        from pyramid import httpexceptions
        raise errors._error(httpexceptions.HTTPServiceUnavailable, message,
                            "RegistryUnavailable")
    raise errors.unprocessable(message, errors=exc.errors, field=field)


# -- "Mes secrétaires" ------------------------------------------------------------------------

def list_page(context, request):
    professional = context.__parent__
    rows = delegation_rows(request, professional)
    for row in rows:
        d = row["delegation"]
        d.__parent__ = context
        row["transitions"] = [t for t in available_transitions(request, d)
                              if t.name in ACTION_TRANSITIONS]
        row["history"] = history_rows(request, d, 5) \
            if request.has_permission("history:view", d) else []
    return {"context": context, "professional": professional, "rows": rows,
            "url": node_url(request, context.path),
            "today": request.registry.getUtility(IClock).today(),
            "can_add": bool(request.has_permission("delegation:add", context))}


def delegation_action(context, request):
    """The list's buttons: a transition (end, cancel) or an end date."""
    folder = context.__parent__
    back = node_url(request, folder.path)
    transition = request.POST.get("transition", "")
    if transition == "end_at":
        if not request.has_permission("delegation:end", context):
            raise errors.forbidden(N_("Vous ne pouvez pas terminer cette délégation."))
        if context.state != "active":
            raise errors.conflict(N_("Seule une délégation active peut être terminée."))
        try:
            set_end_date(request, context, request.POST.get("end_date", ""))
        except DelegationInvalid as exc:
            flash(request, _(exc.message))
            return HTTPSeeOther(location=back)
        flash(request, _("« ${title} » : fin le ${date}.", mapping={
            "title": context.title, "date": formats.date(request, context.end_date)}))
        return HTTPSeeOther(location=back)
    if transition not in ACTION_TRANSITIONS:
        raise errors.bad_request(N_("Action inconnue."))
    fire(request, context, transition, comment=request.POST.get("comment", "")[:5000])
    state = request.workflows.for_node(context).states[context.state]
    flash(request, _("« ${title} » : ${state}", mapping={"title": context.title,
                                                "state": _(state.title)}))
    return HTTPSeeOther(location=back)


# -- "Ajouter une secrétaire" -----------------------------------------------------------------

def add_page(context, request):
    return {"context": context, "professional": context.__parent__, "step": 1,
            "values": {}, "errors": {}, "person": None,
            "url": node_url(request, context.path)}


def add_submit(context, request):
    professional = context.__parent__
    post = request.POST
    values = {k: post.get(k, "") for k in ("matricule", "email", "start_date", "end_date")}
    values["can_sign"] = post.get("can_sign") == "1"
    result = {"context": context, "professional": professional, "values": values,
              "errors": {}, "person": None, "step": 1,
              "url": node_url(request, context.path)}
    try:
        matricule, person = lookup_person(request, values["matricule"])
    except DelegationInvalid as exc:
        request.response.status_int = 503 if exc.status == 503 else 400
        result["errors"] = exc.errors
        return result
    values["matricule"] = matricule
    result.update(person=person, step=2, matricule_display=format_matricule(matricule))
    if post.get("step") != "2":            # "Rechercher": show the person found
        return result
    try:
        details = check_details(request, {**values, "can_sign": values["can_sign"]})
        delegation = create_delegation(request, professional, matricule, person, details)
    except DelegationInvalid as exc:
        request.response.status_int = 409 if exc.status == 409 else 400
        result["errors"] = exc.errors
        return result
    if delegation.state == "active":
        flash(request, _("${name} a déjà un compte : la délégation est active.",
                          mapping={"name": delegation.delegate_name}))
    else:
        flash(request, _("Invitation envoyée à ${email}.", mapping={"email": delegation.email}))
    return HTTPSeeOther(location=node_url(request, context.path))


# -- JSON API ----------------------------------------------------------------------------------

def api_create(context, request):
    """POST /professionals/<p>/delegations {"@type": "Delegation", "matricule",
    "email", "start_date", "end_date", "can_sign"}."""
    body = json_body(request)
    if body.get("@type") != "Delegation":
        raise errors.unprocessable("This folder holds Delegation items.", field="@type")
    unknown = set(body) - {"@type", "matricule", "email", "start_date", "end_date",
                           "can_sign"}
    if unknown:
        raise errors.unprocessable(f"Unknown fields: {', '.join(sorted(unknown))}.",
                                   field=sorted(unknown)[0])
    if not isinstance(body.get("can_sign", False), bool):
        raise errors.unprocessable("'can_sign' must be true or false.", field="can_sign")
    if isinstance(context, Professional):      # POST /professionals/<p> also adds here
        context = context["delegations"]
    professional = context.__parent__
    try:
        matricule, person = lookup_person(request, body.get("matricule")
                                          if isinstance(body.get("matricule"), str) else "")
        details = check_details(request, body)
        delegation = create_delegation(request, professional, matricule, person, details)
    except DelegationInvalid as exc:
        _raise(exc)
    request.response.status_int = 201
    request.response.location = node_url(request, delegation.path)
    return node_json(delegation, request)


def api_set_end_date(context, request):
    """PATCH <delegation> {"end_date": "YYYY-MM-DD"}: end at a chosen date."""
    body = json_body(request)
    if set(body) != {"end_date"}:
        raise errors.unprocessable("Only 'end_date' can be changed.", field="end_date")
    if context.state != "active":
        raise errors.conflict("Only an active delegation can be given an end date.",
                              review_state=context.state)
    try:
        set_end_date(request, context, body["end_date"])
    except DelegationInvalid as exc:
        _raise(exc)
    return node_json(context, request)


# -- the invitation link -----------------------------------------------------------------------

def _invitation(request):
    token = request.subpath[0] if len(request.subpath) == 1 else ""
    return token, delegation_for_token(request, token)


def invitation_page(context, request):
    request.response.headers["Cache-Control"] = "no-store"
    request.response.headers["Referrer-Policy"] = "no-referrer"
    try:
        token, delegation = _invitation(request)
    except DelegationInvalid as exc:
        request.response.status_int = exc.status
        return {"problem": exc.message, "delegation": None, "values": {}, "errors": {}}
    values = {"fullname": delegation.delegate_name, "login": ""}
    return {"problem": None, "delegation": delegation, "values": values, "errors": {},
            "action": f"{request.application_url}/@@invitation/{token}"}


def invitation_submit(context, request):
    request.response.headers["Cache-Control"] = "no-store"
    try:
        token, delegation = _invitation(request)
    except DelegationInvalid as exc:
        request.response.status_int = exc.status
        return {"problem": exc.message, "delegation": None, "values": {}, "errors": {}}
    data = {k: request.POST.get(k, "") for k in ("login", "fullname", "password",
                                                  "password_confirm")}
    try:
        user = accept_invitation(request, delegation, data)
    except DelegationInvalid as exc:
        request.response.status_int = 400
        return {"problem": None, "delegation": delegation, "errors": exc.errors,
                "values": {"login": data["login"], "fullname": data["fullname"]},
                "action": f"{request.application_url}/@@invitation/{token}"}
    flash(request, _("Votre compte « ${login} » est créé : connectez-vous.",
                      mapping={"login": user.login}))
    return HTTPSeeOther(location=f"{request.application_url}/login")


# -- the cabinet's report (D7) and attaching (D6) ----------------------------------------------

def report_data(context, request):
    return [{"professional": pro, "rows": delegation_rows(request, pro)}
            for pro in cabinet_professionals(request, context)]


def report_page(context, request):
    groups = list(request.dbsession.scalars(select(Group).order_by(Group.name)))
    return {"context": context, "report": report_data(context, request),
            "url": node_url(request, context.path), "groups": groups,
            "values": {}, "errors": {}}


def _cell(value):
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text          # a spreadsheet must not run it as a formula
    return text


def report_csv(context, request):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["professionnel", "secrétaire", "groupe", "email", "début", "fin",
                     "peut signer", "état"])
    states = request.workflows["delegation"].states
    for item in report_data(context, request):
        for row in item["rows"]:
            writer.writerow([_cell(v) for v in (
                item["professional"].title, row["person"], row["group"] or "",
                row["email"], isoformat(row["start_date"]), isoformat(row["end_date"]) or "",
                "oui" if row["can_sign"] else "non", states[row["state"]].title)])
    response = Response(out.getvalue().encode("utf-8-sig"),
                        content_type="text/csv", charset="utf-8")
    response.content_disposition = f'attachment; filename="secretaires-{context.name}.csv"'
    audit.record(request, "export", obj=context, details={"report": "delegations"})
    return response


def _professional_of(context, request, name):
    for pro in cabinet_professionals(request, context):
        if pro.name == name:
            return pro
    raise DelegationInvalid({"professional": "Ce professionnel n'exerce pas dans ce "
                                             "cabinet."})


def attach(context, request, data):
    """A cabinet administrator attaches a person (matricule) or a group to one of the
    cabinet's professionals."""
    professional = _professional_of(context, request, data.get("professional") or "")
    group_name = data.get("group") or ""
    if group_name:
        group = request.dbsession.scalar(select(Group).where(Group.name == group_name))
        if group is None:
            raise DelegationInvalid({"group": "Ce groupe n'existe pas."})
        details = check_details(request, data, need_email=False)
        return create_group_delegation(request, professional, group, details)
    matricule, person = lookup_person(request, data.get("matricule") or "")
    details = check_details(request, data)
    return create_delegation(request, professional, matricule, person, details)


def api_attach(context, request):
    """POST /cabinets/<c>/@secretaries {"professional", "group" | "matricule" +
    "email", "start_date", "end_date", "can_sign"}."""
    body = json_body(request)
    for key in ("professional", "group", "matricule", "email"):
        if body.get(key) is not None and not isinstance(body[key], str):
            raise errors.unprocessable(f"'{key}' must be a string.", field=key)
    if not isinstance(body.get("can_sign", False), bool):
        raise errors.unprocessable("'can_sign' must be true or false.", field="can_sign")
    try:
        delegation = attach(context, request, body)
    except DelegationInvalid as exc:
        _raise(exc)
    request.response.status_int = 201
    request.response.location = node_url(request, delegation.path)
    return node_json(delegation, request)


def attach_submit(context, request):
    post = request.POST
    values = {k: post.get(k, "") for k in ("professional", "group", "matricule", "email",
                                            "start_date", "end_date")}
    values["can_sign"] = post.get("can_sign") == "1"
    try:
        delegation = attach(context, request, values)
    except DelegationInvalid as exc:
        request.response.status_int = 409 if exc.status == 409 else 400
        result = report_page(context, request)
        result.update(values=values, errors=exc.errors)
        return result
    flash(request, _("${title} : ${state}.", mapping={
        "title": delegation.title,
        "state": _(request.workflows.for_node(delegation).states[delegation.state].title)}))
    return HTTPSeeOther(location=node_url(request, context.path) + "/@@secretaries")


def includeme(config):
    config.include("cabinet.delegations")
    config.add_view(list_page, context=IFolder, holds_type="Delegation",
                    request_method="GET", accept="text/html",
                    renderer="delegations.jinja2", permission="folder:view")
    for iface in (IFolder, IProfessional):
        config.add_view(api_create, context=iface, holds_type="Delegation",
                        request_method="POST", renderer="json", permission="delegation:add")
    config.add_view(add_page, context=IFolder, holds_type="Delegation", name="add",
                    request_method="GET", renderer="delegations_add.jinja2",
                    permission="delegation:add")
    config.add_view(add_submit, context=IFolder, holds_type="Delegation", name="add",
                    request_method="POST", renderer="delegations_add.jinja2",
                    permission="delegation:add")
    config.add_view(delegation_action, context=IDelegation, name="action",
                    request_method="POST", permission="delegation:view")
    config.add_view(api_set_end_date, context=IDelegation, request_method="PATCH",
                    renderer="json", permission="delegation:end")
    config.add_view(invitation_page, context=ISite, name="invitation",
                    request_method="GET", renderer="delegations_invitation.jinja2",
                    permission=NO_PERMISSION_REQUIRED)
    config.add_view(invitation_submit, context=ISite, name="invitation",
                    request_method="POST", renderer="delegations_invitation.jinja2",
                    permission=NO_PERMISSION_REQUIRED)
    config.add_view(report_page, context=ICabinet, name="secretaries",
                    request_method="GET", renderer="delegations_report.jinja2",
                    permission="cabinet:edit")
    config.add_view(attach_submit, context=ICabinet, name="secretaries",
                    request_method="POST", renderer="delegations_report.jinja2",
                    permission="cabinet:edit")
    config.add_view(report_csv, context=ICabinet, name="secretaries.csv",
                    request_method="GET", permission="cabinet:edit")
    config.add_view(api_attach, context=ICabinet, name="@secretaries",
                    request_method="POST", renderer="json", permission="cabinet:edit")
