// Candidate and production versions in Chromium: a model's first version is
// production and a new one a candidate; a data scientist (here the
// administrator) runs the candidate and compares it with production in one
// click; a promotion needs a note and lands in the audit log; a planner's
// form offers production and shows candidates only when asked, and refuses
// to run one.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";

import { executablePath, signedIn } from "../lib/session.mjs";

const PLANNER = { email: "planner@example.com", password: "planner-test-password" };

/** A model whose output says which version made it. */
function manifest(says) {
  return `name = "uplift"
title = "Uplift model"
description = "Says which version ran."
owner = "Data Science"
command = ["python3", "-c", "import json, os\\nrate = json.load(open(os.environ['MODELRUN_INPUTS']))['rate']\\nopen(os.path.join(os.environ['MODELRUN_OUTPUT_DIR'], 'metrics.json'), 'w').write(json.dumps({'uplift': rate * ${says}}))"]
[inputs]
type = "object"
[inputs.properties.rate]
type = "number"
title = "Rate"
default = 0.5
`;
}

let session;
let page;

function register(label, says) {
  const dir = path.join(session.server.dataDir, `uplift-${label}`);
  mkdirSync(dir);
  writeFileSync(path.join(dir, "modelrun.toml"), manifest(says));
  session.server.cli(["models", "register", dir, "--label", label]);
}

before(async () => {
  session = await signedIn();
  page = session.page;
  register("v1", 1);
  register("v2", 2);
  session.server.cli(
    ["users", "create", "--email", PLANNER.email, "--role", "runner", "--password-stdin"],
    `${PLANNER.password}\n`,
  );
});

after(async () => {
  await session?.close();
});

async function runId() {
  const match = new URL(page.url()).pathname.match(/^\/runs\/(\d+)$/);
  assert.ok(match, `on a run page: ${page.url()}`);
  return Number(match[1]);
}

test("the first version is production and the next a candidate", async () => {
  await page.goto("/models/uplift");
  const row = (label) => page.locator("tr").filter({ has: page.locator(`code:text-is("${label}")`) });
  await row("v1").locator(".alias-production").waitFor();
  await row("v2").locator(".alias-candidate").waitFor();
  await page.goto("/models/uplift/runs/new");
  assert.equal(await page.locator("#version-picker").inputValue(), "v1", "the form offers production");
  const options = await page.locator("#version-picker option").allTextContents();
  assert.deepEqual(options, ["v1 (production)", "v2 (candidate)"]);
});

test("a candidate's run compares with production in one click", async () => {
  await page.goto("/models/uplift/runs/new?version=v2");
  await page.locator("#in-rate").fill("3");
  await page.getByRole("button", { name: "Submit run" }).click();
  await page.locator("h1").filter({ hasText: "Run #" }).waitFor();
  const candidate = await runId();
  assert.equal(await page.locator("#run-alias").textContent(), "candidate");
  await page.getByRole("button", { name: "Compare with production" }).click();
  await page.waitForURL(/\/compare\?runs=/);
  const ids = new URL(page.url()).searchParams.get("runs").split(",").map(Number);
  assert.equal(ids.length, 2);
  assert.equal(ids[0], candidate);
  const production = ids[1];
  await page.goto(`/runs/${production}`);
  assert.equal(await page.locator("#run-alias").textContent(), "production");
  assert.match(await page.locator("dl").first().textContent(), /v1/);
  // Pressed again, the same comparison: no third run.
  await page.goto(`/runs/${candidate}`);
  await page.getByRole("button", { name: "Compare with production" }).click();
  await page.waitForURL(/\/compare\?runs=/);
  assert.equal(new URL(page.url()).searchParams.get("runs"), `${candidate},${production}`);
});

test("a promotion needs a note, moves production and is audited", async () => {
  await page.goto("/models/uplift/versions/v2");
  await page.getByRole("link", { name: "Promote to production" }).click();
  await page.locator("#note").fill("   ");
  await page.getByRole("button", { name: "Promote to production" }).click();
  const problem = await page.locator("#promote-problem").textContent();
  assert.match(problem, /note: say why/);
  await page.locator("#note").fill("Better uplift on the March holdout");
  await page.getByRole("button", { name: "Promote to production" }).click();
  await page.waitForURL(/\/models\/uplift\/versions\/v2$/);
  assert.equal(await page.locator("#version-alias").textContent(), "production");
  await page.goto("/admin/audit?action=version_promote");
  const log = await page.locator("main").textContent();
  assert.match(log, /Better uplift on the March holdout/);
});

test("a planner runs production and sees candidates only when asked", async () => {
  const browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
  try {
    const context = await browser.newContext({ baseURL: session.server.base });
    context.setDefaultTimeout(20_000);
    const planner = await context.newPage();
    await planner.goto("/login");
    await planner.getByLabel("Email").fill(PLANNER.email);
    await planner.getByLabel("Password").fill(PLANNER.password);
    await planner.getByRole("button", { name: "Sign in" }).click();
    await planner.getByRole("heading", { name: "Models" }).waitFor();

    await planner.goto("/models/uplift/runs/new");
    assert.deepEqual(await planner.locator("#version-picker option").allTextContents(), ["v2 (production)"]);
    await planner.getByRole("link", { name: "Show candidate versions" }).click();
    assert.deepEqual(
      await planner.locator("#version-picker option").allTextContents(),
      ["v2 (production)", "v1 (candidate)"],
    );
    await planner.goto("/models/uplift/runs/new?version=v1");
    assert.match(await planner.locator(".alert").first().textContent(), /candidate: only data scientists/);
    const [answer] = await Promise.all([
      planner.waitForResponse((r) => r.request().method() === "POST"),
      planner.getByRole("button", { name: "Submit run" }).click(),
    ]);
    assert.equal(answer.status(), 403, "the server refuses, not only the page");
    await planner.waitForLoadState();
    assert.match(await planner.locator("main").textContent(), /candidate: only data scientists/);

    await planner.goto("/models/uplift/runs/new");
    await planner.getByRole("button", { name: "Submit run" }).click();
    await planner.locator("#run-alias").waitFor();
    assert.equal(await planner.locator("#run-alias").textContent(), "production");
  } finally {
    await browser.close();
  }
});
