"""Cabinet against Kotti 2.0.9, side by side in one run, and both against a bare Pyramid
hello-world.

Kotti is installed from the package registry into its own virtualenv,
``var/kotti-venv`` (never into the project's), with the pins it needs to install and
run today (``KOTTI_REQUIREMENTS``). A fresh Kotti site on SQLite gets a folder of 50
documents (bench/kotti_site.py, run by Kotti's interpreter); Cabinet gets the
bench/dataset.py database. Both are served by pserve + waitress; each is loaded with
``wrk`` at 1 and 16 connections, alternating Cabinet, Kotti and the hello-world for
each pair of endpoints, ``--rounds`` rounds:

- document: Cabinet's document page (professional, session cookie) and Kotti's
  authenticated document view (admin, auth_tkt cookie);
- listing: Cabinet's container page (first 50 of a cabinet's patients) and Kotti's
  folder listing (``@@contents`` of the 50 documents).

Kotti runs with one waitress thread by default: with four, a third or more of its
answers are 500s (``--kotti-threads 4`` shows it: errors are counted and reported).
The goal (issue #7): Cabinet's document page >= 4x Kotti's authenticated document view.

    .venv/bin/python bench/kotti.py                                # 3 rounds of 5 s
    .venv/bin/python bench/kotti.py --duration 2 --rounds 1        # quick
"""
import argparse
import http.cookiejar
import os
import statistics
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from contextlib import ExitStack
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
import dataset  # noqa: E402
from views import find_wrk, free_port, run_wrk, server, session_cookie, write_ini  # noqa: E402

KOTTI_VENV = ROOT / "var" / "kotti-venv"
#: Kotti 2.0.9 and what it needs to install and run now (it predates Pyramid 2 and
#: SQLAlchemy 2; newer releases of these break it at import or at the first request)
KOTTI_REQUIREMENTS = ("Kotti==2.0.9", "pyramid<2", "SQLAlchemy>=1.4.36,<2",
                      "SQLAlchemy-Utils<0.42", "setuptools<81", "zope.sqlalchemy<3.2",
                      "alembic<1.14", "waitress")
KOTTI_PASSWORD = "kotti-bench-secret"
KOTTI_INI = """\
[app:kotti]
use = egg:kotti
pyramid.reload_templates = false
pyramid.default_locale_name = en
sqlalchemy.url = sqlite:///{db}
kotti.site_title = Kotti bench
kotti.secret = {password}
kotti.populators = kotti.populate.populate

[filter:fanstatic]
use = egg:fanstatic#fanstatic

[pipeline:main]
pipeline =
    fanstatic
    kotti

[server:main]
use = egg:waitress#main
listen = 127.0.0.1:{port}
threads = {threads}
"""
PAIRS = {"document": ("doc_html", "kotti_doc"), "listing": ("listing", "kotti_listing")}


def ensure_kotti(log=print):
    """var/kotti-venv with Kotti and its pins, installed once (a marker file names the
    requirements it was installed with)."""
    marker = KOTTI_VENV / "cabinet-bench-requirements.txt"
    wanted = "\n".join(KOTTI_REQUIREMENTS) + "\n"
    if marker.exists() and marker.read_text() == wanted:
        return KOTTI_VENV / "bin"
    log(f"installing Kotti into {KOTTI_VENV} (once)...", flush=True)
    if not (KOTTI_VENV / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(KOTTI_VENV)], check=True)
    subprocess.run([str(KOTTI_VENV / "bin" / "python"), "-m", "pip", "install", "-q",
                    *KOTTI_REQUIREMENTS], check=True,
                   env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    marker.write_text(wanted)
    return KOTTI_VENV / "bin"


def kotti_cookie(base):
    """Log in as Kotti's admin through its form; the Cookie header (auth_tkt)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = urllib.parse.urlencode({"login": "admin", "password": KOTTI_PASSWORD,
                                   "came_from": base + "/", "submit": "submit"}).encode()
    opener.open(base + "/@@login", data=form).read()
    cookies = {c.name: c.value for c in jar}
    if "auth_tkt" not in cookies:
        raise RuntimeError("Kotti's admin login failed")
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def fetch(url, headers, expect):
    request = urllib.request.Request(url, headers=dict(h.split(": ", 1) for h in headers))
    with urllib.request.urlopen(request, timeout=30) as response:
        body = response.read().decode()
    if expect not in body:
        raise RuntimeError(f"{url}: {expect!r} not in the answer: {body[:300]}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--duration", type=float, default=5, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", default="1,16")
    parser.add_argument("--threads", type=int, default=4, help="Cabinet's waitress threads")
    parser.add_argument("--kotti-threads", type=int, default=1)
    args = parser.parse_args(argv)
    wrk = find_wrk()
    if wrk is None:
        return 2
    connections = [int(c) for c in args.connections.split(",")]
    print("load average at start: %.2f %.2f %.2f" % os.getloadavg(), flush=True)
    kotti_bin = ensure_kotti()
    # Kotti's interpreter sees its own packages only (not a PYTHONPATH set for ours)
    kotti_env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cabinet-kotti-")))
        # Kotti: a fresh site of 50 documents
        kotti_port, cabinet_port, hello_port = free_port(), free_port(), free_port()
        kotti_ini = tmp / "kotti.ini"
        kotti_ini.write_text(KOTTI_INI.format(db=tmp / "kotti.sqlite", port=kotti_port,
                                              threads=args.kotti_threads,
                                              password=KOTTI_PASSWORD))
        # -P: bench/ is not put on Kotti's path, where this file would shadow ``kotti``
        subprocess.run([str(kotti_bin / "python"), "-P", str(BENCH / "kotti_site.py"),
                        str(kotti_ini), "50"], check=True, cwd=tmp, env=kotti_env)
        # Cabinet: the bench data set
        url = f"sqlite:///{tmp}/cabinet.sqlite"
        print(f"building Cabinet's data set: {args.patients:,} patients...", flush=True)
        engine, app, data = dataset.build(url, args.patients * 10, log=lambda *a, **k: None)
        engine.dispose()
        del app
        cabinet_ini = tmp / "cabinet.ini"
        write_ini(cabinet_ini, url, cabinet_port, args.threads)

        kotti = f"http://127.0.0.1:{kotti_port}"
        cabinet = f"http://127.0.0.1:{cabinet_port}"
        hello = f"http://127.0.0.1:{hello_port}/"
        stack.enter_context(server([str(kotti_bin / "pserve"), str(kotti_ini)],
                                   kotti + "/@@login", tmp / "kotti.log", env=kotti_env))
        stack.enter_context(server([sys.executable, "-m", "pyramid.scripts.pserve",
                                    str(cabinet_ini)], cabinet + "/login", tmp / "cabinet.log"))
        stack.enter_context(server([sys.executable, str(BENCH / "hello.py"), "--port",
                                    str(hello_port), "--threads", str(args.threads)],
                                   hello, tmp / "hello.log"))
        cabinet_html = [f"Cookie: {session_cookie(cabinet, data.logins['professional'])}",
                        "Accept: text/html"]
        kotti_html = [f"Cookie: {kotti_cookie(kotti)}", "Accept: text/html"]
        targets = {
            "doc_html": (cabinet + data.document_path, cabinet_html, "<html"),
            "listing": (cabinet + data.listing_path, cabinet_html, "<html"),
            "kotti_doc": (kotti + "/docs/d1", kotti_html, "Body of document 1."),
            "kotti_listing": (kotti + "/docs/@@contents", kotti_html, "Document 49"),
            "hello": (hello, [], "Hello"),
        }
        for name, (target, headers, expect) in targets.items():
            fetch(target, headers, expect)        # each answers, authenticated, first
        print(f"Cabinet {cabinet} (waitress, {args.threads} threads); Kotti {kotti} "
              f"(waitress, {args.kotti_threads} thread(s)); hello-world {hello}")
        for name, (target, headers, _expect) in targets.items():
            run_wrk(wrk, target, 4, 2, headers)   # warm-up
        results = {}
        for round_ in range(1, args.rounds + 1):
            for conns in connections:
                for pair, (ours, theirs) in PAIRS.items():
                    runs = {name: run_wrk(wrk, targets[name][0], conns, f"{args.duration:g}",
                                          targets[name][1])
                            for name in (ours, theirs, "hello")}
                    results.setdefault((pair, conns), []).append(runs)
                    print(f"round {round_} c={conns:<3} {pair:<9} "
                          f"Cabinet {runs[ours]['rps']:8.1f} req/s  "
                          f"Kotti {runs[theirs]['rps']:8.1f} req/s "
                          f"(errors {runs[theirs]['non2xx'] + runs[theirs]['socket_errors']})  "
                          f"hello {runs['hello']['rps']:8.1f} req/s", flush=True)
        report(results, connections, args)
    print("load average at end: %.2f %.2f %.2f" % os.getloadavg())
    return 0


def report(results, connections, args):
    med = statistics.median
    print(f"\n=== Summary: medians of {args.rounds} rounds of {args.duration:g}s ===")
    print(f"{'pair':<10}{'conns':>6}{'Cabinet':>10}{'p99 ms':>8}{'Kotti':>9}{'p99 ms':>8}"
          f"{'errors':>8}{'hello':>9}{'Cab/Kotti':>11}{'Cab/hello':>11}{'Kotti/hello':>12}")
    for pair, (ours, theirs) in PAIRS.items():
        for conns in connections:
            runs = results[(pair, conns)]
            a = med(r[ours]["rps"] for r in runs)
            b = med(r[theirs]["rps"] for r in runs)
            h = med(r["hello"]["rps"] for r in runs)
            errors = sum(r[theirs]["non2xx"] + r[theirs]["socket_errors"]
                         + r[ours]["non2xx"] + r[ours]["socket_errors"] for r in runs)
            print(f"{pair:<10}{conns:>6}{a:>10.1f}{med(r[ours]['p99'] for r in runs):>8.1f}"
                  f"{b:>9.1f}{med(r[theirs]['p99'] for r in runs):>8.1f}{errors:>8}"
                  f"{h:>9.1f}"
                  f"{med(r[ours]['rps'] / r[theirs]['rps'] for r in runs):>10.1f}x"
                  f"{med(r[ours]['rps'] / r['hello']['rps'] for r in runs):>11.1%}"
                  f"{med(r[theirs]['rps'] / r['hello']['rps'] for r in runs):>12.1%}")
    top = max(connections)
    ratio = med(r["doc_html"]["rps"] / r["kotti_doc"]["rps"] for r in results[("document", top)])
    print(f"\nGoal (issue #7), at {top} connections: Cabinet's document page >= 4x Kotti's "
          f"authenticated document view: {ratio:.1f}x, "
          f"{'reached' if ratio >= 4 else 'NOT reached'}")


if __name__ == "__main__":
    sys.exit(main())
