"""Any resource: its page (HTML), its JSON, and create / edit / delete through the API.

Views are registered per type interface with that type's permissions
(``document:view``, ``document:edit``...), so each check comes from the workflow state.
"""
import colander
from pyramid.httpexceptions import HTTPNoContent
from sqlalchemy import bindparam, select
from sqlalchemy.orm import aliased
from zope.interface import implementedBy

from cabinet import errors
from cabinet.content import add_node, valid_name
from cabinet.locks import lock_node, lock_unchanged
from cabinet.interfaces import IClock
from cabinet.models import CONTENT_TYPES, Folder, HistoryEntry, LocalRole, Node, User
from cabinet.labels import node_title
from cabinet.roles import PERMISSIONS
from cabinet.schemas.content import content_schema
from cabinet.search import Query, search, user_grants
from cabinet.workflow import record_history
from .base import (
    batching, int_param, isoformat, json_body, node_url, summary, workflow_info,
)

PAGE_SIZE = 50


def type_interface(cls):
    return next(iter(implementedBy(cls)))


def children_page(request, folder, b_start, b_size=PAGE_SIZE):
    return search(request, Query(depth=1, b_start=b_start, b_size=b_size), parent=folder)


def subfolders(request, context):
    if not context.subfolders:
        return []
    return list(request.dbsession.scalars(
        select(Folder).where(Folder.parent_id == context.id).order_by(Folder.name)))


def field_values(context):
    return {field: isoformat(getattr(context, field)) for field in context.fields}


def node_json(context, request):
    data = {"@id": node_url(request, context.path), "@type": context.portal_type,
            "id": context.name, "title": context.title,
            "review_state": context.state, "created": isoformat(context.created),
            "modified": isoformat(context.modified)}
    parent = context.__parent__
    if parent is not None:
        data["parent"] = {"@id": node_url(request, parent.path), "@type": parent.portal_type,
                          "title": parent.title}
    data.update(field_values(context))
    base = node_url(request, context.path)
    data["@components"] = {name: {"@id": f"{base}/@{name}"}
                           for name in ("workflow", "history", "sharing", "permissions")}
    if isinstance(context, Folder):
        b_start = int_param(request, "b_start", 0)
        b_size = int_param(request, "b_size", PAGE_SIZE, minimum=1, maximum=500)
        items, total, relation = children_page(request, context, b_start, b_size)
        data["items"] = [summary(request, row) for row in items]
        data["items_total"] = total
        if relation != "eq":
            data["items_total_relation"] = relation
        data["batching"] = batching(request, b_start, b_size, total)
    elif context.subfolders:
        folders = subfolders(request, context)
        data["items"] = [summary(request, folder) for folder in folders]
        data["items_total"] = len(folders)
        data["batching"] = batching(request, 0, PAGE_SIZE, len(folders))
    content_hooks(request, context.portal_type).to_json(request, context, data)
    return data


def history_rows(request, context, limit=None):
    """The history of ``context``, newest first, with who acted and for whom (one
    query; the statement is built once per limit)."""
    rows = request.dbsession.execute(_history_statement(limit), {"node_id": context.id})

    def who(login, fullname):
        return {"id": login, "fullname": fullname} if login is not None else None

    return [{"time": isoformat(e.when), "action": e.action, "transition": e.transition,
             "review_state": e.to_state, "from_state": e.from_state,
             "actor": who(actor_login, actor_name), "acting_for": who(for_login, for_name),
             "comments": e.comment, "details": e.details}
            for e, actor_login, actor_name, for_login, for_name in rows]


_HISTORY = {}


def _history_statement(limit):
    statement = _HISTORY.get(limit)
    if statement is None:
        actor, acting_for = aliased(User), aliased(User)
        statement = (select(HistoryEntry, actor.login, actor.fullname,
                            acting_for.login, acting_for.fullname)
                     .outerjoin(actor, actor.id == HistoryEntry.actor_id)
                     .outerjoin(acting_for, acting_for.id == HistoryEntry.acting_for_id)
                     .where(HistoryEntry.node_id == bindparam("node_id"))
                     .order_by(HistoryEntry.when.desc(), HistoryEntry.id.desc()))
        if limit:
            statement = statement.limit(limit)
        statement = _HISTORY.setdefault(limit, statement)
    return statement


def node_page(context, request):
    own = content_hooks(request, context.portal_type).page(request, context)
    if own is not None:
        return own
    sections = []
    if isinstance(context, Folder):
        b_start = int_param(request, "b_start", 0)
        items, total, relation = children_page(request, context, b_start)
        sections.append({"title": node_title(context, request),
                         "url": node_url(request, context.path),
                         "items": [summary(request, r) for r in items], "total": total,
                         "relation": relation, "b_start": b_start,
                         "batching": batching(request, b_start, PAGE_SIZE, total)})
    else:
        for folder in subfolders(request, context):
            folder.__parent__ = context
            items, total, relation = children_page(request, folder, 0)
            sections.append({"title": node_title(folder, request),
                             "url": node_url(request, folder.path),
                             "items": [summary(request, r) for r in items], "total": total,
                             "relation": relation, "b_start": 0,
                             "batching": batching(request, 0, PAGE_SIZE, total)})
    can = request.has_permission
    return {
        "my_access": my_access(request) if context.parent_id is None else None,
        "context": context, "fields": field_values(context),
        "workflow": workflow_info(request, context), "sections": sections,
        "history": history_rows(request, context, 20) if can("history:view", context) else None,
        "can_share": bool(can("sharing:view", context)),
        "can_explain": bool(can("permissions:view", context)),
        "url": node_url(request, context.path),
    }


def my_access(request):
    """The home page's shortcuts: where the user holds roles, and for whom they act."""
    grants = {path: roles for path, roles in user_grants(request).items() if path != "/"}
    own = {path for path, in request.dbsession.execute(
        select(Node.path).join(LocalRole, LocalRole.node_id == Node.id)
        .where(LocalRole.principal.in_(request.user_principals)))} if grants else set()
    nodes = request.dbsession.execute(
        select(Node.path, Node.title, Node.type).where(Node.path.in_(grants))
        .order_by(Node.path)).all() if grants else []
    return {
        "places": [{"url": node_url(request, path), "title": title,
                    "roles": sorted(grants[path]), "delegated": path not in own}
                   for path, title, _type in nodes],
        "acting_for": [{"professional": a.delegation.professional.title,
                        "end_date": a.delegation.end_date,
                        "can_sign": a.delegation.can_sign} for a in request.acting_for],
    }


# -- what a type adds to the generic API -------------------------------------------------

class ContentHooks:
    """What a content type adds to the generic API, registered with
    ``add_content_hooks(config, portal_type, hooks)``: fields stored outside its
    columns (``extra_fields``), checks across fields, more JSON, a refused delete.
    The defaults add nothing."""
    #: body keys that are not columns of the type; ``check`` validates them
    extra_fields = ()

    def check(self, request, context, extra, creating):
        """Normalise ``extra`` (the extra fields sent) in place; return the errors
        as {field: message}. ``context`` is the folder when ``creating``."""
        return {}

    def created(self, request, node, values, extra):
        """After the node is added (``values``: its column fields)."""

    def edited(self, request, node, extra, changed):
        """After an edit (``changed``: the column fields that changed); return the
        names of the extra fields that changed."""
        return []

    def to_json(self, request, node, data):
        """Add to the node's JSON ``data`` in place."""

    def create(self, request, folder, body, name):
        """Build the node from the whole body (a type made from other resources: a
        questionnaire response from its template), recording its history; None:
        the generic path (the type's column fields)."""
        return None

    def patch(self, request, node, body):
        """Handle a PATCH body (e.g. a draft's answers) and return the JSON; None: the
        generic edit. Called before the generic edit checks ``<prefix>:edit``:
        the hooks check what they handle."""
        return None

    def deleting(self, request, node):
        """Raise (e.g. errors.conflict) to refuse deleting ``node``."""

    def page(self, request, node):
        """A Response to show instead of the generic HTML page, or None."""
        return None


NO_HOOKS = ContentHooks()
HOOKS_KEY = "cabinet.content_hooks"


def add_content_hooks(config, portal_type, hooks):
    config.registry.setdefault(HOOKS_KEY, {})[portal_type] = hooks


def content_hooks(request, portal_type):
    return request.registry.get(HOOKS_KEY, {}).get(portal_type, NO_HOOKS)


def _validate(schema, body, request=None, context=None, hooks=NO_HOOKS, creating=False):
    """(values, extra): the body's column values and the type's extra fields, or 422
    naming each field that is invalid or that a client may not set (state, owner,
    path ... : what is not in the type's schema)."""
    unknown = {key: "Ce champ n'existe pas ou ne peut pas être modifié ainsi."
               for key in body
               if schema.get(key) is None and key not in hooks.extra_fields}
    if unknown:
        raise errors.unprocessable(
            f"Fields that cannot be set: {', '.join(sorted(unknown))}.", errors=unknown)
    extra = {key: body.pop(key) for key in hooks.extra_fields if key in body}
    found, values = {}, {}
    try:
        values = schema.deserialize(body)
    except colander.Invalid as exc:
        found.update(exc.asdict())
    found.update(hooks.check(request, context, extra, creating))
    if found:
        raise errors.unprocessable("Some fields are invalid.", errors=found)
    return values, extra


def create(context, request):
    """POST <folder> {"@type": ..., "id"?: ..., "title": ..., fields}."""
    body = json_body(request)
    portal_type = body.pop("@type", None)
    target = context
    if not isinstance(context, Folder):  # posting to a patient adds to its folder
        names = [n for n, t in context.subfolders.items() if t == portal_type]
        if not names:
            raise errors.unprocessable(f"A {context.portal_type} cannot contain "
                                       f"'{portal_type}'.")
        target = context[names[0]]
    elif portal_type != target.addable_type:
        raise errors.unprocessable(f"This folder holds {target.addable_type} items, "
                                   f"not '{portal_type}'.")
    cls = CONTENT_TYPES[portal_type]
    if not request.has_permission(f"{cls.permission_prefix}:add", target):
        raise errors.forbidden(f"You may not add a {portal_type} here.")
    name = body.pop("id", None)
    if name is not None:
        if not isinstance(name, str) or not valid_name(name):
            raise errors.unprocessable("'id' must be lowercase letters, digits, '.', "
                                       "'-' or '_' (at most 100).")
        # locked before the check, as add_node does: of two requests adding one id at
        # the same instant, the second sees the first's and gets 409, not a 500
        lock_node(request.dbsession, target.id)
        if request.dbsession.scalar(select(Node.id).where(Node.parent_id == target.id,
                                                          Node.name == name)):
            raise errors.conflict(f"'{name}' already exists here.")
    hooks = content_hooks(request, portal_type)
    node = hooks.create(request, target, body, name)
    if node is not None:
        request.response.status_int = 201
        request.response.location = node_url(request, node.path)
        return node_json(node, request)
    values, extra = _validate(content_schema(portal_type), body, request, target, hooks,
                              creating=True)
    node = add_node(request.dbsession, request.registry, target, portal_type, name=name,
                    owner=request.identity, **values)
    hooks.created(request, node, values, extra)
    grant = request.has_permission(f"{cls.permission_prefix}:add", target)
    record_history(request, node, "create", grant=grant, to_state=node.state)
    request.response.status_int = 201
    request.response.location = node_url(request, node.path)
    return node_json(node, request)



def edit(context, request):
    body = json_body(request)
    hooks = content_hooks(request, context.portal_type)
    patched = hooks.patch(request, context, body)
    if patched is not None:
        return patched
    if not request.has_permission(f"{context.permission_prefix}:edit", context):
        raise errors.forbidden(f"You may not edit this {context.portal_type}.")
    changed_state = lock_unchanged(request.dbsession, context)
    if changed_state is not None:
        raise errors.conflict(f"Someone changed this {context.portal_type} meanwhile; "
                              f"it is now '{changed_state}'.", review_state=changed_state)
    schema = content_schema(context.portal_type)
    for child in schema.children:
        child.missing = colander.drop
    values, extra = _validate(schema, body, request, context, hooks)
    changed = {k: v for k, v in values.items() if getattr(context, k) != v}
    for key, value in changed.items():
        setattr(context, key, value)
    changed = [*changed, *hooks.edited(request, context, extra, list(changed))]
    if changed:
        # in SQL (version = version + 1): concurrent edits each count, none is lost
        context.version = Node.version + 1
        context.modified = request.registry.getUtility(IClock).now()
        grant = request.has_permission(f"{context.permission_prefix}:edit", context)
        record_history(request, context, "edit", grant=grant,
                       details={"fields": sorted(changed)})
        request.dbsession.flush()     # the version is read back as a number from here
    return node_json(context, request)


def delete(context, request):
    content_hooks(request, context.portal_type).deleting(request, context)
    parent = context.__parent__
    grant = request.has_permission(f"{context.permission_prefix}:delete", context)
    record_history(request, parent, "delete", grant=grant,
                   details={"id": context.name, "@type": context.portal_type,
                            "title": context.title})
    request.dbsession.delete(context)
    request.dbsession.flush()
    return HTTPNoContent()


def includeme(config):
    for cls in CONTENT_TYPES.values():
        iface = type_interface(cls)
        prefix = cls.permission_prefix
        config.add_view(node_page, context=iface, request_method="GET", accept="text/html",
                        renderer="node.jinja2", permission=f"{prefix}:view")
        config.add_view(node_json, context=iface, request_method="GET",
                        accept="application/json", renderer="json",
                        permission=f"{prefix}:view")
        if f"{prefix}:edit" in PERMISSIONS:
            # a type's hooks may handle a PATCH with a permission of their own (a
            # patient saving a draft holds questionnaire:fill, not :edit); edit()
            # checks <prefix>:edit for the generic fields
            config.add_view(edit, context=iface, request_method="PATCH", renderer="json",
                            permission=f"{prefix}:view")
        if f"{prefix}:delete" in PERMISSIONS:
            config.add_view(delete, context=iface, request_method="DELETE",
                            permission=f"{prefix}:delete")
        if cls.subfolders or cls is Folder:
            # the add permission depends on the type added; create() checks it
            config.add_view(create, context=iface, request_method="POST", renderer="json",
                            permission=f"{prefix}:view")
