"""Terms of use (A2): the current version, acceptances, publishing, and the one
mechanism that keeps a signed-in user who has not accepted the current version out
of everything but logging in and out, the terms themselves, static files and the
API description.

The check is a ``ContextFound`` subscriber: it runs for every request after traversal
(inside the request's transaction, pyramid_tm being a tween around the router) and
before the view's own permission check. It costs no query of its own: whether the
user has a published version left to accept is an identity fact (cabinet.identity),
read with the user; only then is ``request.terms_status`` (the current version joined
to the user's acceptance of it) read. Anonymous requests and exempt views cost nothing.
When no version has been published there is nothing to accept.
"""
import re
from dataclasses import dataclass
from datetime import datetime

from pyramid.events import ContextFound
from sqlalchemy import and_, exists, func, select
from sqlalchemy.exc import IntegrityError

from cabinet import errors
from cabinet.i18n import N_
from cabinet.identity import identity_fact
from cabinet.interfaces import IClock, ISite
from cabinet.models import TermsAcceptance, TermsVersion, User

#: view name on the root -> methods it answers without accepted terms (None: all)
EXEMPT_VIEWS = {
    "login": None, "logout": None, "@login": None, "@logout": None,
    "@openapi.json": None,
    "terms": None,                    # the page, and its "J'accepte" form
    "@terms": frozenset({"GET", "HEAD"}),
    # patient login (A3): /patient/login, /patient/code and their JSON steps; a
    # person signed in on this browser may log in as the patient they also are
    "patient": None, "@patient-login": None,
}
#: routes that answer without accepted terms (static views are routes named "__...")
EXEMPT_ROUTES = frozenset({"terms_accept"})

VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$")
MAX_TEXT = 100_000
DUPLICATE = N_("Cette version existe déjà : choisissez un nouveau numéro.")


class TermsNotAccepted(Exception):
    """Raised for a signed-in user who has not accepted ``version`` (the current one);
    answered by cabinet.views.terms (a redirect to the page, or a JSON 403)."""

    def __init__(self, version):
        super().__init__(version)
        self.version = version


@dataclass(frozen=True)
class TermsStatus:
    """The current version and the signed-in user's acceptance of it."""
    version_id: int
    version: str
    accepted_at: datetime | None

    @property
    def accepted(self):
        return self.accepted_at is not None


def current_version(session):
    """The version published last, or None."""
    return session.scalar(select(TermsVersion).order_by(TermsVersion.id.desc()).limit(1))


def terms_status(request):
    """``request.terms_status`` (reified): None for anonymous users or when no terms
    are published; else a TermsStatus. One query."""
    user = request.identity
    if user is None:
        return None
    row = request.dbsession.execute(
        select(TermsVersion.id, TermsVersion.version, TermsAcceptance.accepted)
        .outerjoin(TermsAcceptance, and_(TermsAcceptance.version_id == TermsVersion.id,
                                         TermsAcceptance.user_id == user.id))
        .order_by(TermsVersion.id.desc()).limit(1)).first()
    if row is None:
        return None
    return TermsStatus(*row)


def is_exempt(request):
    route = request.matched_route
    if route is not None:
        return route.name in EXEMPT_ROUTES or route.name.startswith("__")
    if not ISite.providedBy(request.context):
        return False
    if request.view_name not in EXEMPT_VIEWS:
        return False
    methods = EXEMPT_VIEWS[request.view_name]
    return methods is None or request.method in methods


def enforce_terms(event):
    """ContextFound: refuse a signed-in user who has not accepted the current terms."""
    request = event.request
    if is_exempt(request) or not identity_fact(request, "terms_pending"):
        return
    status = request.terms_status
    if status is not None and not status.accepted:
        raise TermsNotAccepted(status.version)


def accept(request, version):
    """Record that the signed-in user accepts ``version``, which must be the current
    one: 422 when missing or malformed, 409 when it is not the current version (both
    name the current version), 404 when there are no terms. Accepting twice keeps the
    first time. Returns the acceptance."""
    session = request.dbsession
    current = current_version(session)
    if current is None:
        raise errors.not_found("No terms of use have been published.")
    extra = {"current_version": current.version}
    if not isinstance(version, str) or not version.strip():
        raise errors.unprocessable("Say which version you accept.",
                                   {"version": "Required: the version you accept."},
                                   **extra)
    if version != current.version:
        raise errors.conflict(
            f"Version '{version[:50]}' is not the current version of the terms of use "
            f"('{current.version}'); read and accept the current one.",
            field="version", **extra)
    user = request.identity
    existing = session.scalar(select(TermsAcceptance).where(
        TermsAcceptance.version_id == current.id, TermsAcceptance.user_id == user.id))
    if existing is not None:
        return existing
    acceptance = TermsAcceptance(version_id=current.id, user_id=user.id,
                                 accepted=request.registry.getUtility(IClock).now())
    try:
        with session.begin_nested():
            session.add(acceptance)
    except IntegrityError:          # the same user accepted at the same moment
        return session.scalar(select(TermsAcceptance).where(
            TermsAcceptance.version_id == current.id, TermsAcceptance.user_id == user.id))
    request.__dict__.pop("terms_status", None)
    return acceptance


def validate_version(session, version, text):
    """{field: message} for a new version; empty when it can be published."""
    problems = {}
    if not isinstance(version, str) or not version.strip():
        problems["version"] = "Le numéro de version est obligatoire."
    elif not VERSION_RE.match(version.strip()):
        problems["version"] = ("Le numéro de version contient de 1 à 50 lettres, chiffres, "
                               "points, tirets ou soulignés (ex. 2026-02).")
    elif session.scalar(select(TermsVersion.id).where(
            TermsVersion.version == version.strip())) is not None:
        problems["version"] = DUPLICATE
    if not isinstance(text, str) or not text.strip():
        problems["text"] = "Le texte des conditions est obligatoire."
    elif len(text) > MAX_TEXT:
        problems["text"] = f"Le texte dépasse {MAX_TEXT} caractères."
    return problems


def publish(request, version, text, publisher=None):
    """Publish a new current version; raise 409 (version exists) or 422 (invalid)
    with the field. Everybody, the publisher included, accepts it on the next request."""
    session = request.dbsession
    problems = validate_version(session, version, text)
    if problems:
        if problems == {"version": DUPLICATE}:
            raise errors.conflict(problems["version"], field="version", errors=problems)
        raise errors.unprocessable("The new version is not valid.", problems)
    terms = TermsVersion(version=version.strip(), text=text.replace("\r\n", "\n"),
                         published=request.registry.getUtility(IClock).now(),
                         published_by_id=publisher.id if publisher is not None else None)
    try:
        with session.begin_nested():
            session.add(terms)
    except IntegrityError:          # published concurrently under the same number
        raise errors.conflict(DUPLICATE, field="version", errors={"version": DUPLICATE})
    request.__dict__.pop("terms_status", None)
    return terms


def accept_for_all_users(session, terms, when):
    """Record acceptances of ``terms`` for every user who has none (the demo)."""
    done = set(session.scalars(select(TermsAcceptance.user_id)
                               .where(TermsAcceptance.version_id == terms.id)))
    for user_id in session.scalars(select(User.id).order_by(User.id)):
        if user_id not in done:
            session.add(TermsAcceptance(version_id=terms.id, user_id=user_id, accepted=when))
    session.flush()


def accept_current_terms(request, user):
    """Record that ``user`` accepted the current version, if there is one (accounts
    made by scripts and tests that stand for people who have already accepted)."""
    terms = current_version(request.dbsession)
    if terms is None:
        return None
    session = request.dbsession
    session.flush()
    existing = session.scalar(select(TermsAcceptance).where(
        TermsAcceptance.version_id == terms.id, TermsAcceptance.user_id == user.id))
    if existing is None:
        existing = TermsAcceptance(version_id=terms.id, user_id=user.id,
                                   accepted=request.registry.getUtility(IClock).now())
        session.add(existing)
    return existing


def _terms_pending_fact(user_id, _group_ids):
    """Whether a version is published that the user has not accepted (identity fact)."""
    latest = select(func.max(TermsVersion.id)).scalar_subquery()
    accepted = exists().where(TermsAcceptance.version_id == TermsVersion.id,
                              TermsAcceptance.user_id == user_id).correlate(TermsVersion, User)
    return exists().where(TermsVersion.id == latest, ~accepted)


def includeme(config):
    config.add_identity_fact("terms_pending", _terms_pending_fact)
    config.add_request_method(terms_status, reify=True)
    config.add_subscriber(enforce_terms, ContextFound)
