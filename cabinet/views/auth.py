"""Logging in and out: the login page, and ``@login`` / ``@logout`` for programs."""
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.security import NO_PERMISSION_REQUIRED, forget, remember
from pyramid.view import view_config
from sqlalchemy import select

from cabinet import audit, errors
from cabinet.i18n import N_
from cabinet.interfaces import IClock, IRateLimiter, ISite
from cabinet.models import ApiToken, User
from cabinet.passwords import verify_password
from cabinet.security import token_hash
from .base import json_body, isoformat

FAILED = N_("Identifiant ou mot de passe incorrect.")
THROTTLED = N_("Trop de tentatives de connexion. Réessayez dans quelques minutes.")


def check_credentials(request, login, password):
    """The user, or raise 429 when throttled; None when login or password is wrong.
    Failures count per account and per address; the unknown-login path verifies a
    dummy hash so that both cost the same."""
    limiter = request.registry.getUtility(IRateLimiter)
    login = (login or "").strip().lower()[:100]
    # REMOTE_ADDR, not client_addr: X-Forwarded-For comes from the client unless a
    # trusted proxy rewrote it, and waitress (production.ini) sets REMOTE_ADDR then.
    address = request.remote_addr or "unknown"
    if not limiter.test("login.account", login) or not limiter.test("login.address", address):
        audit.record(request, "login", outcome="throttled", details={"login": login})
        raise errors.too_many(THROTTLED)
    user = request.dbsession.scalar(select(User).where(User.login == login))
    ok = verify_password(user.password_hash if user else None, password or "")
    if ok and user.active:
        limiter.clear("login.account", login)
        audit.record(request, "login", user=user)
        return user
    limiter.hit("login.account", login)
    limiter.hit("login.address", address)
    audit.record(request, "login", outcome="failed", details={"login": login})
    return None


def safe_came_from(request, came_from):
    """Only local paths, so the login form cannot redirect elsewhere."""
    if not came_from:
        return request.application_url + "/"
    parts = urlsplit(came_from)
    if parts.scheme or parts.netloc or not came_from.startswith("/") or came_from.startswith("//"):
        return request.application_url + "/"
    return request.application_url + came_from


@view_config(context=ISite, name="login", request_method="GET",
             renderer="login.jinja2", permission=NO_PERMISSION_REQUIRED)
def login_form(request):
    return {"came_from": request.GET.get("came_from", ""), "login": "", "error": None}


@view_config(context=ISite, name="login", request_method="POST",
             renderer="login.jinja2", permission=NO_PERMISSION_REQUIRED)
def login_submit(request):
    login = request.POST.get("login", "")
    came_from = request.POST.get("came_from", "")
    user = check_credentials(request, login, request.POST.get("password", ""))
    if user is None:
        request.response.status_int = 400
        return {"came_from": came_from, "login": login, "error": FAILED}
    headers = remember(request, user.id)
    return HTTPSeeOther(location=safe_came_from(request, came_from), headers=headers)


@view_config(context=ISite, name="logout", request_method="POST",
             permission=NO_PERMISSION_REQUIRED)
def logout(request):
    headers = forget(request)
    return HTTPSeeOther(location=request.application_url + "/login", headers=headers)


@view_config(context=ISite, name="@login", request_method="POST", renderer="json",
             permission=NO_PERMISSION_REQUIRED, require_csrf=False)
def api_login(request):
    """Exchange a login and password for a bearer token (stored hashed, expiring)."""
    body = json_body(request)
    login, password = body.get("login"), body.get("password")
    if not isinstance(login, str) or not isinstance(password, str):
        raise errors.bad_request("'login' and 'password' are required strings.")
    user = check_credentials(request, login, password)
    if user is None:
        raise errors.unauthorized(FAILED)
    return issue_token(request, user)


def issue_token(request, user):
    """A new bearer token for ``user`` (stored hashed, expiring after
    ``cabinet.token_hours``): the answer of every JSON login."""
    token = secrets.token_urlsafe(32)
    now = request.registry.getUtility(IClock).now()
    hours = float(request.registry.settings.get("cabinet.token_hours", 12))
    expires = now + timedelta(hours=hours)
    request.dbsession.add(ApiToken(user_id=user.id, token_hash=token_hash(token),
                                   created=now, expires=expires))
    return {"token": token, "expires": isoformat(expires),
            "user": {"id": user.login, "fullname": user.fullname}}


@view_config(context=ISite, name="@logout", request_method="POST", renderer="json",
             permission=NO_PERMISSION_REQUIRED)
def api_logout(request):
    """Revoke the bearer token of this request (or end the cookie session)."""
    token_id = getattr(request, "api_token_id", None) if request.identity is not None else None
    if token_id is not None:
        request.dbsession.get(ApiToken, token_id).revoked = \
            request.registry.getUtility(IClock).now()
    else:
        forget(request)
    return {"message": "Logged out."}
