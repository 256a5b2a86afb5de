"""The AWS path of modelrun on one machine, step by step, for a person to
watch. Used by scripts/aws-walkthrough, which makes sure of moto and
Postgres, builds the binary and makes the database.

1. moto server plays AWS on 127.0.0.1 (or the one AWS_WALKTHROUGH_MOTO_URL
   names), with modelrun's corrections to its answers (testkit/moto).
2. The AWS world `modelrun up --executor batch` needs is created in it:
   bucket, roles, VPC, Fargate compute environment, job queue, log group,
   SES identity, and the model's ECR repository.
3. `modelrun up` starts on AWS backends, and beside it the worker Lambda
   function (`modelrun lambda --function worker`) under a Lambda Runtime
   API served here: on AWS, EventBridge delivers Batch events to that
   function; `up` itself only asks Batch (DescribeJobs) in its sweep.
4. The build's work is done by hand: the example model's manifest is
   uploaded and an image manifest is pushed to ECR; `POST
   /api/v1/images/sync` makes it a version at once.
5. A run is submitted through the API and dispatched to Batch.
6. moto does not run jobs: it ends each job SUCCEEDED the moment it is
   submitted. So the job's life is told to modelrun with real "Batch Job
   State Change" events, one per state, each invoking the worker function
   as EventBridge does. Between RUNNING and SUCCEEDED, the container's work
   is done here: `modelrun exec -- python3 forecast.py` with the job's own
   environment (its job token), which stores the outputs in S3 through the
   job API, and the model's log goes to the job's CloudWatch stream.
7. The run's outputs, the presigned download URL, and the file it serves.
8. A sweep of two runs: one array job, each child's `modelrun exec` with
   its array index, its events, and the sweep ending succeeded
   (scripts/lib/aws_walkthrough_sweep.py).

Every wait is bounded in time. Every process started here is stopped on
exit; with --keep, everything stays up until Ctrl-C.
"""

import argparse
import datetime
import http.server
import json
import os
import queue
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import boto3
import botocore.config

REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's account
BUCKET = "modelrun-artifacts"
QUEUE = "modelrun"
LOG_GROUP = "/modelrun/runs"
PREFIX = "modelrun/"
MODEL = "forecast"
ADMIN = "admin@example.com"
FUNCTION = "modelrun-worker"
# What Batch reports after SUBMITTED, in order, up to the end.
STATES = ["PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED"]

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def step(number, text):
    print(f"\n== {number}. {text}", flush=True)


def say(text=""):
    print(f"   {text}", flush=True)


def wait_for(what, seconds, check, every=0.2):
    """`check()`'s first truthy answer within `seconds`, or exit naming `what`."""
    deadline = time.monotonic() + seconds
    while True:
        answer = check()
        if answer:
            return answer
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up waiting {seconds} s for {what}")
        time.sleep(every)


def port_is_free(port):
    with socket.socket() as s:
        # As servers bind: a connection of a moment ago (TIME_WAIT) is no user.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def answers(url):
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError):
        return False


class Processes:
    """The processes this walkthrough started, stopped in reverse order."""

    def __init__(self):
        self.started = []

    def start(self, name, args, env, log_path, cwd=None):
        log = open(log_path, "wb")
        process = subprocess.Popen(args, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                   stdout=log, stderr=subprocess.STDOUT)
        self.started.append((name, process, log))
        return process

    def stop_all(self):
        for name, process, log in reversed(self.started):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=5)
            log.close()
        self.started.clear()

    def check_alive(self):
        for name, process, _ in self.started:
            if process.poll() is not None:
                raise SystemExit(f"{name} stopped (exit {process.returncode}): see its log")


# --- The Lambda Runtime API, as Lambda serves it to a function's process ---


class LambdaRuntime:
    """One function's Runtime API on 127.0.0.1: `next` hands the process the
    queued event, `response` and `error` take its answer. Invocations come
    from this script, or from anyone through Lambda's own Invoke path
    (`POST /2015-03-31/functions/<name>/invocations`), so that
    `aws lambda invoke --endpoint-url` and curl work too while it is up."""

    def __init__(self, port):
        self.events = queue.Queue()
        self.waiting = {}
        self.lock = threading.Lock()
        self.ready = threading.Event()
        self.init_error = None
        runtime = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, status, body=b"", headers=()):
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if self.path != "/2018-06-01/runtime/invocation/next":
                    return self.reply(404)
                runtime.ready.set()
                while True:
                    try:
                        request_id, event, deadline_ms = runtime.events.get(timeout=1)
                        break
                    except queue.Empty:
                        if runtime.stopping:
                            return self.reply(410)
                self.reply(200, json.dumps(event).encode(), [
                    ("Content-Type", "application/json"),
                    ("Lambda-Runtime-Aws-Request-Id", request_id),
                    ("Lambda-Runtime-Deadline-Ms", str(deadline_ms)),
                    ("Lambda-Runtime-Invoked-Function-Arn",
                     f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{FUNCTION}"),
                    ("Lambda-Runtime-Trace-Id", "Root=1-5e9f0c65-1de4d666d4dd26aced652b6c"),
                ])

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = self.path.strip("/").split("/")
                if parts[:3] == ["2018-06-01", "runtime", "invocation"] and len(parts) == 5:
                    runtime.answer(parts[3], parts[4] == "response", body)
                    return self.reply(202)
                if self.path == "/2018-06-01/runtime/init/error":
                    runtime.init_error = body.decode(errors="replace")
                    return self.reply(202)
                if parts[:2] == ["2015-03-31", "functions"] and parts[-1] == "invocations":
                    ok, answer = runtime.invoke(json.loads(body or b"{}"))
                    return self.reply(200 if ok else 502, json.dumps(answer).encode(),
                                      [("Content-Type", "application/json")])
                return self.reply(404)

        self.stopping = False
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        # A function gone mid-request (at the end) is no news.
        self.server.handle_error = lambda request, address: None
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.address = f"127.0.0.1:{port}"

    def answer(self, request_id, ok, body):
        with self.lock:
            reply = self.waiting.pop(request_id, None)
        if reply is not None:
            try:
                reply.put((ok, json.loads(body)))
            except ValueError:
                reply.put((ok, body.decode(errors="replace")))

    def invoke(self, event, budget=60):
        """The function's answer to `event`: (True, answer) or (False, error)."""
        if self.init_error:
            return False, f"the function failed at init: {self.init_error}"
        request_id = str(uuid.uuid4())
        reply = queue.Queue(1)
        with self.lock:
            self.waiting[request_id] = reply
        deadline_ms = int((time.time() + budget) * 1000)
        self.events.put((request_id, event, deadline_ms))
        try:
            return reply.get(timeout=budget + 30)
        except queue.Empty:
            return False, "the function did not answer in time"

    def stop(self):
        self.stopping = True
        self.server.shutdown()
        self.server.server_close()


# --- AWS, emulated ---


def clients(moto_url):
    session = boto3.session.Session(aws_access_key_id="testing",
                                    aws_secret_access_key="testing", region_name=REGION)
    config = botocore.config.Config(retries={"max_attempts": 1},
                                    s3={"addressing_style": "path"})
    return lambda service: session.client(service, endpoint_url=moto_url, config=config)


def start_moto(processes, port, work):
    binary = os.environ.get("MODELRUN_MOTO_SERVER") or os.path.join(ROOT, ".venv/bin/moto_server")
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "testkit/moto"))
    processes.start("moto server", [binary, "-H", "127.0.0.1", "-p", str(port)], env,
                    os.path.join(work, "moto.log"), cwd=work)
    url = f"http://127.0.0.1:{port}"
    wait_for("moto server", 30, lambda: (processes.check_alive(), answers(url + "/moto-api/"))[1])
    return url


def configure_moto(url):
    # As the tests do: Batch and Lambda run nothing in Docker. moto's Batch
    # then marks every job SUCCEEDED the moment it is submitted.
    request = urllib.request.Request(
        url + "/moto-api/config", method="POST",
        data=json.dumps({"batch": {"use_docker": False},
                         "lambda": {"use_docker": False}}).encode(),
        headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).close()


def role(iam, name):
    try:
        return iam.create_role(RoleName=name, AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        return iam.get_role(RoleName=name)["Role"]["Arn"]


def create_world(client):
    """What `modelrun up --executor batch` needs, created if missing: each
    call is safe on a moto that has it already."""
    s3 = client("s3")
    try:
        s3.create_bucket(Bucket=BUCKET,
                         CreateBucketConfiguration={"LocationConstraint": REGION})
        say(f"S3 bucket            {BUCKET}")
    except (s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists):
        say(f"S3 bucket            {BUCKET} (there already)")
    iam = client("iam")
    roles = {name: role(iam, name) for name in
             ["modelrun-batch-service", "modelrun-job-execution", "modelrun-job"]}
    for arn in roles.values():
        say(f"IAM role             {arn}")

    batch = client("batch")
    found = batch.describe_compute_environments(computeEnvironments=["modelrun-fargate"])
    if found["computeEnvironments"]:
        environment = found["computeEnvironments"][0]["computeEnvironmentArn"]
    else:
        ec2 = client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
        group = ec2.create_security_group(GroupName="modelrun-jobs",
                                          Description="Batch jobs", VpcId=vpc)["GroupId"]
        say(f"VPC, subnet, group   {vpc}, {subnet}, {group}")
        environment = batch.create_compute_environment(
            computeEnvironmentName="modelrun-fargate", type="MANAGED", state="ENABLED",
            serviceRole=roles["modelrun-batch-service"],
            computeResources={"type": "FARGATE", "maxvCpus": 16, "subnets": [subnet],
                              "securityGroupIds": [group]},
        )["computeEnvironmentArn"]
    say(f"Batch compute env    {environment}")
    found = batch.describe_job_queues(jobQueues=[QUEUE])["jobQueues"]
    queue_arn = found[0]["jobQueueArn"] if found else batch.create_job_queue(
        jobQueueName=QUEUE, state="ENABLED", priority=1,
        computeEnvironmentOrder=[{"order": 1, "computeEnvironment": environment}],
    )["jobQueueArn"]
    say(f"Batch job queue      {queue_arn}")

    logs = client("logs")
    try:
        logs.create_log_group(logGroupName=LOG_GROUP)
    except logs.exceptions.ResourceAlreadyExistsException:
        pass
    say(f"CloudWatch log group {LOG_GROUP}")
    ses = client("sesv2")
    try:
        ses.create_email_identity(EmailIdentity="example.com")
    except ses.exceptions.AlreadyExistsException:
        pass
    say("SES identity         example.com")
    ecr = client("ecr")
    try:
        ecr.create_repository(repositoryName=PREFIX + MODEL)
    except ecr.exceptions.RepositoryAlreadyExistsException:
        pass
    say(f"ECR repository       {PREFIX}{MODEL}")
    return roles


def push_image(client, tag):
    """What the model's build (buildspec.yml) leaves behind: the manifest in
    S3 first, then the image in ECR, tagged with the git sha."""
    with open(os.path.join(ROOT, "examples/models", MODEL, "modelrun.toml"), "rb") as f:
        manifest = f.read()
    key = f"manifests/{MODEL}/{tag}/modelrun.toml"
    client("s3").put_object(Bucket=BUCKET, Key=key, Body=manifest)
    say(f"uploaded s3://{BUCKET}/{key}")
    ecr = client("ecr")
    image = {"schemaVersion": 2,
             "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
             "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                        "size": 1, "digest": "sha256:" + "c" * 64},
             "layers": []}
    try:
        pushed = ecr.put_image(repositoryName=PREFIX + MODEL, imageTag=tag,
                               imageManifest=json.dumps(image))["image"]
        digest = pushed["imageId"]["imageDigest"]
    except ecr.exceptions.ImageAlreadyExistsException:
        digest = ecr.describe_images(repositoryName=PREFIX + MODEL,
                                     imageIds=[{"imageTag": tag}])["imageDetails"][0]["imageDigest"]
    say(f"pushed an image manifest to ECR: {PREFIX}{MODEL}:{tag} ({digest[:19]}…)")


# --- modelrun ---


class Api:
    def __init__(self, base, token=None):
        self.base, self.token = base, token

    def call(self, path, method="GET", body=None, follow=True):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        opener = urllib.request.build_opener() if follow else urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(request, timeout=30) as response:
                text = response.read()
                return response.status, dict(response.headers), text
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def json(self, path, method="GET", body=None, expect=(200,)):
        status, _, text = self.call(path, method, body)
        if status not in expect:
            raise SystemExit(f"{method} {path}: {status} {text.decode(errors='replace')}")
        return json.loads(text) if text else None


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def modelrun_env(args):
    """The environment both processes get: fake credentials for moto, and
    nothing of the person's own AWS settings."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("AWS_", "MODELRUN_")) and key != "DATABASE_URL"}
    env.update({
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "MODELRUN_DATABASE_URL": args.database_url,
        "MODELRUN_DATA_DIR": args.data_dir,
    })
    return env


def up_flags(roles, moto_url):
    return [
        "--executor", "batch", "--batch-job-queue", QUEUE,
        "--batch-execution-role-arn", roles["modelrun-job-execution"],
        "--batch-job-role-arn", roles["modelrun-job"],
        "--batch-log-group", LOG_GROUP,
        "--blob-store", "s3", "--s3-bucket", BUCKET, "--s3-force-path-style",
        "--mailer", "ses", "--ses-from", "modelrun <modelrun@example.com>",
        "--ecr-repository-prefix", PREFIX,
        "--aws-endpoint-url", moto_url, "--aws-region", REGION,
    ]


def as_variables(flags):
    """`--batch-job-queue x` as MODELRUN_BATCH_JOB_QUEUE=x (a switch as `true`)."""
    variables, i = {}, 0
    while i < len(flags):
        name = "MODELRUN_" + flags[i][2:].upper().replace("-", "_")
        if i + 1 < len(flags) and not flags[i + 1].startswith("--"):
            variables[name], i = flags[i + 1], i + 2
        else:
            variables[name], i = "true", i + 1
    return variables


def shell_line(words):
    return " ".join(shlex.quote(w) for w in words)


def event(job, definition, status, at_ms, extra_container=None, attempts=(), reason=None):
    """A "Batch Job State Change" event as EventBridge delivers it: its
    detail is the job as DescribeJobs describes it, at this status, with
    the container its job definition gives it."""
    container = {key: value for key, value in definition.get("containerProperties", {}).items()
                 if key in ("image", "command", "jobRoleArn", "executionRoleArn",
                            "resourceRequirements", "logConfiguration",
                            "networkConfiguration", "fargatePlatformConfiguration")}
    # Batch's events carry the container's environment too; it holds the
    # job token, which has no business in files and terminals.
    container.update({"volumes": [], "environment": [], "mountPoints": [], "ulimits": [],
                      "secrets": []})
    container.update(extra_container or {})
    detail = {
        "jobArn": job["jobArn"], "jobName": job["jobName"], "jobId": job["jobId"],
        "jobQueue": job["jobQueue"], "status": status, "attempts": list(attempts),
        "createdAt": job["createdAt"],
        "retryStrategy": definition.get("retryStrategy", job.get("retryStrategy", {})),
        "dependsOn": [], "jobDefinition": job["jobDefinition"], "parameters": {},
        "container": container, "tags": job.get("tags", {}), "propagateTags": True,
        "platformCapabilities": definition.get("platformCapabilities", ["FARGATE"]),
    }
    if reason:
        detail["statusReason"] = reason
    return {
        "version": "0", "id": str(uuid.uuid4()), "detail-type": "Batch Job State Change",
        "source": "aws.batch", "account": ACCOUNT,
        "time": datetime.datetime.fromtimestamp(at_ms / 1000, datetime.timezone.utc)
        .strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION, "resources": [job["jobArn"]], "detail": detail,
    }


def run_exec(args, job, work, batch_sets=None):
    """The container's work: `modelrun exec` with the environment Batch
    gives the job (its run, the job API's address, its job token), and
    what Batch sets itself (`batch_sets`: a child's array index)."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    for pair in job["container"].get("environment", []):
        env[pair["name"]] = pair["value"]
    env.update(batch_sets or {})
    model_dir = os.path.join(ROOT, "examples/models", MODEL)
    # As the image runs it: a copy of the model, the wrapper in front.
    copy = os.path.join(work, "container")
    os.makedirs(copy, exist_ok=True)
    for name in os.listdir(model_dir):
        source = os.path.join(model_dir, name)
        if os.path.isfile(source):
            with open(source, "rb") as f, open(os.path.join(copy, name), "wb") as g:
                g.write(f.read())
    finished = subprocess.run([args.bin, "exec", "--", "python3", "forecast.py"], env=env,
                              cwd=copy, capture_output=True, timeout=120)
    lines = (finished.stdout + finished.stderr).decode(errors="replace").splitlines()
    return finished.returncode, lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", required=True, help="the modelrun binary")
    parser.add_argument("--database-url", required=True, help="an empty Postgres database")
    parser.add_argument("--port", type=int, default=int(os.environ.get("AWS_WALKTHROUGH_PORT", 7900)),
                        help="first of three ports on 127.0.0.1: moto, modelrun, the Lambda Runtime API")
    parser.add_argument("--moto-url", default=os.environ.get("AWS_WALKTHROUGH_MOTO_URL"),
                        help="a running moto server to use instead of starting one")
    parser.add_argument("--keep", action="store_true",
                        help="stay up at the end, to open the web UI, until Ctrl-C")
    args = parser.parse_args()
    started = time.monotonic()
    work = tempfile.mkdtemp(prefix="modelrun-aws-walkthrough.")
    args.data_dir = os.path.join(work, "data")
    processes = Processes()
    runtimes = []

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    walked = False
    try:
        Walkthrough(args, work, processes, runtimes).all(started)
        walked = True
        if args.keep:
            say("Everything stays up until Ctrl-C.")
            while True:
                processes.check_alive()
                time.sleep(1)
    except KeyboardInterrupt:
        print("\nstopping", flush=True)
        if not walked:
            raise SystemExit(130)
    finally:
        for runtime in runtimes:
            runtime.stop()
        processes.stop_all()
        if walked:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"(the logs and data are in {work})", flush=True)


class Walkthrough:
    """The steps, in order; each leaves what the next needs on `self`."""

    def __init__(self, args, work, processes, runtimes):
        self.args, self.work, self.processes, self.runtimes = args, work, processes, runtimes
        self.moto_port, self.app_port, self.runtime_port = args.port, args.port + 1, args.port + 2
        self.base = f"http://127.0.0.1:{self.app_port}"
        self.password = secrets.token_urlsafe(12)
        self.events_dir = os.path.join(work, "events")

    def all(self, started):
        self.check_ports()
        self.aws()
        self.modelrun()
        self.version()
        self.submit()
        self.events()
        self.outputs()
        from aws_walkthrough_sweep import sweep
        sweep_id = sweep(self)
        print(f"\nDone in {time.monotonic() - started:.0f} s: run {self.run_id} went "
              "submitted → pending → runnable → starting → running → succeeded on events alone, "
              f"and sweep {sweep_id} ran as one array job.",
              flush=True)
        if self.args.keep:
            self.how_to_look()

    def check_ports(self):
        ports = [self.app_port, self.runtime_port] + ([] if self.args.moto_url else [self.moto_port])
        busy = [p for p in ports if not port_is_free(p)]
        if busy:
            raise SystemExit(f"port(s) {busy} on 127.0.0.1 are taken: stop what uses them, "
                             "or give another --port (AWS_WALKTHROUGH_PORT)")

    def aws(self):
        step(1, "AWS, emulated: moto server")
        if self.args.moto_url:
            self.moto_url = self.args.moto_url.rstrip("/")
            wait_for(f"moto at {self.moto_url}", 10, lambda: answers(self.moto_url + "/moto-api/"))
            say(f"using the moto server at {self.moto_url}")
        else:
            self.moto_url = start_moto(self.processes, self.moto_port, self.work)
            say(f"moto server on {self.moto_url} (log: {self.work}/moto.log)")
        configure_moto(self.moto_url)
        say("Batch runs no container on moto: each job is marked SUCCEEDED when it is submitted.")
        self.client = clients(self.moto_url)
        step(2, "The AWS world modelrun needs")
        self.roles = create_world(self.client)

    def modelrun(self):
        step(3, "modelrun up on AWS backends, and the worker Lambda function beside it")
        self.env = modelrun_env(self.args)
        flags = up_flags(self.roles, self.moto_url)
        # moto ends every job at once; the sweep (DescribeJobs, every 30 s by
        # default) would read that and end the run before any event. Here the
        # events tell the job's life, so the sweep waits an hour.
        up = [self.args.bin, "up", "--bind", f"127.0.0.1:{self.app_port}", *flags,
              "--sweep-interval-secs", "3600"]
        say("AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \\")
        say(f"MODELRUN_DATABASE_URL=postgres://… MODELRUN_ADMIN_EMAIL={ADMIN} "
            "MODELRUN_ADMIN_PASSWORD=… \\")
        say(shell_line(["modelrun"] + up[1:]))
        self.processes.start("modelrun up", up,
                             dict(self.env, MODELRUN_ADMIN_EMAIL=ADMIN,
                                  MODELRUN_ADMIN_PASSWORD=self.password),
                             os.path.join(self.work, "modelrun-up.log"))
        wait_for("modelrun up to answer /healthz", 90,
                 lambda: (self.processes.check_alive(), answers(self.base + "/healthz"))[1])
        say(f"modelrun is up at {self.base} (log: {self.work}/modelrun-up.log)")
        self.function(flags)
        token = subprocess.run(
            [self.args.bin, "tokens", "create", "--user", ADMIN, "--name", "aws-walkthrough",
             "--role", "admin"],
            env=self.env, capture_output=True, text=True, timeout=60, check=True,
        ).stdout.strip().splitlines()[-1]
        self.api = Api(self.base, token)
        say(f"an API token: modelrun tokens create --user {ADMIN} --name aws-walkthrough --role admin")

    def function(self, flags):
        """The worker Lambda function, configured as a deployment configures
        it: the same settings, as variables."""
        self.runtime = LambdaRuntime(self.runtime_port)
        self.runtimes.append(self.runtime)
        env = dict(self.env, **as_variables(flags),
                   MODELRUN_PUBLIC_URL=self.base,
                   AWS_LAMBDA_RUNTIME_API=self.runtime.address,
                   AWS_LAMBDA_FUNCTION_NAME=FUNCTION,
                   AWS_LAMBDA_FUNCTION_MEMORY_SIZE="512",
                   AWS_LAMBDA_FUNCTION_VERSION="$LATEST",
                   AWS_LAMBDA_LOG_GROUP_NAME=f"/aws/lambda/{FUNCTION}",
                   AWS_LAMBDA_LOG_STREAM_NAME="walkthrough")
        self.processes.start("the worker function",
                             [self.args.bin, "lambda", "--function", "worker"], env,
                             os.path.join(self.work, "worker-function.log"))

        def ready():
            self.processes.check_alive()
            if self.runtime.init_error:
                raise SystemExit(f"the worker function failed at init: {self.runtime.init_error}")
            return self.runtime.ready.is_set()

        wait_for("the worker function to ask for its first event", 60, ready)
        say(f"the worker function waits for events at {self.runtime.address} "
            f"(log: {self.work}/worker-function.log)")

    def version(self):
        step(4, "A version from an image in ECR")
        self.tag = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short=12", "HEAD"],
                                  capture_output=True, text=True).stdout.strip() or "a1b2c3d4e5f6"
        push_image(self.client, self.tag)
        say("The worker's sweep syncs images at start and every 5 minutes; a build asks at once:")
        say("POST /api/v1/images/sync")
        self.api.json("/api/v1/images/sync", "POST", expect=(202,))

        def registered():
            return any(model["name"] == MODEL and
                       any(v["label"] == self.tag for v in model["versions"])
                       for model in self.api.json("/api/v1/models")["models"])

        wait_for(f"version {self.tag} of {MODEL}", 60, registered)
        say(f"version {self.tag} of {MODEL} is registered; its Batch job definition follows")

    def submit(self):
        step(5, "A run, submitted through the API")
        self.ses = self.client("ses")
        self.sent_before = self.ses.get_send_quota().get("SentLast24Hours", 0)
        run = self.api.json(f"/api/v1/models/{MODEL}/runs", "POST",
                            {"inputs": {"growth_rate": 0.05, "horizon_months": 12},
                             "version": self.tag}, expect=(201,))
        self.run_id = run["id"]
        say(f"POST /api/v1/models/{MODEL}/runs → run {self.run_id}, {run['status']}")

        def dispatched():
            current = self.api.json(f"/api/v1/runs/{self.run_id}")
            if current["status"] in ("failed", "cancelled"):
                raise SystemExit(f"run {self.run_id} ended {current['status']}: "
                                 f"{current['status_reason']}")
            return current.get("job_id")

        job_id = wait_for(f"run {self.run_id} to be dispatched to Batch", 90, dispatched)
        batch = self.client("batch")
        self.job = batch.describe_jobs(jobs=[job_id])["jobs"][0]
        self.definition = batch.describe_job_definitions(
            jobDefinitions=[self.job["jobDefinition"]])["jobDefinitions"][0]
        say(f"dispatched: Batch job {self.job['jobName']} ({job_id})")
        say(f"{self.status()[1]}; moto already says the job is {self.job['status']}")

    def status(self):
        run = self.api.json(f"/api/v1/runs/{self.run_id}")
        reason = f" ({run['status_reason']})" if run.get("status_reason") else ""
        return run["status"], f"run {self.run_id} is {run['status']}{reason}", run

    def send(self, status, container=None, attempts=(), reason=None):
        """Invokes the worker function with the event of the job entering `status`."""
        number = len(os.listdir(self.events_dir)) + 1
        at_ms = self.job["createdAt"] + 1000 * number
        body = event(self.job, self.definition, status, at_ms, container, attempts, reason)
        path = os.path.join(self.events_dir, f"{number}-{status.lower()}.json")
        with open(path, "w") as f:
            json.dump(body, f, indent=2)
        if number == 1:
            say(f"the first, in full ({path}):")
            for line in json.dumps(body, indent=2).splitlines():
                say("  " + line)
        ok, answer = self.runtime.invoke(body)
        if not ok:
            raise SystemExit(f"the worker function failed on the {status} event: {answer}")
        say(f"{status:<9} → the function answers {json.dumps(answer, separators=(',', ':'))}")
        say(f"{'':<9}   {self.status()[1]}")
        return at_ms

    def events(self):
        step(6, "The job's life, told by \"Batch Job State Change\" events")
        say("Each event invokes the worker function, as EventBridge does on AWS.")
        os.makedirs(self.events_dir)
        stream = f"modelrun/default/{self.job['jobId']}"
        for status in ["SUBMITTED"] + STATES[:3]:
            self.send(status)
        started_at = self.send("RUNNING", {"logStreamName": stream})
        self.container(stream)
        ended = {"exitCode": 0, "logStreamName": stream}
        exited = "Essential container in task exited"
        attempt = {"container": ended, "startedAt": started_at,
                   "stoppedAt": started_at + 2000, "statusReason": exited}
        self.send("SUCCEEDED", ended, [attempt], exited)
        if self.status()[0] != "succeeded":
            raise SystemExit(f"{self.status()[1]}, not succeeded")
        say("A late or repeated event changes nothing:")
        history = len(self.status()[2]["events"])
        self.send("RUNNING", {"logStreamName": stream})
        if len(self.status()[2]["events"]) != history:
            raise SystemExit("a late RUNNING event changed the run's history")
        say(f"{'':<9}   and its history has {history} entries, as before")

    def container(self, stream):
        """What the job's container does, here: the model behind `modelrun
        exec`, its log in the job's CloudWatch stream."""
        say("")
        say("In the container: modelrun exec -- python3 forecast.py, with the job's environment")
        code, lines = run_exec(self.args, self.job, self.work)
        for line in lines[-6:]:
            say("  | " + line)
        if code != 0:
            raise SystemExit(f"modelrun exec exited {code}")
        logs = self.client("logs")
        try:
            logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName=stream)
        except logs.exceptions.ResourceAlreadyExistsException:
            pass
        now = int(time.time() * 1000)
        logs.put_log_events(logGroupName=LOG_GROUP, logStreamName=stream,
                            logEvents=[{"timestamp": now, "message": line} for line in lines])
        say(f"its log is in CloudWatch Logs: {LOG_GROUP} {stream}")
        say("")

    def outputs(self):
        step(7, "The outputs, and a download")
        run = self.status()[2]
        for output in run.get("outputs") or []:
            # moto keeps no checksum of an object uploaded through a presigned
            # PUT (it wants the SDK's own x-amz-sdk-checksum-algorithm header).
            checksum = f"{output['sha256'][:16]}…" if output["sha256"] else "none on moto"
            say(f"{output['name']:<16} {output['size']:>6} bytes  {output['content_type']:<18} "
                f"sha256 {checksum}")
        say("history:")
        for entry in run.get("events") or []:
            if entry.get("status"):
                say(f"  {entry['at'][11:19]}  {entry['status']:<11} {entry['message']}")
        path = f"/api/v1/runs/{self.run_id}/outputs/forecast.csv"
        status, headers, _ = self.api.call(path, follow=False)
        location = headers.get("Location") or headers.get("location")
        if status not in (302, 303, 307) or not location:
            raise SystemExit(f"the download answered {status}, not a redirect to S3")
        say(f"GET {path} → {status}, a presigned S3 URL:")
        say(location)
        with urllib.request.urlopen(location, timeout=30) as response:
            body = response.read().decode()
            disposition = response.headers.get("Content-Disposition")
        say(f"it serves {len(body)} bytes, {disposition}:")
        for line in body.splitlines()[:3]:
            say("  | " + line)
        wait_for("the run's email to go out through SES", 30,
                 lambda: self.ses.get_send_quota().get("SentLast24Hours", 0) > self.sent_before,
                 every=0.5)
        say(f"the email to {ADMIN} that the run succeeded went out through SES")

    def how_to_look(self):
        say("")
        say(f"Open {self.base}/runs/{self.run_id} and sign in as {ADMIN} "
            f"with the password {self.password}")
        say(f"API token: {self.api.token}")
        say(f"Send the worker function an event: curl -d @{self.events_dir}/1-submitted.json "
            f"http://{self.runtime.address}/2015-03-31/functions/{FUNCTION}/invocations")
        say(f"Ask moto: AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing aws "
            f"--endpoint-url {self.moto_url} --region {REGION} batch list-jobs "
            f"--job-queue {QUEUE} --job-status SUCCEEDED")


if __name__ == "__main__":
    main()
