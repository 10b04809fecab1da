"""``/@openapi.json``: the JSON API described in OpenAPI 3.1.

Every JSON view is listed here; tests/views/test_openapi.py fails when a registered
``@`` view or JSON content view is missing."""
from importlib import import_module

from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from cabinet.interfaces import ISite
from cabinet.models import SEARCHABLE_TYPES
from cabinet.roles import GRANTABLE_ROLES
from cabinet.spaces import SPACE_ROLES

#: the areas that describe their own paths and schemas (``openapi_parts(_op, _json,
#: _errors, PATH)`` -> (paths, schemas)), in the order they are merged
AREA_PARTS = (
    "cabinet.views.patient_login",            # patient login (A3), codes for signing
    "cabinet.views.documents_openapi",        # documents (C1, C2, C3, C5)
    "cabinet.views.appointments_openapi",     # appointments, types, auto-send rules
    "cabinet.views.patient_appointments",     # issue #9, P1: .ics, calendar feed
    "cabinet.views.messages_openapi",         # issue #9, P3: messaging, K3 templates
    "cabinet.views.notifications_openapi",    # issue #9, P7: reminders
    "cabinet.views.payments_openapi",         # issue #9, P2: payments
    "cabinet.views.imaging_openapi",          # issue #9, P5: imaging, K3 selection
    "cabinet.views.signatures",               # signature evidence (C4)
    "cabinet.views.questionnaire_templates",  # templates (Q1), FHIR Questionnaire
    "cabinet.views.questionnaire_responses",  # responses (Q2-Q5)
    "cabinet.i18n",                           # issue #10, A4: the user's language
    "cabinet.views.portal_openapi",           # issue #9 portal, #10 K1/K2 settings
    "cabinet.views.work_queues",              # issue #10, K4: the console's lists
    "cabinet.views.statistics",               # issue #10, K5: statistics
)

PATH = {"name": "path", "in": "path", "required": True, "schema": {"type": "string"},
        "description": "Path of a resource, e.g. cabinets/parc/patients/leroy"}
SPACE_PARAM = {"name": "space", "in": "path", "required": True, "schema": {"type": "string"}}
MEMBERSHIP_PARAM = {"name": "membership", "in": "path", "required": True,
                    "schema": {"type": "string"}}
ERROR = {"description": "Error", "content": {"application/json": {"schema": {
    "$ref": "#/components/schemas/Error"}}}}


def _json(schema_ref, description="OK"):
    return {"description": description, "content": {"application/json": {
        "schema": {"$ref": f"#/components/schemas/{schema_ref}"}}}}


def _errors(*codes):
    return {str(code): ERROR for code in codes}


def _op(summary, responses, body=None, params=(), security=True):
    op = {"summary": summary, "responses": responses,
          "parameters": list(params)}
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": {"$ref": f"#/components/schemas/{body}"}}}}
    if not security:
        op["security"] = []
    return op


PRO = {"name": "professional", "in": "path", "required": True,
       "schema": {"type": "string"}, "description": "Id of a professional, e.g. martin"}
_DATE = {"type": "string", "format": "date"}
_DELEGATION_DATES = {"start_date": _DATE, "end_date": {"type": ["string", "null"],
                                                       "format": "date"},
                     "can_sign": {"type": "boolean"}}


def spec(request):
    q = lambda name, schema, desc="": {"name": name, "in": "query",  # noqa: E731
                                       "schema": schema, "description": desc}
    search_params = [
        q("portal_type", {"type": "string", "enum": list(SEARCHABLE_TYPES)}),
        q("review_state", {"type": "string"}), q("path", {"type": "string"}),
        q("sort_on", {"type": "string", "enum": ["modified", "created", "title", "id",
                                                  "review_state", "path"]}),
        q("sort_order", {"type": "string", "enum": ["ascending", "descending"]}),
        q("b_start", {"type": "integer", "minimum": 0}),
        q("b_size", {"type": "integer", "minimum": 1, "maximum": 500})]
    paths = {
        "/@login": {"post": _op("Log in; returns a bearer token",
                                {"200": _json("Token"), **_errors(400, 401, 429)},
                                body="Credentials", security=False)},
        "/@logout": {"post": _op("Revoke the bearer token", {"200": _json("Message")})},
        "/@openapi.json": {"get": _op("This document", {"200": {"description": "OK"}},
                                      security=False)},
        "/@health": {"get": _op("Whether the service and its database answer (monitoring)",
                                {"200": _json("Health"),
                                 "503": _json("Health", "The database does not answer")},
                                security=False)},
        "/@terms": {"get": _op("The current terms of use and whether the user accepted them",
                               {"200": _json("Terms"), **_errors(401, 404)})},
        "/@terms/accept": {"post": _op(
            "Accept the current terms of use",
            {"200": _json("Terms"), **_errors(400, 401, 404, 409, 422)},
            body="TermsAcceptance")},
        "/@terms-admin": {
            "get": _op("Published versions of the terms (terms:publish)",
                       {"200": _json("TermsVersions"), **_errors(401, 403)}),
            "post": _op("Publish a new version of the terms (terms:publish)",
                        {"201": _json("Terms"), **_errors(400, 401, 403, 409, 422)},
                        body="NewTerms")},
        "/@act-for": {
            "get": _op("Mandates in effect for the user and the one acted under",
                       {"200": _json("ActFor"), **_errors(401)}),
            "post": _op("Choose the mandate to act under (empty: one's own space)",
                        {"200": _json("ActFor"), **_errors(400, 401, 422)},
                        body="ActForChoice")},
        "/{path}/@activate-mandate": {"post": _op(
            "The provider space enters a mandate's activation code",
            {"200": _json("Mandate"), **_errors(400, 403, 409, 422, 429)},
            body="ActivationCode", params=[PATH])},
        "/@search": {"get": _op("Search what the user may view",
                                {"200": _json("Listing"), **_errors(400, 401)},
                                params=search_params)},
        "/@registry/{matricule}": {"get": _op(
            "Who holds a matricule in the national person registry (users holding the "
            "professional or administrator role somewhere; rate-limited per user)",
            {"200": _json("Person"), **_errors(401, 403, 404, 422, 429, 503)},
            params=[{"name": "matricule", "in": "path", "required": True,
                     "schema": {"type": "string"},
                     "description": "13 digits: YYYYMMDD, serial, Luhn and Verhoeff keys"}])},
        "/{path}": {
            "get": _op("A resource (containers: items, items_total, batching)",
                       {"200": _json("Resource"), **_errors(401, 403, 404)}, params=[PATH]),
            "post": _op("Create content in a container",
                        {"201": _json("Resource"), **_errors(400, 403, 409, 422)},
                        body="NewContent", params=[PATH]),
            "patch": _op("Edit a resource (409: changed meanwhile, or a state that "
                         "allows no change, e.g. signed)",
                         {"200": _json("Resource"), **_errors(400, 403, 404, 409, 422)},
                         body="Fields", params=[PATH]),
            "delete": _op("Delete a resource (409: it is in use, e.g. a questionnaire "
                          "template that responses use)",
                          {"204": {"description": "Deleted"}, **_errors(403, 404, 409)},
                          params=[PATH]),
        },
        "/professionals/{professional}/delegations": {"post": _op(
            "Add a secretary (D2, D3): the person is looked up in the national registry "
            "by matricule; active at once when an account holds that matricule, "
            "otherwise invited by mail (single-use link, 7 days). 422 names the wrong "
            "field; 409 when the pair already has an invited or active delegation",
            {"201": _json("Resource"), **_errors(400, 401, 403, 409, 422, 503)},
            body="NewDelegation", params=[PRO])},
        "/professionals/{professional}/delegations/{delegation}": {"patch": _op(
            "End an active delegation at a chosen date (today or later, not before its "
            "start): it stays active until then and grants nothing after it, with no "
            "further action; POST @workflow/end ends it now, @workflow/cancel cancels it",
            {"200": _json("Resource"), **_errors(400, 401, 403, 409, 422)},
            body="DelegationEnd",
            params=[PRO, {"name": "delegation", "in": "path", "required": True,
                          "schema": {"type": "string"}}])},
        "/spaces/{space}/members": {"post": _op(
            "Invite a member to a professional space by the 20-digit serial number of "
            "their certificate, with a role (S1; also POST /spaces/{space}). 422 names "
            "the wrong field; 409 when that certificate is already invited or a member",
            {"201": _json("Membership"), **_errors(400, 401, 403, 409, 422)},
            body="NewMembership", params=[SPACE_PARAM])},
        "/spaces/{space}/members/{membership}": {"patch": _op(
            "Change a member's role (S3); the local role on the space follows. 409 when "
            "it would leave the space without an active administrator; removal is "
            "POST .../@workflow/remove (409 likewise)",
            {"200": _json("Membership"), **_errors(400, 401, 403, 409, 422)},
            body="MembershipRole", params=[SPACE_PARAM, MEMBERSHIP_PARAM])},
        "/{path}/@accept": {"post": _op(
            "Accept an invitation to a space (S2): only with the certificate it names; "
            "the user becomes an active member with the invitation's role",
            {"200": _json("TransitionResult"), **_errors(401, 403, 409)}, params=[PATH])},
        "/@invitations": {"get": _op(
            "The pending space invitations naming the user's certificate",
            {"200": _json("Invitations"), **_errors(401)})},
        "/{path}/@secretaries": {"post": _op(
            "A cabinet's administrator attaches a secretary (matricule + email) or a "
            "group of secretaries (every member, also members added later) to one of "
            "the cabinet's professionals (D6); path: cabinets/<cabinet>",
            {"201": _json("Resource"), **_errors(400, 401, 403, 409, 422, 503)},
            body="SecretaryAttachment", params=[PATH])},
        "/{path}/@search": {"get": _op("Search below a resource",
                                       {"200": _json("Listing")},
                                       params=[PATH, *search_params])},
        "/{path}/@workflow": {"get": _op("State and available transitions",
                                         {"200": _json("Workflow")}, params=[PATH])},
        "/{path}/@workflow/{transition}": {"post": _op(
            "Fire a transition", {"200": _json("TransitionResult"),
                                  **_errors(400, 403, 404, 409)},
            body="Comment", params=[PATH, {"name": "transition", "in": "path",
                                           "required": True, "schema": {"type": "string"}}])},
        "/{path}/@history": {"get": _op("Who did what, when, for whom",
                                        {"200": _json("History")}, params=[PATH])},
        "/{path}/@sharing": {
            "get": _op("Local roles here and inherited", {"200": _json("Sharing")},
                       params=[PATH, q("search", {"type": "string"})]),
            "post": _op("Grant and revoke local roles",
                        {"200": _json("Sharing"), **_errors(403, 422)},
                        body="SharingChange", params=[PATH])},
        "/{path}/@permissions": {"get": _op(
            "A user's permissions here and why", {"200": _json("Permissions")},
            params=[PATH, q("user", {"type": "string"}, "login (default: yourself)")])},
    }
    # The root is a resource too: what "/{path}..." answers, it answers at "/...".
    for template, methods in (("/", ("get", "post")), ("/@workflow", ("get",)),
                              ("/@workflow/{transition}", ("post",)),
                              ("/@history", ("get",)), ("/@sharing", ("get", "post")),
                              ("/@permissions", ("get",))):
        source = paths["/{path}" + ("" if template == "/" else template)]
        paths[template] = {method: {**source[method], "parameters": [
            p for p in source[method]["parameters"] if p is not PATH]} for method in methods}
    obj = {"type": "object"}
    schemas = {
        "Error": {"type": "object", "required": ["type", "message"],
                  "properties": {"type": {"type": "string"}, "message": {"type": "string"}}},
        "Credentials": {"type": "object", "required": ["login", "password"],
                        "properties": {"login": {"type": "string"},
                                       "password": {"type": "string"}}},
        "Token": {"type": "object", "properties": {"token": {"type": "string"},
                                                   "expires": {"type": "string"},
                                                   "user": obj}},
        "Message": {"type": "object", "properties": {"message": {"type": "string"}}},
        "Health": {"type": "object", "properties": {
            "status": {"type": "string", "enum": ["ok", "unavailable"]},
            "database": {"type": "string", "enum": ["ok", "unreachable"]}}},
        "Summary": {"type": "object", "properties": {
            k: {"type": "string"} for k in ("@id", "@type", "id", "title", "review_state",
                                            "created", "modified")}},
        "Listing": {"type": "object", "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Summary"}},
            "items_total": {"type": "integer"},
            "items_total_relation": {"type": "string", "enum": ["eq", "gte"]},
            "batching": obj}},
        "Resource": {"allOf": [{"$ref": "#/components/schemas/Summary"}, {
            "type": "object", "properties": {
                "items": {"type": "array",
                          "items": {"$ref": "#/components/schemas/Summary"}},
                "items_total": {"type": "integer"}, "batching": obj}}]},
        "NewContent": {"type": "object", "required": ["@type", "title"],
                       "properties": {"@type": {"type": "string"},
                                      "id": {"type": "string"},
                                      "title": {"type": "string"}}},
        "Fields": {"type": "object", "properties": {"title": {"type": "string"}}},
        "Comment": {"type": "object", "properties": {"comment": {"type": "string"}}},
        "Workflow": {"type": "object", "properties": {
            "review_state": {"type": "string"}, "transitions": {"type": "array"},
            "history": {"type": "array"}}},
        "TransitionResult": {"type": "object", "properties": {
            "action": {"type": "string"}, "review_state": {"type": "string"}}},
        "History": {"type": "array", "items": {"type": "object", "properties": {
            "time": {"type": "string"}, "action": {"type": "string"},
            "actor": obj, "acting_for": {"type": ["object", "null"]}}}},
        "Sharing": {"type": "object", "properties": {
            "available_roles": {"type": "array"}, "entries": {"type": "array"}}},
        "SharingChange": {"type": "object", "required": ["entries"], "properties": {
            "entries": {"type": "array", "items": {"type": "object", "properties": {
                "id": {"type": "string"}, "type": {"enum": ["user", "group"]},
                "roles": {"type": "object", "propertyNames": {"enum": list(GRANTABLE_ROLES)},
                          "additionalProperties": {"type": "boolean"}}}}}}},
        "Terms": {"type": "object", "properties": {
            "@id": {"type": "string"}, "version": {"type": "string"},
            "text": {"type": "string"}, "published": {"type": "string"},
            "accepted": {"type": "boolean"},
            "accepted_at": {"type": ["string", "null"]}}},
        "TermsAcceptance": {"type": "object", "required": ["version"],
                            "properties": {"version": {"type": "string"}}},
        "NewTerms": {"type": "object", "required": ["version", "text"],
                     "properties": {"version": {"type": "string"},
                                    "text": {"type": "string"}}},
        "TermsVersions": {"type": "object", "properties": {"items": {
            "type": "array", "items": {"type": "object", "properties": {
                "version": {"type": "string"}, "published": {"type": "string"},
                "published_by": {"type": ["string", "null"]},
                "acceptances": {"type": "integer"}, "current": {"type": "boolean"}}}}}},
        "NewDelegation": {"type": "object", "additionalProperties": False,
                          "required": ["@type", "matricule", "email", "start_date"],
                          "properties": {"@type": {"const": "Delegation"},
                                         "matricule": {"type": "string"},
                                         "email": {"type": "string", "format": "email"},
                                         **_DELEGATION_DATES}},
        "DelegationEnd": {"type": "object", "additionalProperties": False,
                          "required": ["end_date"], "properties": {"end_date": _DATE}},
        "SecretaryAttachment": {"type": "object", "required": ["professional", "start_date"],
                                "properties": {"professional": {"type": "string"},
                                               "group": {"type": "string"},
                                               "matricule": {"type": "string"},
                                               "email": {"type": "string"},
                                               **_DELEGATION_DATES}},
        "Person": {"type": "object", "properties": {
            k: {"type": "string"} for k in ("matricule", "first_name", "last_name",
                                            "birth_date", "address")}},
        "Mandate": {"allOf": [{"$ref": "#/components/schemas/Summary"}, {
            "type": "object", "properties": {
                "domain": {"type": "string"}, "activation_deadline": {"type": "string"},
                "end_date": {"type": "string"}, "provider": obj, "mandant": obj,
                "activation_code": {"type": "string", "description":
                                    "only in the answer to the creation, shown once"}}}]},
        "NewMandate": {"type": "object", "required": [
            "@type", "provider", "domain", "activation_deadline", "end_date"],
            "properties": {"@type": {"const": "Mandate"},
                           "provider": {"type": "string",
                                        "description": "id or path of the provider space"},
                           "domain": {"type": "string"},
                           "activation_deadline": {"type": "string", "format": "date"},
                           "end_date": {"type": "string", "format": "date"},
                           "title": {"type": "string"}}},
        "ActivationCode": {"type": "object", "required": ["code"],
                           "properties": {"code": {"type": "string"}}},
        "ActForChoice": {"type": "object", "properties": {"mandate": {
            "type": ["string", "null"], "description": "path of a mandate in effect"}}},
        "ActFor": {"type": "object", "properties": {
            "current": {"type": ["object", "null"]}, "available": {"type": "array"}}},
        "NewMembership": {"type": "object", "additionalProperties": False,
                          "required": ["@type", "certificate_serial", "role"],
                          "properties": {"@type": {"const": "Membership"},
                                         "certificate_serial": {"type": "string",
                                                                "pattern": "^[0-9]{20}$"},
                                         "role": {"enum": list(SPACE_ROLES)}}},
        "MembershipRole": {"type": "object", "additionalProperties": False,
                           "required": ["role"],
                           "properties": {"role": {"enum": list(SPACE_ROLES)}}},
        "Membership": {"allOf": [{"$ref": "#/components/schemas/Summary"}, {
            "type": "object", "properties": {
                "certificate_serial": {"type": "string"},
                "role": {"enum": list(SPACE_ROLES)}}}]},
        "Invitations": {"type": "object", "properties": {
            "certificate_serial": {"type": ["string", "null"]},
            "items": {"type": "array", "items": {"type": "object", "properties": {
                "@id": {"type": "string"}, "space": obj,
                "role": {"enum": list(SPACE_ROLES)},
                "certificate_serial": {"type": "string"}}}}}},
        "Permissions": {"type": "object", "properties": {
            "user": {"type": "string"}, "permissions": {"type": "array"}}},
    }
    _certificate_paths(request, paths, schemas)
    for dotted in AREA_PARTS:
        more_paths, more_schemas = import_module(dotted).openapi_parts(
            _op, _json, _errors, PATH)
        paths.update(more_paths)
        schemas.update(more_schemas)
    _typed_content_bodies(request, paths, schemas)
    _answers_any_operation_may_give(paths)
    return {"openapi": "3.1.0",
            "info": {"title": "Cabinet API", "version": "1"},
            "servers": [{"url": request.application_url}],
            "security": [{"bearer": []}, {"cookie": []}],
            "components": {"schemas": schemas, "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "cabinet_session"}}},
            "paths": paths}


def _answers_any_operation_may_give(paths):
    """The errors that come from the mechanism rather than the operation: 404 for a
    path naming nothing, 401 and 403 (no user; no permission, or no CSRF token on a
    cookie session) unless public, 400 for a malformed body, 413 for a body over the
    size limit, 503 while the database does not answer, and 405 (with an Allow header)
    for a method that the resource a path names does not answer (a PATCH on a folder:
    cabinet.views.methods)."""
    for template, item in paths.items():
        for method, op in item.items():
            codes = [503]
            if "{" in template:
                codes.append(404)
            if "{path}" in template:
                codes.append(405)
            if any(p.get("in") == "query" for p in op.get("parameters", ())):
                codes.append(400)         # a value that is not text (NUL, bad UTF-8)
            if op.get("security") != []:
                codes += [401, 403]
            if "requestBody" in op:
                codes += [400, 413]
            for code in codes:
                op["responses"].setdefault(str(code), ERROR)


def _typed_content_bodies(request, paths, schemas):
    """Types that extend the generic content API (cabinet.views.content hooks) name
    their bodies New<Type> (POST) and <Type>Edit (PATCH): /{path} accepts them too."""
    from cabinet.views.content import HOOKS_KEY
    for portal_type in sorted(request.registry.get(HOOKS_KEY, {})):
        for method, name in (("post", f"New{portal_type}"), ("patch", f"{portal_type}Edit")):
            if name not in schemas:
                continue
            body = paths["/{path}"][method]["requestBody"]["content"]["application/json"]
            body["schema"] = {"anyOf": [*body["schema"].get("anyOf", [body["schema"]]),
                                        {"$ref": f"#/components/schemas/{name}"}]}


def _certificate_paths(request, paths, schemas):
    """``/@certificates`` (cabinet.views.certificates): only where it exists, with the
    development certificate source."""
    from cabinet.spaces import administrators_set_certificates
    if not administrators_set_certificates(request.registry):
        return
    serial = {"type": ["string", "null"], "pattern": "^[0-9]{20}$"}
    account = {"type": "object", "properties": {
        "login": {"type": "string"}, "fullname": {"type": "string"},
        "certificate_serial": serial}}
    schemas["CertificateHolders"] = {"type": "object", "properties": {
        "@id": {"type": "string"}, "items": {"type": "array", "items": account}}}
    schemas["CertificateAssignment"] = {
        "type": "object", "additionalProperties": False, "required": ["login"],
        "properties": {"login": {"type": "string"}, "certificate_serial": serial}}
    schemas["CertificateHolder"] = account
    paths["/@certificates"] = {
        "get": _op("Development only: the accounts with a certificate serial number "
                   "(certificate:set)",
                   {"200": _json("CertificateHolders"), **_errors(401, 403)}),
        "post": _op("Development only: set (or, with null or \"\", remove) an account's "
                    "20-digit certificate serial number (certificate:set)",
                    {"200": _json("CertificateHolder"), **_errors(400, 401, 403, 409, 422)},
                    body="CertificateAssignment")}


@view_config(context=ISite, name="@openapi.json", request_method="GET", renderer="json",
             permission=NO_PERMISSION_REQUIRED)
def openapi(request):
    return spec(request)
