// A model that reports its progress, in Chromium: the run page shows a bar
// with the model's message and follows it live, the runs list a small bar
// while it runs, and the bar is complete once the run succeeds. The run
// page's screenshot goes to target/screenshots/progress.png (the README's
// docs/screenshots/progress.png is one of these).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";

import { signedIn } from "../lib/session.mjs";
import { shotPath } from "../lib/shots.mjs";

let session;
let page;

before(async () => {
  session = await signedIn({ context: { viewport: { width: 1200, height: 860 } } });
  page = session.page;
});

after(async () => {
  await session?.close();
});

test("the run page and the runs list show the model's progress", async () => {
  await page.goto("/models/seasonal/runs/new");
  await page.getByRole("button", { name: "Submit run" }).click();
  await page.locator("h1").filter({ hasText: "Run #" }).waitFor();
  const runUrl = page.url();

  // The page follows the run without a reload: the bar comes, then moves.
  const bar = page.locator("#run-progress progress");
  const label = page.locator("#run-progress-label");
  await label.filter({ hasText: "40% · fitting the seasonal model" }).waitFor({ timeout: 30_000 });
  assert.equal(await bar.getAttribute("value"), "40");
  assert.equal(await bar.getAttribute("max"), "100");
  // Named by its text, for a screen reader.
  assert.equal(await bar.getAttribute("aria-labelledby"), "run-progress-label");
  await page.locator("pre.log").filter({ hasText: "::progress 0.4 fitting the seasonal model" }).waitFor();
  await page.screenshot({ path: shotPath("progress") });

  await page.goto("/runs");
  const mini = page.locator("table.runs progress.mini");
  assert.equal(await mini.count(), 1, "one running run, one small bar");
  assert.equal(await mini.getAttribute("value"), "40");
  assert.match(await mini.getAttribute("title"), /^40% · fitting the seasonal model$/);

  await page.goto(runUrl);
  await page.locator("h1 .status-succeeded").waitFor({ timeout: 60_000 });
  // It reported 0.9 last; a run that succeeded is complete.
  assert.equal(await bar.getAttribute("value"), "100");
  await label.filter({ hasText: "100% · writing the forecast" }).waitFor();

  await page.goto("/runs");
  assert.equal(await page.locator("table.runs progress.mini").count(), 0, "no bar for an ended run");
});
