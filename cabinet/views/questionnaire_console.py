"""The console's questionnaires (Q5): ``/cabinets/<c>/@questionnaires`` (JSON) and
``/cabinets/<c>/@@questionnaires`` (the page with its filters, counts and pages)."""
from cabinet.i18n import N_
from cabinet.interfaces import ICabinet, INode
from cabinet.questionnaire_console import (
    PAGE_SIZE, STATES, console_rows, read_query,
)
from cabinet.questionnaire_responses import (
    cabinet_practitioners, cabinet_templates,
)
from .base import batching, cabinet_or_404, int_param, isoformat, node_url

STATE_FILTERS = {"sent": N_("Envoyés, non remplis"), "filled": N_("Remplis"),
                 "validated": N_("Validés"), "signed": N_("Signés")}




def console_data(context, request):
    cabinet = cabinet_or_404(context)
    b_start = int_param(request, "b_start", 0)
    query = read_query(request, cabinet, b_start=b_start, b_size=PAGE_SIZE)
    rows, total, counts = console_rows(request, cabinet, query)
    items = [{"@id": node_url(request, r.path), "@type": "QuestionnaireResponse",
              "id": r.name, "title": r.title, "review_state": r.state,
              "sent_at": isoformat(r.sent_at), "modified": isoformat(r.modified),
              "patient": {"@id": node_url(request, r.patient_path),
                          "title": r.patient_title},
              "practitioner": ({"id": r.practitioner_name, "title": r.practitioner_title}
                               if r.practitioner_name else None)}
             for r in rows]
    return {"@id": request.url, "from": query.start.isoformat(),
            "to": query.end.isoformat(), "state": query.state or None,
            "practitioner": query.practitioner or None,
            "template": query.template or None,
            "items": items, "items_total": total, "counts": counts,
            "batching": batching(request, b_start, PAGE_SIZE, total)}


def console_page(context, request):
    data = console_data(context, request)
    session = request.dbsession
    return {"context": context, "data": data, "url": node_url(request, context.path),
            "states": [(s, STATE_FILTERS[s]) for s in STATES],
            "templates": [(t.name, t.title) for t in cabinet_templates(session, context)],
            "practitioners": [(p.name, p.title)
                              for p in cabinet_practitioners(session, context)]}


def includeme(config):
    config.add_view(console_data, context=INode, name="@questionnaires",
                    request_method="GET", renderer="json", permission="cabinet:view")
    config.add_view(console_page, context=ICabinet, name="questionnaires",
                    request_method="GET", renderer="questionnaire_console.jinja2",
                    permission="cabinet:view")
