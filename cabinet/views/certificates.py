"""Development only: site administrators set the certificate serial number of an
account (S2), since there is no TLS client certificate in development.

- Page ``/@@certificates``: the form (account login, 20-digit number; empty removes)
  and the accounts that have a number.
- JSON ``GET /@certificates`` (the accounts with a number) and ``POST /@certificates``
  with ``{"login", "certificate_serial"}``.

Who: site administrators (``certificate:set``, held by ``site_admin`` on the root). A
certificate number is a fact about an account, which is site-wide (one account is a
member of spaces and works in cabinets), and it is what proves a person to a space's
invitation: a cabinet administrator, whose authority ends at the practice, must not be
able to make another practice's user, or themselves, "present" someone's certificate.

These views are registered only when the development certificate source
(cabinet.spaces.AccountCertificates) is configured: with production.ini's
ProxyHeaderCertificates the paths do not exist (404) and /@openapi.json does not list
them.
"""
from pyramid.httpexceptions import HTTPConflict, HTTPSeeOther, HTTPUnprocessableEntity
from sqlalchemy import select

from cabinet import errors
from cabinet.i18n import _, flash
from cabinet.interfaces import ISite
from cabinet.models import User
from cabinet.spaces import administrators_set_certificates, assign_certificate
from .base import json_body

MAX_LISTED = 500


def certificates_url(request):
    return request.application_url + "/@certificates"


def holders(request):
    """The accounts with a certificate number, by login (at most MAX_LISTED)."""
    rows = request.dbsession.execute(
        select(User.login, User.fullname, User.certificate_serial)
        .where(User.certificate_serial.is_not(None)).order_by(User.login)
        .limit(MAX_LISTED))
    return [{"login": login, "fullname": fullname, "certificate_serial": serial}
            for login, fullname, serial in rows]


def account_json(user):
    return {"login": user.login, "fullname": user.fullname,
            "certificate_serial": user.certificate_serial}


def get_certificates(context, request):
    return {"@id": certificates_url(request), "items": holders(request)}


def post_certificate(context, request):
    body = json_body(request)
    unknown = sorted(set(body) - {"login", "certificate_serial"})
    if unknown:
        raise errors.unprocessable("Some fields are invalid.",
                                   errors={name: "Unrecognized field." for name in unknown})
    user = assign_certificate(request, body.get("login"), body.get("certificate_serial"))
    return {"@id": certificates_url(request), **account_json(user)}


def certificates_page(context, request):
    values = {"login": request.GET.get("login", ""), "certificate_serial": ""}
    problems = {}
    if request.method == "POST":
        values = {name: request.POST.get(name, "").strip() for name in values}
        try:
            user = assign_certificate(request, values["login"],
                                      values["certificate_serial"])
        except (HTTPUnprocessableEntity, HTTPConflict) as error:
            problems = error.extra.get("errors") or {"certificate_serial": error.detail}
            request.response.status_int = error.code
        else:
            if user.certificate_serial:
                flash(request, _("Le compte « ${login} » porte maintenant le certificat "
                                      "${serial}.", mapping={
                                          "login": user.login,
                                          "serial": user.certificate_serial}))
            else:
                flash(request, _("Le compte « ${login} » n'a plus de numéro de certificat.",
                                      mapping={"login": user.login}))
            return HTTPSeeOther(location=request.application_url + "/@@certificates")
    return {"values": values, "errors": problems, "holders": holders(request)}


def includeme(config):
    if not administrators_set_certificates(config.registry):
        return          # production: the TLS proxy's header is the only source
    config.add_view(get_certificates, context=ISite, name="@certificates",
                    request_method="GET", renderer="json", permission="certificate:set")
    config.add_view(post_certificate, context=ISite, name="@certificates",
                    request_method="POST", renderer="json", permission="certificate:set")
    config.add_view(certificates_page, context=ISite, name="certificates",
                    request_method=("GET", "POST"), renderer="certificates.jinja2",
                    permission="certificate:set")
