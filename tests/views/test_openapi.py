"""``/@openapi.json`` describes the whole JSON API: a valid OpenAPI 3.1 document, and
every JSON view registered in Pyramid has its path and method in it."""
import re

import pytest
from zope.interface.interface import InterfaceClass

from cabinet.interfaces import ISite

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@pytest.fixture
def spec(app, testapp):
    response = testapp.get("/@openapi.json")
    assert response.content_type == "application/json"
    return response.json


# -- the document itself ----------------------------------------------------------------------

def resolve(spec, ref):
    assert ref.startswith("#/"), f"only local references are used: {ref}"
    node = spec
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"unresolvable $ref {ref}"
        node = node[part]
    return node


def walk(node, where="#"):
    """Yield (where, dict) for every object of the document."""
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            yield from walk(value, f"{where}/{key}")
    elif isinstance(node, list):
        for n, value in enumerate(node):
            yield from walk(value, f"{where}/{n}")


def test_openapi_document_structure(spec):
    assert spec["openapi"] == "3.1.0"
    assert spec["info"]["title"] and spec["info"]["version"]
    assert isinstance(spec["paths"], dict) and spec["paths"]
    components = spec["components"]
    assert components["schemas"]["Error"]["required"] == ["type", "message"]
    schemes = components["securitySchemes"]
    assert schemes["bearer"] == {"type": "http", "scheme": "bearer"}
    for requirement in spec.get("security", []):
        assert set(requirement) <= set(schemes)

    for template, item in spec["paths"].items():
        assert template.startswith("/"), template
        params_in_template = set(re.findall(r"{([^}]+)}", template))
        operations = {m: op for m, op in item.items() if m in HTTP_METHODS}
        assert operations, f"{template} has no operation"
        assert set(item) - HTTP_METHODS <= {"summary", "description", "parameters",
                                            "servers", "$ref"}, template
        for method, op in operations.items():
            where = f"{method.upper()} {template}"
            assert op["responses"], where
            for status in op["responses"]:
                assert re.fullmatch(r"[1-5]\d\d|[1-5]XX|default", status), where
            declared = [p for p in op.get("parameters", []) + item.get("parameters", [])]
            path_params = {p["name"] for p in declared if p.get("in") == "path"}
            assert path_params == params_in_template, where
            for param in declared:
                assert param["in"] in ("path", "query", "header", "cookie"), where
                if param["in"] == "path":
                    assert param.get("required") is True, where
            for requirement in op.get("security", []):
                assert set(requirement) <= set(schemes), where

    for where, node in walk(spec):
        if "$ref" in node:
            resolve(spec, node["$ref"])


def test_openapi_is_public_and_json(testapp, app):
    response = testapp.get("/@openapi.json", headers={"Accept": "text/html"})
    assert response.content_type == "application/json"
    assert response.json["servers"][0]["url"] == "http://localhost"


# -- every JSON view is in it --------------------------------------------------------------------

def renderer_name(introspectable):
    """The renderer a view was registered with ('json', 'node.jinja2', None).

    The views introspectable does not keep it; the derived view does, in the
    ViewDeriverInfo its wrappers close over."""
    view, seen = introspectable["derived_callable"], set()
    while view is not None and id(view) not in seen:
        seen.add(id(view))
        for cell in getattr(view, "__closure__", None) or ():
            try:
                value = cell.cell_contents
            except ValueError:
                continue
            options = getattr(value, "options", None)
            if isinstance(options, dict) and "renderer" in options:
                renderer = options["renderer"]
                return getattr(renderer, "name", renderer)
        view = getattr(view, "__wraps__", None)
    return None


def methods_of(introspectable):
    methods = introspectable["request_methods"]
    if methods is None:
        return {"get", "post", "put", "patch", "delete"}
    if isinstance(methods, str):
        methods = (methods,)
    return {m.lower() for m in methods} - {"head"}


def is_json_view(introspectable, renderer):
    name = introspectable["name"] or ""
    accept = introspectable["accept"]
    accepts = accept if isinstance(accept, (list, tuple)) else [accept]
    return (renderer == "json" or name.startswith("@")
            or any(a and "json" in str(a) for a in accepts)
            # the API's unnamed write methods (HTML forms post to named views)
            or (not name and methods_of(introspectable) <= {"patch", "put", "delete"}))


def openapi_path(app, introspectable):
    """The OpenAPI path template where this view answers."""
    name = introspectable["name"] or ""
    route_name = introspectable["route_name"]
    if route_name:
        route = app.registry.introspector.get("routes", route_name)
        pattern = route["pattern"]
        return "/" + re.sub(r"{(\w+)(:[^}]*)?}", r"{\1}", pattern).lstrip("/")
    context = introspectable["context"]
    if isinstance(context, InterfaceClass) and context.isOrExtends(ISite):
        return f"/{name}" if name else "/"
    return f"/{{path}}/{name}" if name else "/{path}"


def json_views(app):
    for entry in app.registry.introspector.get_category("views"):
        intr = entry["introspectable"]
        context = intr["context"]
        if isinstance(context, type) and issubclass(context, BaseException):
            continue            # exception views
        if intr["exception_only"]:
            continue
        renderer = renderer_name(intr)
        if is_json_view(intr, renderer):
            yield intr, renderer


def test_the_walk_finds_the_json_views(app):
    """The introspector walk sees the API, and only the API."""
    found = {(intr["name"], openapi_path(app, intr)) for intr, _r in json_views(app)}
    names = {name for name, _path in found}
    for name in ("@login", "@logout", "@openapi.json", "@search", "@workflow", "@history",
                 "@sharing", "@permissions", ""):
        assert name in names
    assert ("@workflow", "/{path}/@workflow") in found
    assert ("@login", "/@login") in found
    assert not names & {"login", "logout", "workflow", "sharing", "permissions"}


def test_every_json_view_is_documented(app, spec):
    paths = spec["paths"]
    missing = []
    for intr, renderer in json_views(app):
        template = openapi_path(app, intr)
        context = getattr(intr["context"], "__name__", intr["context"])
        for method in sorted(methods_of(intr)):
            # a view reading request.subpath (``@workflow/<transition>``) is documented
            # at its path or below it
            candidates = [template]
            if intr["name"]:
                candidates += [p for p in paths if p.startswith(template + "/{")]
            if not any(method in paths.get(c, {}) for c in candidates):
                missing.append(f"{method.upper()} {template} (view {intr['name']!r} "
                               f"for {context}, renderer {renderer})")
    assert not missing, "JSON views missing from /@openapi.json:\n" + "\n".join(
        sorted(set(missing)))


#: GET operations that answer 404 on the sample document (documented so), with why
ANSWERS_404_ON_THE_SAMPLE = {
    "/{path}/@signature": "the evidence of a signature; the sample document is not signed",
    "/{path}/@fhir": "FHIR of questionnaire templates and responses; the sample is a document",
    "/{path}/@ics": "an appointment's .ics; the sample is a document",
    "/{path}/@portal": "the portal's home of a patient record; the sample is a document",
    "/@calendar/{token}.ics": "a calendar feed by its secret token; no such token here",
    "/{path}/@messages/{message}": "a message by its id; 0 is none",
    "/{path}/@messages/{message}/attachment": "same",
    "/{path}/@message-templates/{template}": "a reply template by its id; 0 is none",
    "/{path}/@message-templates/{template}/attachment": "same",
    "/{path}/@imaging": "a patient record's imaging album; the sample is a document",
    "/{path}/@imaging/{image}": "same",
    "/{path}/@@imaging-file/{image}": "same",
    "/{path}/@@imaging-zip": "same",
}


def test_documented_operations_answer(demo, api, spec):
    """The reverse direction, for GET: what the document lists exists (the root's
    sharing and history are there, though no demo user may see them)."""
    martin = api("dr.martin")
    values = {"path": "cabinets/parc/patients/leroy/documents/consentement",
              "matricule": "1985041212393",  # Lucie Leroy in cabinet/data/registry.csv
              "token": "unknown", "message": "0", "template": "0", "queue": "patients",
              "image": "none"}
    for template, item in spec["paths"].items():
        if "get" not in item or "{transition}" in template:
            continue
        url = re.sub(r"{(\w+)}", lambda m: values[m.group(1)], template)
        response = martin.get(url, status="*")
        expected = (200, 403) if template.startswith("/@") else (200,)
        if template in ANSWERS_404_ON_THE_SAMPLE:
            expected = (404,)
        assert response.status_int in expected, f"GET {template} -> {response.status}"
        assert response.content_type == "application/json", template
