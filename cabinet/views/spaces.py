"""Members of a professional space (S1-S3): the members page, inviting by certificate
serial number, accepting an invitation, changing a role, removing a member.

JSON: ``POST /spaces/<s>/members`` (or ``POST /spaces/<s>``) with
``{"@type": "Membership", "certificate_serial", "role"}``; ``PATCH <membership>``
with ``{"role"}``; ``POST <membership>/@accept``; ``GET /@invitations``; removal is
the workflow's ``POST <membership>/@workflow/remove``.

The members folder keeps the generic views of folders for everything else; the views
here are chosen over them by a view predicate (``holds_type``), so creating a
Membership always goes through the validation of cabinet.spaces.
"""

from pyramid.httpexceptions import HTTPConflict, HTTPSeeOther, HTTPUnprocessableEntity

from cabinet import errors
from cabinet.i18n import _, flash
from cabinet.interfaces import IFolder, IMembership, ISite, ISpace
from cabinet.search import Query, search
from cabinet.spaces import (
    SPACE_ROLES, change_role, invite, is_members_folder, member_rows, pending_invitations,
    presented_certificate, space_of,
)
from cabinet.workflow import fire
from .base import batching, int_param, isoformat, json_body, node_url
from .content import node_json

PAGE_SIZE = 50


def members_folder(context):
    return context if is_members_folder(context) else context["members"]


def membership_json(request, membership, user=None):
    data = node_json(membership, request) if request.has_permission(
        "membership:view", membership) else {
            "@id": node_url(request, membership.path), "@type": "Membership",
            "id": membership.name, "review_state": membership.state}
    data["certificate_serial"] = membership.certificate
    data["role"] = membership.role
    if user is not None:
        data["user"] = {"id": user.login, "fullname": user.fullname}
    return data


# -- S1: invite ---------------------------------------------------------------------------

def create_membership(context, request):
    """POST members (or the space) {"@type": "Membership", "certificate_serial", "role"}."""
    body = json_body(request)
    if body.get("@type") != "Membership":
        raise errors.unprocessable(f"This folder holds Membership items, "
                                   f"not '{body.get('@type')}'.")
    unknown = sorted(set(body) - {"@type", "certificate_serial", "role"})
    if unknown:
        raise errors.unprocessable("Some fields are invalid.",
                                   errors={name: "Unrecognized field." for name in unknown})
    folder = members_folder(context)
    membership = invite(request, folder, body.get("certificate_serial"), body.get("role"))
    request.response.status_int = 201
    request.response.location = node_url(request, membership.path)
    return membership_json(request, membership)


def invite_page(context, request):
    values = {"certificate_serial": "", "role": "space_member"}
    problems = {}
    if request.method == "POST":
        values = {name: request.POST.get(name, "").strip() for name in values}
        try:
            membership = invite(request, context, values["certificate_serial"],
                                values["role"])
        except (HTTPUnprocessableEntity, HTTPConflict) as error:
            problems = error.extra.get("errors") or {"certificate_serial": error.detail}
        else:
            flash(request, _("Invitation envoyée au certificat ${certificate}.",
                                  mapping={"certificate": membership.certificate}))
            return HTTPSeeOther(location=node_url(request, context.path))
    return {"context": context, "space": space_of(context), "values": values,
            "errors": problems, "roles": SPACE_ROLES,
            "url": node_url(request, context.path)}


# -- S3: the members, their roles, removal ------------------------------------------------

def members_page(context, request):
    b_start = int_param(request, "b_start", 0)
    rows, total, _relation = search(
        request, Query(portal_types=("Membership",), depth=1, sort_on="created",
                       descending=False, b_start=b_start, b_size=PAGE_SIZE),
        parent=context)
    members = member_rows(request, context, rows)
    can = request.has_permission
    for member in members:
        membership = member["membership"]
        member["can_manage"] = bool(can("membership:manage", membership))
        member["can_remove"] = bool(can("membership:remove", membership))
        member["url"] = node_url(request, membership.path)
    return {"context": context, "space": space_of(context), "members": members,
            "total": total, "roles": SPACE_ROLES,
            "can_invite": bool(can("membership:add", context)),
            "batching": batching(request, b_start, PAGE_SIZE, total),
            "b_start": b_start, "url": node_url(request, context.path)}


def patch_membership(context, request):
    body = json_body(request)
    unknown = sorted(set(body) - {"role"})
    if unknown or "role" not in body:
        raise errors.unprocessable(
            "Only the role of a member changes: {\"role\": ...}.",
            errors={name: "Unrecognized field." for name in unknown} or
            {"role": "Required."})
    change_role(request, context, body["role"])
    return membership_json(request, context)


def role_form(context, request):
    change_role(request, context, request.POST.get("role", ""))
    flash(request, _("« ${title} » : rôle modifié.", mapping={"title": context.title}))
    return HTTPSeeOther(location=node_url(request, context.__parent__.path))


def remove_form(context, request):
    fire(request, context, "remove", comment=request.POST.get("comment", "")[:5000])
    flash(request, _("« ${title} » a été retiré de l'espace.", mapping={"title": context.title}))
    return HTTPSeeOther(location=node_url(request, context.__parent__.path))


# -- S2: the invitee ----------------------------------------------------------------------

def invitations_data(request):
    return [{"@id": node_url(request, item["membership"].path),
             "space": {"@id": node_url(request, item["space_path"]),
                       "title": item["space_title"]},
             "role": item["membership"].role,
             "certificate_serial": item["membership"].certificate,
             "created": isoformat(item["membership"].created)}
            for item in pending_invitations(request)]


def get_invitations(context, request):
    return {"@id": request.application_url + "/@invitations",
            "certificate_serial": presented_certificate(request),
            "items": invitations_data(request)}


def invitations_page(context, request):
    return {"context": context, "certificate": presented_certificate(request),
            "invitations": invitations_data(request)}


def accept(context, request):
    entry = fire(request, context, "accept")
    space = space_of(context)
    return {"action": "accept", "review_state": context.state, "role": context.role,
            "actor": request.identity.login, "time": isoformat(entry.when),
            "space": {"@id": node_url(request, space.path), "title": space.title},
            "@id": node_url(request, context.path)}


def accept_form(context, request):
    fire(request, context, "accept")
    space = space_of(context)
    flash(request, _("Vous êtes membre de « ${title} ».", mapping={"title": space.title}))
    return HTTPSeeOther(location=node_url(request, space.path))


def includeme(config):
    config.include("cabinet.spaces")
    # S1
    for iface in (IFolder, ISpace):
        config.add_view(create_membership, context=iface, request_method="POST",
                        holds_type="Membership", renderer="json", permission="membership:add")
    config.add_view(invite_page, context=IFolder, name="invite", holds_type="Membership",
                    request_method=("GET", "POST"), renderer="space_invite.jinja2",
                    permission="membership:add")
    # S3
    config.add_view(members_page, context=IFolder, holds_type="Membership",
                    request_method="GET", accept="text/html",
                    renderer="space_members.jinja2", permission="folder:view")
    config.add_view(patch_membership, context=IMembership, request_method="PATCH",
                    renderer="json", permission="membership:manage")
    config.add_view(role_form, context=IMembership, name="role", request_method="POST",
                    permission="membership:manage")
    config.add_view(remove_form, context=IMembership, name="remove", request_method="POST",
                    permission="membership:remove")
    # S2
    config.add_view(get_invitations, context=ISite, name="@invitations",
                    request_method="GET", renderer="json", permission="site:view")
    config.add_view(invitations_page, context=ISite, name="invitations",
                    request_method="GET", renderer="space_invitations.jinja2",
                    permission="site:view")
    config.add_view(accept, context=IMembership, name="@accept", request_method="POST",
                    renderer="json", permission="membership:accept")
    config.add_view(accept_form, context=IMembership, name="accept",
                    request_method="POST", permission="membership:accept")
