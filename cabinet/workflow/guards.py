"""Named guard predicates. A guard returns None when the transition may pass, or a
message saying why not. Workflows name guards; unknown names stop start-up."""
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
    """The answers stored satisfy every rule of the response's template version
    (cabinet.questionnaire_responses.answers_problem: 422 naming each question)."""
    if getattr(context, "template_version_id", None) is not None:
        from cabinet.questionnaire_responses import answers_problem
        return answers_problem(request, context)
    if not getattr(context, "answers", None):
        return "The questionnaire has no answers yet."
    return None

@guard
def comment_given(request, context, transition):
    """The request carries a non-empty ``comment`` (JSON body or form field): sending
    a questionnaire back tells the patient why. 422 naming the field."""
    from cabinet import errors
    if (request.content_type or "").startswith("application/json"):
        from cabinet.views.base import json_body
        comment = json_body(request).get("comment")
    else:
        comment = request.POST.get("comment")
    if not isinstance(comment, str) or not comment.strip():
        message = "Un commentaire est requis : il dit au patient ce qu'il doit corriger."
        raise errors.unprocessable(message, errors={"comment": message})
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
    """The accepting user presents the certificate the invitation names (the account's
    serial number, or the TLS proxy's header in production: cabinet.spaces)."""
    from cabinet.spaces import presented_certificate
    presented = presented_certificate(request)
    if not presented:
        return ("Votre compte n'a pas de numéro de certificat : seule la personne dont "
                "le certificat est nommé dans l'invitation peut l'accepter.")
    if presented != getattr(context, "certificate", None):
        return ("Cette invitation est adressée à un autre numéro de certificat que le "
                "vôtre : elle ne peut être acceptée qu'avec le certificat qu'elle nomme.")
    return None

@guard
def activation_code(request, context, transition):
    """The provider space entered this mandate's code before its activation deadline
    (cabinet.mandates.activation_problem)."""
    from cabinet.mandates import activation_problem
    return activation_problem(request, context)

@guard
def not_last_admin(request, context, transition):
    """A space keeps one active administrator; the space's administrator memberships
    are locked while counting (cabinet.spaces.lock_active_admins)."""
    from cabinet.spaces import last_admin_problem
    return last_admin_problem(request, context)
