"""What waitress's threads cost: the document page and the hello-world, each served
with 1 and with 4 threads, loaded at 16 connections, with the server's CPU time and
its threads' context switches per request (read from /proc), in one run.

Where bench/views.py says how fast Cabinet serves with 4 threads, this says why 4
threads serve the page slower than 1 on SQLite: Python's sqlite3 module releases the
GIL around every column of every row it fetches (CPython 3.11 to 3.13, in
``_pysqlite_fetch_one_row``), about 950 times for the document page (the lineage's
polymorphic rows are wide). One thread takes it back at once; with several, each
release hands the GIL to another thread, and the page costs a third more CPU in
futex calls and context switches. The hello-world never lets the GIL go in a request,
so its threads cost nothing. On PostgreSQL (psycopg lets the GIL go once per query,
while it waits for the server) the threads overlap their waits instead.

    .venv/bin/python bench/threads.py                    # SQLite, 2,000 patients
    .venv/bin/python bench/threads.py --postgresql
"""
import argparse
import os
import statistics
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import dataset  # noqa: E402
import views  # noqa: E402


def process_cpu(pid):
    """The process's user + system CPU seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def context_switches(pid):
    """Voluntary + involuntary context switches of all the process's threads."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            status = (task / "status").read_text()
        except FileNotFoundError:     # a thread that ended meanwhile
            continue
        for line in status.splitlines():
            if "ctxt_switches:" in line:
                total += int(line.split()[-1])
    return total


def measure(wrk, process, url, headers, connections, duration):
    """req/s, p99 ms, server CPU ms and context switches per request of one wrk run."""
    cpu, switches = process_cpu(process.pid), context_switches(process.pid)
    result = views.run_wrk(wrk, url, connections, duration, headers)
    requests = max(result["requests"], 1)
    return {"rps": result["rps"], "p99": result["p99"],
            "cpu": (process_cpu(process.pid) - cpu) / requests * 1000,
            "switches": (context_switches(process.pid) - switches) / requests}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgresql", action="store_true")
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--threads", default="1,4")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=float, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    thread_counts = [int(n) for n in args.threads.split(",")]
    wrk = views.find_wrk()
    print("load average at start: %.2f %.2f %.2f" % os.getloadavg(), flush=True)
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cabinet-threads-")))
        url = (stack.enter_context(dataset.postgresql_database(prefix="cabinet_threads"))
               if args.postgresql else f"sqlite:///{tmp}/threads.sqlite")
        engine, app, data = dataset.build(url, args.patients * 10, log=lambda *a, **k: None)
        engine.dispose()
        del app
        servers = {}
        for threads in thread_counts:
            port, hello_port = views.free_port(), views.free_port()
            ini = tmp / f"threads-{threads}.ini"
            views.write_ini(ini, url, port, threads)
            base = f"http://127.0.0.1:{port}"
            cabinet = stack.enter_context(views.server(
                [sys.executable, "-m", "pyramid.scripts.pserve", str(ini)],
                base + "/login", tmp / f"cabinet-{threads}.log"))
            hello_url = f"http://127.0.0.1:{hello_port}/"
            hello = stack.enter_context(views.server(
                [sys.executable, str(BENCH / "hello.py"), "--port", str(hello_port),
                 "--threads", str(threads)], hello_url, tmp / f"hello-{threads}.log"))
            cookie = views.session_cookie(base, data.logins["professional"])
            page = (cabinet, base + data.document_path,
                    [f"Cookie: {cookie}", "Accept: text/html"])
            servers[threads] = {"document page": page, "hello-world": (hello, hello_url, [])}
        results = {}
        for round_ in range(args.rounds):
            for threads, targets in servers.items():
                for label, (process, url, headers) in targets.items():
                    views.run_wrk(wrk, url, args.connections, 1, headers)    # warm up
                    figures = measure(wrk, process, url, headers, args.connections,
                                      args.duration)
                    results.setdefault((label, threads), []).append(figures)
                    print(f"round {round_ + 1}  {label:<14} {threads} thread(s) "
                          f"{figures['rps']:8.1f} req/s  CPU {figures['cpu']:.3f} ms"
                          f"  {figures['switches']:6.1f} switches per request", flush=True)
    database = "PostgreSQL" if args.postgresql else "SQLite"
    print(f"\n=== {database}, {args.connections} connections: medians of {args.rounds} "
          f"rounds of {args.duration:g}s ===")
    print(f"{'':<14}{'threads':>8}{'req/s':>10}{'p99 ms':>9}{'CPU ms/req':>12}"
          f"{'switches/req':>14}{'ratio':>8}")
    for (label, threads), rows in results.items():
        median = {key: statistics.median(row[key] for row in rows)
                  for key in ("rps", "p99", "cpu", "switches")}
        hello = statistics.median(row["rps"] for row in results[("hello-world", threads)])
        print(f"{label:<14}{threads:>8}{median['rps']:>10.1f}{median['p99']:>9.1f}"
              f"{median['cpu']:>12.3f}{median['switches']:>14.1f}"
              f"{median['rps'] / hello:>8.1%}")
    print("load average at end: %.2f %.2f %.2f" % os.getloadavg())
    return 0


if __name__ == "__main__":
    sys.exit(main())
