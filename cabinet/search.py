"""Listing what a user may view, in SQL.

A node of type T in state S is viewable when the user holds, on the node or an
ancestor, a role to which S grants ``T:view``. The user's grants (path, role) are few;
for each, the workflow definitions give the states in which that role may view each
type, so the filter is ``OR(path in subtree AND (type, state) in allowed)`` over the
grants: one indexed query, whatever the number of rows, with no filtering in Python.
The total is counted exactly up to MAX_EXACT_TOTAL, by a second query whose work is
bounded by that cap (see capped_count_statement).
"""
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import and_, exists, false, func, or_, select, union, union_all

from cabinet.models import CONTENT_TYPES, SEARCHABLE_TYPES, LocalRole, Node
from cabinet.roles import AUTHENTICATED, DERIVED_ROLES

MAX_EXACT_TOTAL = 10_000
SORT_COLUMNS = {"modified": Node.modified, "created": Node.created, "title": Node.title,
                "id": Node.name, "review_state": Node.state, "path": Node.path}


def subtree(path):
    """Nodes at or below ``path`` (which ends with '/'): a b-tree range, no LIKE."""
    return and_(Node.path >= path, Node.path < path[:-1] + "0")


def user_grants(request):
    """{path: {roles}} where the user, a group of theirs, or a professional they act
    for holds a local role, plus the user's computed local roles (a mandate in
    effect). Cached on the request."""
    cached = request.__dict__.get("_grants")
    if cached is not None:
        return cached
    grants = defaultdict(set)
    if request.identity is not None:
        principals = set(request.user_principals)
        for acting in request.acting_for:
            principals |= acting.principals
        principals = {p for p in principals if p.startswith(("user:", "group:"))}
        rows = request.dbsession.execute(
            select(Node.path, LocalRole.role).join(Node, Node.id == LocalRole.node_id)
            .where(LocalRole.principal.in_(principals)))
        for path, role in rows:
            grants[path].add(role)
        for computed in request.computed_roles:   # cabinet.security.ComputedRole
            grants[computed.path].add(computed.role)
        grants["/"].add(AUTHENTICATED)
    request.__dict__["_grants"] = grants
    return grants


def viewable_states(workflows, cls, roles, permission=None):
    """The states of ``cls`` in which ``roles`` hold ``permission`` (by default the
    type's own ``<prefix>:view``)."""
    permission = permission or f"{cls.permission_prefix}:view"
    workflow = workflows[cls.workflow_name]
    return sorted(state for state, holders in workflow.roles_with(permission).items()
                  if holders & roles)


def readable_branches(request, types=SEARCHABLE_TYPES, permission=None):
    """[(path, condition)]: one condition per grant path, whose OR is what the user
    may view (see readable_filter); with ``permission``, what the user holds that
    permission on instead (e.g. ``payment:view`` on patient records).

    The conditions depend only on the grants (paths and roles), the types and the
    permission, the workflows being fixed at start-up: they are built once per
    application for each such combination (SQL expressions are immutable, so one
    serves every request and thread), instead of some hundred expression objects per
    listing. The cache is bounded: past BRANCH_CACHE_SIZE combinations it starts
    again."""
    grants = tuple(sorted((path, frozenset(roles))
                          for path, roles in user_grants(request).items()))
    key = (grants, tuple(types), permission)
    cache = request.registry.get(BRANCH_CACHE)
    if cache is None:
        cache = request.registry[BRANCH_CACHE] = {}
    branches = cache.get(key)
    if branches is None:
        if len(cache) >= BRANCH_CACHE_SIZE:
            cache.clear()
        branches = cache[key] = _readable_branches(request.workflows, grants, types,
                                                   permission)
    return branches


BRANCH_CACHE = "cabinet.search.readable_branches"
BRANCH_CACHE_SIZE = 4096


def _readable_branches(workflows, grants, types, permission):
    branches = []
    for path, roles in grants:
        by_type = []
        for portal_type in types:
            cls = CONTENT_TYPES[portal_type]
            states = viewable_states(workflows, cls, roles, permission)
            if not states:
                continue
            identity = cls.__mapper__.polymorphic_identity
            if len(states) == len(workflows[cls.workflow_name].states):
                # readable in every state: the type says it all (a node is always in
                # a state of its workflow; start-up refuses a database that is not)
                by_type.append(Node.type == identity)
            else:
                by_type.append(and_(Node.type == identity, Node.state.in_(states)))
        by_type += derived_conditions(workflows, types, roles, permission)
        if by_type:
            branches.append((path, and_(subtree(path), or_(*by_type)) if path != "/"
                             else or_(*by_type)))
    return branches


def derived_conditions(workflows, types, roles, permission=None):
    """Conditions for the roles a node gives to holders of ``roles`` by its own rows
    ``(node, "role:<source>", role)`` (cabinet.roles.DERIVED_ROLES, as
    cabinet.security.derived_roles): the type, the states where that role may view,
    and an EXISTS on the node's local roles (the unique index of local_roles)."""
    conditions = []
    for role, source in sorted(DERIVED_ROLES.items()):
        if source not in roles:
            continue
        for portal_type in types:
            cls = CONTENT_TYPES[portal_type]
            states = viewable_states(workflows, cls, {role}, permission)
            if not states:
                continue
            marker = exists().where(LocalRole.node_id == Node.id,
                                    LocalRole.principal == f"role:{source}",
                                    LocalRole.role == role)
            conditions.append(and_(Node.type == cls.__mapper__.polymorphic_identity,
                                   Node.state.in_(states), marker))
    return conditions


def readable_filter(request, types=SEARCHABLE_TYPES, permission=None):
    """SQL condition: the current user may view the node (with ``permission``: holds
    that permission on it, compiled from the workflows the same way)."""
    branches = readable_branches(request, types, permission)
    return or_(*(condition for _path, condition in branches)) if branches else false()


@dataclass
class Query:
    portal_types: tuple = SEARCHABLE_TYPES
    review_states: tuple = ()
    path: str | None = None
    depth: int | None = None      # 1: children of ``path`` only
    sort_on: str = "modified"
    descending: bool = True
    b_start: int = 0
    b_size: int = 50


def scope_conditions(query, parent=None):
    """The conditions of ``query`` other than the permission filter."""
    conditions = []
    if query.review_states:
        conditions.append(Node.state.in_(query.review_states))
    if parent is not None and query.depth == 1:
        conditions.append(Node.parent_id == parent.id)
    elif query.path and query.path != "/":
        conditions.append(subtree(query.path))
    return conditions


def search_statement(request, query, parent=None):
    """The SELECT of the readable nodes matching ``query`` (no order, no limit)."""
    return [readable_filter(request, query.portal_types), *scope_conditions(query, parent)]


def capped_count_statement(request, query, parent=None):
    """SELECT min(number of readable nodes matching ``query``, MAX_EXACT_TOTAL + 1),
    or None when nothing can be readable.

    The work is bounded by the cap, whatever the size of the table: each grant branch
    is capped on its own, a range of the (type, path, state) index read without
    touching the table. One OR over several subtrees would be walked by no single
    index range, and PostgreSQL then scans the table until it has found the cap.
    The branches' paths (one per node) are united; UNION ALL when no grant path lies
    below another (the branches cannot overlap), UNION otherwise. When a branch
    reaches the cap, so does the union: the result stays exact up to the cap.
    The children of one folder are counted in one piece: the parent_id index
    bounds that work already, and each branch would read the same children again.
    """
    cap = MAX_EXACT_TOTAL + 1
    branches = readable_branches(request, query.portal_types)
    if not branches:
        return None
    scope = scope_conditions(query, parent)
    path_column = Node.__table__.c.path   # the table's column: no joins to the subtypes
    if len(branches) == 1 or (parent is not None and query.depth == 1):
        readable = or_(*(condition for _path, condition in branches))
        matches = select(path_column).where(readable, *scope).limit(cap).subquery()
    else:
        parts = [select(path_column).where(condition, *scope).limit(cap).subquery()
                 for _path, condition in branches]
        paths = sorted(path for path, _condition in branches)
        nested = any(b.startswith(a) for a, b in zip(paths, paths[1:]))
        combine = union if nested else union_all
        matches = select(combine(*(select(part.c.path) for part in parts))
                         .subquery().c.path).limit(cap).subquery()
    return select(func.count()).select_from(matches)


def search(request, query, parent=None):
    """(items, total, relation): one page of readable nodes and how many there are
    (exact up to MAX_EXACT_TOTAL, then ``gte``)."""
    conditions = search_statement(request, query, parent)
    # the table's own columns: selecting the entity would outer-join every subtype
    table = Node.__table__.c
    columns = (table.id, table.name, table.type, table.path, table.title, table.state,
               table.created, table.modified)
    sort = SORT_COLUMNS[query.sort_on]
    order = (sort.desc(), Node.id.desc()) if query.descending else (sort.asc(), Node.id.asc())
    page = request.dbsession.execute(
        select(*columns).where(*conditions).order_by(*order)
        .offset(query.b_start).limit(query.b_size)).all()
    if query.b_start == 0 and len(page) < query.b_size:
        return page, len(page), "eq"
    statement = capped_count_statement(request, query, parent)
    counted = request.dbsession.scalar(statement) if statement is not None else 0
    if counted > MAX_EXACT_TOTAL:
        return page, MAX_EXACT_TOTAL, "gte"
    return page, counted, "eq"
