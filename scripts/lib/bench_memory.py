"""Submits runs to a modelrun server in batches and samples its memory.

Used by scripts/bench-memory, which starts the server. Each batch is
submitted at once (round robin over the tokens, one user each, so that the
per-user submit limit does not pace it), then waits until every run of it
has ended. After every `--sample` runs the server's VmRSS is read from
/proc/<pid>/status. The curve goes to a CSV; a Markdown table to stdout.
"""

import argparse
import concurrent.futures
import itertools
import json
import sys
import time
import urllib.error
import urllib.request

TERMINAL = {"succeeded", "failed", "cancelled"}


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def call(url, token, method="GET", body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def submit(base, token):
    """Submits one run; over the submit limit, waits as told and tries again."""
    while True:
        try:
            return call(f"{base}/api/v1/models/noop/runs", token, "POST", {"inputs": {}})["id"]
        except urllib.error.HTTPError as error:
            if error.code != 429:
                raise
            time.sleep(float(error.headers.get("Retry-After", "1")))


def wait_for(base, token, ids, deadline):
    """Waits until every run of `ids` has ended; returns how many failed."""
    waiting = set(ids)
    failed = 0
    while waiting:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(waiting)} runs still active at the time limit")
        page = call(f"{base}/api/v1/runs?limit=200", token)
        for run in page["runs"]:
            if run["id"] in waiting and run["status"] in TERMINAL:
                waiting.discard(run["id"])
                failed += run["status"] != "succeeded"
        if waiting:
            time.sleep(0.05)
    return failed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--tokens", required=True)
    parser.add_argument("--runs", type=int, default=10000)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--sample", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=3600)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    if not 1 <= args.batch <= 200:
        sys.exit("--batch must be from 1 to 200: a batch is checked in one page of the runs list")
    with open(args.tokens) as lines:
        tokens = [line.strip() for line in lines if line.strip()]
    rotation = itertools.cycle(tokens)
    start = time.monotonic()
    deadline = start + args.seconds
    samples = [(0, 0.0, rss_kib(args.pid))]
    done = failed = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        while done < args.runs and time.monotonic() < deadline:
            size = min(args.batch, args.runs - done)
            batch = [next(rotation) for _ in range(size)]
            ids = list(pool.map(lambda token: submit(args.url, token), batch))
            failed += wait_for(args.url, tokens[0], ids, deadline)
            before = done
            done += size
            if done // args.sample > before // args.sample or done == args.runs:
                samples.append((done, time.monotonic() - start, rss_kib(args.pid)))
                print(f"{done} runs, {samples[-1][2] / 1024:.1f} MiB", file=sys.stderr)
    with open(args.out, "w") as out:
        out.write("runs,seconds,rss_kib\n")
        for runs, seconds, kib in samples:
            out.write(f"{runs},{seconds:.1f},{kib}\n")
    print(f"{done} runs in {time.monotonic() - start:.0f} s, {failed} not succeeded; curve in {args.out}")
    print()
    print("| runs | seconds | RSS (MiB) |")
    print("|---|---|---|")
    for runs, seconds, kib in samples:
        print(f"| {runs} | {seconds:.0f} | {kib / 1024:.1f} |")
    if failed:
        sys.exit(f"{failed} runs did not succeed")


if __name__ == "__main__":
    main()
