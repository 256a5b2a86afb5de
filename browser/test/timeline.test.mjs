// What a demanding planner reads in Chromium: a finished run's timeline as
// queued, running and finished with the time spent in each (every event one
// click away), two runs compared in one grid whose run columns line up and
// whose inputs go by their titles, and a CSV saved by a European
// spreadsheet (`;` and decimal commas) previewed in its columns.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

import { signedIn } from "../lib/session.mjs";
import { shotPath } from "../lib/shots.mjs";

/** A model that writes its table as a European spreadsheet saves one. */
const EUROPEAN = `name = "european"
title = "European export"
description = "Writes a table with semicolons and decimal commas."
command = ["python3", "-c", "import os\\nopen(os.path.join(os.environ['MODELRUN_OUTPUT_DIR'], 'umsatz.csv'), 'w').write('month;revenue;note\\\\n2027-01;317,43333333333334;Jan, quiet\\\\n2027-02;402,75;\\\\n2027-03;388,1;\\\\n')"]
[inputs]
type = "object"
`;

let session;
let page;

before(async () => {
  session = await signedIn({ context: { viewport: { width: 1200, height: 900 } } });
  page = session.page;
  const dir = path.join(session.server.dataDir, "european-model");
  mkdirSync(dir);
  writeFileSync(path.join(dir, "modelrun.toml"), EUROPEAN);
  session.server.cli(["models", "register", dir]);
});

after(async () => {
  await session?.close();
});

async function shot(name) {
  await page.screenshot({ path: shotPath(name), fullPage: true });
}

/** Submits `model`'s form, with `fill` run on the form first; the run's id. */
async function submit(model, fill = async () => {}) {
  await page.goto(`/models/${model}/runs/new`);
  await fill();
  await page.getByRole("button", { name: "Submit run" }).click();
  await page.locator("h1").filter({ hasText: "Run #" }).waitFor();
  await page.locator("h1 .status-succeeded").waitFor({ timeout: 60_000 });
  return Number(new URL(page.url()).pathname.split("/").pop());
}

let runs = [];

test("a finished run reads queued, running, finished, every event a click away", async () => {
  runs.push(await submit("forecast"));
  const phases = page.locator("#run-phases > li");
  assert.deepEqual(await phases.locator(".phase-name").allInnerTexts(), ["Queued", "Running", "Finished"]);
  for (const index of [0, 1]) {
    const duration = await phases.nth(index).locator(".phase-duration").innerText();
    assert.match(duration, /^\d+(\.\d)? s$|^\d+ min \d+ s$/, `a time spent: ${duration}`);
  }
  assert.equal(await phases.nth(2).locator(".phase-duration").count(), 0, "an end is a moment");
  assert.match(await phases.nth(2).locator("time").innerText(), /^at \d\d:\d\d:\d\d$/);

  const all = page.locator("#all-events");
  const events = all.locator("ol.timeline > li");
  assert.equal(await events.first().isVisible(), false, "the detail is folded away");
  await all.locator("summary").click();
  await events.first().waitFor();
  const texts = await events.allInnerTexts();
  assert.ok(texts.length >= 6, `every event: ${texts.join(" | ")}`);
  for (const status of ["queued", "dispatching", "submitted", "running", "succeeded"]) {
    assert.ok(texts.some((text) => text.includes(status)), `${status} is in the list`);
  }
  await page.locator("#timeline").scrollIntoViewIfNeeded();
  await shot("timeline");
});

test("compared runs share one grid, inputs by their titles", async () => {
  runs.push(await submit("forecast", () => page.locator("#in-growth_rate").fill("0.09")));
  await page.goto(`/compare?runs=${runs.join(",")}`);
  const grid = page.locator("#compare-grid");
  await grid.waitFor();
  const inputs = await grid.locator("tbody[aria-labelledby=inputs] tr:not(.section) > th").allInnerTexts();
  assert.ok(inputs.some((name) => name.startsWith("Monthly growth rate")), `titles: ${inputs.join(" | ")}`);
  assert.ok(inputs.includes("Horizon (months)"), `titles: ${inputs.join(" | ")}`);
  assert.ok(!inputs.some((name) => name.includes("_") || name === "growth rate"), "no property names");
  const differing = grid.locator("tr.differs > th");
  assert.match(await differing.first().innerText(), /^Monthly growth rate/);

  // Each run's cells sit at one x, from the header down to the key figures.
  const sections = await grid.locator("tbody").count();
  assert.ok(sections >= 3, "the run, its inputs and its key figures");
  for (const [index, run] of runs.entries()) {
    const column = index + 2;
    const header = await grid.locator(`thead th:nth-child(${column})`).boundingBox();
    assert.match(await grid.locator(`thead th:nth-child(${column})`).innerText(), new RegExp(`#${run}`));
    const cells = grid.locator(`tbody tr:not(.section) > :nth-child(${column})`);
    const count = await cells.count();
    assert.ok(count >= 10, `cells of run #${run}: ${count}`);
    for (let row = 0; row < count; row++) {
      const box = await cells.nth(row).boundingBox();
      assert.ok(
        Math.abs(box.x - header.x) < 0.5 && Math.abs(box.width - header.width) < 0.5,
        `run #${run}'s cell ${row} at x ${box.x} (width ${box.width}), its header at ${header.x} (${header.width})`,
      );
    }
  }
  const scroll = await grid.evaluate((table) => {
    const box = table.parentElement;
    return { height: box.scrollHeight, shown: box.clientHeight };
  });
  assert.ok(scroll.height <= scroll.shown + 1, `the grid is shown whole, not in a box of its own: ${JSON.stringify(scroll)}`);
  await shot("compare-grid");
});

test("a table saved with semicolons and decimal commas previews in its columns", async () => {
  const id = await submit("european");
  await page.goto(`/runs/${id}/preview/umsatz.csv`);
  const table = page.locator("table.data");
  await table.waitFor();
  assert.deepEqual(await table.locator("thead tr:first-child th").allInnerTexts(), ["month", "revenue", "note"]);
  const revenue = await table.locator("tbody tr td:nth-child(2)").allInnerTexts();
  assert.deepEqual(revenue, ["317.4", "402.8", "388.1"], "decimal commas read, rounded to the column");
  assert.equal(
    await table.locator("tbody tr:first-child td:nth-child(2)").getAttribute("title"),
    "317.43333333333334",
    "every digit on hover",
  );
  assert.equal(await table.locator("tbody tr:first-child td:nth-child(3)").innerText(), "Jan, quiet");
  await page.locator("figure.chart svg").waitFor();
});
