"""The console's work queues (issue #10, K4): the patients who use the portal, the
payments of a chosen day, the unread messages, the documents awaiting signature and
the questionnaires over a period, as lists that are all paginated (with the total),
sortable (on the columns each queue names, nothing else), filterable and exported
as CSV, by one mechanism (this module; the five queues are in
cabinet.work_queue_lists, the views in cabinet.views.work_queues).

Each queue says its columns, its filters and its SELECT (columns, joins,
conditions); the conditions always hold the permission filter compiled from the
workflow definitions (cabinet.search.readable_filter: the (state, role) pairs that
grant a permission, in SQL, never rows filtered in Python) and the cabinet's
subtree, so that staff of another cabinet see nothing of it. The queues of the
documents and of the questionnaires are the console's own statements
(cabinet.documents.awaiting_statement, cabinet.questionnaire_console), sorted and
exported here.

A page costs two queries whatever the number of rows (the page, then the total);
an export one count (capped at the row limit:
more rows answer 422 before anything is sent), then the rows streamed
(cabinet.csv_export)."""
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select

from cabinet import errors
from cabinet.appointments import local_now
from cabinet.csv_export import csv_response, max_rows, stream_rows
from cabinet.i18n import N_, _

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
ORDERS = ("ascending", "descending")
TOO_MANY_ROWS = ("L'export est limité à {limit} lignes et cette liste en compte plus : "
                 "précisez les filtres.")


@dataclass(frozen=True)
class Column:
    """A column of a queue: ``key`` in the JSON items and the CSV header, its title
    (a msgid), ``sort``: the SQL expression it sorts by (True: the selected column
    of that key; None: not sortable), and ``kind`` (text, date, datetime, money, state) for the page and the CSV."""
    key: str
    title: str
    sort: object = None
    kind: str = "text"


@dataclass(frozen=True)
class Filter:
    """A filter of a queue's form: ``kind`` text, date or select (``options``:
    (value, title) pairs, given by the queue for the cabinet)."""
    name: str
    title: str
    kind: str = "text"


@dataclass
class ListQuery:
    sort_on: str
    descending: bool
    b_start: int = 0
    b_size: int = PAGE_SIZE
    #: the filters as the user gave them (echoed in the JSON and the form)
    filters: dict = field(default_factory=dict)
    #: what the queue made of them (dates, ids, ...)
    values: dict = field(default_factory=dict)


class Queue:
    name = ""
    title = ""
    description = ""
    columns: tuple = ()
    filters: tuple = ()
    default_sort = ""
    default_order = "descending"
    #: the column the text filter ``q`` looks in (the patient's name)
    search = None
    #: the permission the user must hold on the cabinet, besides ``cabinet:view``
    permission = None

    def read_filters(self, request, cabinet):
        """{name: value} of the request's filters, or 400/422 naming the field."""
        return {}

    def statement(self, request, cabinet, values):
        """(columns, joins, conditions, id_column)."""
        raise NotImplementedError

    def options(self, request, cabinet):
        """{filter name: [(value, title)]} for the select filters."""
        return {}

    def values(self, request, row):
        """{column key: value} of a row (dates, Decimal amounts, texts)."""
        return {column.key: getattr(row, column.key) for column in self.columns}

    def links(self, request, row):
        """{"@id": ..., column key: URL}: where a row's cells lead."""
        return {}

    def label(self, request, column, value):
        """The text of a state (a workflow's state title by default)."""
        return value

    def sort_columns(self):
        return {c.key: c.sort for c in self.columns if c.sort is not None}


# -- the shared mechanism -------------------------------------------------------------

def _int(request, name, default, minimum, maximum):
    raw = request.GET.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise errors.bad_request(_("« ${name} » doit être un nombre entier, pas « ${raw} ».",
                                   mapping={"name": name, "raw": raw[:20]}), field=name)
    if not minimum <= value <= maximum:
        raise errors.bad_request(_("« ${name} » doit être entre ${minimum} et ${maximum}.",
                                   mapping={"name": name, "minimum": minimum,
                                            "maximum": maximum}), field=name)
    return value


def read_list_query(request, queue, cabinet):
    """The ListQuery of the request: ``sort_on`` (one of the queue's sortable columns,
    else 400 naming them), ``sort_order``, ``b_start``, ``b_size`` and the queue's
    filters."""
    params = request.GET
    sortable = queue.sort_columns()
    sort_on = params.get("sort_on") or queue.default_sort
    if sort_on not in sortable:
        raise errors.bad_request(
            _("Tri impossible sur « ${column} » : choisissez l'une des colonnes ${columns}.",
              mapping={"column": sort_on[:50], "columns": ", ".join(sorted(sortable))}),
            field="sort_on", allowed=sorted(sortable))
    order = params.get("sort_order") or (queue.default_order if sort_on == queue.default_sort
                                         else "ascending")
    if order not in ORDERS:
        raise errors.bad_request(N_("« sort_order » vaut « ascending » ou « descending »."),
                                 field="sort_order")
    query = ListQuery(sort_on=sort_on, descending=order == "descending",
                      b_start=_int(request, "b_start", 0, 0, 2**31 - 1),
                      b_size=_int(request, "b_size", PAGE_SIZE, 1, MAX_PAGE_SIZE))
    query.filters = {f.name: params.get(f.name, "").strip()[:200] for f in queue.filters}
    if queue.search is not None:
        query.filters["q"] = params.get("q", "").strip()[:200]
    query.values = queue.read_filters(request, cabinet)
    return query


def _select(request, cabinet, queue, query):
    columns, joins, conditions, id_column = queue.statement(request, cabinet, query.values)
    text = query.filters.get("q")
    if text and queue.search is not None:
        conditions = [*conditions, func.lower(queue.search).contains(text.lower(),
                                                                     autoescape=True)]
    return columns, joins, conditions, id_column


def _ordered(queue, query, statement, columns, id_column):
    sort = queue.sort_columns()[query.sort_on]
    if sort is True:
        sort = next(c for c in columns if getattr(c, "key", None) == query.sort_on)
    if query.descending:
        return statement.order_by(sort.desc(), id_column.desc())
    return statement.order_by(sort.asc(), id_column.asc())


def page(request, cabinet, queue, query):
    """(rows, total): one page of the queue, and how many rows match."""
    columns, joins, conditions, id_column = _select(request, cabinet, queue, query)
    statement = _ordered(queue, query, select(*columns).select_from(joins)
                         .where(*conditions), columns, id_column)
    rows = request.dbsession.execute(statement.offset(query.b_start)
                                     .limit(query.b_size)).all()
    total = request.dbsession.scalar(select(func.count()).select_from(
        select(id_column).select_from(joins).where(*conditions).subquery()))
    return rows, total


def export(request, cabinet, queue, query, header, convert):
    """The queue's rows (every page, in the query's order) as a streamed CSV, or 422
    when there are more than the row limit (counted first: nothing is sent)."""
    limit = max_rows(request.registry.settings)
    columns, joins, conditions, id_column = _select(request, cabinet, queue, query)
    counted = request.dbsession.scalar(select(func.count()).select_from(
        select(id_column).select_from(joins).where(*conditions).limit(limit + 1)
        .subquery()))
    if counted > limit:
        raise errors.unprocessable(TOO_MANY_ROWS.format(limit=limit), limit=limit,
                                   field="export")
    statement = _ordered(queue, query, select(*columns).select_from(joins)
                         .where(*conditions), columns, id_column).limit(limit)
    rows = stream_rows(request.registry["db_engine"], statement, convert)
    today = local_now(request).date()
    return csv_response(f"{queue.name}-{today.isoformat()}.csv", header, rows)


def parse_day(raw, name):
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise errors.unprocessable(_("« ${name} » doit être une date AAAA-MM-JJ, "
                                     "pas « ${raw} ».", mapping={"name": name, "raw": raw[:20]}),
                                   errors={name: N_("Date au format AAAA-MM-JJ.")}, field=name)


def node_state_title(request, workflow_name, state):
    found = request.workflows[workflow_name].states.get(state)
    return found.title if found is not None else state
