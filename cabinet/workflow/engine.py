"""Firing transitions: permission, guards, an atomic state change, history, event."""
from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value
from zope.interface import implementer

from cabinet import audit, errors
from cabinet.interfaces import IAfterTransition, IClock
from cabinet.models import HistoryEntry, Node, User
from .guards import GUARDS


@implementer(IAfterTransition)
class AfterTransition:
    def __init__(self, object, request, workflow, transition, from_state, to_state,
                 history):
        self.object = object
        self.request = request
        self.workflow = workflow
        self.transition = transition
        self.from_state = from_state
        self.to_state = to_state
        self.history = history


def available_transitions(request, context):
    """Transitions the user could fire now (permission held; guards run on firing)."""
    workflow = request.workflows.for_node(context)
    return [t for t in workflow.transitions_from(context.state)
            if not t.automatic and request.has_permission(t.permission, context)]


def record_history(request, context, action, *, grant=None, transition=None,
                   from_state=None, to_state=None, comment="", details=None):
    """Write one history row: who acted, for whom (through which delegation)."""
    delegation = getattr(grant, "delegation", None)
    computed = getattr(grant, "computed", None)   # a computed role (a mandate)
    if computed is not None:
        details = {**(details or {}), "acting_for": computed.acting_for}
    identity = request.identity
    entry = HistoryEntry(
        node_id=context.id, when=request.registry.getUtility(IClock).now(),
        actor_id=identity.id if identity is not None else None,
        acting_for_id=delegation.professional.user_id if delegation is not None else None,
        delegation_id=delegation.id if delegation is not None else None,
        action=action, transition=transition, from_state=from_state, to_state=to_state,
        comment=comment or "", details=details)
    request.dbsession.add(entry)
    return entry


def fire(request, context, name, comment="", automatic=False):
    """Apply transition ``name`` to ``context`` or raise the HTTP error that says why not.

    The state is changed by one conditional UPDATE (``WHERE state = <source>``), so
    of two requests racing on one resource exactly one changes it; the other gets
    409 with the state it now has.
    """
    workflow = request.workflows.for_node(context)
    transition = workflow.transitions.get(name)
    if transition is None:
        raise errors.not_found(f"There is no transition '{name}' in workflow "
                               f"'{workflow.name}'.")
    current = context.state
    if transition.automatic and not automatic:
        raise errors.conflict(f"'{name}' happens automatically and cannot be fired.",
                              review_state=current)
    if current not in transition.sources:
        raise errors.conflict(f"'{name}' is not available in state '{current}'.",
                              review_state=current,
                              transitions=[t.name for t in available_transitions(request, context)])
    grant = None
    if not automatic:
        grant = request.has_permission(transition.permission, context)
        if not grant:
            raise errors.forbidden(f"You may not '{name}' this {context.portal_type}.")
    for guard_name in transition.guards:
        problem = GUARDS[guard_name](request, context, transition)
        if problem:
            raise errors.conflict(problem, review_state=current, guard=guard_name)

    now = request.registry.getUtility(IClock).now()
    result = request.dbsession.execute(
        update(Node).where(Node.id == context.id, Node.state == current)
        .values(state=transition.target, version=Node.version + 1, modified=now)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        state_now = request.dbsession.scalar(select(Node.state).where(Node.id == context.id))
        raise errors.conflict(f"Someone changed this {context.portal_type} meanwhile; "
                              f"it is now '{state_now}'.", review_state=state_now)
    set_committed_value(context, "state", transition.target)
    set_committed_value(context, "modified", now)
    set_committed_value(context, "version", (context.version or 0) + 1)
    entry = record_history(request, context, "transition", grant=grant,
                           transition=name, from_state=current,
                           to_state=transition.target, comment=comment)
    request.registry.notify(AfterTransition(context, request, workflow, name, current,
                                            transition.target, entry))
    audit.record(request, "transition", obj=context, committed_only=True,
                 acting_for=_acting_for_login(request, grant),
                 details={"transition": name, "from": current, "to": transition.target})
    return entry


def _acting_for_login(request, grant):
    """For the audit trail: the professional a secretary acted for, or how a
    computed role let the user act (a guardian for a minor, a mandate)."""
    delegation = getattr(grant, "delegation", None)
    if delegation is not None:
        user_id = delegation.professional.user_id
        user = request.dbsession.get(User, user_id) if user_id is not None else None
        return user.login if user is not None else delegation.professional.title
    computed = getattr(grant, "computed", None)
    acting = getattr(computed, "acting_for", None)
    if isinstance(acting, dict):
        return str(acting.get("type", ""))[:100]
    return ""
