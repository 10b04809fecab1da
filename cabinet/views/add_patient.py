"""Manage patients, "add a patient" (issue #9, P8): a signed-in patient or guardian
links another record after the same check as the patient login (cabinet.patient_login):
phone + last name + first name + birth date matched against the cabinet directory,
then a 6-digit code sent by SMS to that phone (purpose ``link``, bound to the user
and to a challenge; 10 minutes, 5 tries, resend caps, throttled per phone and
address; nobody or several people matching answer the same as somebody, with a
decoy code that no code matches).

On success the records where the identified person is the patient are linked to
the user: as ``patient`` (a local role) when the person is the user (the same
directory identity, or records already theirs), else as ``guardian`` (a local role:
the person, holding that phone, agreed by giving the code). A record already linked
answers 409.

Pages: ``POST /@@add-patient`` (identity), ``GET|POST /@@add-patient-code`` (code).
JSON: ``POST /@add-patient`` -> ``{"challenge"}``, ``POST /@add-patient/verify``
``{"challenge", "code"}`` -> ``{"linked": [...]}``.
"""
import secrets
import time

from pyramid.httpexceptions import HTTPSeeOther
from sqlalchemy import select

from cabinet import errors
from cabinet.i18n import N_, _, flash
from cabinet.interfaces import ISite
from cabinet.models import DirectoryAccount, LocalRole
from cabinet.patient_login import (
    COUNTRIES, DEFAULT_COUNTRY, NO_MATCH, Identity, account_candidates, find_person,
)
from cabinet.portal import records
from cabinet.sms import mask_phone
from .base import json_body, node_url
from .patient_login import FIELDS, _pad, _throttle, code_sent, codes, read_identity

PURPOSE = "link"
SESSION_CHALLENGE = "add_patient.challenge"
ALREADY = N_("Ce dossier est déjà relié à votre compte.")


def _portal_user(request):
    if request.identity is None or not records(request):
        raise errors.forbidden(N_("Réservé aux patients et à leurs représentants."))
    return request.identity


def start(request, identity):
    """Send the code to the identified person's phone (a decoy when nobody or
    several people match): the OneTimeCode row and its challenge."""
    user = _portal_user(request)
    started = time.monotonic()
    _throttle(request, identity.phone)
    match = find_person(request.dbsession, identity)
    known = match is not None and any(r == "patient" for _p, r in match.records) \
        and len(account_candidates(request.dbsession, match)) <= 1
    challenge = secrets.token_urlsafe(32)
    row = codes(request).issue(request, PURPOSE, identity.phone, user=user,
                               challenge=challenge,
                               details=identity.as_json() if known else None, send=known)
    _pad(request, started)
    return challenge, row


def _is_self(request, user, match):
    phone, last, first, born = match.identity.key
    own = request.dbsession.scalar(select(DirectoryAccount.id).where(
        DirectoryAccount.user_id == user.id, DirectoryAccount.phone == phone,
        DirectoryAccount.last_name_key == last, DirectoryAccount.first_name_key == first,
        DirectoryAccount.birth_date == born))
    return own is not None or any(p.user_id == user.id for p, r in match.records
                                  if r == "patient")


def finish(request, challenge, code):
    """Check the code and link the records: [(patient, role)] or 422 / 409."""
    user = _portal_user(request)
    service = codes(request)
    row = service.by_challenge(request, challenge, purpose=PURPOSE)
    if row is not None and row.user_id != user.id:    # another user's challenge
        row = None
    problem = service.check(request, row, code)
    if problem:
        raise errors.unprocessable(problem, errors={"code": problem})
    match = find_person(request.dbsession, Identity.from_json(row.details)) \
        if row.details else None
    if match is None:
        raise errors.unprocessable(NO_MATCH)
    role = "patient" if _is_self(request, user, match) else "guardian"
    session = request.dbsession
    linked = []
    for patient, relation in match.records:
        if relation != "patient":
            continue
        held = set(session.scalars(select(LocalRole.role).where(
            LocalRole.node_id == patient.id, LocalRole.principal == user.principal)))
        if held & {"patient", "guardian"}:
            continue
        session.add(LocalRole(node_id=patient.id, principal=user.principal, role=role))
        linked.append((patient, role))
    if not linked:
        raise errors.conflict(ALREADY)
    session.flush()
    request.__dict__.pop("_grants", None)
    request.__dict__.pop("_portal_records", None)
    return linked


# -- JSON ---------------------------------------------------------------------------------

def add_json(context, request):
    body = json_body(request)
    step = tuple(request.subpath)
    if step == ():
        return code_sent(request, body, start)
    if step == ("verify",):
        challenge = body.get("challenge")
        if not isinstance(challenge, str) or not challenge:
            raise errors.bad_request("'challenge' is required and must be a string.")
        linked = finish(request, challenge, body.get("code"))
        return {"linked": [{"@id": node_url(request, p.path), "title": p.title,
                            "relation": role} for p, role in linked]}
    raise errors.not_found("POST /@add-patient or /@add-patient/verify.")


# -- pages ----------------------------------------------------------------------------------

def _page(request, step, values=None, errors_=None, error=None, status=200):
    request.response.status_int = status
    return {"step": step, "values": values or {"country": DEFAULT_COUNTRY},
            "errors": errors_ or {}, "error": error, "countries": list(COUNTRIES.items()),
            "sent_to": request.session.get(SESSION_CHALLENGE + ".to")}


def add_page(context, request):
    _portal_user(request)
    return _page(request, "identity")


def add_form(context, request):
    _portal_user(request)
    values = {k: request.POST.get(k, "") for k in FIELDS + ("country",)}
    identity, problems = read_identity(values)
    if problems:
        return _page(request, "identity", values, problems, status=422)
    try:
        challenge, row = start(request, identity)
    except errors.exc.HTTPTooManyRequests as exc:
        return _page(request, "identity", values, error=exc.detail, status=429)
    request.session[SESSION_CHALLENGE] = challenge
    request.session[SESSION_CHALLENGE + ".to"] = mask_phone(row.phone)
    return HTTPSeeOther(location=request.application_url + "/@@add-patient-code")


def code_page(context, request):
    _portal_user(request)
    if not request.session.get(SESSION_CHALLENGE):
        return HTTPSeeOther(location=request.application_url + "/@@add-patient")
    return _page(request, "code")


def code_form(context, request):
    _portal_user(request)
    challenge = request.session.get(SESSION_CHALLENGE)
    if not challenge:
        return HTTPSeeOther(location=request.application_url + "/@@add-patient")
    try:
        linked = finish(request, challenge, request.POST.get("code", ""))
    except errors.exc.HTTPUnprocessableEntity as exc:
        return _page(request, "code", errors_={"code": exc.detail}, status=422)
    except errors.exc.HTTPConflict as exc:
        return _page(request, "code", error=exc.detail, status=409)
    request.session.pop(SESSION_CHALLENGE, None)
    flash(request, _("Dossier ajouté : ${names}.",
                      mapping={"names": ", ".join(p.title for p, _r in linked)}))
    return HTTPSeeOther(location=request.application_url + "/@@manage-patients")


def includeme(config):
    add = config.add_view
    add(add_json, context=ISite, name="@add-patient", request_method="POST",
        renderer="json", permission="site:view")
    add(add_page, context=ISite, name="add-patient", request_method="GET",
        renderer="add_patient.jinja2", permission="site:view")
    add(add_form, context=ISite, name="add-patient", request_method="POST",
        renderer="add_patient.jinja2", permission="site:view")
    add(code_page, context=ISite, name="add-patient-code", request_method="GET",
        renderer="add_patient.jinja2", permission="site:view")
    add(code_form, context=ISite, name="add-patient-code", request_method="POST",
        renderer="add_patient.jinja2", permission="site:view")
