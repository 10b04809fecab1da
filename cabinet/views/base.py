"""What every view shares: JSON or HTML, the request body, URLs and serialisation."""
import json
from datetime import date, datetime
from urllib.parse import urlencode

from cabinet import errors
from cabinet.workflow import available_transitions


def wants_json(request):
    """API calls: ``@`` views, a bearer token, or an Accept preferring JSON."""
    if any(seg.startswith("@") and not seg.startswith("@@")
           for seg in request.path_info.split("/")):
        return True
    if request.authorization is not None:
        return True
    offers = request.accept.acceptable_offers(["text/html", "application/json"])
    return bool(offers) and offers[0][0] == "application/json"


def json_body(request):
    """The request's JSON object, or 400 with what is wrong."""
    if not request.body:
        return {}
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise errors.bad_request(f"The body is not valid JSON: {exc}")
    except RecursionError:
        raise errors.bad_request("The body is nested too deeply.")
    if not isinstance(body, dict):
        raise errors.bad_request("The body must be a JSON object.")
    return body


def isoformat(value):
    if isinstance(value, datetime):
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def node_url(request, path):
    """Absolute URL of a node from its materialised path ('/a/b/')."""
    return request.application_url + (path[:-1] if len(path) > 1 else "")


def summary(request, row):
    """A listing item (a row of cabinet.search or a node)."""
    from cabinet.models import Node
    cls = Node.__mapper__.polymorphic_map[row.type].class_
    return {"@id": node_url(request, row.path), "@type": cls.portal_type,
            "id": row.name, "title": row.title, "review_state": row.state,
            "created": isoformat(row.created), "modified": isoformat(row.modified)}


def batching(request, b_start, b_size, total):
    def link(start):
        # every value of a repeated parameter (portal_type, review_state) is kept
        query = [(k, v) for k, v in request.GET.items() if k not in ("b_start", "b_size")]
        query += [("b_start", str(start)), ("b_size", str(b_size))]
        return request.path_url + "?" + urlencode(query)
    result = {"@id": link(b_start), "first": link(0)}
    if b_start > 0:
        result["prev"] = link(max(0, b_start - b_size))
    if b_start + b_size < total:
        result["next"] = link(b_start + b_size)
        result["last"] = link(((total - 1) // b_size) * b_size)
    return result


#: the largest whole number a query parameter may carry (a 32-bit SQL integer)
MAX_INT_PARAM = 2**31 - 1


def int_param(request, name, default, minimum=0, maximum=MAX_INT_PARAM):
    raw = request.GET.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise errors.bad_request(f"'{name}' must be a whole number, not '{raw}'.")
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise errors.bad_request(f"'{name}' must be {bound}.")
    return value


def workflow_info(request, context):
    workflow = request.workflows.for_node(context)
    state = workflow.states.get(context.state)
    return {
        "workflow": workflow.name,
        "review_state": context.state,
        "title": state.title if state else context.state,
        "transitions": [{"@id": f"{request.resource_url(context)}@workflow/{t.name}",
                         "id": t.name, "title": t.title, "to": t.target}
                        for t in available_transitions(request, context)],
    }


def cabinet_or_404(context):
    """The cabinet ``context`` lies in (cabinet-wide settings are reached from any
    resource inside it), or 404."""
    from cabinet.document_sharing import cabinet_of
    cabinet = cabinet_of(context)
    if cabinet is None:
        raise errors.not_found("This resource is not inside a cabinet.")
    return cabinet


def only_fields(body, allowed):
    """422 for a body carrying fields other than ``allowed``: each one named in
    ``errors``, the first in ``field``."""
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise errors.unprocessable(f"Unknown fields: {', '.join(unknown)}.",
                                   field=unknown[0],
                                   errors={k: "Champ inconnu." for k in unknown})
