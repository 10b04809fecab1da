"""Mandates (S4): a space (the mandant) lets another space (the provider) act for it
in one domain.

- The mandant's administrator creates a mandate naming the provider; Cabinet makes an
  activation code, shown once and stored as its SHA-256 only. One holder code per
  domain and mandant: a new mandate ends the mandant's previous one for that domain.
- The provider's administrator enters the code in the provider space; the transition
  ``activate`` is fired through the engine, its guard ``activation_code`` checks the
  code, the provider and the activation deadline. Failures count against a rate limit
  per provider space (scope ``mandate.activation``).
- While a mandate is in effect (``active`` and today not past its end date, whether
  or not the worker has expired it yet), the provider's members hold the computed
  local role ``mandatary`` on the mandant's space, and ``mandate_holder`` on that
  mandate alone (not on the mandant's mandates of other domains), for the mandate they
  chose to act under (kept in the session); what they do is recorded as "provider for
  mandant".
"""
import hashlib
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import String, bindparam, cast, literal, or_, select

from cabinet import errors
from cabinet.content import add_node
from cabinet.i18n import N_
from cabinet.identity import identity_fact
from cabinet.interfaces import IClock, IRateLimiter
from cabinet.locks import lock_node
from cabinet.models import GroupMember, LocalRole, Mandate, Space, User
from cabinet.security import ComputedRole
from cabinet.workflow import fire, record_history

#: the closed list of domains a mandate covers: name -> French title
DOMAINS = {
    "facturation": N_("Facturation"),
    "documents": N_("Documents"),
    "comptabilite": N_("Comptabilité"),
    "ressources-humaines": N_("Ressources humaines"),
    "declarations": N_("Déclarations"),
}

#: the roles that make a user a member of a space (cabinet.spaces / memberships)
SPACE_ROLES = ("space_admin", "space_manager", "space_member")

#: no 0/O, 1/I/L: codes are read on paper and typed again
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12
RATE_SCOPE = "mandate.activation"
SESSION_KEY = "cabinet.act_for_mandate"

WRONG_CODE = N_("Ce code d'activation n'est pas valable pour cet espace. Vérifiez-le "
                "et réessayez.")
USED_CODE = N_("Ce code d'activation a déjà été utilisé ou le mandat a pris fin.")
EXPIRED_CODE = N_("La date limite d'activation de ce code est dépassée : demandez un "
                  "nouveau code au mandant.")
THROTTLED = N_("Trop de codes erronés pour cet espace. Réessayez dans une heure.")
NO_CODE = N_("Un mandat s'active en saisissant son code d'activation dans l'espace du "
             "prestataire (@activate-mandate).")


# -- codes ----------------------------------------------------------------------------

def generate_code():
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def format_code(code):
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def normalize_code(raw):
    """The code as typed (any case, spaces or dashes) -> its canonical form, or None."""
    if not isinstance(raw, str):
        return None
    code = re.sub(r"[\s-]", "", raw).upper()
    if len(code) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in code):
        return None
    return code


def code_hash(code):
    return hashlib.sha256(code.encode("ascii")).hexdigest()


# -- the tree -------------------------------------------------------------------------

def mandant_of(mandate):
    """The space that gave the mandate (mandates live in <space>/mandates/)."""
    folder = mandate.__parent__
    return folder.__parent__ if folder is not None else None


def find_space(request, reference):
    """The space named by ``reference`` (its id, path or URL), by traversal, or None."""
    if not isinstance(reference, str) or not reference.strip():
        return None
    ref = reference.strip()
    if ref.startswith(request.application_url):
        ref = ref[len(request.application_url):]
    ref = ref.strip("/")
    if ref.startswith("spaces/"):
        ref = ref[len("spaces/"):]
    if not ref or "/" in ref:
        return None
    try:
        node = request.root["spaces"][ref]
    except KeyError:
        return None
    return node if isinstance(node, Space) else None


def today(request):
    return request.registry.getUtility(IClock).today()


# -- creating -------------------------------------------------------------------------

def check_new_mandate(request, mandant, values):
    """{field: message} for what is wrong with a new mandate, and the provider."""
    problems = {}
    provider = find_space(request, values.get("provider"))
    if provider is None:
        problems["provider"] = "Aucun espace professionnel ne porte cet identifiant."
    elif provider.id == mandant.id:
        problems["provider"] = "Un espace ne peut pas se donner un mandat à lui-même."
    now = today(request)
    deadline, end = values.get("activation_deadline"), values.get("end_date")
    if deadline is not None and deadline < now:
        problems["activation_deadline"] = "La date limite d'activation est déjà passée."
    if end is not None and deadline is not None and end <= deadline:
        problems["end_date"] = "La date de fin doit suivre la date limite d'activation."
    elif end is not None and end < now:
        problems["end_date"] = "La date de fin est déjà passée."
    return problems, provider


def create_mandate(request, folder, values):
    """Create the mandate in ``folder`` (<mandant>/mandates); return (mandate, code).

    The mandant's invited or active mandate for the same domain ends first
    (``revoke``, with the reason in its history).

    One live holder code per mandant and domain spans two tables (the state is in
    ``nodes``), so no unique index states it: the mandates folder's row is locked
    before the live mandates are read (cabinet.locks.lock_node). Of two creations for
    the same mandant and domain at once, the second waits for the first's commit, then
    finds its mandate and supersedes it: both answer 201, one code stays live."""
    mandant = folder.__parent__
    problems, provider = check_new_mandate(request, mandant, values)
    if problems:
        raise errors.unprocessable("Some fields are invalid.", errors=problems)
    code = generate_code()
    title = values.get("title") or (f"{DOMAINS[values['domain']]} — {provider.title}")
    lock_node(request.dbsession, folder.id)
    previous = list(request.dbsession.scalars(select(Mandate).where(
        Mandate.parent_id == folder.id, Mandate.domain == values["domain"],
        Mandate.state.in_(("invited", "active"))).order_by(Mandate.id)
        .execution_options(populate_existing=True)))
    mandate = add_node(request.dbsession, request.registry, folder, "Mandate",
                       title=title, owner=request.identity, provider_id=provider.id,
                       domain=values["domain"],
                       activation_deadline=values["activation_deadline"],
                       end_date=values["end_date"], code_hash=code_hash(code))
    for old in previous:
        old.__parent__ = folder
        fire(request, old, "revoke",
             comment=f"Remplacé par le mandat « {mandate.title} » ({mandate.name}) : "
                     f"un seul code titulaire actif par domaine.")
    grant = request.has_permission("mandate:add", folder)
    record_history(request, mandate, "create", grant=grant, to_state=mandate.state,
                   details={"provider": provider.title, "domain": mandate.domain,
                            "supersedes": [old.name for old in previous]})
    return mandate, code


# -- activating -----------------------------------------------------------------------

@dataclass
class PresentedCode:
    """What the provider space entered (set on the request for the guard)."""
    code: str
    provider: Space


def activation_problem(request, mandate):
    """The guard ``activation_code``: None when the code entered in the provider space
    is this mandate's and its activation deadline has not passed."""
    presented = getattr(request, "presented_mandate_code", None)
    if presented is None:
        return NO_CODE
    if mandate.code_hash is None or not secrets.compare_digest(
            code_hash(presented.code), mandate.code_hash):
        return WRONG_CODE
    if presented.provider.id != mandate.provider_id:
        return WRONG_CODE
    if mandate.activation_deadline is not None and today(request) > mandate.activation_deadline:
        return EXPIRED_CODE
    return None


def activate_with_code(request, provider, raw_code):
    """The provider space ``provider`` enters ``raw_code``: fire ``activate`` on its
    mandate, or raise 422 (wrong, expired) / 409 (used) / 429 (too many failures)."""
    limiter = request.registry.getUtility(IRateLimiter)
    key = f"space:{provider.id}"
    if not limiter.test(RATE_SCOPE, key):
        raise errors.too_many(THROTTLED)

    def failed(error):
        limiter.hit(RATE_SCOPE, key)
        return error

    code = normalize_code(raw_code)
    if code is None:
        raise failed(errors.unprocessable(
            N_("Le code d'activation compte 12 lettres et chiffres (par ex. ABCD-EFGH-JK23)."),
            errors={"code": N_("Le code d'activation compte 12 lettres et chiffres.")}))
    mandate = request.dbsession.scalar(select(Mandate).where(
        Mandate.code_hash == code_hash(code)))
    if mandate is None or mandate.provider_id != provider.id:
        raise failed(errors.unprocessable(WRONG_CODE, errors={"code": WRONG_CODE}))
    if mandate.state != "invited":
        raise failed(errors.conflict(USED_CODE, review_state=mandate.state,
                                     errors={"code": USED_CODE}))
    if mandate.activation_deadline is not None and today(request) > mandate.activation_deadline:
        raise failed(errors.unprocessable(EXPIRED_CODE, errors={"code": EXPIRED_CODE}))
    request.presented_mandate_code = PresentedCode(code, provider)
    try:
        fire(request, mandate, "activate",
             comment=f"Activé par l'espace prestataire « {provider.title} ».")
    finally:
        request.presented_mandate_code = None
    return mandate


# -- expiry (the worker) --------------------------------------------------------------

def expire_due(request):
    """Fire ``expire`` on every invited or active mandate past its end date; return
    how many ended. The worker calls this daily; security does not wait for it."""
    due = list(request.dbsession.scalars(select(Mandate).where(
        Mandate.state.in_(("invited", "active")), Mandate.end_date < today(request))
        .order_by(Mandate.id)))
    for mandate in due:
        fire(request, mandate, "expire", automatic=True,
             comment="Date de fin du mandat dépassée.")
    return len(due)


# -- acting for a mandant -------------------------------------------------------------

def mandates_in_effect(request):
    """The mandates in effect today given to a space the user is a member of (cached
    on the request): state ``active`` and today not past the end date."""
    cached = request.__dict__.get("_mandates_in_effect")
    if cached is not None:
        return cached
    result = []
    if identity_fact(request, "mandated", default=request.identity is not None):
        principals = [p for p in request.user_principals if p.startswith(("user:", "group:"))]
        member_of = select(LocalRole.node_id).where(
            LocalRole.principal.in_(principals), LocalRole.role.in_(SPACE_ROLES))
        result = [m for m in request.dbsession.scalars(select(Mandate).where(
            Mandate.state == "active", Mandate.end_date >= today(request),
            Mandate.provider_id.in_(member_of)).order_by(Mandate.id))
            if m.in_effect(today(request))]
    request.__dict__["_mandates_in_effect"] = result
    return result


def acting_mandate(request):
    """The mandate the user acts under: the one chosen (session) if still in effect,
    or the only one in effect."""
    available = mandates_in_effect(request)
    chosen = request.session.get(SESSION_KEY) if available else None
    for mandate in available:
        if mandate.id == chosen:
            return mandate
    return available[0] if len(available) == 1 else None


def provider_of(request, mandate):
    return request.dbsession.get(Space, mandate.provider_id)


def acting_for_info(request, mandate):
    mandant, provider = mandant_of(mandate), provider_of(request, mandate)
    return {"provider": provider.title, "mandant": mandant.title,
            "mandate": mandate.path.rstrip("/"), "domain": mandate.domain,
            "text": f"{provider.title} pour {mandant.title}"}


def mandate_roles(request):
    """Computed roles (cabinet.security) of the mandate the user acts under:
    ``mandatary`` on the mandant's space (its workflow gives ``space:view``) and
    ``mandate_holder`` on that mandate alone (``mandate:view`` while active).

    A mandate is given for one domain (the mandant defines its perimeter): what the
    provider may see is the mandant's space and its own mandate, never the mandant's
    other mandates (other domains, other providers, their dates). The spaces hold no
    domain-specific content yet; whatever gets added under a space for a domain must
    grant ``mandatary`` only where its domain is the mandate's (``mandate.domain``)."""
    mandate = acting_mandate(request)
    if mandate is None:
        return []
    mandant = mandant_of(mandate)
    acting_for = acting_for_info(request, mandate)
    return [ComputedRole(path=mandant.path, role="mandatary", source=mandate,
                         acting_for=acting_for),
            ComputedRole(path=mandate.path, role="mandate_holder", source=mandate,
                         acting_for=acting_for)]


def choose(request, reference):
    """Keep in the session the mandate the user acts under (its path or URL; empty:
    act for one's own space). Only a mandate in effect for the user is accepted."""
    if reference in (None, ""):
        request.session.pop(SESSION_KEY, None)
        return None
    if not isinstance(reference, str):
        raise errors.unprocessable("'mandate' must be the path of a mandate.",
                                   errors={"mandate": N_("Mandat inconnu.")})
    path = reference.strip()
    if path.startswith(request.application_url):
        path = path[len(request.application_url):]
    path = "/" + path.strip("/") + "/"
    for mandate in mandates_in_effect(request):
        if mandate.path == path:
            request.session[SESSION_KEY] = mandate.id
            return mandate
    raise errors.unprocessable(
        N_("Vous n'agissez sous aucun mandat en vigueur portant ce chemin."),
        errors={"mandate": N_("Aucun mandat en vigueur ne porte ce chemin.")})


def mandate_choices(request):
    """For the home page's selector: the mandate acted under and those available."""
    def item(mandate):
        return {"path": mandate.path.rstrip("/"), "mandant": mandant_of(mandate).title,
                "provider": provider_of(request, mandate).title,
                "domain": DOMAINS.get(mandate.domain, mandate.domain)}
    current = acting_mandate(request)
    return {"current": item(current) if current is not None else None,
            "available": [item(m) for m in mandates_in_effect(request)]}


def _mandated_fact(user_id, group_ids):
    """Whether a space the user is a member of (themselves or through a group) may
    have a mandate in effect (identity fact; mandates_in_effect() says which)."""
    groups = (select(literal("group:") + cast(GroupMember.group_id, String))
              .where(GroupMember.user_id == user_id).correlate(User))
    member_of = select(LocalRole.node_id).where(
        or_(LocalRole.principal == literal("user:") + cast(user_id, String),
            LocalRole.principal.in_(groups)),
        or_(*(LocalRole.role == role for role in SPACE_ROLES))).correlate(User)
    return select(Mandate.id).where(Mandate.state == "active",
                                    Mandate.end_date >= bindparam("today"),
                                    Mandate.provider_id.in_(member_of)).exists()


def includeme(config):
    config.add_identity_fact("mandated", _mandated_fact)
    sources = config.registry.setdefault("computed_role_sources", [])
    if mandate_roles not in sources:
        sources.append(mandate_roles)
    config.add_request_method(mandate_choices, "mandate_choices", reify=True)

