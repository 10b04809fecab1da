"""Why may a user do something here? The same evaluation as the security policy,
reported with the ACL entry (workflow state) and the local role (where granted,
to whom, through which delegation) behind each answer."""
from pyramid.authorization import ACLHelper, Authenticated

from cabinet.interfaces import IClock
from cabinet.roles import DERIVED_ROLES
from cabinet.security import (
    acting_for_list, base_principals, delegation_covers, derived_roles, lineage_roles,
)

_helper = ACLHelper()


def _permissions_in_acls(context):
    perms = set()
    for node in _lineage(context):
        for _action, _principal, permissions in node.__acl__:
            perms.update(permissions if not isinstance(permissions, str) else [permissions])
    return sorted(perms)


def _lineage(node):
    while node is not None:
        yield node
        node = node.__parent__


def _role_sources(request, context, principals, names):
    """role -> [{"path", "principal"}] for the local roles behind ``principals``."""
    sources = {}
    for node, grants in lineage_roles(request, context):
        for principal, role in grants:
            if principal in principals:
                sources.setdefault(role, []).append(
                    {"path": node.path, "principal": names.get(principal, principal)})
    # a document shared with the patient / guardians / correspondents: their role's
    # grants, then the document's sharing row (cabinet.document_sharing)
    for role in derived_roles(request, context, set(sources)):
        sources[role] = sources[DERIVED_ROLES[role]] + [
            {"path": context.path, "principal": f"role:{DERIVED_ROLES[role]}"}]
    return sources


def _reason(allowed, sources):
    location = allowed.context
    action, principal, _perms = allowed.ace
    reason = {"workflow": location.workflow_name, "review_state": location.state,
              "on": location.path}
    if principal == Authenticated:
        reason["role"] = "authenticated"
        reason["granted"] = [{"path": "/", "principal": "every signed-in user"}]
    elif principal.startswith("role:"):
        role = principal[5:]
        reason["role"] = role
        reason["granted"] = sources.get(role, [])
    else:
        reason["principal"] = principal
    return reason


def explain(request, context, user, names):
    """[{permission, allowed, reason}] for ``user`` on ``context``; ``names`` maps
    principals to readable names."""
    principals = base_principals(user)
    own_roles = _role_sources(request, context, principals, names)
    own = principals | {f"role:{r}" for r in own_roles} if user is not None else principals
    today = request.registry.getUtility(IClock).today()
    delegated = []
    if user is not None:
        for acting in acting_for_list(request.dbsession, user, today):
            sources = _role_sources(request, context, acting.principals, names)
            delegated.append((acting, acting.principals | {f"role:{r}" for r in sources},
                              sources))
    result = []
    for permission in _permissions_in_acls(context):
        allowed = _helper.permits(context, own, permission)
        entry = {"permission": permission, "allowed": bool(allowed)}
        if allowed:
            entry["reason"] = _reason(allowed, own_roles)
        else:
            for acting, acting_principals, sources in delegated:
                through = _helper.permits(context, acting_principals, permission)
                if through and delegation_covers(acting.delegation, permission):
                    entry["allowed"] = True
                    entry["reason"] = _reason(through, sources)
                    entry["reason"]["delegation"] = {
                        "path": acting.delegation.path,
                        "professional": acting.delegation.professional.title,
                        "can_sign": acting.delegation.can_sign}
                    break
                if through:
                    entry["reason"] = {"denied_by_scope": acting.delegation.path}
        result.append(entry)
    return result
