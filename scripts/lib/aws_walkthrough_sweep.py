"""The walkthrough's sweep step (scripts/lib/aws_walkthrough.py): a sweep
of two runs submitted through the API becomes one Batch array job; each
child runs `modelrun exec` with the array's environment and its own
AWS_BATCH_JOB_ARRAY_INDEX, as Batch starts it, and its RUNNING and
SUCCEEDED events reach its own run through the worker function."""

import json

from aws_walkthrough import MODEL, event, run_exec, say, step, wait_for

GROWTH = [0.02, 0.06]


def sweep(walk):
    """Step 8. `walk` is the Walkthrough: its API, AWS clients, the
    version's tag and the worker function's runtime."""
    step(8, "A sweep: one Batch array job, a child per run")
    created = walk.api.json(f"/api/v1/models/{MODEL}/sweeps", "POST",
                            {"version": walk.tag, "inputs": {"horizon_months": 12},
                             "vary": {"growth_rate": GROWTH}}, expect=(201,))
    sweep_id = created["id"]
    say(f"POST /api/v1/models/{MODEL}/sweeps, varying growth_rate over {GROWTH} "
        f"→ sweep {sweep_id}, {created['run_count']} runs")
    runs = [run["id"] for run in created["runs"]]

    def dispatched():
        found = [walk.api.json(f"/api/v1/runs/{run}") for run in runs]
        for run in found:
            if run["status"] in ("failed", "cancelled"):
                raise SystemExit(f"run {run['id']} ended {run['status']}: {run['status_reason']}")
        return found if all(run.get("job_id") for run in found) else None

    children = [run["job_id"] for run in wait_for(f"sweep {sweep_id} to reach Batch", 90,
                                                  dispatched)]
    batch = walk.client("batch")
    array = batch.describe_jobs(jobs=[children[0].rsplit(":", 1)[0]])["jobs"][0]
    say(f"one array job {array['jobName']} of size {array['arrayProperties']['size']}; "
        f"the runs' jobs are its children {', '.join(children)}")
    described = {job["jobId"]: job for job in batch.describe_jobs(jobs=children)["jobs"]}
    listed = next(pair["value"] for pair in described[children[0]]["container"]["environment"]
                  if pair["name"] == "MODELRUN_SWEEP_RUNS")
    say(f"every child gets MODELRUN_SWEEP_RUNS={listed} and one job token; "
        "Batch gives each its AWS_BATCH_JOB_ARRAY_INDEX")
    for index, child_id in enumerate(children):
        child = described[child_id]
        at_ms = child["createdAt"] + 1000
        send(walk, event(child, walk.definition, "RUNNING", at_ms), child_id)
        code, lines = run_exec(walk.args, child, walk.work,
                               {"AWS_BATCH_JOB_ARRAY_INDEX": str(index)})
        if code != 0:
            raise SystemExit(f"child {index}: modelrun exec exited {code}: {lines[-3:]}")
        said = next((line for line in lines if "growth" in line), lines[-1])
        say(f"  child {index} | {said.strip()}")
        ended = {"exitCode": 0}
        send(walk, event(child, walk.definition, "SUCCEEDED", at_ms + 2000, ended), child_id)

    def ended():
        current = walk.api.json(f"/api/v1/sweeps/{sweep_id}")
        return current if current["status"] not in ("waiting", "running") else None

    final = wait_for(f"sweep {sweep_id} to end", 30, ended, every=0.5)
    if final["status"] != "succeeded":
        raise SystemExit(f"sweep {sweep_id} ended {final['status']}: {final['tally']}")
    for run in final["runs"]:
        outputs = walk.api.json(f"/api/v1/runs/{run['id']}").get("outputs") or []
        say(f"run {run['id']} (growth_rate {run['values']['growth_rate']}): {run['status']}, "
            f"outputs {', '.join(output['name'] for output in outputs)}")
    say(f"GET /api/v1/sweeps/{sweep_id} → {final['status']}")
    return sweep_id


def send(walk, body, child_id):
    """Invokes the worker function with a child's event, as EventBridge does."""
    ok, answer = walk.runtime.invoke(body)
    if not ok:
        raise SystemExit(f"the worker function failed on {child_id}'s event: {answer}")
    status = body["detail"]["status"]
    say(f"  {status:<9} of {child_id} → {json.dumps(answer, separators=(',', ':'))}")
