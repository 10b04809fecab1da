"""The sharing page (``@@sharing``) and ``@sharing`` in JSON."""
from pyramid.httpexceptions import HTTPSeeOther

from cabinet import errors
from cabinet.i18n import _, flash
from cabinet.labels import ROLE_TITLES
from cabinet.models import CONTENT_TYPES
from cabinet.roles import GRANTABLE_ROLES
from cabinet.security import roles_on
from cabinet.sharing import (apply_changes, find_principals, parse_changes,
                             principal_names, sharing_entries)
from .base import json_body, node_url
from .content import type_interface


def sharing_data(context, request):
    term = request.GET.get("search", "").strip()
    return {
        "@id": node_url(request, context.path) + "/@sharing",
        "available_roles": [{"id": role, "title": role} for role in GRANTABLE_ROLES],
        "grantable_roles": sorted(roles_on(request, context, request.user_principals)
                                  & set(GRANTABLE_ROLES)),
        "entries": sharing_entries(request, context),
        "search_results": find_principals(request.dbsession, term) if term else [],
    }


def post_sharing(context, request):
    body = json_body(request)
    changes = parse_changes(request.dbsession, body.get("entries"))
    apply_changes(request, context, changes)
    return sharing_data(context, request)


def sharing_page(context, request):
    data = sharing_data(context, request)
    data.update(context=context, url=node_url(request, context.path),
                can_manage=bool(request.has_permission("sharing:manage", context)))
    return data


def sharing_form(context, request):
    """One principal and role per submit: grant (value 1) or revoke (value 0)."""
    kind = request.POST.get("type", "user")
    ident = request.POST.get("id", "")
    role = request.POST.get("role", "")
    grant = request.POST.get("grant") == "1"
    changes = parse_changes(request.dbsession,
                            [{"type": kind, "id": ident, "roles": {role: grant}}])
    granted, revoked = apply_changes(request, context, changes)
    if not granted and not revoked:
        raise errors.conflict("Nothing changed: the role was already as asked.")
    # what changed, said on the page it comes back to (issue #8)
    names = principal_names(request.dbsession, {p for p, _r in granted + revoked})
    for changed, msgid in ((granted, _("Rôle « ${role} » donné à ${name}.")),
                           (revoked, _("Rôle « ${role} » retiré à ${name}."))):
        for principal, role_ in changed:
            flash(request, msgid, role=_(ROLE_TITLES.get(role_, role_)),
                  name=names.get(principal, ('', '', principal))[2])
    return HTTPSeeOther(location=node_url(request, context.path) + "/@@sharing")


def includeme(config):
    for cls in CONTENT_TYPES.values():
        iface = type_interface(cls)
        config.add_view(sharing_data, context=iface, name="@sharing", request_method="GET",
                        renderer="json", permission="sharing:view")
        config.add_view(post_sharing, context=iface, name="@sharing",
                        request_method="POST", renderer="json", permission="sharing:manage")
        config.add_view(sharing_page, context=iface, name="sharing", request_method="GET",
                        renderer="sharing.jinja2", permission="sharing:view")
        config.add_view(sharing_form, context=iface, name="sharing", request_method="POST",
                        permission="sharing:manage")
