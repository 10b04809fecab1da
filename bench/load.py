"""A long mixed load on two waitress processes sharing one PostgreSQL database.

Builds a fresh PostgreSQL database of 10,000 patients / 100,000 documents
(bench/dataset.py), starts Cabinet twice with pserve + waitress (4 threads each) on two
free ports, then loads both at once with two ``wrk`` instances (16 connections each,
one per process: 32 in all) for ``--duration`` seconds (10 minutes by default). Each
request is drawn at random by a wrk Lua script:

- 80% reads of a document of cabinet c0 (20,000 documents, drawn at random), as the
  professional dr.c0a: half ``GET <document>`` as JSON with a bearer token, half the
  document page with the session cookie of the form login;
- 15% ``GET /@search?portal_type=Document&sort_on=modified&sort_order=descending&b_size=50``
  (bearer token; first page of 50);
- 5% writes, alternately: a workflow transition (``POST <document>/@workflow/withdraw``,
  then ``/send``, on a pool of documents in state 'sent' of cabinet c0 that each wrk
  thread has to itself; a 409 is counted apart, not as an error) and an upload
  (``POST <patient>/documents``, multipart, a small PDF, unique bytes each time).

After a warm-up of the same mix (``--warmup`` seconds), it samples the resident memory
(VmRSS) of each serving process every few seconds until the end. It prints the answers
by status, errors (non-2xx answers other than 409, and socket errors), req/s, p50 and
p99 per wrk instance, each process's memory at start (after the warm-up) and at the end
with its growth, and the goals of issue #7: zero errors, memory growth <= 10% per
process, resident memory < 150 MB per process after the load; it exits with 1 when one
is missed. On errors it prints the end of the servers' logs.

    .venv/bin/python bench/load.py                                    # 10 min, 32 conns
    .venv/bin/python bench/load.py --duration 30 --patients 1000      # quick
"""
import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

from sqlalchemy import create_engine, text

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import dataset
import views

from cabinet.sample_files import make_pdf

BOUNDARY = "cabinet-load-boundary-7f3a9c"

MIX_LUA = r"""
-- A mixed load: 80% reads (document JSON / document page), 15% @search, 5% writes
-- (transitions and uploads, alternately). Arguments: reads file, transition pool file,
-- upload folders file, upload body head file, upload body tail file, bearer token,
-- session cookie, search path, instance number, number of wrk threads.
local threads, next_id = {}, 0
local reads, pool, folders = {}, {}, {}
local head, tail, instance
local json_h, html_h, write_h, upload_h, search_path
local writes, transitions, uploads = 0, 0, 0
n_json, n_html, n_search, n_transition, n_upload = 0, 0, 0, 0, 0
codes = {}
samples = ""

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local function lines(path)
  local out = {}
  for line in io.lines(path) do
    if line ~= "" then table.insert(out, line) end
  end
  return out
end

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local data = f:read("*a")
  f:close()
  return data
end

function init(args)
  local nthreads = tonumber(args[10])
  instance = args[9]
  reads = lines(args[1])
  for i, path in ipairs(lines(args[2])) do
    if (i - 1) % nthreads == id then table.insert(pool, path) end
  end
  for i, path in ipairs(lines(args[3])) do
    if (i - 1) % nthreads == id then table.insert(folders, path) end
  end
  head, tail = slurp(args[4]), slurp(args[5])
  local token, cookie = args[6], args[7]
  search_path = args[8]
  json_h = {["Authorization"] = "Bearer " .. token, ["Accept"] = "application/json"}
  html_h = {["Cookie"] = cookie, ["Accept"] = "text/html"}
  write_h = {["Authorization"] = "Bearer " .. token, ["Accept"] = "application/json",
             ["Content-Type"] = "application/json"}
  upload_h = {["Authorization"] = "Bearer " .. token, ["Accept"] = "application/json",
              ["Content-Type"] = "multipart/form-data; boundary=BOUNDARY"}
  math.randomseed(os.time() * 1000 + tonumber(instance) * 97 + id * 7919)
end

local function transition()
  local n = #pool
  local path = pool[transitions % n + 1]
  local action = (math.floor(transitions / n) % 2 == 0) and "withdraw" or "send"
  transitions = transitions + 1
  n_transition = n_transition + 1
  return wrk.format("POST", path .. "/@workflow/" .. action, write_h, '{"comment": ""}')
end

local function upload()
  local folder = folders[uploads % #folders + 1]
  uploads = uploads + 1
  n_upload = n_upload + 1
  -- a PDF comment before %%EOF makes every file unique (a new blob each time)
  local body = head .. "% load " .. instance .. "-" .. id .. "-" .. uploads .. "\n" .. tail
  return wrk.format("POST", folder, upload_h, body)
end

function request()
  local r = math.random()
  if r < 0.40 then
    n_json = n_json + 1
    return wrk.format("GET", reads[math.random(#reads)], json_h)
  elseif r < 0.80 then
    n_html = n_html + 1
    return wrk.format("GET", reads[math.random(#reads)], html_h)
  elseif r < 0.95 then
    n_search = n_search + 1
    return wrk.format("GET", search_path, json_h)
  end
  writes = writes + 1
  if writes % 2 == 1 then return transition() end
  return upload()
end

function response(status, headers, body)
  local key = tostring(status)
  codes[key] = (codes[key] or 0) + 1
  -- the first answers other than 2xx (409s included), to show what they were
  if status >= 300 and #samples < 2000 then
    samples = samples .. "[" .. status .. "] " .. string.sub(body or "", 1, 300):gsub("%s+", " ") .. "\n"
  end
end

function done(summary, latency, requests)
  local mix = {json = 0, html = 0, search = 0, transition = 0, upload = 0}
  local all, text = {}, ""
  for _, thread in ipairs(threads) do
    mix.json = mix.json + thread:get("n_json")
    mix.html = mix.html + thread:get("n_html")
    mix.search = mix.search + thread:get("n_search")
    mix.transition = mix.transition + thread:get("n_transition")
    mix.upload = mix.upload + thread:get("n_upload")
    for code, count in pairs(thread:get("codes")) do
      all[code] = (all[code] or 0) + count
    end
    text = text .. thread:get("samples")
  end
  io.write(string.format("MIX json=%d html=%d search=%d transition=%d upload=%d\n",
                         mix.json, mix.html, mix.search, mix.transition, mix.upload))
  local parts = {}
  for code, count in pairs(all) do table.insert(parts, code .. "=" .. count) end
  table.sort(parts)
  io.write("CODES " .. table.concat(parts, " ") .. "\n")
  for line in text:gmatch("[^\n]+") do io.write("SAMPLE " .. line .. "\n") end
end
""".replace("BOUNDARY", BOUNDARY)


# -- memory -----------------------------------------------------------------------------------

def _listening_inodes(port):
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":
                inodes.add(fields[9])
    return inodes


def _descendants(pid):
    children = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def serving_pid(pid, port):
    """The process, among ``pid`` and its descendants, that holds the listening socket
    on ``port`` (pserve may fork; measure the process that serves)."""
    sockets = {f"socket:[{inode}]" for inode in _listening_inodes(port)}
    for candidate in [pid] + _descendants(pid):
        try:
            fds = os.listdir(f"/proc/{candidate}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{candidate}/fd/{fd}") in sockets:
                    return candidate
            except OSError:
                continue
    return pid


def rss_mb(pid):
    """Resident memory (VmRSS) of ``pid`` in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


class Sampler(threading.Thread):
    """Samples the RSS of the given processes every ``interval`` seconds."""

    def __init__(self, pids, interval):
        super().__init__(daemon=True)
        self.pids, self.interval = pids, interval
        self.samples = []                   # (seconds since start, [MB per pid])
        self.stopped = threading.Event()

    def run(self):
        started = time.monotonic()

        def sample():
            self.samples.append((time.monotonic() - started, [rss_mb(p) for p in self.pids]))

        sample()
        while not self.stopped.wait(self.interval):
            sample()
        if time.monotonic() - started - self.samples[-1][0] > 1:
            sample()                        # the end: when the load stopped

    def stop(self):
        self.stopped.set()
        self.join()


# -- main --------------------------------------------------------------------------------------

def upload_body():
    """The multipart body of an upload, split where the Lua script adds a unique line
    (before the PDF's final ``%%EOF``)."""
    pdf = make_pdf("Charge", "bench/load.py")
    cut = pdf.rindex(b"%%EOF")
    head = (f"--{BOUNDARY}\r\n"
            'Content-Disposition: form-data; name="title"\r\n\r\nCharge\r\n'
            f"--{BOUNDARY}\r\n"
            'Content-Disposition: form-data; name="needs_signature"\r\n\r\nfalse\r\n'
            f"--{BOUNDARY}\r\n"
            'Content-Disposition: form-data; name="file"; filename="charge.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n").encode() + pdf[:cut]
    tail = pdf[cut:] + f"\r\n--{BOUNDARY}--\r\n".encode()
    return head, tail


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=600, help="seconds of load (600)")
    parser.add_argument("--warmup", type=float, default=30,
                        help="seconds of the same mix before the memory at start (30)")
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--docs-per-patient", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32,
                        help="in all, shared evenly between the processes (32)")
    parser.add_argument("--processes", type=int, default=2, help="waitress processes (2)")
    parser.add_argument("--threads", type=int, default=4, help="waitress threads (4)")
    parser.add_argument("--interval", type=float, default=10,
                        help="seconds between memory samples (10)")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--verbose", action="store_true", help="print wrk's output")
    args = parser.parse_args(argv)

    wrk = views.find_wrk()
    if wrk is None:
        return 2
    if not dataset.postgresql_available():
        print(f"PostgreSQL is not reachable at {dataset.PG_ADMIN_URL}", file=sys.stderr)
        return 2
    if args.connections % args.processes:
        parser.error("--connections must be a multiple of --processes")
    print("load average at start: " + " ".join(f"{x:.2f}" for x in os.getloadavg()),
          flush=True)

    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cabinet-load-")))
        url = stack.enter_context(dataset.postgresql_database(prefix="cabinet_load",
                                                              keep=args.keep))
        documents = args.patients * args.docs_per_patient
        print(f"building {args.patients:,} patients / {documents:,} documents on "
              f"postgresql...", flush=True)
        engine, app, data = dataset.build(url, documents, docs_per_patient=args.docs_per_patient)
        engine.dispose()
        del app
        print(f"  {data.nodes:,} nodes in {data.build_seconds:.1f}s", flush=True)

        # the same database and blob folder for every process, as in production
        blobs = tmp / "blobs"
        blobs.mkdir()
        servers = []                        # (base, port, Popen, log path)
        for number in range(args.processes):
            port = views.free_port()
            ini = tmp / f"load{number}.ini"
            views.write_ini(ini, url, port, args.threads)
            ini.write_text(ini.read_text().replace(
                "use = egg:cabinet\n", f"use = egg:cabinet\ncabinet.blobs.path = {blobs}\n", 1))
            base = f"http://127.0.0.1:{port}"
            log = tmp / f"cabinet{number}.log"
            process = stack.enter_context(views.server(
                [sys.executable, "-m", "pyramid.scripts.pserve", str(ini)],
                base + "/login", log))
            servers.append((base, port, process, log))
        pids = [serving_pid(process.pid, port) for _base, port, process, _log in servers]

        login = data.logins["professional"]
        token = data.tokens[login]
        cabinets = data.cabinets
        c0 = range(0, data.patients, cabinets)
        reads = [f"/cabinets/c0/patients/p{m}/documents/d{k}"
                 for m in c0 for k in range(args.docs_per_patient)][:20_000]
        folders = [f"/cabinets/c0/patients/p{m}/documents" for m in c0]
        pool = data.sent_pool
        pool_ids = [node_id for node_id, _path in pool]
        head, tail = upload_body()
        (tmp / "reads.txt").write_text("\n".join(reads) + "\n")
        (tmp / "head.bin").write_bytes(head)
        (tmp / "tail.bin").write_bytes(tail)
        lua = tmp / "mix.lua"
        lua.write_text(MIX_LUA)
        per = args.connections // args.processes
        instances = []                      # (base, script args) per wrk instance
        for number, (base, _port, _process, _log) in enumerate(servers):
            (tmp / f"pool{number}.txt").write_text(
                "".join(f"{path}\n" for _id, path in pool[number::args.processes]))
            (tmp / f"folders{number}.txt").write_text(
                "".join(f"{path}\n" for path in folders[number::args.processes]))
            cookie = views.session_cookie(base, login)
            # every kind of request answers what it should, on every process
            checks = [(reads[0], [f"Authorization: Bearer {token}", "Accept: application/json"],
                       '"@type": "Document"'),
                      (reads[-1], [f"Cookie: {cookie}", "Accept: text/html"], "<html"),
                      (views.SEARCH, [f"Authorization: Bearer {token}",
                                      "Accept: application/json"], '"items_total"')]
            for path, headers, expect in checks:
                body = views._get(base + path, headers)
                if expect not in body:
                    raise RuntimeError(f"{base}{path}: unexpected answer {body[:300]}")
            instances.append((base, (str(tmp / "reads.txt"), str(tmp / f"pool{number}.txt"),
                                     str(tmp / f"folders{number}.txt"), str(tmp / "head.bin"),
                                     str(tmp / "tail.bin"), token, cookie, views.SEARCH,
                                     str(number))))
        state_engine = create_engine(url)

        def reset_pool():
            # a transition still in flight when a previous wrk run stopped is finished by
            # the server all the same: let it end before putting the pool back in 'sent'
            time.sleep(3)
            with state_engine.begin() as conn:
                conn.execute(text("UPDATE nodes SET state = 'sent' WHERE id IN "
                                  f"({','.join(map(str, pool_ids))})"))

        def load(seconds):
            """Both wrk instances at once; their parsed results."""
            with ThreadPoolExecutor(len(instances)) as executor:
                futures = [executor.submit(views.run_wrk, wrk, base + "/", per, f"{seconds:g}",
                                           (), str(lua), script_args)
                           for base, script_args in instances]
                return [parse_mix(f.result()) for f in futures]

        print(f"Cabinet: {args.processes} processes (pserve + waitress, {args.threads} "
              f"threads each, pids {', '.join(map(str, pids))}) on "
              f"{', '.join(base for base, *_ in servers)}; one PostgreSQL database")
        print(f"user: {login}; reads over {len(reads):,} documents of cabinet c0; "
              f"transition pool: {len(pool)} sent documents; uploads into "
              f"{len(folders):,} patients' documents")
        boot = [rss_mb(pid) for pid in pids]
        print(f"memory after start-up: {', '.join(f'{mb:.1f} MB' for mb in boot)}")
        print(f"warming up ({args.warmup:g}s of the same mix)...", flush=True)
        reset_pool()
        warm = load(args.warmup)
        warm_errors = sum(r["errors"] for r in warm)
        print(f"  warm-up: {sum(r['rps'] for r in warm):.1f} req/s, errors {warm_errors}",
              flush=True)

        reset_pool()
        sampler = Sampler(pids, args.interval)
        sampler.start()
        print(f"load: {args.connections} connections ({per} per process, one wrk each) "
              f"for {args.duration:g}s...", flush=True)
        started = time.monotonic()
        results = load(args.duration)
        elapsed = time.monotonic() - started
        sampler.stop()
        state_engine.dispose()
        if args.verbose:
            for result in results:
                print(result["output"])
        summary = report(results, sampler, pids, elapsed, args)
        if summary["errors"] or warm_errors:
            print_log_errors(servers)
    print("load average at end: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    return 0 if summary["reached"] else 1


def parse_mix(result):
    """wrk's figures (views.parse_wrk) plus the Lua script's request mix, the answers by
    status, and the errors (non-2xx other than 409, socket errors)."""
    output = result["output"]
    mix, codes, samples = {}, {}, []
    for line in output.splitlines():
        if line.startswith("MIX "):
            mix = {k: int(v) for k, v in (p.split("=") for p in line[4:].split())}
        elif line.startswith("CODES "):
            codes = {int(k): int(v) for k, v in (p.split("=") for p in line[6:].split())}
        elif line.startswith("SAMPLE "):
            samples.append(line[7:])
    bad = sum(v for k, v in codes.items() if not 200 <= k < 300 and k != 409)
    result.update(mix=mix, codes=codes, samples=samples, bad=bad,
                  errors=bad + result["socket_errors"])
    return result


def report(results, sampler, pids, elapsed, args):
    print(f"\n=== Mixed load: {args.duration:g}s, {args.connections} connections, "
          f"{args.processes} waitress processes x {args.threads} threads, PostgreSQL ===")
    print(f"{'process':<9}{'requests':>10}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
          f"{'errors':>8}{'409':>6}  answers")
    mix, codes = {}, {}
    for number, result in enumerate(results):
        for key, value in result["mix"].items():
            mix[key] = mix.get(key, 0) + value
        for key, value in result["codes"].items():
            codes[key] = codes.get(key, 0) + value
        answers = " ".join(f"{k}:{v}" for k, v in sorted(result["codes"].items()))
        print(f"{number:<9}{result['requests']:>10,}{result['rps']:>9.1f}{result['p50']:>9.2f}"
              f"{result['p99']:>9.2f}{result['errors']:>8}{result['codes'].get(409, 0):>6}"
              f"  {answers}")
    total = sum(mix.values()) or 1
    requests = sum(r["requests"] for r in results)
    errors = sum(r["errors"] for r in results)
    socket_errors = sum(r["socket_errors"] for r in results)
    p99 = max(r["p99"] for r in results)
    print(f"{'all':<9}{requests:>10,}{sum(r['rps'] for r in results):>9.1f}"
          f"{statistics.mean(r['p50'] for r in results):>9.2f}{p99:>9.2f}{errors:>8}"
          f"{codes.get(409, 0):>6}  (p50: mean of the two, p99: the worse)")
    print("request mix: " + ", ".join(f"{k} {v:,} ({v / total:.1%})" for k, v in mix.items()))
    print(f"errors: {errors} (non-2xx other than 409: {errors - socket_errors}, socket errors: "
          f"{socket_errors}); 409 (transition conflicts, counted apart): {codes.get(409, 0)}")
    for result in results:
        for sample in result["samples"][:5]:
            print(f"  e.g. {sample}")

    samples = sampler.samples
    print(f"\nresident memory (VmRSS, MB), sampled every {args.interval:g}s "
          f"({len(samples)} samples over {elapsed:.0f}s):")
    print(f"{'process':<9}{'pid':>8}{'start':>9}{'end':>9}{'peak':>9}{'growth':>9}")
    growths, ends = [], []
    for i, pid in enumerate(pids):
        series = [mbs[i] for _t, mbs in samples]
        start, end = series[0], series[-1]
        growth = (end - start) / start
        growths.append(growth)
        ends.append(end)
        print(f"{i:<9}{pid:>8}{start:>9.1f}{end:>9.1f}{max(series):>9.1f}{growth:>+9.1%}")
    step = max(1, len(samples) // 10)
    trend = samples[::step] + ([samples[-1]] if (len(samples) - 1) % step else [])
    print("trend: " + "  ".join(f"{t:.0f}s " + "/".join(f"{mb:.0f}" for mb in mbs)
                                for t, mbs in trend))

    print("\nGoals (issue #7):")
    print(f"  zero errors under load: {errors} errors "
          f"({'reached' if errors == 0 else 'NOT reached'})")
    worst = max(growths)
    print(f"  memory growth <= 10% per process: "
          f"{', '.join(f'{g:+.1%}' for g in growths)} "
          f"({'reached' if worst <= 0.10 else 'NOT reached'})")
    print(f"  resident memory < 150 MB per process after the load: "
          f"{', '.join(f'{mb:.1f} MB' for mb in ends)} "
          f"({'reached' if max(ends) < 150 else 'NOT reached'})")
    print(f"  p99 under the mixed load: {p99:.1f} ms (no goal of its own; the document "
          f"page's p99 < 60 ms at 16 connections is bench/views.py's)")
    return {"errors": errors,
            "reached": errors == 0 and worst <= 0.10 and max(ends) < 150}


def print_log_errors(servers, limit=60):
    """The last lines of the servers' logs (their tracebacks)."""
    for number, (base, _port, _process, log) in enumerate(servers):
        lines = log.read_text(errors="replace").splitlines()
        picked = [line for line in lines if line.strip()][-limit:]
        print(f"\n--- {log.name} ({base}): last {len(picked)} of {len(lines)} lines ---")
        for line in picked:
            print("  " + line)


if __name__ == "__main__":
    sys.exit(main())
