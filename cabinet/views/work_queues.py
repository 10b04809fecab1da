"""The console's work queues (issue #10, K4): ``<cabinet>/@@work-queues`` (the list
of queues), ``<cabinet>/@@work-queues/<queue>`` (a queue's page: filters, sortable
columns, pages, total), ``<cabinet>/@@work-queues/<queue>/csv`` (its CSV export),
the same in JSON under ``<cabinet>/@work-queues``; and a record's console
``<patient>/@@patient-console`` (JSON ``<patient>/@patient-console``): the patient's
tabs (appointments, messages, payments, documents, questionnaires, history), each
with its count, leading to the record's own pages.

Who may: those who hold ``cabinet:view`` on the cabinet (its administrators,
professionals, staff, and secretaries acting for a professional); each list then
holds only what the user may view (cabinet.work_queues). Patients and visitors are
refused. Query parameters: ``sort_on`` (a sortable column, else 400 naming them),
``sort_order`` (ascending, descending), ``b_start``, ``b_size`` (at most 200),
``q`` (the patient's name) and each queue's filters. A CSV export of more rows than
``cabinet.csv_max_rows`` answers 422 before anything is sent."""
from datetime import timezone

from pyramid.httpexceptions import HTTPException
from pyramid.i18n import TranslationStringFactory, get_localizer
from pyramid.renderers import render_to_response
from sqlalchemy import func, select

from cabinet import errors, formats
from cabinet.appointments import zone
from cabinet.csv_export import max_rows
from cabinet.i18n import N_
from cabinet.document_sharing import cabinet_of, patient_of
from cabinet.interfaces import ICabinet, INode, IPatient
from cabinet.models import HistoryEntry, Message, Node
from cabinet.payments import money
from cabinet.search import readable_filter, subtree
from cabinet.work_queue_lists import QUEUES, queue_named
from cabinet.work_queues import export, page, read_list_query
from . import base
from .base import cabinet_or_404, isoformat, node_url
from .content import history_rows

_ = TranslationStringFactory("cabinet")


def translate(request, msgid):
    return get_localizer(request).translate(_(msgid))


def _json_value(column, value):
    if column.kind == "money":
        return money(value) if value is not None else None
    return isoformat(value)


def _csv_value(request, queue, column, value):
    if value is None:
        return ""
    if column.kind == "money":
        return money(value)
    if column.kind == "state":
        return translate(request, queue.label(request, column, value))
    return isoformat(value)


def _page_value(request, queue, column, value):
    if value is None or value == "":
        return "—"
    if column.kind == "datetime":     # a time stamp (naive UTC) on the cabinet's clock
        value = value.replace(tzinfo=timezone.utc).astimezone(
            zone(request.registry)).replace(tzinfo=None)
    if column.kind in ("date", "datetime"):
        return getattr(formats, column.kind)(request, value)
    if column.kind == "money":
        return formats.amount(request, value)
    if column.kind == "state":
        return translate(request, queue.label(request, column, value))
    return value


def item_json(request, queue, row, cells=False):
    """A row as JSON; with ``cells``, also [(text, link)] for the page."""
    links = queue.links(request, row)
    values = queue.values(request, row)
    item = {"@id": links.get("@id")}
    for column in queue.columns:
        item[column.key] = _json_value(column, values[column.key])
        if column.kind == "state":
            item[column.key + "_title"] = translate(
                request, queue.label(request, column, values[column.key]))
    item["links"] = {k: v for k, v in links.items() if k != "@id"}
    if cells:
        item["cells"] = [(_page_value(request, queue, c, values[c.key]), links.get(c.key))
                         for c in queue.columns]
    return item


def _queue(request, cabinet, name):
    queue = queue_named(name)
    if queue.permission and not request.has_permission(queue.permission, cabinet):
        raise errors.forbidden(N_("Cette liste ne vous est pas ouverte."))
    return queue


def queue_data(request, cabinet, queue, query=None, cells=False, api=True):
    query = query or read_list_query(request, queue, cabinet)
    rows, total = page(request, cabinet, queue, query)
    url = node_url(request, cabinet.path)
    filters = dict(query.filters)
    for name, value in query.values.items():
        if name in filters and not filters[name] and hasattr(value, "isoformat"):
            filters[name] = value.isoformat()     # the default the queue took (a day)
    return {"@id": request.url, "queue": queue.name, "title": translate(request, queue.title),
            "columns": [{"id": c.key, "title": translate(request, c.title),
                         "sortable": c.sort is not None} for c in queue.columns],
            "sort_on": query.sort_on,
            "sort_order": "descending" if query.descending else "ascending",
            "filters": filters, "items": [item_json(request, queue, r, cells) for r in rows],
            "items_total": total,
            "csv": f"{url}/{'@' if api else '@@'}work-queues/{queue.name}/csv"
                                         + (f"?{request.query_string}"
                                            if request.query_string else ""),
            "csv_max_rows": max_rows(request.registry.settings),
            "batching": base.batching(request, query.b_start, query.b_size, total)}


def queues_index(request, cabinet):
    url = node_url(request, cabinet.path)
    return {"@id": url + "/@work-queues",
            "items": [{"@id": f"{url}/@work-queues/{q.name}", "id": q.name,
                       "title": translate(request, q.title),
                       "description": translate(request, q.description),
                       "page": f"{url}/@@work-queues/{q.name}"}
                      for q in QUEUES.values()
                      if not q.permission or request.has_permission(q.permission, cabinet)]}


def _export(request, cabinet, queue):
    query = read_list_query(request, queue, cabinet)
    header = [translate(request, c.title) for c in queue.columns]

    def convert(row):
        values = queue.values(request, row)
        return [_csv_value(request, queue, c, values[c.key]) for c in queue.columns]
    return export(request, cabinet, queue, query, header, convert)


def work_queues_json(context, request):
    """GET <cabinet>/@work-queues[/<queue>[/csv]] (on any resource: for the cabinet
    holding it)."""
    cabinet = cabinet_or_404(context)
    if not request.has_permission("cabinet:view", cabinet):
        raise errors.forbidden(N_("Les listes de travail sont réservées à l'équipe du cabinet."))
    sub = request.subpath
    if not sub:
        return queues_index(request, cabinet)
    queue = _queue(request, cabinet, sub[0])
    if len(sub) == 2 and sub[1] == "csv":
        return _export(request, cabinet, queue)
    if len(sub) > 1:
        raise errors.not_found()
    return queue_data(request, cabinet, queue)


def _sort_link(request, data, column):
    params = [(k, v) for k, v in request.GET.items()
              if k not in ("sort_on", "sort_order", "b_start")]
    order = "ascending"
    if data["sort_on"] == column["id"] and data["sort_order"] == "ascending":
        order = "descending"
    from urllib.parse import urlencode
    return request.path_url + "?" + urlencode(params + [("sort_on", column["id"]),
                                                        ("sort_order", order)])


def work_queues_page(context, request):
    """GET <cabinet>/@@work-queues[/<queue>[/csv]]: the pages, the CSV download."""
    sub = request.subpath
    url = node_url(request, context.path)
    if not sub:
        return render_to_response("work_queues.jinja2", {
            "context": context, "url": url, "queues": queues_index(request, context)},
            request=request)
    queue = _queue(request, context, sub[0])
    if len(sub) == 2 and sub[1] == "csv":
        return _export(request, context, queue)
    if len(sub) > 1:
        raise errors.not_found()
    problems, status = {}, 200
    try:
        data = queue_data(request, context, queue, cells=True, api=False)
    except HTTPException as exc:
        field = getattr(exc, "extra", {}).get("field")
        if not field or exc.status_int not in (400, 422):
            raise
        # the form again, the error next to its field, nothing listed
        problems, status = {field: exc.detail}, exc.status_int
        data = {"filters": {f.name: request.GET.get(f.name, "") for f in queue.filters},
                "items": [], "items_total": 0, "columns": [], "batching": {},
                "sort_on": "", "sort_order": ""}
        data["filters"]["q"] = request.GET.get("q", "")
    response = render_to_response("work_queue.jinja2", {
        "context": context, "url": url, "queue": queue, "data": data,
        "options": queue.options(request, context), "errors": problems,
        "form_fields": {"q", "sort_on", "sort_order", *(f.name for f in queue.filters)},
        "sort_link": lambda column: _sort_link(request, data, column),
        "queues": queues_index(request, context)["items"]}, request=request)
    response.status_int = status
    return response


# -- a record's console: the patient's tabs -------------------------------------------------

#: (tab, title, the portal_type it counts, the record's page it leads to)
TABS = (("appointments", N_("Rendez-vous"), "Appointment", "/appointments"),
        ("messages", N_("Messages"), None, "/@@conversation"),
        ("payments", N_("Paiements"), "CareItem", "/payments"),
        ("documents", N_("Documents"), "Document", "/documents"),
        ("questionnaires", N_("Questionnaires"), "QuestionnaireResponse",
         "/questionnaires"),
        ("history", N_("Historique"), None, ""))


def _record(context, request):
    patient = patient_of(context)
    cabinet = cabinet_of(patient) if patient is not None else None
    if patient is None or cabinet is None:
        raise errors.not_found(N_("Ce n'est pas un dossier patient."))
    if not request.has_permission("cabinet:view", cabinet):
        raise errors.forbidden(N_("La console du cabinet est réservée à son équipe."))
    return patient, cabinet


def tab_counts(request, patient):
    """{tab: count} of what the user may view in each tab of ``patient``: one query
    for the four kinds of content (grouped by type), one for the messages, one for
    the history."""
    session = request.dbsession
    types = tuple(portal_type for _n, _t, portal_type, _p in TABS if portal_type)
    counts = dict.fromkeys((name for name, *_rest in TABS), 0)
    by_type = {name: portal_type for name, _t, portal_type, _p in TABS if portal_type}
    from cabinet.models import CONTENT_TYPES
    identities = {CONTENT_TYPES[t].__mapper__.polymorphic_identity: t for t in types}
    found = dict(session.execute(
        select(Node.type, func.count()).where(readable_filter(request, types),
                                              subtree(patient.path),
                                              Node.type.in_(list(identities)))
        .group_by(Node.type)).all())
    for name, portal_type in by_type.items():
        identity = CONTENT_TYPES[portal_type].__mapper__.polymorphic_identity
        counts[name] = found.get(identity, 0)
    if request.has_permission("message:reply", patient):
        counts["messages"] = session.scalar(select(func.count(Message.id)).where(
            Message.patient_id == patient.id))
    if request.has_permission("history:view", patient):
        counts["history"] = session.scalar(select(func.count(HistoryEntry.id)).where(
            HistoryEntry.node_id == patient.id))
    return counts


HISTORY_SIZE = 20


def patient_console_data(context, request):
    """GET <patient>/@patient-console: the tabs, and the record's latest events (its
    history: payments, messages filed, changes; the whole at the record's page)."""
    patient, cabinet = _record(context, request)
    url = node_url(request, patient.path)
    counts = tab_counts(request, patient)
    history = (history_rows(request, patient, limit=HISTORY_SIZE)
               if request.has_permission("history:view", patient) else None)
    unread = request.dbsession.scalar(select(func.count(Message.id)).where(
        Message.patient_id == patient.id, Message.side == "patient",
        Message.read_at.is_(None))) if request.has_permission("message:reply",
                                                              patient) else 0
    return {"@id": url + "/@patient-console",
            "patient": {"@id": url, "title": patient.title,
                        "birth_date": isoformat(patient.birth_date),
                        "phone": patient.phone or None, "email": patient.email or None},
            "cabinet": {"@id": node_url(request, cabinet.path), "title": cabinet.title},
            "unread_messages": unread, "history": history,
            "tabs": [{"id": name, "title": translate(request, title),
                      "page": url + path, "count": counts[name],
                      "json": url + {"appointments": "/@appointments",
                                     "messages": "/@messages", "payments": "/payments",
                                     "documents": "/@patient-documents",
                                     "questionnaires": "/questionnaires",
                                     "history": "/@history"}[name]}
                     for name, title, _type, path in TABS]}


def patient_console_page(context, request):
    data = patient_console_data(context, request)
    return {"context": context, "data": data, "url": node_url(request, context.path),
            "cabinet_url": data["cabinet"]["@id"]}


def includeme(config):
    add = config.add_view
    # the JSON answers on any resource, for the cabinet holding it (as the console's
    # other lists): the view checks cabinet:view on that cabinet
    add(work_queues_json, context=INode, name="@work-queues", request_method="GET",
        renderer="json", permission="site:view")
    add(work_queues_page, context=ICabinet, name="work-queues", request_method="GET",
        permission="cabinet:view")
    add(patient_console_data, context=INode, name="@patient-console",
        request_method="GET", renderer="json", permission="patient:view")
    add(patient_console_page, context=IPatient, name="patient-console",
        request_method="GET", renderer="patient_console.jinja2", permission="patient:view")


def openapi_parts(_op, _json, _errors, PATH):
    """The work queues and the patient's console in /@openapi.json."""
    q = lambda name, schema, desc="": {"name": name, "in": "query",  # noqa: E731
                                       "schema": schema, "description": desc}
    queue = {"name": "queue", "in": "path", "required": True,
             "schema": {"enum": list(QUEUES)}, "description": "the queue"}
    text = {"type": "string"}
    obj = {"type": "object"}
    paths = {
        "/{path}/@work-queues": {"get": _op(
            "The console's work queues of the cabinet holding the resource (K4), for "
            "those who hold cabinet:view on it",
            {"200": _json("WorkQueues"), **_errors(401, 403, 404)}, params=[PATH])},
        "/{path}/@work-queues/{queue}": {"get": _op(
            "One work queue (K4): patients (using the portal), payments (of a day: "
            "'day', today by default, never a day to come: 422), messages (unread), "
            "signatures (documents awaiting signature), questionnaires (sent over a "
            "period 'from'-'to' of at most two years, by state: 400 otherwise). Only "
            "what the user may view. Sorted on one of the queue's columns (400 naming "
            "them otherwise), filtered, paginated with the total. The same parameters "
            "at <path>/@work-queues/<queue>/csv (or the page's <cabinet>/@@work-queues/"
            "<queue>/csv) give every row as a streamed CSV (cells starting with =, +, "
            "-, @, a tab or CR are prefixed with '); more rows than the setting "
            "cabinet.csv_max_rows (10 000 by default) answer 422 before anything is "
            "sent",
            {"200": _json("WorkQueue"), **_errors(400, 401, 403, 404, 422)},
            params=[PATH, queue, q("sort_on", text, "a sortable column of the queue"),
                    q("sort_order", {"enum": ["ascending", "descending"]}),
                    q("b_start", {"type": "integer", "minimum": 0}),
                    q("b_size", {"type": "integer", "minimum": 1, "maximum": 200}),
                    q("q", text, "part of the patient's name"),
                    q("day", {"type": "string", "format": "date"}, "payments"),
                    q("state", text, "payments, questionnaires"),
                    q("from", {"type": "string", "format": "date"}, "questionnaires"),
                    q("to", {"type": "string", "format": "date"}, "questionnaires"),
                    q("practitioner", text, "signatures, questionnaires"),
                    q("template", text, "questionnaires"),
                    q("document_type", text, "signatures")])},
        "/{path}/@patient-console": {"get": _op(
            "The console's view of the patient record holding the resource (K4): the "
            "tabs (appointments, messages, payments, documents, questionnaires, "
            "history) with what the user may view in each and where it is, and the "
            "record's latest events; for the cabinet's team only (403 to patients)",
            {"200": _json("PatientConsole"), **_errors(401, 403, 404)}, params=[PATH])},
    }
    schemas = {
        "WorkQueues": {"type": "object", "properties": {"items": {"type": "array",
                                                                  "items": obj}}},
        "WorkQueue": {"type": "object", "properties": {
            "queue": text, "columns": {"type": "array", "items": obj},
            "sort_on": text, "sort_order": text, "filters": obj,
            "items": {"type": "array", "items": obj}, "items_total": {"type": "integer"},
            "csv": text, "csv_max_rows": {"type": "integer"}, "batching": obj}},
        "PatientConsole": {"type": "object", "properties": {
            "patient": obj, "cabinet": obj, "unread_messages": {"type": "integer"},
            "history": {"type": ["array", "null"], "items": obj,
                        "description": "the latest 20 events (null without history:view)"},
            "tabs": {"type": "array", "items": obj}}},
    }
    return paths, schemas
