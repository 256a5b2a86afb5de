"""A fault campaign against `modelrun up` on 127.0.0.1: SIGKILL of the
server at random moments of its runs' lives, and (as root) its data
directory's disk filled and freed. Used by scripts/fault-run, which builds
the binary and, for Postgres, makes the database.

Each round submits runs of a model that sleeps a while and writes an
output (some of them large, so that a kill often lands while outputs are
being stored), kills the server with SIGKILL after a random delay, checks
that no process of its runs outlives it, and starts it again. After the
last round every run must end; the campaign then counts how each ended and
checks that every succeeded run has its output, that no process of a run is
left, and that the work directory holds nothing of an ended run.

Every loop is bounded in count and time. Exits non-zero on any violation.
"""

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

TERMINAL = {"succeeded", "failed", "cancelled"}
MODEL = """\
import json, os, sys, time
inputs = json.load(open(os.environ["MODELRUN_INPUTS"]))
print("working for", inputs["seconds"], "s", flush=True)
time.sleep(inputs["seconds"])
with open(os.path.join(os.environ["MODELRUN_OUTPUT_DIR"], "out.bin"), "wb") as out:
    chunk = b"x" * (1024 * 1024)
    for _ in range(inputs["mib"]):
        out.write(chunk)
    out.write(b"done")
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, binary, env, log):
        self.binary, self.env, self.log = binary, env, log
        self.port = free_port()
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [self.binary, "up", "--bind", f"127.0.0.1:{self.port}", "--no-example",
             "--max-concurrent-runs", "2", "--sweep-interval-secs", "1"],
            env=self.env, stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.base()}/healthz", timeout=2)
                return
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        raise SystemExit("modelrun up did not answer /healthz within 60 s")

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def base(self):
        return f"http://127.0.0.1:{self.port}"


def call(server, token, path, method="GET", body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(server.base() + path, data=data, method=method)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.load(response)


def processes_of(data_dir):
    """Processes whose environment names a run of this data directory."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as environ:
                variables = environ.read().split(b"\0")
        except OSError:
            continue
        if any(v.startswith(b"MODELRUN_RUN_ID=") for v in variables) and any(
                data_dir.encode() in v for v in variables):
            found.append(int(entry))
    return found


def none_left(data_dir, seconds):
    deadline = time.monotonic() + seconds
    while processes_of(data_dir):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def fill(path, most):
    """Writes until the disk refuses; returns the bytes written."""
    written = 0
    with open(path, "wb") as out:
        chunk = b"\0" * (1024 * 1024)
        while written < most:
            try:
                out.write(chunk)
                out.flush()
            except OSError:
                break
            written += len(chunk)
    return written


def status_of(server, token, path, method="GET", body=None):
    try:
        return call(server, token, path, method, body)
    except urllib.error.HTTPError as error:
        return error.code, None


def full_phase(server, submitter, work, runs, counts):
    """Fills the disk, submits three runs and asks /healthz; frees the disk,
    submits one and asks again. Nothing may answer other than 201 or 503."""
    fillers = []

    def top_up():
        # Runs that end free their working directories: fill again.
        fillers.append(os.path.join(work, f"filler{len(fillers)}"))
        fill(fillers[-1], 8 * 1024 ** 3)

    # A run that fails for want of space frees its working directory: a
    # check may find room; fill again and ask again, a few times at most.
    for _ in range(5):
        top_up()
        if status_of(server, None, "/healthz")[0] == 503:
            counts["health_503"] += 1
            break
    for _ in range(3):
        top_up()
        status, run = status_of(server, submitter(), "/api/v1/models/fault/runs", "POST",
                                {"inputs": {"seconds": 0.1, "mib": 0}})
        if status == 201:
            counts["accepted"] += 1
            runs[run["id"]] = {"seconds": 0.1, "mib": 0}
        else:
            counts["refused_503" if status == 503 else "other"] += 1
    for filler in fillers:
        os.remove(filler)
    status, run = status_of(server, submitter(), "/api/v1/models/fault/runs", "POST",
                            {"inputs": {"seconds": 0.1, "mib": 0}})
    if status == 201:
        counts["accepted_after_freeing"] += 1
        runs[run["id"]] = {"seconds": 0.1, "mib": 0}
    counts["health_200_after"] += status_of(server, None, "/healthz")[0] == 200


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--database-url")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--runs", type=int, default=8, help="runs submitted per round")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=600, help="time limit of the campaign")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    started = time.monotonic()
    deadline = started + args.seconds

    work = tempfile.mkdtemp(prefix="modelrun-fault-")
    mounted = os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4g", "tmpfs", work]).returncode == 0
    data_dir = os.path.join(work, "data")
    env = dict(os.environ, MODELRUN_DATA_DIR=data_dir, RUST_LOG="warn")
    env.pop("MODELRUN_DATABASE_URL", None)
    env.pop("DATABASE_URL", None)
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    model = os.path.join(work, "model")
    os.makedirs(model)
    with open(os.path.join(model, "model.py"), "w") as out:
        out.write(MODEL)
    with open(os.path.join(model, "modelrun.toml"), "w") as out:
        out.write('name = "fault"\ncommand = ["python3", "model.py"]\n'
                  '[inputs]\ntype = "object"\n'
                  '[inputs.properties.seconds]\ntype = "number"\n'
                  '[inputs.properties.mib]\ntype = "integer"\n')
    setup = lambda *a: subprocess.run([args.bin, *a], env=env, check=True,
                                      capture_output=True, text=True).stdout
    # With Postgres the versions' files still live in the data directory,
    # which an operator makes; `models register` never creates one.
    os.makedirs(data_dir, exist_ok=True)
    setup("migrate")
    setup("models", "register", model)
    # Submits are limited to 30 a minute per user: one user per 25 runs.
    tokens = []
    for i in range((args.rounds * args.runs) // 25 + 2):
        setup("users", "create", "--email", f"fault{i}@example.com")
        tokens.append(setup("tokens", "create", "--user", f"fault{i}@example.com",
                            "--name", "fault").split()[-1])
    submitted = iter(range(10 ** 6))
    submitter = lambda: tokens[next(submitted) // 25]
    token = tokens[0]

    # Beside the mount, not on it: kept when something goes wrong.
    log_path = work + ".server.log"
    log = open(log_path, "w")
    server = Server(args.bin, env, log)
    server.start()
    runs = {}
    outlived = 0
    kills = 0
    disk_full = {"accepted": 0, "refused_503": 0, "other": 0, "health_503": 0,
                 "accepted_after_freeing": 0, "health_200_after": 0}
    try:
        for round_ in range(args.rounds):
            if time.monotonic() > deadline:
                raise SystemExit("the campaign ran out of time")
            for _ in range(args.runs):
                inputs = {"seconds": round(rng.uniform(0.1, 2.5), 2),
                          "mib": rng.choice([0, 0, 16, 96])}
                status, run = call(server, submitter(), "/api/v1/models/fault/runs", "POST",
                                   {"inputs": inputs})
                runs[run["id"]] = inputs
            if mounted and round_ == args.rounds // 2:
                full_phase(server, submitter, work, runs, disk_full)
            time.sleep(rng.uniform(0.3, 3.0))
            server.kill()
            kills += 1
            if not none_left(data_dir, 10):
                outlived += 1
            server.start()

        # Every run ends.
        ends = {}
        while len(ends) < len(runs):
            if time.monotonic() > deadline:
                raise SystemExit(f"{len(runs) - len(ends)} runs still active at the time limit")
            for run_id in runs:
                if run_id in ends:
                    continue
                _, run = call(server, token, f"/api/v1/runs/{run_id}")
                if run["status"] in TERMINAL:
                    ends[run_id] = run
            time.sleep(0.2)
        time.sleep(3)  # two sweeps: the tidying of what ended runs left
        leftovers = [name for name in os.listdir(os.path.join(data_dir, "work"))
                     if name.split(".")[0].isdigit() and int(name.split(".")[0]) in runs]
        left_running = processes_of(data_dir)
    finally:
        server.stop()
        log.close()
        if mounted:
            subprocess.run(["umount", "-l", work])

    counts = {"succeeded": 0, "succeeded after dispatch again": 0,
              "recovered from the journal": 0, "failed while running": 0,
              "failed for want of space": 0,
              "failed otherwise": 0, "outputs missing": 0}
    for run_id, run in ends.items():
        events = run.get("events", [])
        again = any("dispatched again" in (e.get("message") or "") for e in events)
        recovered = any("recovered" in (e.get("data") or {}) for e in events)
        reason = run.get("status_reason") or ""
        if run["status"] == "succeeded":
            counts["succeeded"] += 1
            counts["succeeded after dispatch again"] += again
            counts["recovered from the journal"] += recovered
            sizes = [o["size"] for o in run.get("outputs", []) if o["name"] == "out.bin"]
            if sizes != [runs[run_id]["mib"] * 1024 * 1024 + 4]:
                counts["outputs missing"] += 1
        elif "while the model was running" in reason:
            counts["failed while running"] += 1
        elif "no space left on device" in reason.lower():
            counts["failed for want of space"] += 1
        else:
            counts["failed otherwise"] += 1
            print(f"run {run_id} {run['status']}: {reason}", file=sys.stderr)

    print(f"| store | {'postgres' if args.database_url else 'sqlite'} |")
    print("|---|---|")
    print(f"| SIGKILLs of `modelrun up` | {kills} |")
    print(f"| runs | {len(runs)} |")
    for name, count in counts.items():
        print(f"| {name} | {count} |")
    print(f"| processes that outlived a killed server | {outlived} |")
    print(f"| processes of runs left at the end | {len(left_running)} |")
    print(f"| files of ended runs left in work/ | {len(leftovers)} {' '.join(leftovers)} |")
    if mounted:
        print(f"| disk full: submits accepted / refused with 503 / other | "
              f"{disk_full['accepted']} / {disk_full['refused_503']} / {disk_full['other']} |")
        print(f"| disk full: /healthz 503 | {disk_full['health_503']} |")
        print(f"| disk freed: next submit accepted, /healthz 200 | "
              f"{disk_full['accepted_after_freeing']}, {disk_full['health_200_after']} |")
    print(f"| seconds | {time.monotonic() - started:.0f} |")
    bad = (outlived or left_running or leftovers or counts["outputs missing"]
           or counts["failed otherwise"]
           or (mounted and (disk_full["other"] or disk_full["health_503"] != 1
                            or disk_full["accepted_after_freeing"] != 1
                            or disk_full["health_200_after"] != 1)))
    if bad:
        sys.exit(f"the campaign found a fault (above); the server's log is {log_path}")
    os.remove(log_path)


if __name__ == "__main__":
    main()
