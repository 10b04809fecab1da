"""Terms of use: the page to read and accept them (``@@terms``), ``@terms`` and
``@terms/accept`` in JSON, and the administrators' page to publish a new version
(``@@terms-admin``, ``@terms-admin`` in JSON). The enforcement itself is
cabinet.terms.enforce_terms; its refusal is answered here."""
from urllib.parse import quote

from pyramid.httpexceptions import HTTPConflict, HTTPSeeOther, HTTPUnprocessableEntity
from pyramid.view import exception_view_config, view_config
from sqlalchemy import func, select

from cabinet import errors
from cabinet.i18n import _, flash
from cabinet.interfaces import ISite
from cabinet.models import TermsAcceptance, TermsVersion
from cabinet.terms import TermsNotAccepted, accept, current_version, publish
from .auth import safe_came_from
from .base import isoformat, json_body, wants_json
from .errors import error_response

NOT_ACCEPTED = ("You must accept the current terms of use (version {version}) before "
                "using Cabinet.")


def terms_url(request):
    return request.application_url + "/@terms"


@exception_view_config(TermsNotAccepted)
def terms_not_accepted(exc, request):
    """JSON: 403 TermsNotAccepted with the link; pages: to the acceptance page, and
    back where the user was going once accepted."""
    if wants_json(request):
        return error_response(request, 403, "TermsNotAccepted",
                              NOT_ACCEPTED.format(version=exc.version),
                              terms=terms_url(request), version=exc.version)
    location = request.application_url + "/@@terms"
    if request.method in ("GET", "HEAD"):
        location += "?came_from=" + quote(request.path_qs, safe="/")
    return HTTPSeeOther(location=location)


def terms_json(request, terms):
    status = request.terms_status
    accepted_at = status.accepted_at if status and status.version_id == terms.id else None
    return {"@id": terms_url(request), "version": terms.version, "text": terms.text,
            "published": isoformat(terms.published), "accepted": accepted_at is not None,
            "accepted_at": isoformat(accepted_at)}


@view_config(context=ISite, name="@terms", request_method="GET", renderer="json",
             permission="site:view")
def get_terms(context, request):
    if request.subpath:
        raise errors.not_found()
    terms = current_version(request.dbsession)
    if terms is None:
        raise errors.not_found("No terms of use have been published.")
    return terms_json(request, terms)


@view_config(route_name="terms_accept", request_method="POST", renderer="json",
             permission="site:view")
def accept_terms(context, request):
    body = json_body(request)
    accept(request, body.get("version"))
    return terms_json(request, current_version(request.dbsession))


@view_config(context=ISite, name="terms", request_method="GET", renderer="terms.jinja2",
             permission="site:view")
def terms_page(context, request):
    terms = current_version(request.dbsession)
    status = request.terms_status
    return {"terms": terms, "accepted_at": status.accepted_at if status else None,
            "came_from": request.GET.get("came_from", ""),
            "can_publish": bool(request.has_permission("terms:publish", context))}


@view_config(context=ISite, name="terms", request_method="POST", permission="site:view")
def terms_accept_form(context, request):
    accept(request, request.POST.get("version"))
    flash(request, _("Merci : vous avez accepté les conditions d'utilisation."))
    return HTTPSeeOther(location=safe_came_from(request, request.POST.get("came_from")))


# -- publishing (administrators: terms:publish on the root) ------------------------------

def versions(request):
    counts = dict(request.dbsession.execute(
        select(TermsAcceptance.version_id, func.count())
        .group_by(TermsAcceptance.version_id)).all())
    rows = request.dbsession.scalars(select(TermsVersion).order_by(TermsVersion.id.desc()))
    return [{"version": t.version, "published": isoformat(t.published),
             "published_by": t.published_by.fullname or t.published_by.login
             if t.published_by else None,
             "acceptances": counts.get(t.id, 0), "current": n == 0}
            for n, t in enumerate(rows)]


@view_config(context=ISite, name="@terms-admin", request_method="GET", renderer="json",
             permission="terms:publish")
def admin_json(context, request):
    return {"@id": request.application_url + "/@terms-admin", "items": versions(request)}


@view_config(context=ISite, name="@terms-admin", request_method="POST", renderer="json",
             permission="terms:publish")
def publish_json(context, request):
    body = json_body(request)
    terms = publish(request, body.get("version"), body.get("text"), request.identity)
    request.response.status_int = 201
    return {"@id": terms_url(request), "version": terms.version, "text": terms.text,
            "published": isoformat(terms.published), "accepted": False,
            "accepted_at": None}


@view_config(context=ISite, name="terms-admin", request_method="GET",
             renderer="terms_admin.jinja2", permission="terms:publish")
def admin_page(context, request):
    return {"versions": versions(request), "values": {}, "errors": {}}


@view_config(context=ISite, name="terms-admin", request_method="POST",
             renderer="terms_admin.jinja2", permission="terms:publish")
def publish_form(context, request):
    values = {"version": request.POST.get("version", ""),
              "text": request.POST.get("text", "")}
    try:
        terms = publish(request, values["version"], values["text"], request.identity)
    except (HTTPConflict, HTTPUnprocessableEntity) as error:
        request.response.status_int = error.code
        return {"versions": versions(request), "values": values,
                "errors": error.extra.get("errors", {})}
    flash(request, _("La version ${version} des conditions d'utilisation est publiée : "
                      "chacun doit l'accepter, vous aussi.", mapping={"version": terms.version}))
    return HTTPSeeOther(location=request.application_url + "/@@terms")


def includeme(config):
    config.include("cabinet.terms")
    config.add_route("terms_accept", "/@terms/accept")
