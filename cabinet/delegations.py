"""Secretaries acting for a professional (D1-D8): adding a delegation by matricule,
the invitation link, accounts created from it, group delegations, ending at a date,
and the per-cabinet report.

Every function that refuses something raises ``DelegationInvalid`` with the field and
a French message before anything is written; views turn it into a form error or JSON
422/409.
"""
import re
import secrets
from datetime import date, timedelta

import colander
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cabinet import formats
from cabinet.content import add_node
from cabinet.i18n import N_, language_of, translate
from cabinet.interfaces import IAfterTransition, IClock
from cabinet.locks import lock_node
from cabinet.mail import send_mail
from cabinet.matricule import InvalidMatricule, check_matricule
from cabinet.models import Delegation, Group, LocalRole, Professional, User
from cabinet.passwords import hash_password
from cabinet.registry import RegistryUnavailable, get_person_registry
from cabinet.security import token_hash
from cabinet.workflow import fire

INVITATION_DAYS = 7
LIVE_STATES = ("invited", "active")
LOGIN_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,99}$")
MIN_PASSWORD = 10

NOBODY = N_("Aucune personne ne porte ce matricule dans le registre national.")
DUPLICATE = N_("Cette personne a déjà une délégation invitée ou active pour ce "
               "professionnel : terminez-la ou annulez-la d'abord.")
LINK_INVALID = N_("Ce lien d'invitation n'est pas valable. "
                  "Demandez au professionnel de vous inviter à nouveau.")
LINK_USED = N_("Ce lien d'invitation a déjà été utilisé : le compte est créé, "
               "connectez-vous avec lui.")
LINK_CANCELLED = N_("Cette invitation a été annulée ou a pris fin. Demandez au "
                    "professionnel de vous inviter à nouveau.")
LINK_EXPIRED = N_("Ce lien d'invitation a expiré (il est valable 7 jours). "
                  "Demandez au professionnel de vous inviter à nouveau.")


class DelegationInvalid(Exception):
    """``errors``: field -> message; ``status``: 422 (bad input) or 409 (conflict)."""

    def __init__(self, errors, status=422):
        self.errors = errors
        self.status = status
        super().__init__("; ".join(errors.values()))

    @property
    def message(self):
        return " ".join(self.errors.values())


def today(request):
    return request.registry.getUtility(IClock).today()


# -- input -------------------------------------------------------------------------------

def lookup_person(request, raw):
    """(matricule, person) for what was typed, or DelegationInvalid on ``matricule``."""
    try:
        matricule = check_matricule(raw)
    except InvalidMatricule as error:
        raise DelegationInvalid({"matricule": error.message})
    try:
        person = get_person_registry(request).lookup(matricule)
    except RegistryUnavailable:
        raise DelegationInvalid({"matricule": RegistryUnavailable.message}, status=503)
    if person is None:
        raise DelegationInvalid({"matricule": NOBODY})
    return matricule, person


def _parse_date(value):
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise ValueError
    return date.fromisoformat(value.strip())


def _parse_bool(value):
    if isinstance(value, bool):
        return value
    if value in (None, "", "0", "false", "no", "non"):
        return False
    if value in ("1", "true", "yes", "oui", "on"):
        return True
    raise ValueError


def check_details(request, data, *, need_email=True):
    """Validated {email, start_date, end_date, can_sign} from form or JSON values."""
    errors = {}
    values = {}
    if need_email:
        email = data.get("email")
        email = email.strip() if isinstance(email, str) else ""
        if not email:
            errors["email"] = "L'adresse e-mail professionnelle est obligatoire."
        else:
            try:
                colander.Email()(colander.SchemaNode(colander.String()), email)
                if len(email) > 254:
                    raise colander.Invalid(None)
            except colander.Invalid:
                errors["email"] = "Cette adresse e-mail n'est pas valide."
        values["email"] = email
    start = data.get("start_date")
    if start in (None, ""):
        errors["start_date"] = "La date de début est obligatoire."
    else:
        try:
            start = _parse_date(start)
        except ValueError:
            errors["start_date"] = "Date de début invalide (AAAA-MM-JJ)."
        else:
            if start < today(request):
                errors["start_date"] = "La date de début ne peut pas être dans le passé."
    end = data.get("end_date")
    if end in (None, ""):
        end = None
    else:
        try:
            end = _parse_date(end)
        except ValueError:
            errors["end_date"] = "Date de fin invalide (AAAA-MM-JJ)."
        else:
            if isinstance(start, date) and end < start:
                errors["end_date"] = ("La date de fin ne peut pas précéder la date de "
                                      "début.")
    try:
        can_sign = _parse_bool(data.get("can_sign", False))
    except ValueError:
        errors["can_sign"] = "« Peut signer en mon nom » vaut oui ou non."
        can_sign = False
    if errors:
        raise DelegationInvalid(errors)
    values.update(start_date=start, end_date=end, can_sign=can_sign)
    return values


def live_delegation(session, professional, *, matricule=None, group_id=None):
    """An invited or active delegation of ``professional`` for that person or group.

    One live delegation per professional and person (or group) is a rule over two
    tables (the state is in ``nodes``), which no unique index can state. So the
    professional's row is locked first (cabinet.locks.lock_node: FOR UPDATE on
    PostgreSQL, the write lock on SQLite), in every path that adds a delegation: of two
    requests adding the same person at once, the second waits for the first's commit,
    then finds its delegation here and answers 409; never two live delegations."""
    lock_node(session, professional.id)
    stmt = (select(Delegation).execution_options(populate_existing=True)
            .where(Delegation.professional_id == professional.id,
                   Delegation.state.in_(LIVE_STATES)))
    if matricule is not None:
        stmt = stmt.where(Delegation.matricule == matricule)
    else:
        stmt = stmt.where(Delegation.delegate_group_id == group_id)
    return session.scalars(stmt).first()


# -- creating ------------------------------------------------------------------------------

def delegations_folder(professional):
    return professional["delegations"]


def _grant(session, node, principal, role="delegate"):
    session.add(LocalRole(node_id=node.id, principal=principal, role=role))
    session.flush()


#: the mails to the secretary, msgids written in their language (cabinet.i18n): the
#: account's when the person has one, else the professional's
ACTIVE_SUBJECT = N_("Vous agissez pour ${professional}")
ACTIVE_BODY = N_("Bonjour ${name},\n\n${professional} vous a désigné(e) comme secrétaire à "
                 "partir du ${date}.\nConnectez-vous : ${url}\n")
INVITATION_SUBJECT = N_("Invitation : secrétaire de ${professional}")
INVITATION_BODY = N_("Bonjour ${name},\n\n${professional} vous invite à agir comme secrétaire "
                     "en son nom à partir du ${date}.\n\nCréez votre compte avec ce lien "
                     "(valable ${days} jours, une seule fois) :\n${link}\n")


def create_delegation(request, professional, matricule, person, details):
    """Add the delegation; active at once when an account holds the matricule,
    otherwise invited with a mail carrying a single-use link. Returns the delegation."""
    session = request.dbsession
    if live_delegation(session, professional, matricule=matricule) is not None:
        raise DelegationInvalid({"matricule": DUPLICATE}, status=409)
    name = f"{person['first_name']} {person['last_name']}"
    account = session.scalar(select(User).where(User.matricule == matricule))
    delegation = add_node(
        session, request.registry, delegations_folder(professional), "Delegation",
        title=f"{name} pour {professional.title}", owner=request.identity,
        professional_id=professional.id, matricule=matricule, email=details["email"],
        delegate_name=name, start_date=details["start_date"],
        end_date=details["end_date"], can_sign=details["can_sign"])
    from cabinet.workflow import record_history
    record_history(request, delegation, "create", to_state=delegation.state)
    if account is not None:
        delegation.delegate_id = account.id
        _grant(session, delegation, account.principal)
        fire(request, delegation, "accept", automatic=True,
             comment="Activation immédiate : la personne a déjà un compte.")
        lang = language_of(request, account)
        mapping = {"name": name, "professional": professional.title,
                   "date": formats.date(lang, details["start_date"])}
        send_mail(request, details["email"],
                  translate(request, ACTIVE_SUBJECT, lang, **mapping),
                  translate(request, ACTIVE_BODY, lang, **mapping,
                            url=f"{request.application_url}/login"))
    else:
        token = invite(request, delegation)
        lang = language_of(request)
        mapping = {"name": name, "professional": professional.title,
                   "date": formats.date(lang, details["start_date"])}
        send_mail(request, details["email"],
                  translate(request, INVITATION_SUBJECT, lang, **mapping),
                  translate(request, INVITATION_BODY, lang, **mapping, days=INVITATION_DAYS,
                            link=f"{request.application_url}/@@invitation/{token}"))
    return delegation


def invite(request, delegation):
    token = secrets.token_urlsafe(32)
    delegation.invitation_hash = token_hash(token)
    delegation.invitation_expires = (request.registry.getUtility(IClock).now()
                                     + timedelta(days=INVITATION_DAYS))
    return token


def create_group_delegation(request, professional, group, details):
    """Every member of ``group``, including members added later, acts for
    ``professional``: active at once."""
    session = request.dbsession
    if live_delegation(session, professional, group_id=group.id) is not None:
        raise DelegationInvalid({"group": "Ce groupe a déjà une délégation invitée ou "
                                          "active pour ce professionnel."}, status=409)
    title = group.title or group.name
    delegation = add_node(
        session, request.registry, delegations_folder(professional), "Delegation",
        title=f"Groupe {title} pour {professional.title}", owner=request.identity,
        professional_id=professional.id, delegate_group_id=group.id,
        delegate_name=f"Groupe {title}", email="", start_date=details["start_date"],
        end_date=details["end_date"], can_sign=details["can_sign"])
    from cabinet.workflow import record_history
    record_history(request, delegation, "create", to_state=delegation.state)
    _grant(session, delegation, group.principal)
    fire(request, delegation, "accept", automatic=True,
         comment="Délégation de groupe : active pour chaque membre du groupe.")
    return delegation


# -- the invitation link ----------------------------------------------------------------------

def delegation_for_token(request, token):
    """The invited delegation of a link, or DelegationInvalid: unknown link 404, used
    409, cancelled or expired 410.

    The link's hash stays on the delegation after use, so that a used link is told
    apart from a wrong one. On POST the delegation's row is locked before its state is
    read (cabinet.locks.lock_node): of two requests using one link at once, the second
    waits for the first's commit, then finds the delegation active: "already used"
    (409), and creates nothing."""
    if not token or len(token) > 200:
        raise DelegationInvalid({"token": LINK_INVALID}, status=404)
    session = request.dbsession
    delegation_id = session.scalar(select(Delegation.id).where(
        Delegation.invitation_hash == token_hash(token)))
    if delegation_id is None:
        raise DelegationInvalid({"token": LINK_INVALID}, status=404)
    if request.method == "POST":
        lock_node(session, delegation_id)
    delegation = session.scalar(select(Delegation).where(Delegation.id == delegation_id)
                                .execution_options(populate_existing=True))
    if delegation.state != "invited":
        if delegation.delegate_id is not None:
            raise DelegationInvalid({"token": LINK_USED}, status=409)
        raise DelegationInvalid({"token": LINK_CANCELLED}, status=410)
    if delegation.invitation_expires <= request.registry.getUtility(IClock).now():
        raise DelegationInvalid({"token": LINK_EXPIRED}, status=410)
    return delegation


def accept_invitation(request, delegation, data):
    """Create the account named by the invitation and activate the delegation."""
    session = request.dbsession
    errors = {}
    login = (data.get("login") or "").strip().lower()
    fullname = (data.get("fullname") or "").strip()
    password, confirm = data.get("password") or "", data.get("password_confirm") or ""
    if not LOGIN_RE.match(login):
        errors["login"] = ("L'identifiant compte 3 à 100 caractères : lettres minuscules, "
                           "chiffres, « . », « - » ou « _ ».")
    elif session.scalar(select(User.id).where(User.login == login)) is not None:
        errors["login"] = "Cet identifiant est déjà pris : choisissez-en un autre."
    if not fullname or len(fullname) > 200:
        errors["fullname"] = "Le nom complet est obligatoire (200 caractères au plus)."
    if len(password) < MIN_PASSWORD:
        errors["password"] = (f"Le mot de passe doit compter au moins {MIN_PASSWORD} "
                              "caractères.")
    elif password != confirm:
        errors["password_confirm"] = "Les deux mots de passe ne sont pas identiques."
    if session.scalar(select(User.id).where(User.matricule == delegation.matricule)):
        errors["login"] = ("Un compte existe déjà pour cette personne : connectez-vous "
                           "avec lui.")
    if errors:
        raise DelegationInvalid(errors)
    user = User(login=login, fullname=fullname, email=delegation.email or None,
                password_hash=hash_password(password), matricule=delegation.matricule)
    try:
        # two different invitations accepted at the same instant with the same login
        # (or for the same person) pass the checks above together: the unique
        # indexes decide, and the loser gets the message rather than a 500
        with session.begin_nested():
            session.add(user)
            session.flush()
    except IntegrityError:
        if session.scalar(select(User.id).where(User.matricule == delegation.matricule)):
            raise DelegationInvalid({"login": "Un compte existe déjà pour cette personne : "
                                              "connectez-vous avec lui."}, status=409)
        raise DelegationInvalid({"login": "Cet identifiant est déjà pris : "
                                          "choisissez-en un autre."}, status=409)
    delegation.delegate_id = user.id       # single use: the link now says "used"
    _grant(session, delegation, user.principal)
    entry = fire(request, delegation, "accept", automatic=True,
                 comment="Compte créé depuis le lien d'invitation.")
    entry.actor_id = user.id
    return user


# -- ending -----------------------------------------------------------------------------------

def set_end_date(request, delegation, raw):
    """End an active delegation at a chosen date (today or later; not before its start).
    Ending today fires ``end``; a later date leaves it active until then."""
    try:
        end = _parse_date(raw)
    except (ValueError, TypeError):
        raise DelegationInvalid({"end_date": "Date de fin invalide (AAAA-MM-JJ)."})
    if end < today(request):
        raise DelegationInvalid({"end_date": "La date de fin ne peut pas être dans le "
                                             "passé."})
    if end < delegation.start_date:
        raise DelegationInvalid({"end_date": "La date de fin ne peut pas précéder la date "
                                             "de début."})
    from cabinet.workflow import record_history
    delegation.end_date = end
    grant = request.has_permission("delegation:end", delegation)
    record_history(request, delegation, "edit", grant=grant,
                   details={"fields": ["end_date"], "end_date": end.isoformat()})
    return delegation


# -- listing and report -----------------------------------------------------------------------

def delegation_rows(request, professional):
    session = request.dbsession
    delegations = list(session.scalars(
        select(Delegation).where(Delegation.professional_id == professional.id)
        .order_by(Delegation.start_date.desc(), Delegation.id.desc())))
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(
        {d.delegate_id for d in delegations if d.delegate_id})))} if delegations else {}
    groups = {g.id: g for g in session.scalars(select(Group).where(Group.id.in_(
        {d.delegate_group_id for d in delegations if d.delegate_group_id})))} \
        if delegations else {}
    now = today(request)
    rows = []
    for d in delegations:
        user = users.get(d.delegate_id)
        group = groups.get(d.delegate_group_id)
        state = d.state
        if state == "active" and d.end_date is not None and d.end_date < now:
            state = "ended"        # past its end date: grants nothing any more
        rows.append({"delegation": d, "state": state,
                     "person": d.delegate_name or (user.fullname if user else ""),
                     "login": user.login if user else None,
                     "group": (group.title or group.name) if group else None,
                     "members": [m.fullname or m.login for m in group.members] if group else [],
                     "email": d.email, "start_date": d.start_date,
                     "end_date": d.end_date, "can_sign": d.can_sign})
    return rows


def cabinet_professionals(request, cabinet):
    """Professionals whose account holds the ``professional`` role on ``cabinet``."""
    principals = select(LocalRole.principal).where(
        LocalRole.node_id == cabinet.id, LocalRole.role == "professional")
    user_ids = [int(p.split(":", 1)[1]) for p in request.dbsession.scalars(principals)
                if p.startswith("user:")]
    if not user_ids:
        return []
    return list(request.dbsession.scalars(
        select(Professional).where(Professional.user_id.in_(user_ids))
        .order_by(Professional.title)))


# -- ending by hand -------------------------------------------------------------------------

def date_the_end(event):
    """IAfterTransition: a delegation ended by hand (``end``) ends today, and its end
    date says so (it may have had none, or a later one)."""
    delegation = event.object
    if event.transition != "end" or not isinstance(delegation, Delegation):
        return
    ended = today(event.request)
    if delegation.end_date is None or delegation.end_date > ended:
        delegation.end_date = ended


def includeme(config):
    config.add_subscriber(date_the_end, IAfterTransition)
