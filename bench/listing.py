"""``@search`` first page at growing database sizes: does the cost stay flat?

For each size, a fresh database is built (PostgreSQL: a new database on
127.0.0.1:5432, dropped at the end; SQLite: a file in a temporary directory), with
the shape described in bench/dataset.py. Then the first page of

    GET /@search?portal_type=Document&sort_on=modified&sort_order=descending&b_size=50

is measured as a patient, a secretary (acting for a professional through an active
delegation) and a cabinet administrator, two ways:

- ``search()``: cabinet.search.search() with a fresh request each run (its own grants
  query, page query and capped count), identity and delegations already resolved, as
  the view's permission check leaves them in a real request;
- ``HTTP``: the whole WSGI request through webtest (bearer token, traversal, security,
  JSON rendering).

All the databases are built first, then measured in alternation (one run of each
database and user in turn, ``--runs`` times, after ``--warmup`` runs), so that a change
of load on the machine weighs on every size alike; medians and minimums are printed.
The queries that search() sends are captured and their plans printed (PostgreSQL:
EXPLAIN (ANALYZE, BUFFERS); SQLite: EXPLAIN QUERY PLAN). Finally each size's cost
relative to the smallest size of its backend, for each user (goal: 1M at most 1.5x 10k).

    .venv/bin/python bench/listing.py                  # PG 10k, 100k, 1M + SQLite 100k
    .venv/bin/python bench/listing.py --sizes 10000,100000 --sqlite-sizes 10000 --runs 5
"""
import argparse
import os
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

import webtest
from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent))
import dataset  # noqa: E402

from cabinet.resources import get_root  # noqa: E402
from cabinet.search import search  # noqa: E402
from cabinet.views.search import parse_query  # noqa: E402

SEARCH_URL = "/@search?portal_type=Document&sort_on=modified&sort_order=descending&b_size=50"
USERS = ("patient", "secretary", "administrator")


def sizes(text):
    return [int(float(s)) for s in text.split(",") if s.strip()] if text else []


def time_search(registry, token):
    """Seconds of one search() with a fresh request, and what it found."""
    request = dataset.make_request(registry, SEARCH_URL,
                                   headers={"Authorization": f"Bearer {token}"})
    try:
        with request.tm:
            # resolved by the view's permission check in a real request
            assert request.identity is not None
            request.acting_for
            query = parse_query(get_root(request), request)
            started = time.perf_counter()
            items, total, relation = search(request, query)
            elapsed = time.perf_counter() - started
    finally:
        dataset.done(request)
    return elapsed, (len(items), total, relation)


def time_http(client, token):
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    started = time.perf_counter()
    response = client.get(SEARCH_URL, headers=headers)
    elapsed = time.perf_counter() - started
    body = response.json
    return elapsed, (len(body["items"]), body["items_total"],
                     body.get("items_total_relation", "eq"))


def captured_queries(engine, registry, token):
    """The SQL statements (and parameters) one search() sends."""
    statements = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    request = dataset.make_request(registry, SEARCH_URL,
                                   headers={"Authorization": f"Bearer {token}"})
    try:
        with request.tm:
            request.identity, request.acting_for
            query = parse_query(get_root(request), request)
            event.listen(engine, "before_cursor_execute", capture)
            try:
                search(request, query)
            finally:
                event.remove(engine, "before_cursor_execute", capture)
    finally:
        dataset.done(request)
    return statements


def explain(engine, statements):
    lines = []
    with engine.connect() as conn:
        for number, (statement, parameters) in enumerate(statements, 1):
            kind = ("grants" if "local_roles" in statement
                    else "count" if "count(" in statement.lower() else "page")
            lines.append(f"-- query {number} ({kind}): {' '.join(statement.split())}")
            lines.append(f"-- parameters: {parameters}")
            if engine.dialect.name == "postgresql":
                plan = conn.exec_driver_sql(
                    "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).all()
                lines += ["   " + row[0] for row in plan]
            else:
                plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement,
                                            parameters).all()
                lines += [f"   {row[-1]}" for row in plan]
    return "\n".join(lines)


@contextmanager
def sqlite_database(keep):
    directory = tempfile.mkdtemp(prefix="cabinet-listing-")
    try:
        yield f"sqlite:///{directory}/listing.sqlite"
    finally:
        if keep:
            print(f"kept {directory}/listing.sqlite")
        else:
            for path in Path(directory).iterdir():
                path.unlink()
            os.rmdir(directory)


def build_all(stack, args):
    """[(backend, size, engine, app, data)] for every requested database."""
    wanted = [("postgresql", size) for size in sizes(args.sizes)]
    if wanted and not dataset.postgresql_available():
        print(f"PostgreSQL is not reachable at {dataset.PG_ADMIN_URL}: "
              "skipping the PostgreSQL sizes", file=sys.stderr)
        wanted = []
    wanted += [("sqlite", size) for size in sizes(args.sqlite_sizes)]
    databases = []
    for backend, size in wanted:
        print(f"\n=== building {backend}, {size:,} documents ===", flush=True)
        url = stack.enter_context(dataset.postgresql_database(keep=args.keep)
                                  if backend == "postgresql" else sqlite_database(args.keep))
        engine, app, data = dataset.build(url, size, cabinets=args.cabinets)
        stack.callback(engine.dispose)
        print(f"  {data.nodes:,} nodes ({data.patients:,} patients, {data.documents:,} "
              f"documents, {data.cabinets} cabinets) in {data.build_seconds:.1f}s", flush=True)
        databases.append((backend, size, engine, app, data))
    return databases


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000",
                        help="PostgreSQL sizes in documents (comma-separated; '' for none)")
    parser.add_argument("--sqlite-sizes", default="100000",
                        help="SQLite sizes in documents (comma-separated; '' for none)")
    parser.add_argument("--runs", type=int, default=31, help="measured runs (median, min)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--cabinets", type=int, default=5)
    parser.add_argument("--no-explain", action="store_true", help="do not print plans")
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    args = parser.parse_args(argv)
    print("load average at start: %.2f %.2f %.2f" % os.getloadavg(), flush=True)

    with ExitStack() as stack:
        databases = build_all(stack, args)
        clients = {}
        for backend, size, engine, app, data in databases:
            clients[(backend, size)] = webtest.TestApp(
                app, extra_environ={"HTTP_HOST": "127.0.0.1:6543", "REMOTE_ADDR": "127.0.0.1"})
            if not args.no_explain:
                for role in USERS:
                    login = data.logins[role]
                    print(f"\n=== plans: {backend}, {size:,} documents, {role} ({login}) ===")
                    print(explain(engine, captured_queries(engine, app.registry,
                                                           data.tokens[login])), flush=True)

        print(f"\n=== measuring: {args.warmup} + {args.runs} runs of each database and "
              "user, in alternation ===", flush=True)
        times = {}      # (backend, size, role) -> {"search": [...], "http": [...]}
        found = {}
        for i in range(args.warmup + args.runs):
            for backend, size, engine, app, data in databases:
                for role in USERS:
                    token = data.tokens[data.logins[role]]
                    s, found[(backend, size, role)] = time_search(app.registry, token)
                    h, http_found = time_http(clients[(backend, size)], token)
                    assert http_found == found[(backend, size, role)], http_found
                    if i >= args.warmup:
                        entry = times.setdefault((backend, size, role),
                                                 {"search": [], "http": []})
                        entry["search"].append(s)
                        entry["http"].append(h)
        report(databases, times, found, args)
    print("load average at end: %.2f %.2f %.2f" % os.getloadavg())


def report(databases, times, found, args):
    med = statistics.median
    print("\n=== Summary: @search first page (50, portal_type=Document, sort_on=modified "
          f"descending); medians of {args.runs} runs, min in brackets ===")
    print(f"{'backend':<11}{'documents':>11}  {'user':<14}{'search() ms':>17}{'HTTP ms':>17}"
          f"  {'items, items_total':<22}{'x smallest: search()':>22}{'HTTP':>8}")
    figures = {key: (med(v["search"]), min(v["search"]), med(v["http"]), min(v["http"]))
               for key, v in times.items()}
    for backend in ("postgresql", "sqlite"):
        keys = [k for k in figures if k[0] == backend]
        if not keys:
            continue
        smallest = min(k[1] for k in keys)
        for _, size, role in sorted(keys, key=lambda k: (k[1], USERS.index(k[2]))):
            s, s_min, h, h_min = figures[(backend, size, role)]
            s0, s0_min, h0, _ = figures[(backend, smallest, role)]
            n, total, relation = found[(backend, size, role)]
            print(f"{backend:<11}{size:>11,}  {role:<14}{s * 1000:>8.2f} ({s_min * 1000:5.2f})"
                  f"{h * 1000:>8.2f} ({h_min * 1000:5.2f})  {f'{n}, {total} ({relation})':<22}"
                  f"{s / s0:>13.2f}x ({s_min / s0_min:.2f}x){h / h0:>7.2f}x")
    sizes_pg = sorted({k[1] for k in figures if k[0] == "postgresql"})
    if len(sizes_pg) >= 2:
        large = sizes_pg[-1]
        for small in sizes_pg[:-1]:
            print(f"\nOn PostgreSQL, {large:,} documents against {small:,} (search(), medians; "
                  "min in brackets)" + (" -- the goal: at most 1.5x" if small == sizes_pg[0]
                                        else ""))
            for role in USERS:
                s, s_min, h, _ = (a / b for a, b in zip(figures[("postgresql", large, role)],
                                                        figures[("postgresql", small, role)]))
                verdict = ("reached" if s <= 1.5 else "NOT reached") \
                    if small == sizes_pg[0] else ""
                print(f"  {role:<13} search() {s:.2f}x ({s_min:.2f}x) {verdict:<12} "
                      f"whole HTTP request {h:.2f}x")

if __name__ == "__main__":
    main()
