"""``/@openapi.json``: the JSON API described in OpenAPI 3.1.

Every JSON view is listed here; tests/views/test_openapi.py fails when a registered
``@`` view or JSON content view is missing."""
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config

from cabinet.interfaces import ISite
from cabinet.models import SEARCHABLE_TYPES
from cabinet.roles import GRANTABLE_ROLES

PATH = {"name": "path", "in": "path", "required": True, "schema": {"type": "string"},
        "description": "Path of a resource, e.g. cabinets/parc/patients/leroy"}
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
        "/@search": {"get": _op("Search what the user may view",
                                {"200": _json("Listing"), **_errors(400, 401)},
                                params=search_params)},
        "/{path}": {
            "get": _op("A resource (containers: items, items_total, batching)",
                       {"200": _json("Resource"), **_errors(401, 403, 404)}, params=[PATH]),
            "post": _op("Create content in a container",
                        {"201": _json("Resource"), **_errors(400, 403, 409, 422)},
                        body="NewContent", params=[PATH]),
            "patch": _op("Edit a resource", {"200": _json("Resource"),
                                             **_errors(400, 403, 404, 422)},
                         body="Fields", params=[PATH]),
            "delete": _op("Delete a resource", {"204": {"description": "Deleted"},
                                                **_errors(403, 404)}, params=[PATH]),
        },
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
        "Permissions": {"type": "object", "properties": {
            "user": {"type": "string"}, "permissions": {"type": "array"}}},
    }
    return {"openapi": "3.1.0",
            "info": {"title": "Cabinet API", "version": "1"},
            "servers": [{"url": request.application_url}],
            "security": [{"bearer": []}, {"cookie": []}],
            "components": {"schemas": schemas, "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "cabinet_session"}}},
            "paths": paths}


@view_config(context=ISite, name="@openapi.json", request_method="GET", renderer="json",
             permission=NO_PERMISSION_REQUIRED)
def openapi(request):
    return spec(request)
