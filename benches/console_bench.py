#!/usr/bin/env python3
"""The measuring half of benches/console.sh (the web console and JSON API of `loadlake serve
--http`, issue 20). Subcommands:

  small-runs DIR RUNS ROWS BATCHES   writes RUNS small JMeter CSV JTLs of ROWS rows (gen_jtl.py's
                                     rows, seed = file number, so no two are the same bytes) into
                                     DIR/b<k>/, BATCHES directories of RUNS/BATCHES files
  runs BASE ROUNDS DEEP [PID]        the runs page: each request's time on one keep-alive
                                     connection (send → last byte of the answer), ROUNDS times,
                                     and with the server's PID the CPU time it spent on it
  browser BASE RUN_ID ROUNDS [PID]   Chromium (Debian's, driven by playwright): the runs page
                                     ready, and the run page of RUN_ID to its first chart drawn
                                     (and the server's CPU time until then)
  load BASE CLIENTS SECONDS RUN_IDS  CLIENTS threads, each with its own connection, asking the
                                     runs and report endpoints for SECONDS: latency per endpoint
  report BIN STORE RUN_ID ROUNDS     `loadlake report RUN_ID --format json`: wall and CPU time

Each prints one JSON object on stdout (times in ms). Only the standard library, except
`browser` (playwright).
"""
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_jtl  # noqa: E402


def small_runs(directory, runs, rows, batches):
    """RUNS files of ROWS rows in BATCHES sub-directories; returns how many were written."""
    expo = gen_jtl.exp_table()  # 65 536 logarithms: once, not once per file
    gen_jtl.exp_table = lambda: expo
    start_ms = gen_jtl.START_MS - runs * 3_600_000
    for i in range(runs):
        sub = os.path.join(directory, "b%d" % (i % batches))
        os.makedirs(sub, exist_ok=True)
        path = os.path.join(sub, "r%05d.csv" % i)
        if os.path.exists(path):
            continue
        # One run an hour, the oldest first, so a time range selects some of them.
        gen_jtl.START_MS = start_ms + i * 3_600_000
        with open(path + ".tmp", "w", encoding="utf-8", newline="\n") as out:
            gen_jtl.write_csv(out, rows, seed=1000 + i)
        os.replace(path + ".tmp", path)
    return {"files": runs, "rows_each": rows, "batches": batches}


class Client:
    """One keep-alive HTTP/1.1 connection to BASE; get() returns (status, body, ms)."""

    def __init__(self, base):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)

    def get(self, path):
        start = time.perf_counter()
        try:
            self.conn.request("GET", path)
            r = self.conn.getresponse()
            body = r.read()
            status = r.status
        except (OSError, http.client.HTTPException) as e:
            self.conn.close()
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
            return 0, str(e).encode(), (time.perf_counter() - start) * 1000
        return status, body, (time.perf_counter() - start) * 1000

    def json(self, path):
        status, body, ms = self.get(path)
        if status != 200:
            raise SystemExit(f"GET {path}: HTTP {status}: {body[:300]!r}")
        return json.loads(body), ms


def cpu_ms(pid):
    """CPU time (user + system) process PID has used so far, ms: /proc/PID/stat's utime and
    stime, which count the threads that have ended too (clock ticks, usually 10 ms)."""
    if not pid:
        return 0.0
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def summary(times):
    times = sorted(times)
    return {"n": len(times), "median": round(statistics.median(times), 2),
            "min": round(times[0], 2), "max": round(times[-1], 2)}


def runs_page(base, rounds, deep, pid):
    """The runs page's requests: the HTML and script, the first API page (no filter, and each
    filter the page offers), and page DEEP reached through the next tokens. Each request is
    asked ROUNDS times in a row; with the server's PID, also the CPU time it took, per request
    (the total over the ROUNDS divided by ROUNDS: a clock tick is coarser than one request)."""
    c = Client(base)
    first, _ = c.json("/api/v1/runs?max_results=50")
    total = first["total"]
    some = first["runs"][0]
    tag = sorted(some["tags"].items())[0] if some["tags"] else None
    # Page DEEP's token: walk the pages once, as a person clicking "Next page" does.
    token, pages, walk = "", 0, []
    while pages < deep:
        page, ms = c.json("/api/v1/runs?max_results=50" + ("&next_token=" + token if token else ""))
        walk.append(ms)
        pages += 1
        if not page["next_token"]:
            break
        token = page["next_token"]
    mid = some["first_ts_ms"]
    requests = {
        "html /": "/",
        "script /console/console.js": "/console/console.js",
        "api first page": "/api/v1/runs?max_results=50",
        f"api page {pages + 1} (next_token)": "/api/v1/runs?max_results=50&next_token=" + token,
        "api name filter": "/api/v1/runs?max_results=50&" + urllib.parse.urlencode({"name": some["name"]}),
        "api tag filter": "/api/v1/runs?max_results=50&" + urllib.parse.urlencode({"tags": "%s=%s" % tag}) if tag else None,
        "api status filter": "/api/v1/runs?max_results=50&status=complete",
        # The week before the newest run's start (the small runs start one an hour).
        "api time range": f"/api/v1/runs?max_results=50&start_after_ms={mid - 7 * 86_400_000}&start_before_ms={mid + 1}",
    }
    times = {k: [] for k, v in requests.items() if v}
    answers, cpu = {}, {}
    for name, path in requests.items():
        if not path:
            continue
        before = cpu_ms(pid)
        for _ in range(rounds):
            status, body, ms = c.get(path)
            if status != 200:
                raise SystemExit(f"GET {path}: HTTP {status}: {body[:300]!r}")
            times[name].append(ms)
        cpu[name] = {"cpu_ms": round((cpu_ms(pid) - before) / rounds, 1)} if pid else {}
        if path.startswith("/api/"):
            a = json.loads(body)
            answers[name] = {"runs": len(a["runs"]), "total": a["total"]}
    # The p95 column of page DEEP + 1 (its runs never shown before: their rollups are written
    # by the first call), then ROUNDS more calls once they exist.
    deep_page, _ = c.json("/api/v1/runs?max_results=50&next_token=" + token)
    ids = ",".join(r["run_id"] for r in deep_page["runs"])
    path = "/api/v1/run-headlines?" + urllib.parse.urlencode({"run_ids": ids})
    before = cpu_ms(pid)
    status, body, cold = c.get(path)
    if status != 200:
        raise SystemExit(f"GET {path}: HTTP {status}: {body[:300]!r}")
    cold_cpu = cpu_ms(pid) - before
    before = cpu_ms(pid)
    warm = [c.get(path)[2] for _ in range(rounds)]
    headlines = {"runs": len(json.loads(body)["runs"]), "cold_ms": round(cold, 1),
                 "cold_cpu_ms": round(cold_cpu, 1), **summary(warm),
                 "cpu_ms": round((cpu_ms(pid) - before) / rounds, 1) if pid else 0}
    return {"total_runs": total, "walk_pages": pages, "walk": summary(walk), "headlines": headlines,
            "requests": {k: {**summary(v), **answers.get(k, {}), **cpu.get(k, {})} for k, v in times.items()}}


def browser(base, run_id, rounds, pid=0):
    """Chromium: the runs page to its table shown (navigation start → body data-ready=runs),
    "Next page" to its rows shown, and the run page to its first chart drawn (uPlot's canvas
    in #chart; body data-chart-points is set right after) and to everything shown."""
    from playwright.sync_api import sync_playwright
    args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    out = {"runs_ready": [], "next_page": [], "first_chart": [], "run_ready": [], "errors": [],
           "server_cpu_first_chart": [], "server_cpu_run_ready": []}
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=args)
        for _ in range(rounds):
            page = b.new_page(viewport={"width": 1280, "height": 900})
            page.on("pageerror", lambda e: out["errors"].append(str(e)))
            start = time.perf_counter()
            page.goto(base + "/")
            page.wait_for_function("document.body.dataset.ready === 'runs'", timeout=60000)
            out["runs_ready"].append((time.perf_counter() - start) * 1000)
            page.evaluate("document.body.dataset.ready = ''")
            start = time.perf_counter()
            page.click("#more")
            page.wait_for_function("document.body.dataset.ready === 'runs'", timeout=60000)
            out["next_page"].append((time.perf_counter() - start) * 1000)
            out["rows_after_next"] = page.evaluate("document.querySelectorAll('#runs tbody tr').length")
            page.close()
            page = b.new_page(viewport={"width": 1280, "height": 900})
            page.on("pageerror", lambda e: out["errors"].append(str(e)))
            cpu = cpu_ms(pid)
            start = time.perf_counter()
            page.goto(base + "/runs/" + run_id)
            page.wait_for_function("document.querySelector('#chart canvas') !== null"
                                   " && document.body.dataset.chartPoints !== undefined", timeout=300000)
            out["first_chart"].append((time.perf_counter() - start) * 1000)
            out["server_cpu_first_chart"].append(cpu_ms(pid) - cpu)
            page.wait_for_function("document.body.dataset.ready === 'run'", timeout=300000)
            out["run_ready"].append((time.perf_counter() - start) * 1000)
            out["server_cpu_run_ready"].append(cpu_ms(pid) - cpu)
            out["chart_points"] = page.evaluate("Number(document.body.dataset.chartPoints)")
            out["chart_requests"] = page.evaluate("Number(document.body.dataset.chartRequests)")
            page.close()
        b.close()
    return {k: (summary(v) | {"each": [round(x, 1) for x in v]} if isinstance(v, list) and v
                and isinstance(v[0], float) else v) for k, v in out.items()}


def load(base, clients, seconds, run_ids):
    """CLIENTS threads for SECONDS, each on its own connection, each request one of: the runs'
    first page, a page further on (its next token), a name filter, a small run's report."""
    first, _ = Client(base).json("/api/v1/runs?max_results=50")
    tokens = [first["next_token"]]
    c = Client(base)
    for _ in range(20):
        page, _ = c.json("/api/v1/runs?max_results=50&next_token=" + tokens[-1])
        if not page["next_token"]:
            break
        tokens.append(page["next_token"])
    name = first["runs"][0]["name"]
    kinds = {
        "runs first page": lambda rng: "/api/v1/runs?max_results=50",
        "runs next_token page": lambda rng: "/api/v1/runs?max_results=50&next_token=" + rng.choice(tokens),
        "runs name filter": lambda rng: "/api/v1/runs?max_results=50&" + urllib.parse.urlencode({"name": name}),
        "report (small run)": lambda rng: "/api/v1/runs/%s/report?page_size=1000" % rng.choice(run_ids),
    }
    results = {k: [] for k in kinds}
    errors = {k: 0 for k in kinds}
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    barrier = threading.Barrier(clients)

    def client(n):
        rng = random.Random(n)
        mine = Client(base)
        names = list(kinds)
        barrier.wait()
        while time.perf_counter() < deadline:
            kind = names[rng.randrange(len(names))]
            status, _, ms = mine.get(kinds[kind](rng))
            with lock:
                results[kind].append(ms)
                if status != 200:
                    errors[kind] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start

    def pct(v, q):
        v = sorted(v)
        return round(v[min(len(v) - 1, int(q * len(v)))], 1) if v else None

    every = [x for v in results.values() for x in v]
    per = {k: {"requests": len(v), "errors": errors[k], "p50": pct(v, 0.5), "p99": pct(v, 0.99),
               "max": pct(v, 1.0)} for k, v in results.items()}
    per["all"] = {"requests": len(every), "errors": sum(errors.values()), "p50": pct(every, 0.5),
                  "p99": pct(every, 0.99), "max": pct(every, 1.0)}
    return {"clients": clients, "seconds": round(wall, 1),
            "requests_per_s": round(len(every) / wall, 1), "endpoints": per}


def report(binary, store, run_id, rounds):
    """`loadlake --store STORE report RUN_ID --format json` from process start to exit, and
    the CPU time (user + system) it used."""
    import resource
    times, cpu = [], []
    for _ in range(rounds):
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run([binary, "--store", store, "report", run_id, "--format", "json"],
                       check=True, stdout=subprocess.DEVNULL)
        times.append((time.perf_counter() - start) * 1000)
        now = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append((now.ru_utime + now.ru_stime - used.ru_utime - used.ru_stime) * 1000)
    return summary(times) | {"each": [round(x, 1) for x in times], "cpu_each": [round(x) for x in cpu]}


def main():
    cmd, args = sys.argv[1] if len(sys.argv) > 1 else "", sys.argv[2:]
    if cmd == "small-runs" and len(args) == 4:
        out = small_runs(args[0], int(args[1]), int(args[2]), int(args[3]))
    elif cmd == "runs" and len(args) in (3, 4):
        out = runs_page(args[0], int(args[1]), int(args[2]), int(args[3]) if len(args) == 4 else 0)
    elif cmd == "browser" and len(args) in (3, 4):
        out = browser(args[0], args[1], int(args[2]), int(args[3]) if len(args) == 4 else 0)
    elif cmd == "load" and len(args) >= 4:
        out = load(args[0], int(args[1]), float(args[2]), args[3].split(","))
    elif cmd == "report" and len(args) == 4:
        out = report(args[0], args[1], args[2], int(args[3]))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
