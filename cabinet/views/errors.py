"""One way to answer errors: JSON ``{"type", "message", ...}`` for programs, a page
for people; 401/redirect to the login page when an anonymous user is refused."""
import logging

from pyramid.exceptions import BadCSRFToken
from pyramid.httpexceptions import HTTPException, HTTPFound
from pyramid.renderers import render_to_response
from pyramid.view import exception_view_config, forbidden_view_config, notfound_view_config
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from cabinet import audit
from cabinet.i18n import N_, french
from .base import wants_json
from .methods import method_not_allowed

log = logging.getLogger(__name__)

TITLES = {400: N_("Requête invalide"), 401: N_("Connexion requise"),
          403: N_("Accès refusé"), 404: N_("Page introuvable"),
          405: N_("Méthode non permise"), 409: N_("Conflit"),
          413: N_("Contenu trop volumineux"), 422: N_("Données invalides"),
          429: N_("Trop de tentatives"), 500: N_("Erreur interne"),
          503: N_("Service momentanément indisponible")}
#: the messages of errors that say nothing more particular; a page shows them (and its
#: title) in the reader's language (templates/error.jinja2)
LOGIN_REQUIRED = N_("Connectez-vous pour voir cette ressource.")
NOT_ALLOWED = N_("Vous n'avez pas le droit de faire cela.")
NOTHING_HERE = N_("Il n'y a rien ici.")
METHOD_NOT_ALLOWED = N_("Cette adresse n'accepte pas cette méthode : voyez l'en-tête Allow.")
CSRF = N_("Le jeton de sécurité de ce formulaire manque ou a expiré. Rechargez la page "
          "et réessayez.")
NOT_UTF8 = N_("L'adresse ou les données ne sont pas en UTF-8 valide.")
UNAVAILABLE = N_("Le service est momentanément indisponible ; rien n'a été enregistré. "
                 "Réessayez dans un instant.")
SERVER_ERROR = N_("Une erreur s'est produite de notre côté ; rien n'a été enregistré.")


def error_response(request, status, type_, message, **extra):
    if wants_json(request):
        response = request.response
        response.status_int = status
        response.content_type = "application/json"
        response.json_body = french({"type": type_, "message": message, **extra})
        return response
    response = render_to_response(
        "error.jinja2", {"status": status, "title": TITLES.get(status, "Erreur"),
                         "message": message, "extra": extra}, request=request)
    response.status_int = status
    return response


@forbidden_view_config()
def forbidden(exc, request):
    if request.identity is None:
        if wants_json(request):
            response = error_response(request, 401, "Unauthorized", LOGIN_REQUIRED)
            response.headers["WWW-Authenticate"] = 'Bearer realm="cabinet"'
            return response
        return HTTPFound(location=request.application_url + "/login?came_from="
                         + request.path_qs.replace("&", "%26"))
    message = exc.detail if getattr(exc, "error_type", None) else NOT_ALLOWED
    audit.record(request, "refused", obj=request.path, outcome="forbidden",
                 details={"method": request.method})
    return error_response(request, 403, "Forbidden", message)


@notfound_view_config()
def notfound(exc, request):
    allowed = method_not_allowed(exc, request)
    if allowed:
        response = error_response(request, 405, "MethodNotAllowed", METHOD_NOT_ALLOWED,
                                  allowed=allowed)
        response.headers["Allow"] = ", ".join(allowed)
        return response
    message = exc.detail if getattr(exc, "error_type", None) else NOTHING_HERE
    return error_response(request, 404, "NotFound", message)


@exception_view_config(BadCSRFToken)
def bad_csrf(exc, request):
    audit.record(request, "refused", obj=request.path, outcome="csrf",
                 details={"method": request.method})
    return error_response(request, 403, "CSRFError", CSRF)


@exception_view_config(UnicodeDecodeError)
def undecodable(exc, request):
    return error_response(request, 400, "BadRequest", NOT_UTF8)


@exception_view_config(HTTPException)
def http_error(exc, request):
    if exc.code < 400:
        return exc
    type_ = getattr(exc, "error_type", exc.title.replace(" ", ""))
    message = exc.detail or exc.explanation
    response = error_response(request, exc.code, type_, message,
                              **getattr(exc, "extra", {}))
    if exc.code == 405 and "Allow" in exc.headers:
        response.headers["Allow"] = exc.headers["Allow"]
    return response


@exception_view_config(OperationalError)
@exception_view_config(InterfaceError)
@exception_view_config(PoolTimeout)
def database_unavailable(exc, request):
    """The database cannot be reached (stopped, restarting, connections cut, pool
    exhausted, or a transient error still there after pyramid_retry's last attempt):
    503 with a plain message, never a traceback. The transaction was aborted, so
    nothing was saved; SQLAlchemy drops the broken connections and the next request
    after the database is back succeeds (pool_pre_ping on PostgreSQL)."""
    log.warning("database unavailable on %s %s: %s", request.method, request.path_qs,
                type(getattr(exc, "orig", None) or exc).__name__)
    try:
        request.identity  # noqa: B018 - the page shows the user, if known already
    except Exception:     # the lookup itself needs the database: show no one
        request.authenticated_user = None
    response = error_response(request, 503, "ServiceUnavailable", UNAVAILABLE)
    response.headers["Retry-After"] = "5"
    return response


@exception_view_config(Exception)
def server_error(exc, request):
    log.exception("unhandled error on %s %s", request.method, request.path_qs)
    return error_response(request, 500, "ServerError", SERVER_ERROR)
