"""Named guard predicates. A guard returns None when the transition may pass, or a
message saying why not. Workflows name guards; unknown names stop start-up."""
from sqlalchemy import func, select

from cabinet.interfaces import IClock

GUARDS = {}

def guard(func_):
    GUARDS[func_.__name__] = func_
    return func_

@guard
def signature_required(request, context, transition):
    if not getattr(context, "needs_signature", False):
        return "This document is shared without signature; it cannot be signed."
    return None

@guard
def one_time_code(request, context, transition):
    verifier = request.registry.get("one_time_codes")
    if verifier is None:
        return "Signing needs a one-time code, and no code service is configured."
    return verifier.verify(request, context, purpose=transition.name)

@guard
def answers_complete(request, context, transition):
    if not getattr(context, "answers", None):
        return "The questionnaire has no answers yet."
    return None

@guard
def past_end_date(request, context, transition):
    end = getattr(context, "end_date", None)
    today = request.registry.getUtility(IClock).today()
    if end is None or today <= end:
        return "The end date has not passed."
    return None

@guard
def matching_certificate(request, context, transition):
    presented = getattr(request, "presented_certificate", None)
    if not presented or presented != getattr(context, "certificate", None):
        return "This invitation can only be accepted with the certificate it names."
    return None

@guard
def activation_code(request, context, transition):
    checker = request.registry.get("mandate_codes")
    if checker is None:
        return "This mandate needs its activation code."
    return checker.verify(request, context)

@guard
def not_last_admin(request, context, transition):
    from cabinet.models import Membership
    if context.role != "space_admin" or context.state != "active":
        return None
    others = request.dbsession.scalar(
        select(func.count()).select_from(Membership).where(
            Membership.parent_id == context.parent_id, Membership.id != context.id,
            Membership.role == "space_admin", Membership.state == "active"))
    if not others:
        return "A space keeps at least one active administrator."
    return None
