"""``GET /@registry/<matricule>``: who holds a matricule in the national person registry.

The answer is personal data: only users holding the ``professional`` or
``administrator`` role somewhere (themselves or through a delegation in effect) may
ask, and look-ups are rate-limited per user (scope ``registry.lookup``)."""
from pyramid import httpexceptions as exc

from cabinet import errors
from cabinet.i18n import N_
from cabinet.interfaces import IRateLimiter, ISite
from cabinet.matricule import InvalidMatricule, check_matricule
from cabinet.registry import RegistryUnavailable, get_person_registry
from cabinet.security import holds_role_anywhere
from .base import isoformat

LOOKUP_ROLES = ("professional", "administrator")
RATE_SCOPE = "registry.lookup"

NOT_ALLOWED = N_("Seuls les professionnels de santé et les administrateurs d'un cabinet "
                 "peuvent consulter le registre national des personnes.")
THROTTLED = N_("Trop de consultations du registre national. Réessayez plus tard.")
NOBODY = N_("Aucune personne ne porte ce matricule dans le registre national.")


def person_json(person):
    return {key: isoformat(value) for key, value in person.items()}


def registry_lookup(context, request):
    request.response.headers["Cache-Control"] = "no-store, private"
    if not holds_role_anywhere(request, LOOKUP_ROLES):
        raise errors.forbidden(NOT_ALLOWED)
    limiter = request.registry.getUtility(IRateLimiter)
    if not limiter.hit(RATE_SCOPE, f"user:{request.identity.id}"):
        raise errors.too_many(THROTTLED)
    try:
        matricule = check_matricule("/".join(request.subpath))
    except InvalidMatricule as error:
        raise errors.unprocessable(error.message, part=error.part)
    try:
        person = get_person_registry(request).lookup(matricule)
    except RegistryUnavailable:
        raise errors._error(exc.HTTPServiceUnavailable, RegistryUnavailable.message,
                            "RegistryUnavailable")
    if person is None:
        raise errors.not_found(NOBODY)
    return person_json(person)


def includeme(config):
    config.add_view(registry_lookup, context=ISite, name="@registry", request_method="GET",
                    renderer="json", permission="site:view")
