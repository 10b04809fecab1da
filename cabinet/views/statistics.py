"""The console's statistics (issue #10, K5): ``GET <cabinet>/@statistics?start=&end=``
(JSON) and ``GET <cabinet>/@@statistics`` (the page: a period form, a chart per
figure drawn as SVG on the server with its data table, and the totals).

For the cabinet's people (``cabinet:view``: its administrators, professionals and
staff, a secretary through her delegation); another cabinet's people and patients
are refused. A bad period (malformed date, end before start, more than two years)
answers 422 naming the parameter in JSON, and the form with its error on the page.
Nothing is written: both are GETs.
"""
from cabinet import charts, errors
from cabinet.interfaces import IClock, ICabinet, INode
from cabinet.payments import money
from cabinet.periods import PeriodError
from cabinet.statistics import SERIES, compute, read_period, zone_of
from .base import cabinet_or_404, node_url

#: the charts of the page: (series, kind), titles in the template
CHARTS = (("logins", "bar"), ("signatures", "bar"), ("payments", "bar"),
          ("payments_amount", "line"), ("questionnaires", "bar"), ("documents", "bar"))


def _period(request):
    today = request.registry.getUtility(IClock).today()
    return read_period(request.GET, today)


def statistics_json(request, cabinet, stats):
    def value(name, number):
        return money(number) if name == "payments_amount" else number
    days = [{"date": day.isoformat(),
             **{name: value(name, stats.daily[name][day]) for name in SERIES}}
            for day in stats.period.days]
    totals = dict(stats.totals)
    totals["payments_amount"] = money(totals["payments_amount"])
    return {"@id": node_url(request, cabinet.path) + "/@statistics",
            "start": stats.period.start.isoformat(),
            "end": stats.period.end.isoformat(),
            "timezone": zone_of(request.registry).key,
            "days": days,
            "period_totals": {name: value(name, stats.period_totals[name])
                              for name in SERIES},
            "totals": totals}


def get_statistics(context, request):
    cabinet = cabinet_or_404(context)
    try:
        period = _period(request)
    except PeriodError as exc:
        raise errors.unprocessable(exc.message, errors={exc.field: exc.message},
                                   field=exc.field)
    return statistics_json(request, cabinet, compute(request, cabinet, period))


def page(context, request):
    values = {"start": request.GET.get("start", ""), "end": request.GET.get("end", "")}
    try:
        period = _period(request)
    except PeriodError as exc:
        request.response.status_int = 422
        message = request.localizer.translate(exc.message, domain="cabinet")
        return {"context": context, "url": node_url(request, context.path),
                "values": values, "errors": {exc.field: message}, "stats": None,
                "charts": CHARTS}
    stats = compute(request, context, period)
    return {"context": context, "url": node_url(request, context.path),
            "values": {"start": period.start.isoformat(), "end": period.end.isoformat()},
            "errors": {}, "stats": stats, "charts": CHARTS,
            "bar_chart": charts.bar_chart, "line_chart": charts.line_chart}


def openapi_parts(_op, _json, _errors, PATH):
    integer, money_ = {"type": "integer"}, {"type": "string", "pattern": r"^\d+\.\d{2}$"}
    figures = {name: (money_ if name == "payments_amount" else integer) for name in SERIES}
    day = {"name": "start", "in": "query", "schema": {"type": "string", "format": "date"},
           "description": "first day (YYYY-MM-DD); default: 29 days before 'end'"}
    end = {"name": "end", "in": "query", "schema": {"type": "string", "format": "date"},
           "description": "last day (YYYY-MM-DD); default: today"}
    paths = {"/{path}/@statistics": {"get": _op(
        "A cabinet's statistics (K5), for its people: per day of the cabinet's time "
        "zone over the period (at most two years; by default the last 30 days) the "
        "portal logins, signatures, approved online payments (count, amount), "
        "questionnaires filled and documents sent, 0 on days without any; the "
        "period's totals; the cabinet's totals since the start (patients using the "
        "portal, payments, documents sent, signatures). 422 naming 'start' or 'end' "
        "for a malformed date, a period ending before it starts or longer than two "
        "years",
        {"200": _json("CabinetStatistics"), **_errors(401, 403, 404, 422)},
        params=[PATH, day, end])}}
    schemas = {"CabinetStatistics": {"type": "object", "properties": {
        "@id": {"type": "string"}, "start": {"type": "string", "format": "date"},
        "end": {"type": "string", "format": "date"}, "timezone": {"type": "string"},
        "days": {"type": "array", "items": {"type": "object", "properties": {
            "date": {"type": "string", "format": "date"}, **figures}}},
        "period_totals": {"type": "object", "properties": figures},
        "totals": {"type": "object", "properties": {
            "portal_patients": integer, "payments": integer, "payments_amount": money_,
            "documents_sent": integer, "signatures": integer}}}}}
    return paths, schemas


def includeme(config):
    config.add_view(get_statistics, context=INode, name="@statistics",
                    request_method="GET", renderer="json", permission="cabinet:view")
    config.add_view(page, context=ICabinet, name="statistics", request_method="GET",
                    renderer="cabinet_statistics.jinja2", permission="cabinet:view")
