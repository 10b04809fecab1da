"""Professional spaces: members invited by certificate serial number, their roles, and
the rule that a space always keeps one active administrator (S1-S3).

A membership's role is also a local role of its user on the space (granted on accept,
changed with the role, revoked on removal), so that the space's workflow gives each
member the permissions of their role: ``space:enter`` and ``space:sign``.

The certificate a user presents comes from an ``ICertificateSource`` chosen in the
.ini file: in development, the serial number stored on the account (set by the demo
or ``set_certificate_serial``); in production, the header the TLS reverse proxy sets
after checking the client certificate (``cabinet.certificate_header``).
"""
import re

from pyramid.path import DottedNameResolver
from sqlalchemy import select, update
from zope.interface import Interface, implementer

from cabinet import errors
from cabinet.content import add_node, free_name
from cabinet.i18n import N_
from cabinet.interfaces import IAfterTransition, IClock
from cabinet.locks import lock_node
from cabinet.models import LocalRole, Membership, Node, User
from cabinet.security import forget_local_roles
from cabinet.workflow import record_history

#: the roles a member can hold, in the order the forms offer them
SPACE_ROLES = ("space_admin", "space_manager", "space_member")
ADMIN = "space_admin"

_SERIAL = re.compile(r"^[0-9]{20}$")


def certificate_problem(value):
    """None when ``value`` is a certificate serial number (exactly 20 digits), or the
    message saying what is wrong."""
    if value is None or value == "":
        return "Le numéro de certificat est obligatoire (20 chiffres)."
    if not isinstance(value, str):
        return "Le numéro de certificat s'écrit comme un texte de 20 chiffres."
    if not value.strip():
        return "Le numéro de certificat est obligatoire (20 chiffres)."
    value = value.strip()
    if not value.isascii() or not value.isdigit():
        return "Le numéro de certificat ne contient que des chiffres (20 chiffres)."
    if len(value) != 20:
        return (f"Le numéro de certificat compte exactement 20 chiffres, "
                f"pas {len(value)}.")
    return None


def role_problem(value):
    if value not in SPACE_ROLES:
        return ("Le rôle doit être l'un de : " + ", ".join(SPACE_ROLES) + ".")
    return None


# -- where the user's certificate comes from -----------------------------------------

class ICertificateSource(Interface):
    """The certificate serial number the user of a request presents."""

    def presented(request):
        """The 20-digit serial number, or None."""


@implementer(ICertificateSource)
class AccountCertificates:
    """Development: the serial number stored on the account (no TLS client
    certificate); any header a client sends is ignored."""

    def __init__(self, settings):
        pass

    def presented(self, request):
        user = request.identity
        return user.certificate_serial if user is not None else None


@implementer(ICertificateSource)
class ProxyHeaderCertificates:
    """Production: the serial number of the client certificate, in the header that the
    TLS reverse proxy sets (and strips from what clients send). The proxy's value is
    recorded on the account when an invitation is accepted with it."""

    def __init__(self, settings):
        self.header = (settings.get("cabinet.certificate_header") or "").strip()
        if not self.header:
            raise ValueError("cabinet.certificates = ProxyHeaderCertificates needs "
                             "cabinet.certificate_header (e.g. X-SSL-Client-Serial)")

    def presented(self, request):
        if request.identity is None:
            return None
        value = (request.headers.get(self.header) or "").strip()
        return value if certificate_problem(value) is None else None


def presented_certificate(request):
    source = request.registry.queryUtility(ICertificateSource)
    return source.presented(request) if source is not None else None


def set_certificate_serial(session, user, serial):
    """Give ``user`` a certificate serial number (development, demo, administrators).
    ``serial`` None removes it."""
    if serial is not None:
        problem = certificate_problem(serial)
        if problem:
            raise errors.unprocessable(problem, errors={"certificate_serial": problem})
        holder = session.scalar(select(User.id).where(User.certificate_serial == serial,
                                                      User.id != user.id))
        if holder is not None:
            taken = "Ce numéro de certificat appartient déjà à un autre compte."
            raise errors.conflict(taken, errors={"certificate_serial": taken})
    user.certificate_serial = serial


def administrators_set_certificates(registry):
    """Whether site administrators set the accounts' certificate numbers: only with
    the development source (the number stored on the account). In production the TLS
    proxy's header is the only source, and the pages that set numbers do not exist."""
    source = registry.queryUtility(ICertificateSource)
    if source is not None:
        return isinstance(source, AccountCertificates)
    factory = _certificate_source_factory(registry.settings or {})
    return isinstance(factory, type) and issubclass(factory, AccountCertificates)


def _certificate_source_factory(settings):
    return DottedNameResolver().maybe_resolve(
        settings.get("cabinet.certificates", "cabinet.spaces.AccountCertificates"))


NO_ACCOUNT = N_("Aucun compte ne porte cet identifiant.")


def assign_certificate(request, login, serial):
    """A site administrator gives the account ``login`` the certificate serial number
    ``serial`` (development; None or "" removes it). 422 naming the field for a bad
    login or number, 409 when another account holds the number. Recorded in the site's
    history with the old and new numbers. Returns the user.

    The site's row is locked first (cabinet.locks): two administrators giving one
    number to two accounts at once are serialised, the second gets 409 (rather than the
    unique index's error)."""
    session = request.dbsession
    login = login.strip().lower() if isinstance(login, str) else ""
    serial = serial.strip() if isinstance(serial, str) else serial
    if serial == "":
        serial = None
    problems = {}
    if serial is not None:
        problem = certificate_problem(serial)
        if problem:
            problems["certificate_serial"] = problem
    user = session.scalar(select(User).where(User.login == login)) if login else None
    if user is None:
        problems["login"] = NO_ACCOUNT if login else "L'identifiant du compte est obligatoire."
    if problems:
        raise errors.unprocessable("Some fields are invalid.", errors=problems)
    site = request.root
    lock_node(session, site.id)
    old = session.scalar(select(User.certificate_serial).where(User.id == user.id)
                         .execution_options(populate_existing=True))
    set_certificate_serial(session, user, serial)
    if old != serial:
        record_history(request, site, "certificate",
                       grant=request.has_permission("certificate:set", site),
                       details={"user": user.login, "from": old, "to": serial})
    session.flush()
    return user


# -- the members of a space -------------------------------------------------------------

def space_of(node):
    """The Space above a members folder or a membership."""
    for ancestor in node.lineage():
        if ancestor.portal_type == "Space":
            return ancestor
    return None


def is_members_folder(context):
    return (getattr(context, "portal_type", None) == "Folder"
            and getattr(context, "addable_type", None) == "Membership")


def lock_active_admins(session, members_folder_id):
    """The ids of the space's active administrator memberships, locked until the end
    of the transaction, so that two requests cannot each remove or demote one of the
    last two administrators: the second waits for the first, then counts again.

    PostgreSQL: SELECT ... FOR UPDATE on those rows (under READ COMMITTED, a waiting
    request re-reads the rows once the lock is free and no longer sees one that left
    the ``active`` state). SQLite has no row locks: a no-op UPDATE takes the database's
    write lock first, so writers queue here and count after the winner committed."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(update(Node).where(Node.id == members_folder_id)
                        .values(version=Node.version)
                        .execution_options(synchronize_session=False))
    return list(session.scalars(
        select(Membership.id).where(Membership.parent_id == members_folder_id,
                                    Membership.role == ADMIN,
                                    Membership.state == "active")
        .order_by(Membership.id).with_for_update()))


def last_admin_problem(request, membership):
    """The reason ``membership`` may not stop being an active administrator, or None."""
    if membership.role != ADMIN or membership.state != "active":
        return None
    others = [i for i in lock_active_admins(request.dbsession, membership.parent_id)
              if i != membership.id]
    if not others:
        return ("Un espace garde toujours au moins un administrateur actif : "
                "nommez-en un autre d'abord.")
    return None


def invite(request, folder, certificate, role):
    """S1: an invitation (membership in state ``invited``) for the holder of
    ``certificate`` with ``role``. Bad input: 422 naming the field; a pending or
    active membership for the same certificate: 409."""
    problems = {}
    certificate = certificate.strip() if isinstance(certificate, str) else certificate
    problem = certificate_problem(certificate)
    if problem:
        problems["certificate_serial"] = problem
    problem = role_problem(role)
    if problem:
        problems["role"] = problem
    if problems:
        raise errors.unprocessable("Some fields are invalid.", errors=problems)
    session = request.dbsession
    # of two invitations of one certificate at once, the second waits here for the
    # first's commit, then finds it: 409, never two (cabinet.locks)
    lock_node(session, folder.id)
    existing = session.scalar(select(Membership).where(
        Membership.parent_id == folder.id, Membership.certificate == certificate,
        Membership.state.in_(("invited", "active"))))
    if existing is not None:
        raise errors.conflict(
            N_("Ce certificat est déjà membre de l'espace ou invité (actif).")
            if existing.state == "active" else
            N_("Ce certificat est déjà membre de l'espace ou invité (invité)."),
            errors={"certificate_serial": N_("Déjà membre ou invité.")})
    membership = add_node(session, request.registry, folder, "Membership",
                          name=free_name(session, folder, certificate),
                          title=f"Invitation {certificate}", owner=request.identity,
                          certificate=certificate, role=role)
    grant = request.has_permission("membership:add", folder)
    record_history(request, membership, "create", grant=grant, to_state=membership.state,
                   details={"certificate": certificate, "role": role})
    return membership


def _grant(session, space, principal, role):
    exists = session.scalar(select(LocalRole.id).where(
        LocalRole.node_id == space.id, LocalRole.principal == principal,
        LocalRole.role == role))
    if not exists:
        session.add(LocalRole(node_id=space.id, principal=principal, role=role))


def _revoke(session, space, principal, role):
    for local in session.scalars(select(LocalRole).where(
            LocalRole.node_id == space.id, LocalRole.principal == principal,
            LocalRole.role == role)):
        session.delete(local)




def change_role(request, membership, role):
    """S3: give an invited or active member another role; the local role on the space
    follows. The last active administrator cannot be demoted (409)."""
    problem = role_problem(role)
    if problem:
        raise errors.unprocessable("Some fields are invalid.", errors={"role": problem})
    if membership.state not in ("invited", "active"):
        raise errors.conflict(N_("Ce membre a quitté l'espace ; son rôle ne change plus."),
                              review_state=membership.state)
    old = membership.role
    if old == role:
        return False
    if old == ADMIN:
        problem = last_admin_problem(request, membership)
        if problem:
            raise errors.conflict(problem, review_state=membership.state,
                                  reason="last_admin")
    grant = request.has_permission("membership:manage", membership)
    session = request.dbsession
    membership.role = role
    membership.version = (membership.version or 0) + 1
    membership.modified = request.registry.getUtility(IClock).now()
    if membership.state == "active" and membership.user_id is not None:
        space = space_of(membership)
        principal = f"user:{membership.user_id}"
        _revoke(session, space, principal, old)
        _grant(session, space, principal, role)
        forget_local_roles(request)
    record_history(request, membership, "edit", grant=grant,
                   details={"fields": ["role"], "from": old, "to": role})
    session.flush()
    return True


def after_membership_transition(event):
    """Keep the local role on the space in step with the membership."""
    membership = event.object
    if not isinstance(membership, Membership):
        return
    request = event.request
    session = request.dbsession
    space = space_of(membership)
    if event.transition == "accept":
        user = request.identity
        membership.user_id = user.id
        membership.title = user.fullname or user.login
        if user.certificate_serial != membership.certificate:
            # the proxy's header vouched for it: the account now carries it
            set_certificate_serial(session, user, membership.certificate)
        _grant(session, space, user.principal, membership.role)
    elif event.transition == "remove" and membership.user_id is not None:
        _revoke(session, space, f"user:{membership.user_id}", membership.role)
    forget_local_roles(request)
    session.flush()


def pending_invitations(request):
    """S2: the invitations naming the certificate the user presents, with their space."""
    certificate = presented_certificate(request)
    if not certificate:
        return []
    session = request.dbsession
    invitations = list(session.scalars(
        select(Membership).where(Membership.certificate == certificate,
                                 Membership.state == "invited")
        .order_by(Membership.created, Membership.id).limit(100)))
    space_paths = {m.path.rsplit("/", 3)[0] + "/" for m in invitations}
    titles = dict(session.execute(select(Node.path, Node.title)
                                  .where(Node.path.in_(space_paths))).all())
    return [{"membership": m, "space_path": m.path.rsplit("/", 3)[0] + "/",
             "space_title": titles.get(m.path.rsplit("/", 3)[0] + "/", "")}
            for m in invitations]


def member_rows(request, folder, rows):
    """The members of one listing page (rows of cabinet.search) with their users."""
    ids = [row.id for row in rows]
    if not ids:
        return []
    session = request.dbsession
    memberships = {m.id: m for m in session.scalars(
        select(Membership).where(Membership.id.in_(ids)))}
    user_ids = {m.user_id for m in memberships.values() if m.user_id is not None}
    users = {u.id: u for u in session.scalars(
        select(User).where(User.id.in_(user_ids)))} if user_ids else {}
    result = []
    for row_id in ids:
        membership = memberships[row_id]
        membership.__parent__ = folder
        result.append({"membership": membership, "user": users.get(membership.user_id)})
    return result


def includeme(config):
    settings = config.get_settings()
    factory = _certificate_source_factory(settings)
    config.registry.registerUtility(factory(settings), ICertificateSource)
    config.add_subscriber(after_membership_transition, IAfterTransition)
