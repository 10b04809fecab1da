"""The cost of one request inside the process, without a server or a network: the WSGI
application called directly, on one thread and on several, against an empty route of
the same application and a bare Pyramid hello-world measured in the same run.

Where bench/views.py says how fast Cabinet serves, this says where the time goes
(Python per request, and what threads cost through the GIL):

    .venv/bin/python bench/inprocess.py                       # SQLite, 2,000 patients
    .venv/bin/python bench/inprocess.py --postgresql --requests 2000
"""
import argparse
import os
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

from webob import Request

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import dataset  # noqa: E402
import hello  # noqa: E402
import views  # noqa: E402


def per_request_ms(app, path, headers, requests, threads=1, cpu=None):
    """Milliseconds of wall time per request, ``threads`` callers at once; with a
    list ``cpu``, the process's CPU milliseconds per request are appended to it (with
    threads, the CPU the GIL's hand-offs cost shows there: a request costs more CPU
    with 4 callers than with 1)."""
    def call():
        response = Request.blank(path, headers=headers).get_response(app)
        if response.status_int != 200:
            raise RuntimeError(f"{path}: {response.status} {response.body[:200]!r}")

    for _ in range(min(100, requests)):
        call()
    each = requests // threads

    def work():
        for _ in range(each):
            call()
    workers = [threading.Thread(target=work) for _ in range(threads)]
    start, start_cpu = time.perf_counter(), time.process_time()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if cpu is not None:
        cpu.append((time.process_time() - start_cpu) / (each * threads) * 1000)
    return (time.perf_counter() - start) / (each * threads) * 1000


def session_cookie(app, login):
    """Log in through the form, in-process; the Cookie header."""
    page = Request.blank("/login").get_response(app)
    csrf = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    cookie = page.headers["Set-Cookie"].split(";", 1)[0]
    response = Request.blank("/login", method="POST", headers={"Cookie": cookie},
                             POST={"login": login, "password": dataset.PASSWORD,
                                   "csrf_token": csrf}).get_response(app)
    return response.headers["Set-Cookie"].split(";", 1)[0]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgresql", action="store_true")
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--threads", default="1,4")
    args = parser.parse_args(argv)
    threads = [int(t) for t in args.threads.split(",")]
    print("load average at start: %.2f %.2f %.2f" % os.getloadavg(), flush=True)
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        url = (stack.enter_context(dataset.postgresql_database(prefix="cabinet_inproc"))
               if args.postgresql else f"sqlite:///{tmp}/inprocess.sqlite")
        engine, app, data = dataset.build(url, args.patients * 10, log=lambda *a, **k: None)
        engine.dispose()
        del app
        ini = tmp / "inprocess.ini"
        views.write_ini(ini, url, 0, max(threads))
        from pyramid.paster import get_app
        app = get_app(str(ini))
        stack.callback(app.registry["db_engine"].dispose)
        login = data.logins["professional"]
        bearer = {"Authorization": f"Bearer {data.tokens[login]}",
                  "Accept": "application/json"}
        page = {"Cookie": session_cookie(app, login), "Accept": "text/html"}
        cases = [("hello-world (bare Pyramid)", hello.make_app(), "/", {}),
                 ("Cabinet: /login form", app, "/login", {}),
                 ("document JSON", app, data.document_path, bearer),
                 ("document page", app, data.document_path, page)]
        print(f"{'':<28}" + "".join(f"{f'{n} thread(s)':>26}" for n in threads))
        print(f"{'':<28}" + "".join(f"{'wall':>13}{'CPU':>13}" for _ in threads))
        for label, target, path, headers in cases:
            cpu = []
            cells = [per_request_ms(target, path, headers, args.requests, n, cpu)
                     for n in threads]
            print(f"{label:<28}" + "".join(f"{ms:>10.3f} ms{c:>10.3f} ms"
                                           for ms, c in zip(cells, cpu)))
    print("load average at end: %.2f %.2f %.2f" % os.getloadavg())
    return 0


if __name__ == "__main__":
    sys.exit(main())
