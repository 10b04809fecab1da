"""The security policy: who the user is, which principals they hold on a context,
and whether the context's ACL (from its workflow state) grants a permission.

Principals on a context: ``system.Everyone``, ``system.Authenticated``, ``user:<id>``,
``group:<id>``, and ``role:<role>`` for every local role granted to one of those on the
context or any of its parents, plus the roles a node gives on itself to the holders
of another role (cabinet.roles.DERIVED_ROLES: a document shared with the patient of
its record, cabinet.document_sharing). A user with a delegation in effect from
professional P is also checked with P's principals (P's local roles on the same
lineage), except for the permissions the delegation's scope does not cover.
"""
import hashlib
from datetime import datetime, timedelta
from dataclasses import dataclass

from pyramid.authorization import ACLAllowed, ACLHelper, Authenticated, Everyone
from sqlalchemy import and_, bindparam, literal, or_, select
from sqlalchemy.orm import object_session

from cabinet.i18n import keep_choice_at_login
from cabinet.identity import identity_fact, load_identity
from cabinet.interfaces import IClock
from cabinet.models import Delegation, GroupMember, LocalRole, Node, User, joined_text
from cabinet.roles import DERIVED_ROLES, NEVER_DELEGATED, SIGNING_PERMISSIONS

SESSION_USER = "auth.userid"
#: when the session ends, whatever the activity (ISO time of the clock)
SESSION_UNTIL = "auth.until"
#: the user's session generation when the session began (User.session_generation)
SESSION_GENERATION = "auth.generation"


def token_hash(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class AllowedThrough(ACLAllowed):
    """Allowed not by the user's own roles but through a delegation in effect
    (``delegation``) or a computed local role (``computed``, e.g. a mandate); the
    workflow history records which, as "S for P"."""
    delegation = None
    computed = None

    def __new__(cls, allowed, delegation=None, computed=None):
        inst = ACLAllowed.__new__(cls, ace=allowed.ace, acl=allowed.acl,
                                  permission=allowed.permission,
                                  principals=allowed.principals, context=allowed.context)
        inst.delegation = delegation
        inst.computed = computed
        return inst

    def __init__(self, allowed, delegation=None, computed=None):
        pass


def delegation_covers(delegation, permission):
    if permission in NEVER_DELEGATED:
        return False
    if permission in SIGNING_PERMISSIONS and not delegation.can_sign:
        return False
    return True


@dataclass(frozen=True)
class ComputedRole:
    """A local role held by rule rather than by a row of ``local_roles``: ``role`` on
    the node at ``path`` and below (a mandate in effect gives its provider's members
    ``mandatary`` on the mandant's space). ``acting_for`` goes into the history of
    what is done through it. Sources register in the registry under
    ``computed_role_sources`` (callables request -> [ComputedRole])."""
    path: str
    role: str
    source: object
    acting_for: dict


def computed_roles(request):
    """The user's computed local roles (cached on the request)."""
    if request.identity is None:
        return []
    return [role for source in request.registry.get("computed_role_sources", ())
            for role in source(request)]


def computed_roles_on(request, context):
    path = getattr(context, "path", None)
    if path is None:
        return []
    return [c for c in request.computed_roles if path.startswith(c.path)]


@dataclass
class ActingFor:
    """A delegation in effect and the professional's own principals."""
    delegation: Delegation
    principals: frozenset


class SecurityPolicy:
    helper = ACLHelper()

    # -- identity ----------------------------------------------------------------------

    def identity(self, request):
        return request.authenticated_user

    def authenticated_userid(self, request):
        user = request.identity
        return str(user.id) if user is not None else None

    def remember(self, request, userid, lifetime=None, **kw):
        """A new session for ``userid``, which ends ``lifetime`` seconds after this
        login however active it stays (default ``cabinet.session_lifetime``, 8 hours;
        patients' logins pass their own, an hour). The idle timeout is the session
        cookie's own (``cabinet.session_timeout``, 20 minutes)."""
        if lifetime is None:
            lifetime = int(request.registry.settings.get("cabinet.session_lifetime",
                                                         8 * 3600))
        now = request.registry.getUtility(IClock).now()
        user = request.dbsession.get(User, int(userid))
        keep_choice_at_login(request, user)   # the language chosen before (A4)
        request.session.invalidate()          # a new session at login
        request.session[SESSION_USER] = int(userid)
        request.session[SESSION_GENERATION] = user.session_generation or 0
        request.session[SESSION_UNTIL] = (now + timedelta(seconds=lifetime)).isoformat()
        request.session.new_csrf_token()
        return []

    def forget(self, request, **kw):
        """Log out: this session, and every copy of every cookie of this user's
        sessions (the user's session generation moves on)."""
        user = request.identity if not uses_bearer_token(request) else None
        if user is not None:
            user.session_generation = (user.session_generation or 0) + 1
        request.session.invalidate()
        return []

    # -- permissions ---------------------------------------------------------------------

    def permits(self, request, context, permission):
        result = self.helper.permits(context, principals_on(request, context), permission)
        if result or request.identity is None:
            return result
        for acting in acting_for(request):
            if not delegation_covers(acting.delegation, permission):
                continue
            allowed = self.helper.permits(
                context, principals_on(request, context, acting.principals), permission)
            if allowed:
                return AllowedThrough(allowed, delegation=acting.delegation)
        for computed in computed_roles_on(request, context):
            # a computed role also gives the roles derived from it here (a guardian by
            # rule holds shared_guardian on the documents shared with guardians)
            held = {computed.role} | derived_roles(request, context, {computed.role})
            allowed = self.helper.permits(
                context, principals_on(request, context) | {f"role:{r}" for r in held},
                permission)
            if allowed:
                return AllowedThrough(allowed, computed=computed)
        return result


# -- request-level helpers (each one query at most, cached on the request) ------------

def authenticated_user(request):
    """The user of a bearer token (Authorization header) or of the session cookie,
    with the identity facts (cabinet.identity): one query."""
    auth = request.authorization
    if auth is not None:
        if auth.authtype.lower() != "bearer" or not isinstance(auth.params, str):
            return None
        return load_identity(request, token_hash=token_hash(auth.params))
    userid = request.session.get(SESSION_USER)
    if not isinstance(userid, int):
        return None
    if not _within_lifetime(request):
        request.session.invalidate()          # past the session's absolute lifetime
        return None
    user = load_identity(request, user_id=userid)
    if user is None or request.session.get(SESSION_GENERATION) != (user.session_generation or 0):
        return None                           # logged out since (elsewhere too)
    return user


def _within_lifetime(request):
    try:
        until = datetime.fromisoformat(request.session.get(SESSION_UNTIL))
    except (TypeError, ValueError):
        return False
    return request.registry.getUtility(IClock).now() < until


def uses_bearer_token(request):
    return request.authorization is not None


_GROUP_IDS = select(GroupMember.group_id).where(GroupMember.user_id == bindparam("user_id"))


def group_ids(user):
    """Ids of the user's groups: one prepared query, remembered on the user object
    for the rest of its session."""
    cached = user.__dict__.get("_group_ids")
    if cached is None:
        cached = user.__dict__["_group_ids"] = tuple(
            object_session(user).scalars(_GROUP_IDS, {"user_id": user.id}))
    return cached


def base_principals(user):
    """The principals a user holds everywhere (before local roles)."""
    if user is None:
        return frozenset({Everyone})
    return frozenset({Everyone, Authenticated, user.principal,
                      *(f"group:{group_id}" for group_id in group_ids(user))})


def user_principals(request):
    return base_principals(request.identity)


def local_roles_column():
    """A column for a query of nodes: the local roles granted on each node, as text
    that remember_local_roles() reads (principals and roles are identifiers, never
    holding a tab or a newline)."""
    return (select(joined_text(LocalRole.principal + literal("\t") + LocalRole.role, "\n"))
            .where(LocalRole.node_id == Node.id).correlate(Node).scalar_subquery())


def remember_local_roles(request, node_id, text):
    """Cache the local roles of ``node_id`` read by a query with local_roles_column()."""
    cache = request.__dict__.setdefault("_local_roles", {})
    cache[node_id] = [tuple(line.split("\t", 1)) for line in text.split("\n")] if text else []


def forget_local_roles(request, node_ids=None):
    """After local roles were written in this request: forget what the request cached
    about them (of ``node_ids``, or of every node), and every principals_on() answer,
    so that the next permission check reads them again."""
    if request is None:
        return
    request.__dict__.pop("_principals_on", None)
    if node_ids is None:
        request.__dict__.pop("_local_roles", None)
        return
    cache = request.__dict__.get("_local_roles")
    if cache:
        for node_id in node_ids:
            cache.pop(node_id, None)


def lineage_roles(request, context):
    """[(node, [(principal, role), ...]), ...] from ``context`` up to the root.

    The local roles of every ancestor not seen yet in this request are read in one
    query and cached on the request."""
    cache = request.__dict__.setdefault("_local_roles", {})
    lineage = [node for node in _lineage(context) if getattr(node, "id", None) is not None]
    missing = [node.id for node in lineage if node.id not in cache]
    if missing:
        for node_id in missing:
            cache[node_id] = []
        rows = request.dbsession.execute(
            select(LocalRole.node_id, LocalRole.principal, LocalRole.role)
            .where(LocalRole.node_id.in_(missing)))
        for node_id, principal, role in rows:
            cache[node_id].append((principal, role))
    return [(node, cache[node.id]) for node in lineage]


def _lineage(context):
    node = context
    while node is not None:
        yield node
        node = getattr(node, "__parent__", None)


def roles_on(request, context, principals):
    return {role for _node, grants in lineage_roles(request, context)
            for principal, role in grants if principal in principals}


def principals_on(request, context, principals=None):
    """``principals`` (default: the user's) plus ``role:<r>`` for the local roles they
    hold on ``context`` through its lineage."""
    if principals is None:
        principals = request.user_principals
    if len(principals) == 1:        # anonymous: no local roles to look up
        return principals
    # a page asks for many permissions on one context (the view's, each transition's,
    # each action's): the answer is computed once per request (forget_local_roles)
    memo = request.__dict__.setdefault("_principals_on", {})
    key = (id(context), principals)
    found = memo.get(key)
    if found is None or found[0] is not context:
        roles = roles_on(request, context, principals)
        roles |= derived_roles(request, context, roles)
        found = memo[key] = (context, principals | {f"role:{role}" for role in roles})
    return found[1]


def derived_roles(request, context, roles):
    """The roles that rows ``(context, "role:<source>", role)`` give on ``context``
    itself to a holder of ``roles`` (cabinet.roles.DERIVED_ROLES; e.g. the patient of
    a record holds ``shared_patient`` on the documents shared with the patient)."""
    if not roles or getattr(context, "id", None) is None:
        return set()
    grants = next((grants for node, grants in lineage_roles(request, context)
                   if node is context), ())
    return {role for principal, role in grants
            if principal.startswith("role:") and DERIVED_ROLES.get(role) == principal[5:]
            and principal[5:] in roles}


def active_delegations(session, user, today):
    """Delegations in effect for ``user`` today: state ``active`` and today within
    the dates. A delegation past its end date grants nothing even if the worker has
    not expired it yet."""
    if user is None:
        return []
    # a delegation held by a group counts for each of its members, present or future
    groups = group_ids(user)
    holder = Delegation.delegate_id == user.id
    if groups:
        holder = or_(holder, Delegation.delegate_group_id.in_(groups))
    return list(session.scalars(select(Delegation).where(holder, _in_effect(today))
                                .order_by(Delegation.id)))


def acting_for_list(session, user, today):
    delegations = [d for d in active_delegations(session, user, today)
                   if d.professional is not None and d.professional.user_id is not None]
    if not delegations:
        return []
    pro_ids = {d.professional.user_id for d in delegations}
    # a professional whose account is deactivated delegates nothing any more
    pro_ids = set(session.scalars(select(User.id).where(User.id.in_(pro_ids),
                                                        User.active.is_(True))))
    delegations = [d for d in delegations if d.professional.user_id in pro_ids]
    groups = {}
    for user_id, group_id in session.execute(
            select(GroupMember.user_id, GroupMember.group_id)
            .where(GroupMember.user_id.in_(pro_ids))):
        groups.setdefault(user_id, set()).add(f"group:{group_id}")
    return [ActingFor(d, frozenset({Everyone, Authenticated, f"user:{d.professional.user_id}",
                                    *groups.get(d.professional.user_id, ())}))
            for d in delegations]


def acting_for(request):
    return request.acting_for


def _acting_for(request):
    if not identity_fact(request, "delegating"):
        return []
    return acting_for_list(request.dbsession, request.identity,
                           request.registry.getUtility(IClock).today())


def _in_effect(today):
    return and_(Delegation.state == "active", Delegation.start_date <= today,
                or_(Delegation.end_date.is_(None), Delegation.end_date >= today))


def _delegating_fact(user_id, group_ids):
    """Whether the user may hold a delegation in effect today (theirs or a group's)."""
    return select(Delegation.id).where(
        or_(Delegation.delegate_id == user_id, Delegation.delegate_group_id.in_(group_ids)),
        _in_effect(bindparam("today"))).exists()


def holds_role_anywhere(request, roles):
    """True when the signed-in user holds one of ``roles`` as a local role somewhere,
    themselves, through a group, or through a delegation in effect (the
    professional's roles; cabinet.search.user_grants)."""
    if request.identity is None:
        return False
    from cabinet.search import user_grants   # cabinet.search imports this module
    wanted = set(roles)
    return any(wanted & granted for granted in user_grants(request).values())


def includeme(config):
    config.include("cabinet.identity")
    config.add_identity_fact("delegating", _delegating_fact)
    config.set_security_policy(SecurityPolicy())
    config.add_request_method(authenticated_user, reify=True)
    config.add_request_method(user_principals, reify=True)
    config.add_request_method(computed_roles, reify=True)
    config.add_request_method(_acting_for, "acting_for", reify=True)
