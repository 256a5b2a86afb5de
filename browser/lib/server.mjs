// A fresh modelrun for the browser: `modelrun up` on a free port of
// 127.0.0.1, with its own data directory, a known administrator, the example
// forecast, a slow model to cancel, a model whose required choice has no
// default, and one that reports its progress.

import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

export const ADMIN = { email: "admin@localhost", password: "browser-test-password" };

const root = path.resolve(import.meta.dirname, "..", "..");
const binary = process.env.MODELRUN_BIN ?? path.join(root, "target", "debug", "modelrun");

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const SLOW = `name = "slow"
title = "A slow model"
description = "Sleeps, so that it can be watched and cancelled."
command = ["python3", "-c", "import time\\nprint('working', flush=True)\\ntime.sleep(120)"]
[inputs]
type = "object"
`;

const CHOICE = `name = "choice"
title = "A choice to make"
description = "Asks for a plan that nobody has picked for you."
command = ["true"]
[inputs]
type = "object"
required = ["plan"]
[inputs.properties.plan]
type = "string"
title = "Plan"
enum = ["low", "high"]
`;

const SEASONAL = `name = "seasonal"
title = "Seasonal model fit"
description = "Reports its progress while it fits."
command = ["python3", "-c", "import time\\nfor step, what in [(0.1, 'reading the history'), (0.4, 'fitting the seasonal model')]:\\n    print(f'::progress {step} {what}', flush=True)\\n    time.sleep(1)\\ntime.sleep(10)\\nprint('::progress 0.9 writing the forecast', flush=True)\\ntime.sleep(1)"]
[inputs]
type = "object"
`;

export async function startModelrun() {
  const dataDir = mkdtempSync(path.join(tmpdir(), "modelrun-browser-"));
  const slow = path.join(dataDir, "slow-model");
  mkdirSync(slow);
  writeFileSync(path.join(slow, "modelrun.toml"), SLOW);
  const choice = path.join(dataDir, "choice-model");
  mkdirSync(choice);
  writeFileSync(path.join(choice, "modelrun.toml"), CHOICE);
  const seasonal = path.join(dataDir, "seasonal-model");
  mkdirSync(seasonal);
  writeFileSync(path.join(seasonal, "modelrun.toml"), SEASONAL);
  const env = {
    ...process.env,
    MODELRUN_DATA_DIR: dataDir,
    MODELRUN_ADMIN_EMAIL: ADMIN.email,
    MODELRUN_ADMIN_PASSWORD: ADMIN.password,
    RUST_LOG: "warn",
  };
  // A new installation first: the other commands only use an existing one.
  execFileSync(binary, ["migrate"], { env, stdio: "ignore" });
  execFileSync(binary, ["models", "register", slow], { env, stdio: "ignore" });
  execFileSync(binary, ["models", "register", choice], { env, stdio: "ignore" });
  execFileSync(binary, ["models", "register", seasonal], { env, stdio: "ignore" });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  // One run at a time, so that a run can be seen waiting behind another.
  const child = spawn(binary, ["up", "--bind", `127.0.0.1:${port}`, "--max-concurrent-runs", "1"], {
    env,
    stdio: ["ignore", "ignore", "inherit"],
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`modelrun up exited with ${child.exitCode}`);
    }
    try {
      const health = await fetch(`${base}/healthz`);
      if (health.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill();
      throw new Error("modelrun up did not answer /healthz within 30 s");
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    base,
    dataDir,
    /** Runs a `modelrun` command on this installation; `input` goes to its stdin. */
    cli(args, input) {
      return execFileSync(binary, args, { env, input, encoding: "utf8" });
    },
    async stop() {
      child.kill("SIGTERM");
      await new Promise((resolve) => {
        const timer = setTimeout(() => {
          child.kill("SIGKILL");
          resolve();
        }, 10_000);
        child.once("exit", () => {
          clearTimeout(timer);
          resolve();
        });
      });
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
