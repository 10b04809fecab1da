"""CSV exports of the console's lists (issue #10, K4): neutralised cells, streamed
rows, a row limit.

- A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
  prefixed with ``'``: a spreadsheet opening the file shows the text instead of
  evaluating a formula (``=HYPERLINK(...)``, ``-2+3``), the OWASP "CSV injection"
  rule.
- The response's body is a generator (``app_iter``): the rows are read from the
  database while they are sent, a chunk at a time, on a connection of their own
  (the request's transaction has ended by the time the server iterates), never
  held in memory all at once.
- At most ``cabinet.csv_max_rows`` rows (default 10 000); the caller counts first
  and refuses an export over the limit before anything is sent
  (cabinet.work_queues.export).
"""
import csv
import io

from pyramid.response import Response

DEFAULT_MAX_ROWS = 10_000
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
#: rows fetched from the database at a time
CHUNK = 500


def max_rows(settings):
    """The row limit of an export (setting ``cabinet.csv_max_rows``)."""
    try:
        value = int(settings.get("cabinet.csv_max_rows") or DEFAULT_MAX_ROWS)
    except (TypeError, ValueError):
        return DEFAULT_MAX_ROWS
    return max(value, 1)


def neutralise(value):
    """The text of a cell, with a leading ``'`` where a spreadsheet would read a
    formula."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if text.startswith(DANGEROUS):
        return "'" + text
    return text


def encode_rows(header, rows):
    """Bytes of the CSV (UTF-8 with a BOM, which spreadsheets need to read accents),
    one chunk per line: the header, then each row of ``rows`` (an iterable)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(cells):
        writer.writerow([neutralise(cell) for cell in cells])
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text.encode("utf-8")

    yield "\ufeff".encode("utf-8") + line(header)
    for row in rows:
        yield line(row)


def stream_rows(engine, statement, convert):
    """The rows of ``statement`` read on a connection of their own, ``CHUNK`` at a
    time (a server-side cursor on PostgreSQL), each through ``convert``."""
    with engine.connect() as connection:
        result = connection.execution_options(stream_results=True,
                                              yield_per=CHUNK).execute(statement)
        for row in result:
            yield convert(row)


def csv_response(filename, header, rows):
    """A streamed ``text/csv`` download of ``header`` and ``rows`` (an iterable,
    consumed while the response is sent)."""
    response = Response(content_type="text/csv", charset="utf-8")
    response.content_disposition = f'attachment; filename="{filename}"'
    response.app_iter = encode_rows(header, rows)
    return response
