// A sweep in Chromium: from the forecast's run form, vary the growth rate
// over a range typed with decimal commas and tick two seasonality
// profiles; the form says how many runs that makes; the sweep's page
// follows its runs until they succeed, shows their charts overlaid and a
// results table that sorts, and two of its runs compare. The sweep's page
// goes to target/screenshots/sweep.png (the README's
// docs/screenshots/sweep.png is one of these).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";

import { signedIn } from "../lib/session.mjs";
import { shotPath } from "../lib/shots.mjs";

let session;
let page;

before(async () => {
  session = await signedIn({ context: { viewport: { width: 1200, height: 900 } } });
  page = session.page;
});

after(async () => {
  await session?.close();
});

test("a sweep is submitted from the run form, followed, sorted and compared", async () => {
  await page.goto("/models/forecast/runs/new");
  const growth = page.locator("#vary-growth_rate");
  await growth.locator("summary").click();
  await growth.getByLabel("From").fill("0,02");
  await growth.getByLabel("To").fill("0,04");
  // A range the server would refuse is named, not counted.
  await growth.getByLabel("Step").fill("0");
  await page.locator("#sweep-size").filter({ hasText: "The Vary boxes of Monthly growth rate need a Step above 0." }).waitFor();
  await growth.getByLabel("Step").fill("0,01");
  const seasons = page.locator("#vary-seasonality");
  await seasons.locator("summary").click();
  await seasons.getByLabel("Flat").check();
  await seasons.getByLabel("Retail: strong Q4").check();
  await page.locator("#sweep-size").filter({ hasText: "This sweep makes 6 runs" }).waitFor();
  await page.getByRole("button", { name: "Submit sweep (6 runs)" }).click();

  await page.getByRole("heading", { name: /^Sweep #\d+ of forecast/ }).waitFor();
  const sweepUrl = page.url();
  assert.match(sweepUrl, /\/sweeps\/\d+$/);
  // The page follows the runs by itself, and reloads once they have ended.
  await page.locator("#sweep-status.status-succeeded").waitFor({ timeout: 120_000 });
  await page.locator("#sweep-tally").filter({ hasText: "6 of 6 runs ended: 6 succeeded." }).waitFor();

  const rows = page.locator("#sweep-results tbody tr");
  assert.equal(await rows.count(), 6, "one row per run");
  const chart = page.locator("figure.chart svg");
  await chart.waitFor();
  assert.equal(await chart.locator("path").count(), 6, "every run's line");
  assert.equal(await chart.locator(".chart-key").count(), 3, "each growth rate once in the legend");
  await page.screenshot({ path: shotPath("sweep"), fullPage: true });

  // Sort by a key figure: ascending, then descending.
  const header = page.locator("#sweep-results th", { hasText: "Total revenue" });
  await header.getByRole("link").click();
  await page.locator("#sweep-results th[aria-sort=ascending]", { hasText: "Total revenue" }).waitFor();
  const column = await page.locator("#sweep-results thead th").evaluateAll((cells) =>
    cells.findIndex((cell) => cell.textContent.trim() === "Total revenue"),
  );
  const totals = async () =>
    (await rows.locator(`td:nth-child(${column + 1})`).allInnerTexts()).map((text) =>
      Number(text.replace(/[^0-9.-]/g, "")),
    );
  const ascending = await totals();
  assert.deepEqual(ascending, [...ascending].sort((a, b) => a - b));
  await header.getByRole("link").click();
  await page.locator("#sweep-results th[aria-sort=descending]", { hasText: "Total revenue" }).waitFor();
  assert.deepEqual(await totals(), [...ascending].reverse());

  // Two of its runs, compared: the button waits for a second one.
  const compare = page.getByRole("button", { name: "Compare selected runs" });
  await rows.nth(0).getByRole("checkbox").check();
  assert.equal(await compare.isDisabled(), true, "one run does not compare");
  await rows.nth(5).getByRole("checkbox").check();
  assert.equal(await compare.isDisabled(), false);
  await page.getByRole("button", { name: "Compare selected runs" }).click();
  await page.getByRole("heading", { name: "Compare runs of forecast" }).waitFor();
  assert.match(await page.locator("body").innerText(), /inputs? differs?/);
});
