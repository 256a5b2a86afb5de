"""modelrun next to its peer baselines, in one run on one machine.

Used by scripts/bench-peers, which builds modelrun and the seeder, installs
wrk and the Flask venv, and passes their paths here. Every process started
here gets its own process group (start_new_session) and is stopped in a
`finally`; every wait is bounded. Measures, each next to a baseline from
the same run, alternating modelrun and the baseline (A B A B):

1. download of a big run output (local blob store) vs `python3 -m http.server`
   serving the same file; `cat` as a ceiling; modelrun's VmRSS around it;
2. the runs list with N runs, c=64, wrk --latency: `GET /api/v1/runs?limit=50`
   vs Flask's `/api/runs?limit=50`, and `/runs` vs Flask's `/`; on SQLite and
   on Postgres; and the JSON list with another page each request (a wrk
   script walks the cursor), so that every answer is built;
3. 50 concurrent submits of a model that sleeps 5 s: submit -> `dispatching`
   and -> `running` (from the run's events), on SQLite and on Postgres;
4. (--airflow) one-at-a-time submit -> the model's first statement, next to
   Airflow 3's trigger -> task start (shared/peers/airflow_bench.sh).

Prints a Markdown table; writes everything as JSON.
"""

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime

PROCS = []  # every Popen started here, stopped in stop_all()
ADMIN = "admin@localhost"
ADMIN_PASSWORD = "bench-peers-password"
# The model's interpreter itself: a launcher shim on PATH (pyenv's) costs
# about 150 ms a start, which would be timed as modelrun's.
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else os.path.realpath(sys.executable)
SUBMITTERS = 5  # users for each burst of submits: 10 submits each, a third of the 30 a minute a user may make


def log(msg):
    print(f"[bench-peers {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ processes
def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start(cmd, env, logpath, cwd=None):
    """Starts `cmd` in its own session (so its own process group)."""
    out = open(logpath, "ab")
    p = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, start_new_session=True)
    PROCS.append(p)
    return p


def stop(p, timeout=15):
    """SIGTERM the group we made (pgid == pid), then SIGKILL; bounded."""
    if p is None:
        return
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5)):
        try:
            os.killpg(p.pid, sig)
        except ProcessLookupError:
            break
        try:
            p.wait(timeout=wait)
            # the leader is gone: make sure nothing else of its group stays
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            break
        except subprocess.TimeoutExpired:
            continue
    if p in PROCS:
        PROCS.remove(p)


def stop_all():
    for p in list(reversed(PROCS)):
        stop(p)


def run(cmd, env=None, input=None, timeout=600):
    r = subprocess.run(cmd, env=env, input=input, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout[-2000:]}{r.stderr[-2000:]}")
    return r.stdout


def wait_http(url, proc, seconds=60, headers=None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode} before {url} answered")
        try:
            req = urllib.request.Request(url, headers=headers or {})
            with urllib.request.urlopen(req, timeout=5) as r:
                if r.status == 200:
                    return
        except Exception:  # noqa: BLE001
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {seconds} s")


def vmrss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return None


# ------------------------------------------------------------------ HTTP
def api(base, token, path, method="GET", body=None, timeout=30):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.load(r)


def parse_ts(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def wait_run(base, token, run_id, until, seconds):
    """Polls a run until `until(run)` holds; bounded in time."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        r = api(base, token, f"/api/v1/runs/{run_id}")
        if until(r):
            return r
        if r["status"] in ("failed", "cancelled"):
            raise RuntimeError(f"run {run_id} {r['status']}: {r.get('status_reason')}")
        time.sleep(0.1)
    raise TimeoutError(f"run {run_id} not done within {seconds} s")


def login_cookie(base):
    """Signs in through the /login form (with an Origin header), returns `name=value`."""
    form = urllib.parse.urlencode({"email": ADMIN, "password": ADMIN_PASSWORD, "next": "/runs"}).encode()
    req = urllib.request.Request(base + "/login", data=form, method="POST",
                                 headers={"Origin": base, "Content-Type": "application/x-www-form-urlencoded"})

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **k):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        resp = opener.open(req, timeout=10)
    except urllib.error.HTTPError as e:
        resp = e
    for header in resp.headers.get_all("Set-Cookie") or []:
        pair = header.split(";", 1)[0]
        if pair.startswith("modelrun_session="):
            return pair
    raise RuntimeError(f"sign-in gave no session cookie (status {resp.status})")


# ------------------------------------------------------------------ measures
def curl_speed(url, headers):
    cmd = ["curl", "-sS", "--fail", "-o", "/dev/null", "-w", "%{speed_download} %{size_download}",
           "--max-time", "300"]
    for h in headers:
        cmd += ["-H", h]
    out = run(cmd + [url], timeout=330).split()
    return round(float(out[0]) / 2**20, 1), int(out[1])


# Each request of wrk's two threads asks for another page of the runs list
# (cursors 6002..10001, thread 0 the even ones, thread 1 the odd ones): a
# page is asked again only after 2,000 others, long after modelrun stopped
# keeping it, so every answer is built from the database.
WALK_PAGES_LUA = """
local threads = 0
function setup(thread) thread:set("tid", threads); threads = threads + 1 end
function init(args) n = 0 end
function request()
  n = n + 1
  local cursor = 10001 - ((n * 2 + tid) % 4000)
  return wrk.format(nil, "/api/v1/runs?limit=50&cursor=" .. cursor)
end
"""


def wrk(url, headers, seconds, wrk_bin, connections=64, script=None):
    cmd = [wrk_bin, "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency"]
    if script:
        cmd += ["-s", script]
    for h in headers:
        cmd += ["-H", h]
    out = run(cmd + [url], timeout=seconds + 60)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    p50 = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))
    bad = int(non2xx.group(1)) if non2xx else 0
    return {
        "rps": rps,
        "ok_rps": round(rps * (total - bad) / total, 1) if total else 0.0,
        "p50_ms": round(float(p50.group(1)) * scale[p50.group(2)], 2) if p50 else None,
        "p99_ms": round(float(p99.group(1)) * scale[p99.group(2)], 2) if p99 else None,
        "requests": total,
        "non_2xx_3xx": bad,
        "socket_errors": errors.group(0) if errors else None,
    }


def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return None
    k = (len(xs) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


# ------------------------------------------------------------------ modelrun instances
def write_models(root, big_mib):
    models = {
        "big": f'command = ["sh", "-c", "head -c {big_mib * 2**20} /dev/zero > \\"$MODELRUN_OUTPUT_DIR/big.bin\\""]',
        "sleep": 'command = ["sleep", "5"]',
        "first": f'command = ["{PYTHON}", "-c", "import time, os; t = time.time(); '
                 'open(os.path.join(os.environ[\\"MODELRUN_OUTPUT_DIR\\"], \\"t.txt\\"), \\"w\\").write(repr(t))"]',
    }
    for name, command in models.items():
        d = os.path.join(root, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "modelrun.toml"), "w") as f:
            f.write(f'name = "{name}"\ntitle = "bench-peers {name}"\n{command}\n'
                    '[inputs]\ntype = "object"\n')
    return {name: os.path.join(root, name) for name in models}


class Modelrun:
    """One `modelrun up`, on SQLite (its data dir) or Postgres (database_url)."""

    def __init__(self, args, work, label, database_url=None):
        self.args, self.label, self.database_url = args, label, database_url
        self.dir = os.path.join(work, f"modelrun-{label}")
        self.data = os.path.join(self.dir, "data")
        os.makedirs(self.data, exist_ok=True)  # commands other than `up`/`migrate` never create it
        self.env = dict(os.environ, MODELRUN_DATA_DIR=self.data, RUST_LOG="error",
                        MODELRUN_ADMIN_EMAIL=ADMIN, MODELRUN_ADMIN_PASSWORD=ADMIN_PASSWORD)
        self.env.pop("MODELRUN_DATABASE_URL", None)
        self.env.pop("DATABASE_URL", None)
        if database_url:
            self.env["MODELRUN_DATABASE_URL"] = database_url
        self.proc = None
        self.base = None
        self.tokens = []

    def cli(self, *a, input=None):
        return run([self.args.bin, *a], env=self.env, input=input)

    def setup(self, models, runs):
        t0 = time.monotonic()
        self.cli("migrate")
        for d in models.values():
            self.cli("models", "register", d)
        self.cli("users", "create", "--email", ADMIN, "--role", "admin", "--password-stdin",
                 input=ADMIN_PASSWORD + "\n")
        self.runner_token = self.cli("tokens", "create", "--user", ADMIN, "--name", "bench").strip().splitlines()[-1]
        for i in range(SUBMITTERS * self.args.bursts):
            email = f"submitter{i}@example.com"
            self.cli("users", "create", "--email", email, "--password-stdin", input=f"bench-pw-{i}-xyz\n")
            self.tokens.append(self.cli("tokens", "create", "--user", email, "--name", "bench")
                               .strip().splitlines()[-1])
        seed = [self.args.seeder, "--model", "sleep", "--user", ADMIN, "--runs", str(runs)]
        seed += ["--database-url", self.database_url] if self.database_url else ["--data-dir", self.data]
        out = run(seed, env=self.env, timeout=600)
        log(f"{self.label}: {out.strip()} (setup {time.monotonic() - t0:.1f} s)")

    def up(self):
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        env = dict(self.env, MODELRUN_MAX_CONCURRENT_RUNS="64")
        self.proc = start([self.args.bin, "up", "--bind", f"127.0.0.1:{port}", "--no-example"], env,
                          os.path.join(self.dir, "server.log"))
        wait_http(self.base + "/healthz", self.proc, 60)
        self.cookie = login_cookie(self.base)

    def down(self):
        stop(self.proc)
        self.proc = None


def measure_download(args, mr, work, rounds=3):
    log(f"download: running `big` ({args.big_mib} MiB output)")
    run_ = api(mr.base, mr.runner_token, "/api/v1/models/big/runs", "POST", {"inputs": {}})
    done = wait_run(mr.base, mr.runner_token, run_["id"], lambda r: r["status"] == "succeeded", 600)
    size = next(o["size"] for o in done["outputs"] if o["name"] == "big.bin")
    blob = None
    for root, _dirs, files in os.walk(os.path.join(mr.data, "blobs")):
        if "big.bin" in files and os.path.getsize(os.path.join(root, "big.bin")) == size:
            blob = os.path.join(root, "big.bin")
            break
    if blob is None:
        raise RuntimeError("cannot find the blob big.bin under the data dir")
    port = free_port()
    http = start([sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory",
                  os.path.dirname(blob), str(port)], os.environ.copy(), os.path.join(work, "http.server.log"))
    try:
        wait_http(f"http://127.0.0.1:{port}/big.bin", http, 30)  # a GET; it warms the page cache too
        t0 = time.monotonic()
        subprocess.run(["cat", blob], stdout=subprocess.DEVNULL, check=True, timeout=300)
        t0 = time.monotonic()
        subprocess.run(["cat", blob], stdout=subprocess.DEVNULL, check=True, timeout=300)
        cat_mibs = round(size / 2**20 / (time.monotonic() - t0), 1)
        rss = {"before": vmrss_mib(mr.proc.pid), "peak": 0.0}
        stop_ev = threading.Event()

        def sample():
            while not stop_ev.is_set():
                try:
                    rss["peak"] = max(rss["peak"], vmrss_mib(mr.proc.pid) or 0)
                except Exception:  # noqa: BLE001
                    pass
                stop_ev.wait(0.1)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        ours, theirs = [], []
        url = f"{mr.base}/api/v1/runs/{run_['id']}/outputs/big.bin"
        for i in range(rounds):
            speed, got = curl_speed(url, [f"Authorization: Bearer {mr.runner_token}"])
            assert got == size, (got, size)
            ours.append(speed)
            speed, got = curl_speed(f"http://127.0.0.1:{port}/big.bin", [])
            assert got == size, (got, size)
            theirs.append(speed)
            log(f"download round {i + 1}: modelrun {ours[-1]} MiB/s, http.server {theirs[-1]} MiB/s")
        stop_ev.set()
        sampler.join(timeout=2)
        rss["after"] = vmrss_mib(mr.proc.pid)
        return {"bytes": size, "blob": os.path.relpath(blob, mr.data), "modelrun_mibs": ours,
                "http_server_mibs": theirs, "cat_mibs": cat_mibs, "modelrun_vmrss_mib": rss}
    finally:
        stop(http)


def measure_lists(args, mr, flask_base, rounds):
    """wrk, alternating modelrun and Flask, JSON then HTML, `rounds` times."""
    pairs = {
        "json": ((f"{mr.base}/api/v1/runs?limit=50", [f"Authorization: Bearer {mr.runner_token}"]),
                 (f"{flask_base}/api/runs?limit=50", [])),
        # The same four columns as Flask's rows: like for like.
        "json_fields": ((f"{mr.base}/api/v1/runs?limit=50&fields=id,model,status,created_at",
                         [f"Authorization: Bearer {mr.runner_token}"]),
                        (f"{flask_base}/api/runs?limit=50", [])),
        "html": ((f"{mr.base}/runs", [f"Cookie: {mr.cookie}"]), (f"{flask_base}/", [])),
        # A different page each request: nothing kept, every answer built.
        "json_walk": ((f"{mr.base}/api/v1/runs?limit=50&cursor=10001",
                       [f"Authorization: Bearer {mr.runner_token}"]),
                      (f"{flask_base}/api/runs?limit=50", [])),
    }
    walk = os.path.join(os.path.dirname(mr.dir), "walk-pages.lua")
    with open(walk, "w") as f:
        f.write(WALK_PAGES_LUA)
    # what one answer holds (rows), checked before the load
    check = {}
    for kind, ((url, hdrs), (furl, _)) in pairs.items():
        req = urllib.request.Request(url, headers=dict(h.split(": ", 1) for h in hdrs))
        with urllib.request.urlopen(req, timeout=10) as r:
            body = r.read()
        with urllib.request.urlopen(furl, timeout=10) as r:
            fbody = r.read()
        if kind.startswith("json"):
            check[kind] = {"modelrun_items": len(json.loads(body)["runs"]), "flask_items": len(json.loads(fbody)),
                           "modelrun_bytes": len(body), "flask_bytes": len(fbody)}
        else:
            check[kind] = {"modelrun_rows": len(re.findall(rb"<tr\b", body)) - 1,
                           "flask_rows": len(re.findall(rb"<tr\b", fbody)) - 1,
                           "modelrun_bytes": len(body), "flask_bytes": len(fbody)}
    if check["json"]["modelrun_items"] != 50 or check["json"]["flask_items"] != 50:
        raise RuntimeError(f"a list answer does not hold 50 runs: {check['json']} (was the seeding done?)")
    res = {k: {"modelrun": [], "flask": [], "check": check[k]} for k in pairs}
    for i in range(rounds):
        for kind, ((url, hdrs), (furl, fhdrs)) in pairs.items():
            script = walk if kind == "json_walk" else None
            res[kind]["modelrun"].append(wrk(url, hdrs, args.seconds, args.wrk, script=script))
            res[kind]["flask"].append(wrk(furl, fhdrs, args.seconds, args.wrk))
            log(f"{mr.label} {kind} round {i + 1}: modelrun {res[kind]['modelrun'][-1]['rps']} rps, "
                f"flask {res[kind]['flask'][-1]['rps']} rps")
    return res


def cpu_ms(pids_of):
    """CPU time (user + system, ms) used so far by the processes `pids_of()` names."""
    tick = 1000 / os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids_of():
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        total += (int(fields[11]) + int(fields[12])) * tick
    return total


def postgres_pids():
    """The Postgres server's processes on this machine (backends come and go)."""
    pids = []
    for stat in os.listdir("/proc"):
        if stat.isdigit():
            try:
                with open(f"/proc/{stat}/comm") as f:
                    if f.read().strip() == "postgres":
                        pids.append(stat)
            except OSError:
                pass
    return pids


def one_burst(mr, n, tokens):
    """n submits at once, spread over the users of `tokens` (a burst's own,
    so that no burst meets the per-user rate limit), sent by the burst
    client (app/examples/submit_burst.rs: connected first, then every
    request written at once from one thread, so that the client takes
    little of the cores the server needs); with the CPU the server (and
    Postgres) spent from the burst to its last answer."""
    host_port = urllib.parse.urlsplit(mr.base).netloc
    command = [mr.args.burster, "--addr", host_port, "--path", "/api/v1/models/sleep/runs", "--n", str(n)]
    for token in tokens:
        command += ["--token", token]
    server = lambda: [mr.proc.pid]  # noqa: E731
    before = cpu_ms(server), cpu_ms(postgres_pids) if mr.database_url else 0
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    after = cpu_ms(server), cpu_ms(postgres_pids) if mr.database_url else 0
    if done.returncode != 0:
        raise RuntimeError(f"the burst client failed: {done.stderr[-500:]}")
    sent = []
    for line in done.stdout.splitlines():
        answer = json.loads(line)
        if answer["status"] != 201:
            raise RuntimeError(f"submit answered {answer['status']}: {answer['body'][:300]!r}")
        sent.append((answer["t0"], answer["t1"], json.loads(answer["body"])["id"], tokens[answer["i"] % len(tokens)]))
    if len(sent) != n:
        raise RuntimeError(f"the burst client answered {len(sent)} submits of {n}")
    to_disp, to_run, api_ms = [], [], []
    deadline = time.monotonic() + 120
    for t0, t1, rid, token in sent:
        r = wait_run(mr.base, token, rid,
                     lambda r: any(e.get("status") == "running" for e in r["events"]),
                     max(1.0, deadline - time.monotonic()))
        at = {e["status"]: parse_ts(e["at"]) for e in r["events"] if e.get("status")}
        to_disp.append((at["dispatching"] - t0) * 1000)
        to_run.append((at["running"] - t0) * 1000)
        api_ms.append((t1 - t0) * 1000)
    # let the 5 s sleeps end before anything else is measured (bounded)
    for t0, t1, rid, token in sent:
        wait_run(mr.base, token, rid, lambda r: r["status"] in ("succeeded", "failed", "cancelled"),
                 max(1.0, deadline + 60 - time.monotonic()))

    def summary(xs):
        return {"p50_ms": round(pct(xs, 0.5), 1), "p99_ms": round(pct(xs, 0.99), 1), "max_ms": round(max(xs), 1)}

    return {"submit_call": summary(api_ms), "to_dispatching": summary(to_disp), "to_running": summary(to_run),
            "cpu_ms_per_submit": {"server": round((after[0] - before[0]) / n, 1),
                                  "postgres": round((after[1] - before[1]) / n, 1)}}


def measure_submits(args, mr, n=50):
    """args.bursts bursts of n concurrent submits of `sleep`: each burst's
    p50 / p99, and the median of the bursts' figures (one burst's p99 of 50 is
    nearly its maximum, so a single burst says little)."""
    log(f"{mr.label}: {args.bursts} bursts of {n} concurrent submits of `sleep`")
    bursts = [one_burst(mr, n, mr.tokens[b * SUBMITTERS:(b + 1) * SUBMITTERS]) for b in range(args.bursts)]
    out = {"n": n, "users_per_burst": SUBMITTERS, "bursts": bursts}
    for key in ("submit_call", "to_dispatching", "to_running"):
        out[key] = {q: round(med([b[key][q] for b in bursts]), 1) for q in ("p50_ms", "p99_ms", "max_ms")}
    out["cpu_ms_per_submit"] = {w: round(med([b["cpu_ms_per_submit"][w] for b in bursts]), 1)
                                for w in ("server", "postgres")}
    return out


def measure_first_statement(args, mr, n=10):
    """One at a time: submit -> the model's first statement (time.time() it writes)."""
    lat = []
    for i in range(n):
        time.sleep(0.3 + (i % 5) * 0.37)  # land at different phases of any poll loop
        t0 = time.time()
        r = api(mr.base, mr.runner_token, "/api/v1/models/first/runs", "POST", {"inputs": {}})
        wait_run(mr.base, mr.runner_token, r["id"], lambda r: r["status"] == "succeeded", 60)
        req = urllib.request.Request(f"{mr.base}/api/v1/runs/{r['id']}/outputs/t.txt",
                                     headers={"Authorization": f"Bearer {mr.runner_token}"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            lat.append(float(resp.read().decode()) - t0)
    return {"n": n, "p50_s": round(pct(lat, 0.5), 3), "max_s": round(max(lat), 3)}


def run_airflow(args, work):
    script = os.path.join(args.peers, "airflow_bench.sh")
    log("airflow: running shared/peers/airflow_bench.sh --dbs sqlite (about 10 minutes)")
    # NO_OHA: no `cargo install oha` (minutes of CPU); its list test falls back to python
    env = dict(os.environ, AIRFLOW_PORT=str(free_port()), AIRFLOW_PG_PORT=str(free_port()), NO_OHA="1")
    p = start(["bash", script, "--dbs", "sqlite", "--n-seq", "10", "--waves", "0", "--list-seconds", "2"],
              env, os.path.join(work, "airflow.log"))
    try:
        p.wait(timeout=3600)
    except subprocess.TimeoutExpired:
        stop(p)
        raise
    lines = [l for l in open(os.path.join(work, "airflow.log")).read().splitlines() if l.startswith("{")]
    res = json.loads(lines[-1])
    seq = res["runs"]["sqlite"]["trigger_to_start"]["sequential"]
    return {"p50_s": seq.get("p50_s"), "max_s": seq.get("max_s"), "n": seq.get("n"), "raw": res}


# ------------------------------------------------------------------ postgres
def scratch_database(server_url):
    name = f"modelrun_bench_{secrets.token_hex(4)}"
    run(["psql", server_url, "-v", "ON_ERROR_STOP=1", "-qAtc", f"CREATE DATABASE {name}"], timeout=60)
    u = urllib.parse.urlsplit(server_url)
    return name, urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + name, u.query, u.fragment))


def drop_database(server_url, name):
    subprocess.run(["psql", server_url, "-qAtc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"],
                   capture_output=True, timeout=60)


# ------------------------------------------------------------------ report
def med(xs):
    return statistics.median(xs) if xs else None


def ratio(a, b):
    return f"{a / b:.2f}×" if a and b else "—"


def table(res):
    rows = ["| measure | modelrun | baseline | modelrun ÷ baseline |", "|---|---|---|---|"]
    d = res.get("download")
    if d:
        mr, hs = med(d["modelrun_mibs"]), med(d["http_server_mibs"])
        rows.append(f"| download {d['bytes'] // 2**20} MiB output, MiB/s (median of {len(d['modelrun_mibs'])}; "
                    f"higher is better) | {mr:.0f} | python3 -m http.server {hs:.0f} | {ratio(mr, hs)} |")
        rows.append(f"| … ceiling: `cat` of the blob, MiB/s | | {d['cat_mibs']:.0f} | {ratio(mr, d['cat_mibs'])} |")
        r = d["modelrun_vmrss_mib"]
        rows.append(f"| … modelrun VmRSS before / peak / after the downloads, MiB | "
                    f"{r['before']} / {r['peak']} / {r['after']} | | {ratio(r['peak'], r['before'])} peak ÷ before |")
    for db in ("sqlite", "postgres"):
        lists = res.get("lists", {}).get(db)
        if not lists:
            continue
        for kind, what, peer in (("json", "`GET /api/v1/runs?limit=50`", "Flask `/api/runs?limit=50`"),
                                 ("json_fields", "`GET /api/v1/runs?limit=50&fields=id,model,status,created_at`",
                                  "Flask `/api/runs?limit=50`"),
                                 ("html", "`/runs` page", "Flask `/`"),
                                 ("json_walk", "`GET /api/v1/runs?limit=50&cursor=…`, another page each request "
                                  "(every answer built)", "Flask `/api/runs?limit=50`")):
            x = lists.get(kind)
            if not x:
                continue
            a = med([w["ok_rps"] for w in x["modelrun"]])
            b = med([w["ok_rps"] for w in x["flask"]])
            ap = med([w["p99_ms"] for w in x["modelrun"] if w["p99_ms"] is not None])
            bp = med([w["p99_ms"] for w in x["flask"] if w["p99_ms"] is not None])
            bad = sum(w["non_2xx_3xx"] for w in x["modelrun"]), sum(w["non_2xx_3xx"] for w in x["flask"])
            note = f" ({bad[0]} / {bad[1]} non-2xx)" if any(bad) else ""
            c = x["check"]
            n_ours, n_theirs = (c["modelrun_items"], c["flask_items"]) if kind.startswith("json") else \
                (c["modelrun_rows"], c["flask_rows"])
            note += f"; rows per answer {n_ours} vs {n_theirs}, bytes {c['modelrun_bytes']} vs {c['flask_bytes']}"
            rows.append(f"| runs list {what}, {db}, {res['config']['runs']} runs, c=64: rps (higher is better){note} "
                        f"| {a:.0f} | {peer} {b:.0f} | {ratio(a, b)} |")
            rows.append(f"| … p99 latency, ms (lower is better) | {ap:.1f} | {bp:.1f} | {ratio(ap, bp)} |")
    subs = res.get("submits", {})
    if subs:
        base = subs.get("sqlite")
        for db, s in subs.items():
            k = len(s.get("bursts", [])) or 1
            for key, what in (("to_dispatching", "`dispatching`"), ("to_running", "`running`")):
                v = s[key]
                each = " · ".join(f"{b[key]['p99_ms']:.0f}" for b in s.get("bursts", []))
                cmp_ = "" if db == "sqlite" or not base else \
                    f"{ratio(v['p50_ms'], base[key]['p50_ms'])} of SQLite's p50"
                rows.append(f"| {s['n']} concurrent submits → {what}, {db}: p50 / p99 ms, median of {k} bursts "
                            f"(each burst's p99: {each}; lower is better) "
                            f"| {v['p50_ms']:.0f} / {v['p99_ms']:.0f} | no peer | {cmp_ or '—'} |")
            c = s.get("cpu_ms_per_submit")
            if c:
                what, used = ("server + Postgres", f"{c['server']:.1f} + {c['postgres']:.1f}") \
                    if db == "postgres" else ("server", f"{c['server']:.1f}")
                rows.append(f"| … CPU per submit from the burst to its last answer, ms ({what}; median of {k}) "
                            f"| {used} | no peer | — |")
    a = res.get("airflow")
    if a:
        f = res.get("first_statement", {})
        rows.append(f"| one at a time: submit → model's first statement vs Airflow 3 trigger → task start, "
                    f"p50 s (lower is better) | {f.get('p50_s')} | Airflow {a.get('p50_s')} "
                    f"| {ratio(f.get('p50_s'), a.get('p50_s'))} |")
    elif res.get("first_statement"):
        f = res["first_statement"]
        rows.append(f"| one at a time: submit → model's first statement, p50 s | {f['p50_s']} | (Airflow: --airflow) | — |")
    return "\n".join(rows)


# ------------------------------------------------------------------ main
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--seeder", required=True)
    ap.add_argument("--burster", required=True, help="app/examples/submit_burst.rs, built")
    ap.add_argument("--wrk", default=shutil.which("wrk") or "wrk")
    ap.add_argument("--flask-venv", help="the Flask baseline's venv (all but --submits)")
    ap.add_argument("--peers", help="../shared/peers (all but --submits)")
    ap.add_argument("--database-url", required=True, help="a Postgres server URL whose user may create databases")
    ap.add_argument("--seconds", type=int, default=15)
    ap.add_argument("--big-mib", type=int, default=1024)
    ap.add_argument("--runs", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--page-rows", type=int, default=25, help="rows of Flask's `/`: those of modelrun's /runs")
    ap.add_argument("--airflow", action="store_true")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--submits", action="store_true", help="only the bursts of concurrent submits")
    ap.add_argument("--bursts", type=int, default=3, help="bursts of 50 concurrent submits per database")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    if args.submits and args.airflow:
        ap.error("--submits runs only the bursts of submits; --airflow goes with the full run")
    if not args.submits and not (args.flask_venv and args.peers):
        ap.error("--flask-venv and --peers are needed for all but --submits")

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)

    for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(s, on_signal)

    work = tempfile.mkdtemp(prefix="bench-peers-")
    started = time.monotonic()
    res = {"config": {"quick": args.quick, "seconds": args.seconds, "big_mib": args.big_mib, "runs": args.runs,
                      "rounds": args.rounds, "bursts": args.bursts, "submits_only": args.submits,
                      "cores": os.cpu_count(), "wrk": "wrk -t2 -c64 --latency",
                      "modelrun": run([args.bin, "--version"]).strip(),
                      "modelrun_up": "--max-concurrent-runs 64, other options default",
                      "flask": f"gunicorn -w 2 (shared/peers/flask_runs_page), PAGE_SIZE={args.page_rows}",
                      "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
           "lists": {}, "submits": {}}
    pg_name = None
    failed = False
    try:
        models = write_models(os.path.join(work, "models"), args.big_mib)
        flask = flask_base = None
        if not args.submits:
            # Flask baseline, seeded with as many runs
            fdir = os.path.join(work, "flask")
            os.makedirs(fdir)
            fdb = os.path.join(fdir, "runs.db")
            fpy = os.path.join(args.flask_venv, "bin", "python")
            run([fpy, os.path.join(args.peers, "flask_runs_page", "seed.py"), fdb, str(args.runs)])
            fport = free_port()
            flask = start([os.path.join(args.flask_venv, "bin", "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{fport}",
                           "--chdir", os.path.join(args.peers, "flask_runs_page"), "app:app"],
                          # modelrun's /runs page shows 25 runs: Flask's `/` the same number
                          dict(os.environ, RUNS_DB=fdb, PAGE_SIZE=str(args.page_rows)),
                          os.path.join(fdir, "gunicorn.log"))
            flask_base = f"http://127.0.0.1:{fport}"
            wait_http(flask_base + "/healthz", flask, 60)

        # SQLite
        mr = Modelrun(args, work, "sqlite")
        mr.setup(models, args.runs)
        mr.up()
        try:
            if not args.submits:
                res["download"] = measure_download(args, mr, work)
                res["lists"]["sqlite"] = measure_lists(args, mr, flask_base, args.rounds)
            res["submits"]["sqlite"] = measure_submits(args, mr)
            if not args.submits:
                res["first_statement"] = measure_first_statement(args, mr, 3 if args.quick else 10)
        finally:
            mr.down()
        # Postgres: a scratch database on the server
        pg_name, pg_url = scratch_database(args.database_url)
        res["config"]["postgres_database"] = pg_name
        mr = Modelrun(args, work, "postgres", pg_url)
        mr.setup(models, args.runs)
        mr.up()
        try:
            if not args.submits:
                res["lists"]["postgres"] = measure_lists(args, mr, flask_base, args.rounds)
            res["submits"]["postgres"] = measure_submits(args, mr)
        finally:
            mr.down()
        if flask:
            stop(flask)
        if args.airflow:
            res["airflow"] = run_airflow(args, work)
    except BaseException as e:  # noqa: BLE001  (report what was measured, then fail)
        failed = True
        res["error"] = f"{type(e).__name__}: {e}"
        log(f"error: {res['error']}")
        log(f"logs are kept in {work}")
    finally:
        stop_all()
        if pg_name:
            drop_database(args.database_url, pg_name)
    res["config"]["seconds_total"] = round(time.monotonic() - started, 1)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(res, f, indent=2)
    print()
    if args.submits:
        print(f"modelrun, one run on this machine ({os.cpu_count()} cores): {args.bursts} bursts of 50 "
              f"submits per database, {args.runs} runs. JSON: {args.out}")
    else:
        print(f"modelrun vs peers, one run on this machine ({os.cpu_count()} cores), "
              f"{'quick' if args.quick else 'full'}: {args.seconds} s per load test, {args.rounds} alternating "
              f"rounds, {args.runs} runs, {args.big_mib} MiB file, {args.bursts} bursts of 50 submits. "
              f"JSON: {args.out}")
    print()
    print(table(res))
    if failed:
        print(f"\nincomplete: {res['error']}")
        sys.exit(1)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
