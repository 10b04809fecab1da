"""Local roles of a resource: who holds what here and from above; grant and revoke."""
from sqlalchemy import delete, or_, select

from cabinet import errors
from cabinet.models import Group, LocalRole, User
from cabinet.roles import GRANTABLE_ROLES
from cabinet.security import forget_local_roles, lineage_roles, roles_on
from cabinet.workflow import record_history


def principal_names(session, principals):
    """principal -> (type, id, title) for ``user:<id>`` / ``group:<id>`` principals."""
    user_ids = {int(p[5:]) for p in principals if p.startswith("user:")}
    group_ids = {int(p[6:]) for p in principals if p.startswith("group:")}
    names = {}
    if user_ids:
        for user in session.scalars(select(User).where(User.id.in_(user_ids))):
            names[user.principal] = ("user", user.login, user.fullname or user.login)
    if group_ids:
        for group in session.scalars(select(Group).where(Group.id.in_(group_ids))):
            names[group.principal] = ("group", group.name, group.title or group.name)
    return names


def sharing_entries(request, context):
    """For every user and group with a local role on the lineage: roles here (True) or
    acquired (with the paths they come from). The rows that derive a role from another
    (``role:patient`` -> ``shared_patient`` on a shared document) are the document's
    sharing rules, set on its sharing settings, not here."""
    entries = {}
    for node, grants in lineage_roles(request, context):
        for principal, role in grants:
            if principal.startswith("role:"):
                continue    # a sharing rule (cabinet.document_sharing), not a person
            entry = entries.setdefault(principal, {"roles": {}, "acquired_from": {}})
            if node.id == context.id:
                entry["roles"][role] = True
            else:
                entry["roles"].setdefault(role, "acquired")
                entry["acquired_from"].setdefault(role, []).append(node.path)
    names = principal_names(request.dbsession, entries)
    result = []
    for principal, entry in entries.items():
        kind, ident, title = names.get(principal, ("user", principal, principal))
        roles = {role: entry["roles"].get(role, False) for role in GRANTABLE_ROLES}
        result.append({"id": ident, "type": kind, "title": title, "roles": roles,
                       "acquired_from": entry["acquired_from"]})
    result.sort(key=lambda e: (e["type"], e["title"].lower()))
    return result


def find_principals(session, term, limit=20):
    like = f"%{term.lower()}%"
    users = session.scalars(select(User).where(
        or_(User.login.like(like), User.fullname.ilike(like))).order_by(User.login)
        .limit(limit))
    groups = session.scalars(select(Group).where(
        or_(Group.name.like(like), Group.title.ilike(like))).order_by(Group.name)
        .limit(limit))
    return ([{"id": u.login, "type": "user", "title": u.fullname or u.login} for u in users]
            + [{"id": g.name, "type": "group", "title": g.title or g.name} for g in groups])


def resolve_principal(session, kind, ident):
    if kind == "user":
        user = session.scalar(select(User).where(User.login == ident))
        return user.principal if user else None
    if kind == "group":
        group = session.scalar(select(Group).where(Group.name == ident))
        return group.principal if group else None
    return None


def parse_changes(session, entries):
    """[(principal, role, grant?)] from a @sharing body, or 422 naming the problem."""
    if not isinstance(entries, list):
        raise errors.unprocessable("'entries' must be a list.")
    changes = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("roles"), dict):
            raise errors.unprocessable("Each entry needs 'id', 'type' and 'roles'.")
        kind, ident = entry.get("type", "user"), entry.get("id")
        principal = resolve_principal(session, kind, ident) if isinstance(ident, str) else None
        if principal is None:
            raise errors.unprocessable(f"Unknown {kind} '{ident}'.")
        for role, value in entry["roles"].items():
            if role not in GRANTABLE_ROLES:
                raise errors.unprocessable(f"Unknown role '{role}'.")
            if value == "acquired":
                continue
            if not isinstance(value, bool):
                raise errors.unprocessable(f"Role '{role}' must be true or false.")
            changes.append((principal, role, value))
    return changes


def apply_changes(request, context, changes):
    """Grant and revoke local roles on ``context``. Only roles the acting user holds
    here may be granted or revoked; each change is written to the history."""
    held = roles_on(request, context, request.user_principals)
    refused = sorted({role for _p, role, _g in changes if role not in held})
    if refused:
        raise errors.forbidden(f"You can only grant or revoke roles you hold here; "
                               f"you do not hold {', '.join(refused)}.")
    existing = {(p, r) for p, r in request.dbsession.execute(
        select(LocalRole.principal, LocalRole.role).where(LocalRole.node_id == context.id))}
    granted, revoked = [], []
    for principal, role, grant in changes:
        if grant and (principal, role) not in existing:
            request.dbsession.add(LocalRole(node_id=context.id, principal=principal,
                                            role=role))
            existing.add((principal, role))
            granted.append((principal, role))
        elif not grant and (principal, role) in existing:
            request.dbsession.execute(delete(LocalRole).where(
                LocalRole.node_id == context.id, LocalRole.principal == principal,
                LocalRole.role == role))
            existing.discard((principal, role))
            revoked.append((principal, role))
    if granted or revoked:
        request.dbsession.flush()
        forget_local_roles(request, [context.id])
        names = principal_names(request.dbsession, {p for p, _r in granted + revoked})
        label = lambda p: names.get(p, ("", p, p))[1]  # noqa: E731
        record_history(request, context, "sharing", grant=True, details={
            "granted": [{"principal": label(p), "role": r} for p, r in granted],
            "revoked": [{"principal": label(p), "role": r} for p, r in revoked]})
    return granted, revoked
