"""Mandates (S4): the mandant creates and revokes, the provider activates with the
code, a provider's member chooses for which mandant it acts.

JSON: ``POST /spaces/<s>/mandates`` (or ``/spaces/<s>``) with ``@type`` Mandate,
``POST /spaces/<provider>/@activate-mandate``, ``GET|POST /@act-for``.
Pages: ``/spaces/<s>/mandates`` (list), ``/spaces/<s>/mandates/@@add``,
``/spaces/<s>/@@mandates-received`` (with the activation form), and the selector of
the home page posting to ``/act-for``.
"""

import colander
from pyramid.httpexceptions import HTTPException, HTTPSeeOther
from pyramid.renderers import render_to_response
from sqlalchemy import select

from cabinet import errors
from cabinet.i18n import N_, _, flash
from cabinet.interfaces import IClock, IFolder, ISite, ISpace
from cabinet.mandates import (
    DOMAINS, acting_mandate, activate_with_code, choose, create_mandate, format_code,
    mandant_of, mandates_in_effect,
)
from cabinet.models import Mandate, Space
from cabinet.schemas.mandates import mandate_schema
from cabinet.search import readable_filter
from cabinet.workflow import available_transitions
from .base import isoformat, json_body, node_url
from .content import node_json

CODE_NOTICE = N_("Ce code d'activation n'est affiché qu'une seule fois : transmettez-le "
                 "au prestataire. Cabinet n'en garde qu'une empreinte.")


def is_mandates_folder(context):
    return (getattr(context, "portal_type", None) == "Folder"
            and getattr(context, "addable_type", None) == "Mandate")


def mandates_folder(context):
    return context if is_mandates_folder(context) else context["mandates"]


def _validate(data):
    try:
        return mandate_schema().deserialize(data)
    except colander.Invalid as exc:
        raise errors.unprocessable("Some fields are invalid.", errors=exc.asdict())


def mandate_data(request, mandate, provider=None, mandant=None):
    if provider is None and mandate.provider_id is not None:
        provider = request.dbsession.get(Space, mandate.provider_id)
    mandant = mandant or mandant_of(mandate)
    return {"@id": node_url(request, mandate.path), "@type": "Mandate",
            "id": mandate.name, "title": mandate.title, "review_state": mandate.state,
            "domain": mandate.domain, "domain_title": DOMAINS.get(mandate.domain, mandate.domain),
            "activation_deadline": isoformat(mandate.activation_deadline),
            "end_date": isoformat(mandate.end_date),
            "provider": {"@id": node_url(request, provider.path), "title": provider.title}
            if provider is not None else None,
            "mandant": {"@id": node_url(request, mandant.path), "title": mandant.title}
            if mandant is not None else None}


# -- the mandant ------------------------------------------------------------------------

def create(context, request):
    """POST <space>/mandates {"@type": "Mandate", "provider", "domain",
    "activation_deadline", "end_date"} -> 201 with the code, shown this once."""
    body = json_body(request)
    if body.pop("@type", None) != "Mandate":
        raise errors.unprocessable("This folder holds Mandate items.")
    folder = mandates_folder(context)
    values = _validate(body)
    mandate, code = create_mandate(request, folder, values)
    request.response.status_int = 201
    request.response.location = node_url(request, mandate.path)
    request.response.headers["Cache-Control"] = "no-store, private"
    data = node_json(mandate, request)
    data.update(mandate_data(request, mandate))
    data["activation_code"] = format_code(code)
    data["activation_code_notice"] = CODE_NOTICE
    return data


def add_page(context, request):
    """The form of /spaces/<s>/mandates/@@add; on success, the code page."""
    form = {"provider": "", "domain": "", "activation_deadline": "", "end_date": "",
            "title": ""}
    errors_ = {}
    if request.method == "POST":
        form.update({k: request.POST.get(k, "").strip() for k in form})
        data = {k: v for k, v in form.items() if v or k == "title"}
        try:
            values = _validate(data)
            mandate, code = create_mandate(request, context, values)
        except HTTPException as exc:
            if exc.status_int != 422:
                raise
            errors_ = getattr(exc, "extra", {}).get("errors") or {"": exc.detail}
            request.response.status_int = 422
        else:
            request.response.headers["Cache-Control"] = "no-store, private"
            return render_created(request, mandate, code)
    return {"context": context, "form": form, "errors": errors_,
            "domains": [("", "—")] + list(DOMAINS.items()),
            "url": node_url(request, context.path)}


def render_created(request, mandate, code):
    return render_to_response(
        "mandate_created.jinja2",
        {"mandate": mandate_data(request, mandate), "code": format_code(code),
         "notice": CODE_NOTICE,
         "list_url": node_url(request, mandate.__parent__.path)},
        request=request, response=request.response)


def list_page(context, request):
    """The mandates the space gave: provider, domain, state, dates, actions."""
    rows = list(request.dbsession.scalars(
        select(Mandate).where(Mandate.parent_id == context.id,
                              readable_filter(request, ("Mandate",)))
        .order_by(Mandate.created.desc(), Mandate.id.desc())))
    providers = {s.id: s for s in request.dbsession.scalars(
        select(Space).where(Space.id.in_({m.provider_id for m in rows}
                                         - {None})))} if rows else {}
    workflow = request.workflows["mandate"]
    mandant = context.__parent__
    items = []
    for mandate in rows:
        mandate.__parent__ = context
        data = mandate_data(request, mandate, providers.get(mandate.provider_id), mandant)
        data["state_title"] = workflow.states[mandate.state].title
        data["transitions"] = available_transitions(request, mandate)
        items.append(data)
    return {"context": context, "space": mandant, "items": items,
            "can_add": bool(request.has_permission("mandate:add", context)),
            "url": node_url(request, context.path)}


# -- the provider -----------------------------------------------------------------------

def received_data(request, space):
    rows = list(request.dbsession.scalars(
        select(Mandate).where(Mandate.provider_id == space.id)
        .order_by(Mandate.created.desc(), Mandate.id.desc())))
    workflow = request.workflows["mandate"]
    today = request.registry.getUtility(IClock).today()
    items = []
    for mandate in rows:
        data = mandate_data(request, mandate, space)
        data["state_title"] = workflow.states[mandate.state].title
        data["in_effect"] = mandate.in_effect(today)
        items.append(data)
    return items


def received_page(context, request, errors_=None, code=""):
    if getattr(request.has_permission("space:view", context), "computed", None) is not None:
        # a mandatary sees the mandant's space, not the mandates the mandant received
        raise errors.forbidden(N_("Seuls les membres de l'espace voient ses mandats reçus."))
    return {"context": context, "items": received_data(request, context),
            "can_activate": bool(request.has_permission("space:edit", context)),
            "errors": errors_ or {}, "code": code,
            "url": node_url(request, context.path)}


def activate(context, request):
    """POST <provider space>/@activate-mandate {"code"}."""
    body = json_body(request)
    mandate = activate_with_code(request, context, body.get("code"))
    data = node_json(mandate, request)
    data.update(mandate_data(request, mandate, context))
    data["message"] = (f"Mandat activé : « {context.title} » peut agir pour "
                       f"« {data['mandant']['title']} » ({data['domain_title']}).")
    return data


def activate_form(context, request):
    code = request.POST.get("code", "")
    try:
        mandate = activate_with_code(request, context, code)
    except HTTPException as exc:
        if exc.status_int not in (409, 422, 429):
            raise
        request.response.status_int = exc.status_int
        message = (getattr(exc, "extra", {}).get("errors") or {}).get("code") or exc.detail
        return render_to_response("mandates_received.jinja2",
                                  received_page(context, request, {"code": message}, code),
                                  request=request, response=request.response)
    flash(request, _("Mandat activé : vous pouvez agir pour « ${title} ».",
                      mapping={"title": mandant_of(mandate).title}))
    return HTTPSeeOther(location=node_url(request, context.path) + "/@@mandates-received")


# -- acting for a mandant -----------------------------------------------------------------

def act_for_data(request):
    current = acting_mandate(request)
    return {"@id": request.application_url + "/@act-for",
            "current": mandate_data(request, current) if current is not None else None,
            "available": [mandate_data(request, m) for m in mandates_in_effect(request)]}


def get_act_for(context, request):
    return act_for_data(request)


def post_act_for(context, request):
    body = json_body(request)
    choose(request, body.get("mandate"))
    request.__dict__.pop("computed_roles", None)
    return act_for_data(request)


def act_for_form(context, request):
    mandate = choose(request, request.POST.get("mandate", ""))
    if mandate is None:
        flash(request, _("Vous agissez pour votre propre espace."))
    else:
        flash(request, _("Vous agissez pour « ${title} ».",
                          mapping={"title": mandant_of(mandate).title}))
    return HTTPSeeOther(location=request.application_url + "/")


def includeme(config):
    config.include("cabinet.mandates")
    for iface in (IFolder, ISpace):
        config.add_view(create, context=iface, request_method="POST", holds_type="Mandate",
                        renderer="json", permission="mandate:add")
    config.add_view(add_page, context=IFolder, name="add", holds_type="Mandate",
                    request_method=("GET", "POST"), renderer="mandate_add.jinja2",
                    permission="mandate:add")
    config.add_view(list_page, context=IFolder, holds_type="Mandate", request_method="GET",
                    accept="text/html", renderer="mandates.jinja2", permission="folder:view")
    config.add_view(received_page, context=ISpace, name="mandates-received",
                    request_method="GET", renderer="mandates_received.jinja2",
                    permission="space:view")
    config.add_view(activate, context=ISpace, name="@activate-mandate",
                    request_method="POST", renderer="json", permission="space:edit")
    config.add_view(activate_form, context=ISpace, name="activate-mandate",
                    request_method="POST", permission="space:edit")
    config.add_view(get_act_for, context=ISite, name="@act-for", request_method="GET",
                    renderer="json", permission="site:view")
    config.add_view(post_act_for, context=ISite, name="@act-for", request_method="POST",
                    renderer="json", permission="site:view")
    config.add_view(act_for_form, context=ISite, name="act-for", request_method="POST",
                    permission="site:view")
