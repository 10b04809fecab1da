"""Patient login (A3) and codes for signing (C4).

Pages: ``/patient/login`` (phone, names, birth date), ``/patient/code`` (the code
received by SMS; "resend"), ``/my-patients`` (one's own records and the minors one is
responsible for). JSON: ``POST /@patient-login`` -> ``{"challenge"}``,
``POST /@patient-login/verify`` -> a bearer token, ``POST /@patient-login/resend``,
``GET /@my-patients``, ``POST <document>/@sign-code``.

The anonymous steps answer whoever asks (NO_PERMISSION_REQUIRED); the pages keep
their CSRF check, the JSON steps carry no cookie session and need none. An
identification that fails answers the same message whatever was wrong, after the
same minimum time (``cabinet.patient_login.min_seconds``).
"""
import secrets
import time
from datetime import date

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.security import NO_PERMISSION_REQUIRED, remember
from pyramid.view import view_config

from cabinet import errors
from cabinet.i18n import N_, _, flash, use_language
from cabinet.interfaces import (
    IClock, IDocument, IQuestionnaireResponse, IRateLimiter, ISite,
)
from cabinet.patient_login import (
    COUNTRIES, DEFAULT_COUNTRY, NO_MATCH, RELATION_TITLES, Identity, InvalidPhone,
    account_candidates, account_for, display_phone, find_person, guarded_minors, normalise_phone,
    record_portal_login,
)
from cabinet.sms import mask_phone
from .auth import issue_token
from .base import isoformat, json_body, node_url

THROTTLED = N_("Trop de tentatives de connexion : réessayez dans quelques minutes.")
SESSION_CHALLENGE = "patient_login.challenge"
#: the language the login was started in: its code step speaks it too
SESSION_LANGUAGE = SESSION_CHALLENGE + ".lang"
FIELDS = ("phone", "last_name", "first_name", "birth_date")
#: the messages of the form are msgids: its page shows them in the page's language
REQUIRED = {"phone": N_("Saisissez votre numéro de téléphone portable."),
            "last_name": N_("Saisissez votre nom."),
            "first_name": N_("Saisissez votre prénom."),
            "birth_date": N_("Saisissez votre date de naissance.")}


def codes(request):
    return request.registry["one_time_codes"]


def read_identity(data):
    """(Identity, None) or (None, {field: message}) from the typed values; the format
    of each value is checked, never whether it matches."""
    problems = {}
    values = {}
    for name in FIELDS:
        value = data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            problems[name] = REQUIRED[name]
        elif not isinstance(value, str) or len(value) > 200:
            problems[name] = N_("Valeur invalide.")
        else:
            values[name] = value.strip()
    country = data.get("country") or DEFAULT_COUNTRY
    if not isinstance(country, str) or country.upper() not in COUNTRIES:
        problems["country"] = N_("Pays inconnu : LU, FR, BE ou DE.")
        country = DEFAULT_COUNTRY
    if "phone" in values:
        try:
            values["phone"] = normalise_phone(values["phone"], country)
        except InvalidPhone as exc:
            problems["phone"] = exc.message
    if "birth_date" in values:
        try:
            born = date.fromisoformat(values["birth_date"])
            if born.year < 1900:
                raise ValueError(born)
            values["birth_date"] = born
        except ValueError:
            problems["birth_date"] = N_("Date de naissance invalide (AAAA-MM-JJ).")
    if problems:
        return None, problems
    return Identity(values["phone"], values["last_name"], values["first_name"],
                    values["birth_date"]), None


def _throttle(request, phone):
    limiter = request.registry.getUtility(IRateLimiter)
    address = request.remote_addr or "unknown"
    if not limiter.test("patient_login.address", address) or \
            (phone and not limiter.test("patient_login.phone", phone)):
        raise errors.too_many(THROTTLED)
    limiter.hit("patient_login.address", address)
    if phone:
        limiter.hit("patient_login.phone", phone)


def _pad(request, started):
    """Answer no sooner than the minimum time, found or not."""
    minimum = float(request.registry.settings.get("cabinet.patient_login.min_seconds", 0))
    left = minimum - (time.monotonic() - started)
    if left > 0:
        time.sleep(left)


def start_login(request, identity):
    """Identify the person and send them a login code: (challenge, row).

    Nobody or several people matching get the same answer (a challenge, "a code was
    sent if ...") from a decoy code that sends no SMS and that no code matches: the
    answer tells nobody whether this person is known (issue #6). Its code step then
    says the code is wrong, like for a mistyped code."""
    started = time.monotonic()
    _throttle(request, identity.phone)
    match = find_person(request.dbsession, identity)
    known = match is not None and len(account_candidates(request.dbsession, match)) <= 1
    challenge = secrets.token_urlsafe(32)
    row = codes(request).issue(request, "login", identity.phone, challenge=challenge,
                               details=identity.as_json() if known else None, send=known)
    _pad(request, started)
    return challenge, row


def finish_login(request, challenge, code):
    """The user whose login code this is, or raise 422 with what is wrong."""
    service = codes(request)
    row = service.by_challenge(request, challenge)
    problem = service.check(request, row, code)
    if problem:
        raise errors.unprocessable(problem, errors={"code": problem})
    if not row.details:             # a decoy (no code matches it): never reached
        raise errors.unprocessable(NO_MATCH)
    match = find_person(request.dbsession, Identity.from_json(row.details))
    user = account_for(request, match) if match is not None else None
    if user is None:
        raise errors.unprocessable(NO_MATCH)
    record_portal_login(request, user, match)
    return user


def resend_login(request, challenge):
    service = codes(request)
    row = service.by_challenge(request, challenge)
    if row is None:
        raise errors.not_found(N_("Cette demande de connexion est inconnue : recommencez."))
    if row.used is not None:
        raise errors.conflict(N_("Cette demande de connexion a déjà abouti : recommencez."))
    # a decoy is "resent" the same way, under the same limits, without any SMS
    return service.issue(request, "login", row.phone, challenge=challenge,
                         details=row.details, send=bool(row.details))


def _string(body, name):
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise errors.bad_request(f"'{name}' is required and must be a string.")
    return value


# -- JSON ----------------------------------------------------------------------------

def code_sent(request, body, start):
    """The first step of an identity check by SMS code (the patient login, adding a
    patient): the identity of ``body`` (422 naming the fields), the code sent by
    ``start(request, identity)``; the challenge the next step names."""
    identity, problems = read_identity(body)
    if problems:
        raise errors.unprocessable(N_("Vérifiez les champs signalés."), errors=problems)
    challenge, row = start(request, identity)
    return {"challenge": challenge, "sent_to": mask_phone(row.phone),
            "expires": isoformat(row.expires)}


@view_config(context=ISite, name="@patient-login", request_method="POST", renderer="json",
             permission=NO_PERMISSION_REQUIRED, require_csrf=False)
def api_patient_login(request):
    body = json_body(request)
    step = tuple(request.subpath)
    if step == ():
        return code_sent(request, body, start_login)
    if step == ("verify",):
        user = finish_login(request, _string(body, "challenge"), body.get("code"))
        return issue_token(request, user)
    if step == ("resend",):
        challenge = _string(body, "challenge")
        row = resend_login(request, challenge)
        return {"challenge": challenge, "sent_to": mask_phone(row.phone),
                "expires": isoformat(row.expires)}
    raise errors.not_found("POST /@patient-login, /@patient-login/verify or "
                           "/@patient-login/resend.")


def my_patients_data(request):
    user = request.identity
    session = request.dbsession
    from sqlalchemy import select
    from cabinet.models import Patient
    today = request.registry.getUtility(IClock).today()
    own = list(session.scalars(select(Patient).where(Patient.user_id == user.id)
                               .order_by(Patient.path)))
    minors = guarded_minors(session, user.id, today)
    without = [p for p, _r in guarded_minors(session, user.id, today, with_access=False)
               if p.id not in {m.id for m, _r in minors}]
    # issue #5: the minors whose questionnaires the user fills (their own switch)
    from cabinet.questionnaire_access import questionnaire_minors
    forms = questionnaire_minors(session, user.id, today)
    with_forms = {p.id for p, _r in forms}
    minors += [(p, r) for p, r in forms if p.id not in {m.id for m, _r in minors}]

    def item(patient, relation):
        return {"@id": node_url(request, patient.path), "@type": "Patient",
                "title": patient.title, "relation": relation,
                "relation_title": RELATION_TITLES[relation],
                "birth_date": isoformat(patient.birth_date),
                "questionnaires": relation == "patient" or patient.id in with_forms}
    return {"items": [item(p, "patient") for p in own] + [item(p, r) for p, r in minors],
            "minors_without_access": len(without)}


@view_config(context=ISite, name="@my-patients", request_method="GET", renderer="json",
             permission="site:view")
def api_my_patients(request):
    return my_patients_data(request)


@view_config(context=IDocument, name="@sign-code", request_method="POST", renderer="json",
             permission="document:view")
@view_config(context=IQuestionnaireResponse, name="@sign-code", request_method="POST",
             renderer="json", permission="questionnaire:view")
def api_sign_code(context, request):
    row = send_sign_code(context, request)
    return {"sent_to": mask_phone(row.phone), "expires": isoformat(row.expires),
            "message": f"Un code a été envoyé au {mask_phone(row.phone)}."}


def signer_phone(request, context, permission):
    """Where the code for signing goes: the phone of the person whose right is used —
    the professional's own phone for a secretary acting for them, else the user's
    own (a patient, a guardian), else the patient record's for its patient."""
    from cabinet.models import Patient, User
    grant = request.has_permission(permission, context)
    delegation = getattr(grant, "delegation", None)
    if delegation is not None:
        owner = request.dbsession.get(User, delegation.professional.user_id)
        raw = owner.phone if owner is not None else None
    else:
        raw = request.identity.phone
        if not raw:
            for node in context.lineage():
                if isinstance(node, Patient) and node.user_id == request.identity.id:
                    raw = node.phone
                    break
    try:
        return normalise_phone(raw or "")
    except InvalidPhone:
        raise errors.conflict(N_("Aucun numéro de portable valable n'est enregistré pour "
                              "le signataire : le cabinet doit le renseigner."))


def send_sign_code(context, request):
    workflow = request.workflows.for_node(context)
    sign = workflow.transitions.get("sign")
    # a document or a questionnaire response (issue #5): the same code, the same checks
    response = IQuestionnaireResponse.providedBy(context)
    if sign is None or context.state not in sign.sources:
        state = workflow.states.get(context.state)
        message = (N_("Ce questionnaire ne peut pas être signé dans l'état « ${state} ».")
                   if response else
                   N_("Ce document ne peut pas être signé dans l'état « ${state} »."))
        raise errors.conflict(_(message, mapping={
            "state": _(state.title) if state else context.state}), review_state=context.state)
    if IDocument.providedBy(context) and not getattr(context, "needs_signature", False):
        raise errors.conflict(N_("Ce document est partagé sans signature : il ne se signe pas."),
                              review_state=context.state)
    if not request.has_permission(sign.permission, context):
        raise errors.forbidden(N_("Vous ne pouvez pas signer ce questionnaire.") if response
                               else N_("Vous ne pouvez pas signer ce document."))
    phone = signer_phone(request, context, sign.permission)
    return codes(request).issue(request, "sign", phone, node=context,
                                user=request.identity, title=context.title)


# -- pages ---------------------------------------------------------------------------

def _login_page(request, values=None, errors_=None, error=None, status=200):
    request.response.status_int = status
    return {"step": "login", "values": values or {"country": DEFAULT_COUNTRY},
            "errors": errors_ or {}, "error": error,
            "countries": list(COUNTRIES.items())}


def _code_page(request, error=None, sent_to=None, status=200, errors_=None):
    request.response.status_int = status
    return {"step": "code", "error": error, "sent_to": sent_to, "errors": errors_ or {},
            "dev_sms": request.registry.settings.get("cabinet.sms", "memory") in
            ("file", "memory")}


@view_config(context=ISite, name="patient", request_method="GET",
             renderer="patient_login.jinja2", permission=NO_PERMISSION_REQUIRED)
def patient_pages(request):
    step = tuple(request.subpath)
    if step == ("login",):
        return _login_page(request)
    if step == ("code",):
        if not request.session.get(SESSION_CHALLENGE):
            return HTTPSeeOther(location=request.application_url + "/patient/login")
        use_language(request, request.session.get(SESSION_LANGUAGE))
        return _code_page(request, sent_to=request.session.get(SESSION_CHALLENGE + ".to"))
    raise errors.not_found()


@view_config(context=ISite, name="patient", request_method="POST",
             renderer="patient_login.jinja2", permission=NO_PERMISSION_REQUIRED)
def patient_pages_submit(request):
    step = tuple(request.subpath)
    if step == ("login",):
        values = {k: request.POST.get(k, "") for k in FIELDS + ("country",)}
        identity, problems = read_identity(values)
        if problems:
            return _login_page(request, values, problems, status=422)
        try:
            challenge, row = start_login(request, identity)
        except errors.exc.HTTPTooManyRequests as exc:
            return _login_page(request, values, error=exc.detail, status=429)
        request.session[SESSION_CHALLENGE] = challenge
        request.session[SESSION_CHALLENGE + ".to"] = mask_phone(row.phone)
        # the procedure keeps the language it was started in (its SMS was sent in it)
        request.session[SESSION_LANGUAGE] = request.locale_name
        return HTTPSeeOther(location=request.application_url + "/patient/code")
    if step == ("code",):
        challenge = request.session.get(SESSION_CHALLENGE)
        if not challenge:
            return HTTPSeeOther(location=request.application_url + "/patient/login")
        sent_to = request.session.get(SESSION_CHALLENGE + ".to")
        use_language(request, request.session.get(SESSION_LANGUAGE))
        if request.POST.get("action") == "resend":
            try:
                resend_login(request, challenge)
            except (errors.exc.HTTPTooManyRequests, errors.exc.HTTPConflict,
                    errors.exc.HTTPNotFound) as exc:
                return _code_page(request, error=exc.detail, sent_to=sent_to, status=429
                                  if isinstance(exc, errors.exc.HTTPTooManyRequests) else 409)
            flash(request, _("Un nouveau code a été envoyé au ${phone}.",
                              mapping={"phone": sent_to}))
            return HTTPSeeOther(location=request.application_url + "/patient/code")
        try:
            user = finish_login(request, challenge, request.POST.get("code", ""))
        except errors.exc.HTTPUnprocessableEntity as exc:
            return _code_page(request, sent_to=sent_to, status=422,
                              errors_={"code": exc.detail})
        # a patient's session ends an hour after the code, however active
        headers = remember(request, user.id, lifetime=int(request.registry.settings.get(
            "cabinet.patient_session_lifetime", 3600)))
        return HTTPSeeOther(location=request.application_url + "/my-patients",
                            headers=headers)
    raise errors.not_found()


@view_config(context=ISite, name="my-patients", request_method="GET",
             renderer="my_patients.jinja2", permission="site:view")
def my_patients_page(request):
    return {**my_patients_data(request), "display_phone": display_phone}


@view_config(context=IDocument, name="sign-code", request_method="POST",
             permission="document:view")
@view_config(context=IQuestionnaireResponse, name="sign-code", request_method="POST",
             permission="questionnaire:view")
def sign_code_form(context, request):
    row = send_sign_code(context, request)
    flash(request, _("Un code de signature a été envoyé au ${phone}.",
                      mapping={"phone": mask_phone(row.phone)}))
    return HTTPSeeOther(location=node_url(request, context.path))


def includeme(config):
    config.include("cabinet.patient_login")


def openapi_parts(op, json_, errors_, path_param):
    """Paths and schemas of this module for /@openapi.json (cabinet/views/openapi.py)."""
    string = {"type": "string"}
    paths = {
        "/@patient-login": {"post": op(
            "Patient login, step 1 (A3): phone (E.164 or national form of 'country', "
            "default LU; FR, BE, DE), last name, first name, birth date. Exactly one "
            "person of the cabinet directory (patient, parent 1, parent 2, financial "
            "guarantor) must match; the answer is the same whether anyone matches or "
            "not (no SMS is sent then, and no code will be accepted). Sends a "
            "6-digit code by SMS (10 minutes, 5 tries); throttled per phone and address",
            {"200": json_("LoginChallenge"), **errors_(400, 422, 429)},
            body="PatientIdentification", security=False)},
        "/@patient-login/verify": {"post": op(
            "Patient login, step 2: the challenge and the code received; answers a "
            "bearer token like @login (the account is created at the first login)",
            {"200": json_("Token"), **errors_(400, 422)}, body="LoginCode",
            security=False)},
        "/@patient-login/resend": {"post": op(
            "Send a new login code (at most once a minute and 5 times an hour)",
            {"200": json_("LoginChallenge"), **errors_(400, 404, 409, 429)},
            body="LoginResend", security=False)},
        "/@my-patients": {"get": op(
            "The signed-in person's own patient records and the minors they are "
            "responsible for (where minors' access for documents is on)",
            {"200": json_("MyPatients"), **errors_(401)})},
        "/{path}/@sign-code": {"post": op(
            "Send a code for signing this document (document:sign) to the signer's own "
            "phone (the guardian's for a minor, the professional's for a secretary "
            "acting for them); then POST @workflow/sign with {\"code\"}",
            {"200": json_("SignCode"), **errors_(403, 404, 409, 429)},
            params=[path_param])},
    }
    schemas = {
        "PatientIdentification": {"type": "object", "required": [
            "phone", "last_name", "first_name", "birth_date"], "properties": {
            "phone": string, "last_name": string, "first_name": string,
            "birth_date": {"type": "string", "format": "date"},
            "country": {"enum": list(COUNTRIES)}}},
        "LoginChallenge": {"type": "object", "properties": {
            "challenge": string, "sent_to": string, "expires": string}},
        "LoginCode": {"type": "object", "required": ["challenge", "code"], "properties": {
            "challenge": string, "code": {"type": "string", "pattern": "^[0-9]{6}$"}}},
        "LoginResend": {"type": "object", "required": ["challenge"],
                        "properties": {"challenge": string}},
        "MyPatients": {"type": "object", "properties": {
            "items": {"type": "array", "items": {"type": "object", "properties": {
                "@id": string, "title": string, "relation": {"enum": [
                    "patient", "parent1", "parent2", "guarantor"]}}}},
            "minors_without_access": {"type": "integer"}}},
        "SignCode": {"type": "object", "properties": {
            "sent_to": string, "expires": string, "message": string}},
    }
    return paths, schemas
