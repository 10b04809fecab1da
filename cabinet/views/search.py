"""``@search``: what the user may view, filtered, sorted and batched, in one query."""
from cabinet import errors
from cabinet.models import CONTENT_TYPES, SEARCHABLE_TYPES
from cabinet.search import SORT_COLUMNS, Query, search
from .base import batching, int_param, summary
from .content import type_interface

MAX_B_SIZE = 500


def parse_query(context, request):
    params = request.GET
    types = tuple(params.getall("portal_type")) or SEARCHABLE_TYPES
    unknown = [t for t in types if t not in SEARCHABLE_TYPES]
    if unknown:
        raise errors.bad_request(f"Unknown portal_type {unknown}; use one of "
                                 f"{list(SEARCHABLE_TYPES)}.")
    states = tuple(params.getall("review_state"))
    path = params.get("path") or context.path
    if not path.startswith("/"):
        raise errors.bad_request("'path' must start with '/'.")
    path = path.rstrip("/") + "/"
    sort_on = params.get("sort_on", "modified")
    if sort_on not in SORT_COLUMNS:
        raise errors.bad_request(f"'sort_on' must be one of {sorted(SORT_COLUMNS)}.")
    order = params.get("sort_order", "descending" if sort_on == "modified" else "ascending")
    if order not in ("ascending", "descending", "reverse"):
        raise errors.bad_request("'sort_order' must be 'ascending' or 'descending'.")
    return Query(portal_types=types, review_states=states, path=path, sort_on=sort_on,
                 descending=order != "ascending",
                 b_start=int_param(request, "b_start", 0),
                 b_size=int_param(request, "b_size", 50, minimum=1, maximum=MAX_B_SIZE))


def search_view(context, request):
    query = parse_query(context, request)
    items, total, relation = search(request, query)
    result = {"@id": request.url, "items": [summary(request, row) for row in items],
              "items_total": total,
              "batching": batching(request, query.b_start, query.b_size, total)}
    if relation != "eq":
        result["items_total_relation"] = relation
    return result


def includeme(config):
    for cls in CONTENT_TYPES.values():
        config.add_view(search_view, context=type_interface(cls), name="@search",
                        request_method="GET", renderer="json",
                        permission=f"{cls.permission_prefix}:view")
