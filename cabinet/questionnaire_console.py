"""The console's list of questionnaires (Q5): the responses of a cabinet sent over a
period (by default the last 30 days by ``sent_at``, from the clock), filtered by state
(sent but not filled, filled, validated, signed), practitioner and template, a page
at a time with the total and the count in each state.

Everything is SQL: the permission filter is cabinet.search's (the (state, role)
pairs that grant ``questionnaire:view``, compiled from the workflow), so a page is
one query, the total one more and the counts per state a third, whatever the size.
"""
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from cabinet import errors
from cabinet.appointments import local_now, utc_day_bounds
from cabinet.i18n import _
from cabinet.periods import PeriodError, check_period, parse_day
from cabinet.models import Node, Professional, QuestionnaireResponse
from cabinet.questionnaire_responses import practitioner_named, template_named
from cabinet.search import readable_filter, subtree

DEFAULT_DAYS = 30
PAGE_SIZE = 50
#: the states the console filters by ("pending": not sent yet, so never listed)
STATES = ("sent", "filled", "validated", "signed")


@dataclass
class ConsoleQuery:
    start: date
    end: date
    state: str = ""
    practitioner: str = ""
    template: str = ""
    b_start: int = 0
    b_size: int = PAGE_SIZE
    practitioner_id: int | None = field(default=None, repr=False)
    template_id: int | None = field(default=None, repr=False)


def read_period(params, today):
    """(start, end) of ``from`` and ``to`` (by default the 30 days up to ``today``),
    or 400 naming the parameter at fault (cabinet.periods' rule and messages)."""
    try:
        end = parse_day(params["to"], "to") if params.get("to") else today
        start = (parse_day(params["from"], "from") if params.get("from")
                 else end - timedelta(days=DEFAULT_DAYS))
        check_period(start, end, "to")
    except PeriodError as exc:
        raise errors.bad_request(exc.message, field=exc.field)
    return start, end


def read_query(request, cabinet, b_start=0, b_size=PAGE_SIZE):
    """The ConsoleQuery of the request's parameters (``from``, ``to``, ``state``,
    ``practitioner``, ``template``), or 400 saying what is wrong. Names are looked
    up inside ``cabinet`` only."""
    params = request.GET
    today = local_now(request).date()          # the cabinet's day, not UTC's
    start, end = read_period(params, today)
    query = ConsoleQuery(start=start, end=end, b_start=b_start, b_size=b_size)
    state = params.get("state", "").strip()
    if state and state not in STATES:
        raise errors.bad_request(_("'state' est l'un de : ${states}.",
                                   mapping={"states": ", ".join(STATES)}), field="state")
    query.state = state
    session = request.dbsession
    name = params.get("practitioner", "").strip()
    if name:
        found = practitioner_named(session, cabinet, name)
        if found is None:
            raise errors.bad_request(_("Aucun praticien « ${name} » dans ce cabinet.",
                                       mapping={"name": name[:100]}), field="practitioner")
        query.practitioner, query.practitioner_id = name, found.id
    name = params.get("template", "").strip()
    if name:
        found = template_named(session, cabinet, name)
        if found is None:
            raise errors.bad_request(_("Aucun modèle « ${name} » dans ce cabinet.",
                                       mapping={"name": name[:100]}), field="template")
        query.template, query.template_id = name, found.id
    return query


def _conditions(request, cabinet, query, with_state=True):
    qr = QuestionnaireResponse.__table__
    start, end = utc_day_bounds(request.registry, query.start, query.end)
    conditions = [readable_filter(request, ("QuestionnaireResponse",)),
                  Node.type == "questionnaire", subtree(cabinet.path),
                  # the period's days are the cabinet's (sent_at is naive UTC)
                  qr.c.sent_at >= start, qr.c.sent_at < end,
                  Node.state.in_(STATES)]
    if with_state and query.state:
        conditions.append(Node.state == query.state)
    if query.practitioner_id is not None:
        conditions.append(qr.c.practitioner_id == query.practitioner_id)
    if query.template_id is not None:
        conditions.append(qr.c.template_id == query.template_id)
    return conditions


def _base(columns):
    nodes, qr = Node.__table__, QuestionnaireResponse.__table__
    return select(*columns).select_from(nodes.join(qr, qr.c.id == nodes.c.id))


def console_statement(request, cabinet, query):
    """(columns, joins, conditions) of the responses ``query`` asks for that the user
    may view (the console's list, and its work queue: cabinet.work_queues)."""
    nodes, qr = Node.__table__, QuestionnaireResponse.__table__
    folder, patient = aliased(Node.__table__), aliased(Node.__table__)
    pro = aliased(Node.__table__)
    pro_table = Professional.__table__
    columns = (nodes.c.id, nodes.c.name, nodes.c.path, nodes.c.title, nodes.c.state,
               nodes.c.modified, qr.c.sent_at, qr.c.draft_saved_at,
               qr.c.template_id, patient.c.path.label("patient_path"),
               patient.c.title.label("patient_title"), pro.c.name.label("practitioner_name"),
               pro.c.title.label("practitioner_title"))
    joins = (nodes.join(qr, qr.c.id == nodes.c.id)
             .join(folder, folder.c.id == nodes.c.parent_id)
             .join(patient, patient.c.id == folder.c.parent_id)
             .outerjoin(pro_table, pro_table.c.id == qr.c.practitioner_id)
             .outerjoin(pro, pro.c.id == pro_table.c.id))
    return columns, joins, _conditions(request, cabinet, query)


def console_rows(request, cabinet, query):
    """(rows, total, counts): one page of responses (newest sent first), how many
    match, and {state: count} over the period and other filters (any state)."""
    nodes, qr = Node.__table__, QuestionnaireResponse.__table__
    columns, joins, conditions = console_statement(request, cabinet, query)
    statement = (select(*columns).select_from(joins).where(*conditions)
                 .order_by(qr.c.sent_at.desc(), nodes.c.id.desc())
                 .offset(query.b_start).limit(query.b_size))
    rows = request.dbsession.execute(statement).all()
    counts = dict.fromkeys(STATES, 0)
    for state, count in request.dbsession.execute(
            _base((nodes.c.state, func.count()))
            .where(*_conditions(request, cabinet, query, with_state=False))
            .group_by(nodes.c.state)):
        counts[state] = count
    total = counts[query.state] if query.state else sum(counts.values())
    return rows, total, counts
