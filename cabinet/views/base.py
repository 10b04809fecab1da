"""What every view shares: JSON or HTML, the request body, URLs and serialisation."""
import json
from datetime import date, datetime, timezone
from urllib.parse import quote, urlencode

from cabinet import errors
from cabinet.i18n import N_
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
    """A date as ``2026-03-10``; a time stamp as UTC with its offset,
    ``2026-03-10T08:00:00+00:00`` (Cabinet stores time stamps as naive UTC).
    An appointment's wall-clock time is written by cabinet.appointments.local_isoformat."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def refuse_upload(exc, wrong_type_status=415):
    """cabinet.documents.UploadRefused -> the JSON / HTML error: 413 naming the limit,
    a file of a refused type with ``wrong_type_status`` (documents answer 415; the
    conversation and imaging forms 422, as their fields' errors), else 422."""
    from pyramid import httpexceptions
    if exc.status == 413:
        raise errors._error(httpexceptions.HTTPRequestEntityTooLarge, exc.message,
                            "PayloadTooLarge", field=exc.field, **exc.extra)
    if exc.status == 415 and wrong_type_status == 415:
        raise errors._error(httpexceptions.HTTPUnsupportedMediaType, exc.message,
                            "UnsupportedMediaType", field=exc.field, **exc.extra)
    raise errors.unprocessable(exc.message, errors={exc.field: exc.message},
                               field=exc.field, **exc.extra)


def blob_download(request, holder, name, no_file, file_missing):
    """The stored file of ``holder`` (a document, a message, an image: its
    ``blob_sha256``, ``content_type``, ``file_name``) as a download; 404 with
    ``no_file`` when it has none, ``file_missing`` when the storage lost it."""
    from pyramid.response import FileResponse

    from cabinet.interfaces import IBlobStorage
    if not holder.blob_sha256:
        raise errors.not_found(no_file)
    try:
        path = request.registry.getUtility(IBlobStorage).path(holder.blob_sha256)
    except KeyError:
        raise errors.not_found(file_missing)
    response = FileResponse(str(path), request=request,
                            content_type=holder.content_type or "application/octet-stream")
    return as_attachment(response, holder.file_name or name)


def as_attachment(response, name, content_type=None):
    """``response`` served as a download named ``name`` (RFC 6266: an ASCII fallback
    and the UTF-8 name), never sniffed, never cached."""
    if content_type is not None:
        response.content_type = content_type
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{ascii_name}"; filename*=UTF-8\'\'{quote(name)}')
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


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
                                   errors={k: N_("Champ inconnu.") for k in unknown})
