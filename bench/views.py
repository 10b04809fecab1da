"""Cabinet's pages under load, against a bare Pyramid hello-world in the same run.

Builds a database of 10,000 patients and 100,000 documents (bench/dataset.py; SQLite
in a temporary directory, or a fresh PostgreSQL database with ``--postgresql``),
starts Cabinet with pserve + waitress (4 threads) on a free port and the hello-world of
bench/hello.py under waitress (4 threads) on another, then loads both with ``wrk``
(the Debian package) at 1 and 16 connections, alternating A (Cabinet) and B
(hello-world) for each endpoint, ``--rounds`` rounds of ``--duration`` seconds each:

- doc_html    GET <document>                        page, session cookie (form login)
- doc_json    GET <document>  Accept: application/json, Authorization: Bearer <token>
- login       GET /login, anonymous: the sign-in form, which reads nothing but the
              site root (Cabinet's floor: what any of its pages costs at least)
- listing     GET /cabinets/c0/patients              container page (50 of 2,000)
- search      GET /@search?portal_type=Document&sort_on=modified&sort_order=descending
              (bearer token; first page of 50)
- thin        GET /docs/<doc> of the thin reference app (bench/thin.py: traversal, one
              ACL, SQLAlchemy ORM, Jinja2; none of Cabinet's security), started on a
              third port with as many documents and threads, session cookie
- transition  POST <document>/@workflow/withdraw, then /send, alternately on a pool of
              documents in state 'sent' of cabinet c0 (a wrk Lua script; the pool is
              reset to 'sent' before each run, so every answer should be 200; any 409
              is counted separately and reported)

All as the professional dr.c0a by default (``--user``): local roles along the lineage,
the delegation look-up and the workflow ACL all run. Prints req/s, p50 and p99 of
each (medians over the rounds) and the ratio Cabinet / hello-world req/s of the
paired runs; the issue's goals: document page >= 15% of hello-world at 16
connections, its p99 < 60 ms, and faster than the thin app (the ratio of the two
ratios, both measured against the same hello-world runs' medians).

    .venv/bin/python bench/views.py                     # SQLite, 3 rounds of 5 s
    .venv/bin/python bench/views.py --postgresql
    .venv/bin/python bench/views.py --duration 2 --rounds 1 --patients 1000   # quick
"""
import argparse
import http.cookiejar
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import ExitStack, contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import dataset  # noqa: E402
import thin  # noqa: E402

ENDPOINTS = ("doc_html", "doc_json", "thin", "login", "listing", "search", "transition")
SEARCH = "/@search?portal_type=Document&sort_on=modified&sort_order=descending&b_size=50"

TRANSITION_LUA = r"""
-- POST <document>/@workflow/withdraw then /send, alternately, on a pool of documents
-- in state 'sent'; each wrk thread takes its own share of the pool, so that no two
-- requests on one document are ever in flight together.
local pool_file, token = ...
local threads, next_id = {}, 0
local mine, counter = {}, 0
ok, conflict, other = 0, 0, 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local pool, count = {}, 0
  for line in io.lines(args[1]) do
    table.insert(pool, line)
  end
  local nthreads = tonumber(args[3])
  for i, path in ipairs(pool) do
    if (i - 1) % nthreads == id then table.insert(mine, path) end
  end
  headers = {["Authorization"] = "Bearer " .. args[2],
             ["Accept"] = "application/json",
             ["Content-Type"] = "application/json"}
end

function request()
  local n = #mine
  local path = mine[counter % n + 1]
  local action = (math.floor(counter / n) % 2 == 0) and "withdraw" or "send"
  counter = counter + 1
  return wrk.format("POST", path .. "/@workflow/" .. action, headers, '{"comment": ""}')
end

function response(status, headers, body)
  if status == 200 then ok = ok + 1
  elseif status == 409 then conflict = conflict + 1
  else other = other + 1 end
end

function done(summary, latency, requests)
  local o, c, x = 0, 0, 0
  for _, thread in ipairs(threads) do
    o = o + thread:get("ok"); c = c + thread:get("conflict"); x = x + thread:get("other")
  end
  io.write(string.format("STATUS ok=%d conflict=%d other=%d\n", o, c, x))
end
"""


# -- servers -------------------------------------------------------------------------------

def find_wrk():
    """wrk's path, or None after saying how to install it."""
    wrk = shutil.which("wrk")
    if wrk is None:
        print("wrk is missing. It is a Debian package: install it with\n"
              "    sudo apt-get install -y wrk\nthen run this again.", file=sys.stderr)
    return wrk


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url, process, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server for {url} exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except urllib.error.HTTPError:
            return            # it answers (403/404 are fine here)
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


@contextmanager
def server(command, url, log_path, env=None):
    log = open(log_path, "w")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                               cwd=str(BENCH.parent), env=env)
    try:
        wait_for(url, process)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def write_ini(path, url, port, threads):
    settings = dataset.app_settings(url)
    lines = ["[app:main]", "use = egg:cabinet"]
    lines += [f"{key} = {value.replace('%', '%%')}" for key, value in settings.items()]
    lines += ["", "[server:main]", "use = egg:waitress#main", f"listen = 127.0.0.1:{port}",
              f"threads = {threads}", ""]
    path.write_text("\n".join(lines))


# -- credentials -----------------------------------------------------------------------------

def thin_cookie(base):
    """Log in to the thin app (bench/thin.py); its session cookie header."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = urllib.parse.urlencode({"login": thin.USER}).encode()
    try:
        opener.open(base + "/login", data=form).read()
    except urllib.error.HTTPError:
        pass                  # the redirect's target, /docs, is not a page
    cookies = {c.name: c.value for c in jar}
    if "session" not in cookies:
        raise RuntimeError("login to the thin app failed")
    return f"session={cookies['session']}"


def session_cookie(base, login, password=dataset.PASSWORD):
    """Log in through the HTML form, as a browser does; the session cookie header."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login").read().decode()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"login": login, "password": password,
                                   "csrf_token": csrf, "came_from": ""}).encode()
    opener.open(base + "/login", data=form).read()
    cookies = {c.name: c.value for c in jar}
    if "cabinet_session" not in cookies:
        raise RuntimeError(f"login of {login} failed")
    return f"cabinet_session={cookies['cabinet_session']}"


# -- wrk -------------------------------------------------------------------------------------

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def parse_duration(value):
    match = re.match(r"([\d.]+)(us|ms|s|m)$", value)
    return float(match.group(1)) * UNITS[match.group(2)]


def parse_wrk(output):
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
              "requests": int(re.search(r"(\d+) requests in", output).group(1))}
    for pct in ("50", "99"):
        match = re.search(rf"^\s+{pct}(?:\.000)?%\s+(\S+)", output, re.M)
        result[f"p{pct}"] = parse_duration(match.group(1)) if match else float("nan")
    match = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    result["non2xx"] = int(match.group(1)) if match else 0
    match = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                      output)
    result["socket_errors"] = sum(map(int, match.groups())) if match else 0
    match = re.search(r"STATUS ok=(\d+) conflict=(\d+) other=(\d+)", output)
    if match:
        result["ok"], result["conflict"], result["other"] = map(int, match.groups())
    return result


def run_wrk(wrk, url, connections, duration, headers=(), script=None, script_args=()):
    threads = min(connections, 2)
    command = [wrk, f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency",
               "--timeout", "30s"]
    for header in headers:
        command += ["-H", header]
    if script:
        command += ["-s", script]
    command.append(url)
    if script:
        command += ["--", *script_args, str(threads)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    result = parse_wrk(output)
    result["output"] = output
    return result


# -- main ------------------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgresql", action="store_true",
                        help="a fresh PostgreSQL database on 127.0.0.1:5432 (dropped after)")
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--docs-per-patient", type=int, default=10)
    parser.add_argument("--duration", type=float, default=5, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", default="1,16")
    parser.add_argument("--threads", type=int, default=4, help="waitress threads")
    parser.add_argument("--endpoints", default=",".join(ENDPOINTS))
    parser.add_argument("--user", default="professional",
                        choices=("professional", "secretary", "administrator"))
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--verbose", action="store_true", help="print wrk's output")
    args = parser.parse_args(argv)

    wrk = find_wrk()
    if wrk is None:
        return 2
    endpoints = [e for e in args.endpoints.split(",") if e]
    unknown = set(endpoints) - set(ENDPOINTS)
    if unknown:
        parser.error(f"unknown endpoints {sorted(unknown)}; choose among {ENDPOINTS}")
    connections = [int(c) for c in args.connections.split(",")]
    duration = f"{args.duration:g}"
    print("load average at start: %.2f %.2f %.2f" % os.getloadavg(), flush=True)

    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cabinet-views-")))
        if args.postgresql:
            if not dataset.postgresql_available():
                print(f"PostgreSQL is not reachable at {dataset.PG_ADMIN_URL}",
                      file=sys.stderr)
                return 2
            url = stack.enter_context(dataset.postgresql_database(
                prefix="cabinet_views", keep=args.keep))
        else:
            url = f"sqlite:///{tmp}/views.sqlite"
        documents = args.patients * args.docs_per_patient
        print(f"building {args.patients:,} patients / {documents:,} documents on "
              f"{url.split(':')[0]}...", flush=True)
        engine, app, data = dataset.build(url, documents, docs_per_patient=args.docs_per_patient)
        engine.dispose()
        del app
        print(f"  {data.nodes:,} nodes in {data.build_seconds:.1f}s", flush=True)

        cabinet_port, hello_port = free_port(), free_port()
        ini = tmp / "bench.ini"
        write_ini(ini, url, cabinet_port, args.threads)
        base = f"http://127.0.0.1:{cabinet_port}"
        hello_url = f"http://127.0.0.1:{hello_port}/"
        stack.enter_context(server([sys.executable, "-m", "pyramid.scripts.pserve", str(ini)],
                                   base + "/login", tmp / "cabinet.log"))
        stack.enter_context(server([sys.executable, str(BENCH / "hello.py"), "--port",
                                    str(hello_port), "--threads", str(args.threads)],
                                   hello_url, tmp / "hello.log"))

        thin_base = None
        if "thin" in endpoints:
            thin_port = free_port()
            thin_base = f"http://127.0.0.1:{thin_port}"
            thin.build(tmp / "thin.sqlite", documents)
            stack.enter_context(server(
                [sys.executable, str(BENCH / "thin.py"), "--db", str(tmp / "thin.sqlite"),
                 "--port", str(thin_port), "--threads", str(args.threads)],
                thin_base + "/docs/d1", tmp / "thin.log"))

        login = data.logins[args.user]
        token = data.tokens.get(login)
        if token is None:
            token = _api_token(base, login)
        cookie = session_cookie(base, login)
        bearer = [f"Authorization: Bearer {token}", "Accept: application/json"]
        html = [f"Cookie: {cookie}", "Accept: text/html"]
        document = base + data.document_path
        pool_file = tmp / "pool.txt"
        pool_ids = [node_id for node_id, _path in data.sent_pool]
        pool_file.write_text("".join(f"{base}{path}\n" for _id, path in data.sent_pool))
        lua = tmp / "transition.lua"
        lua.write_text(TRANSITION_LUA)

        targets = {
            "doc_html": dict(url=document, headers=html, expect="<html"),
            "doc_json": dict(url=document, headers=bearer, expect='"@type": "Document"'),
            "thin": dict(url=f"{thin_base}/docs/d{documents // 2}",
                         headers=[f"Cookie: {thin_cookie(thin_base)}"] if thin_base else [],
                         expect="<h1>Document"),
            "login": dict(url=base + "/login", headers=[], expect="csrf_token"),
            "listing": dict(url=base + data.listing_path, headers=html, expect="<html"),
            "search": dict(url=base + SEARCH, headers=bearer, expect='"items_total"'),
            "transition": dict(url=base + "/", headers=[], script=str(lua),
                               script_args=(str(pool_file), token)),
        }
        # every GET answers 200 with the expected content before being loaded
        for name in endpoints:
            target = targets[name]
            if "expect" in target:
                body = _get(target["url"], target["headers"])
                if target["expect"] not in body:
                    raise RuntimeError(f"{name}: unexpected answer {body[:300]}")
        state_engine = create_engine(url)

        def reset_pool():
            with state_engine.begin() as conn:
                conn.execute(text("UPDATE nodes SET state = 'sent' WHERE id IN "
                                  f"({','.join(map(str, pool_ids))})"))

        def load(name, conns, seconds):
            if name == "hello":
                return run_wrk(wrk, hello_url, conns, seconds)
            target = targets[name]
            if name == "transition":
                reset_pool()
            return run_wrk(wrk, target["url"], conns, seconds, target["headers"],
                           target.get("script"), target.get("script_args", ()))

        print(f"Cabinet: {base} (pserve + waitress, {args.threads} threads, "
              f"{data.backend}); hello-world: {hello_url} (waitress, {args.threads} threads)"
              + (f"; thin app: {thin_base} (waitress, {args.threads} threads, SQLite)"
                 if thin_base else ""))
        print(f"user: {login} ({args.user}); document: {data.document_path}; "
              f"listing: {data.listing_path}; transition pool: {len(pool_ids)} sent documents")
        print("warming up...", flush=True)
        for name in endpoints + ["hello"]:
            load(name, 4, 2)

        results = {}     # (endpoint, conns) -> [(cabinet, hello), ...]
        for round_ in range(1, args.rounds + 1):
            for conns in connections:
                for name in endpoints:
                    a = load(name, conns, duration)
                    b = load("hello", conns, duration)
                    results.setdefault((name, conns), []).append((a, b))
                    extra = ""
                    if "ok" in a:
                        extra = f"  200: {a['ok']}, 409: {a['conflict']}, other: {a['other']}"
                    print(f"round {round_}  c={conns:<3} {name:<11} A {a['rps']:8.1f} req/s "
                          f"p50 {a['p50']:7.2f} ms p99 {a['p99']:7.2f} ms   "
                          f"B hello {b['rps']:8.1f} req/s  "
                          f"errors {a['non2xx'] + a['socket_errors']}{extra}", flush=True)
                    if args.verbose:
                        print(a["output"], b["output"])
        state_engine.dispose()
        report(results, endpoints, connections, args)
    print("load average at end: %.2f %.2f %.2f" % os.getloadavg())
    return 0


def _get(url, headers):
    request = urllib.request.Request(url, headers=dict(h.split(": ", 1) for h in headers))
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read().decode()


def _api_token(base, login):
    body = json.dumps({"login": login, "password": dataset.PASSWORD}).encode()
    request = urllib.request.Request(base + "/@login", data=body, method="POST",
                                     headers={"Content-Type": "application/json",
                                              "Accept": "application/json"})
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())["token"]


def report(results, endpoints, connections, args):
    med = statistics.median
    print(f"\n=== Summary: medians of {args.rounds} rounds of {args.duration:g}s "
          f"(A = Cabinet, B = hello-world, alternated) ===")
    print(f"{'endpoint':<12}{'conns':>5}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
          f"{'hello req/s':>13}{'ratio':>8}{'errors':>8}")
    ratios = {}
    for name in endpoints:
        for conns in connections:
            runs = results[(name, conns)]
            a_rps = med(a["rps"] for a, _ in runs)
            b_rps = med(b["rps"] for _, b in runs)
            ratio = med(a["rps"] / b["rps"] for a, b in runs)
            ratios[(name, conns)] = (ratio, med(a["p99"] for a, _ in runs))
            errors = sum(a["non2xx"] + a["socket_errors"] for a, _ in runs)
            print(f"{name:<12}{conns:>5}{a_rps:>10.1f}{med(a['p50'] for a, _ in runs):>9.2f}"
                  f"{med(a['p99'] for a, _ in runs):>9.2f}{b_rps:>13.1f}{ratio:>7.1%}"
                  f"{errors:>8}")
            if name == "transition":
                ok = sum(a.get("ok", 0) for a, _ in runs)
                conflict = sum(a.get("conflict", 0) for a, _ in runs)
                other = sum(a.get("other", 0) for a, _ in runs)
                print(f"{'':<12}{'':>5}  transitions: {ok} x 200, {conflict} x 409 "
                      f"(counted apart), {other} other")
    top = max(connections)
    print(f"\nGoals (issue #7), at {top} connections:")
    for name in ("doc_html", "doc_json"):
        if (name, top) in ratios:
            ratio, p99 = ratios[(name, top)]
            print(f"  {name}: {ratio:.1%} of hello-world req/s (goal >= 15%: "
                  f"{'reached' if ratio >= 0.15 else 'NOT reached'}); p99 {p99:.1f} ms "
                  f"(goal < 60 ms: {'reached' if p99 < 60 else 'NOT reached'})")
    if ("doc_html", top) in ratios and ("thin", top) in ratios:
        cabinet, thin_app = ratios[("doc_html", top)][0], ratios[("thin", top)][0]
        print(f"  doc_html against the thin app's document page: {cabinet / thin_app:.2f}x "
              f"({cabinet:.1%} against {thin_app:.1%} of hello-world; goal: faster, "
              f"{'reached' if cabinet > thin_app else 'NOT reached'})")


if __name__ == "__main__":
    sys.exit(main())
