"""``@permissions?user=<login>``: a user's permissions here, each with its reason."""
from sqlalchemy import select

from cabinet import errors
from cabinet.explain import explain
from cabinet.models import CONTENT_TYPES, User
from cabinet.sharing import principal_names
from cabinet.security import lineage_roles
from .base import node_url
from .content import type_interface


def permissions_data(context, request):
    login = request.GET.get("user")
    user = request.identity
    if login:
        user = request.dbsession.scalar(select(User).where(User.login == login))
        if user is None:
            raise errors.not_found(f"There is no user '{login}'.")
    principals = {p for _n, grants in lineage_roles(request, context) for p, _r in grants}
    names = {p: v[1] for p, v in principal_names(request.dbsession, principals).items()}
    return {"@id": node_url(request, context.path) + "/@permissions",
            "user": user.login, "path": context.path, "review_state": context.state,
            "permissions": explain(request, context, user, names)}


def permissions_page(context, request):
    data = permissions_data(context, request)
    data.update(context=context, url=node_url(request, context.path))
    return data


def includeme(config):
    for cls in CONTENT_TYPES.values():
        iface = type_interface(cls)
        config.add_view(permissions_data, context=iface, name="@permissions",
                        request_method="GET", renderer="json",
                        permission="permissions:view")
        config.add_view(permissions_page, context=iface, name="permissions",
                        request_method="GET", renderer="permissions.jinja2",
                        permission="permissions:view")
