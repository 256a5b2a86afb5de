// A planner's afternoon in Debian's Chromium: sign in, run the forecast
// with a chosen growth rate, watch it finish, look at the chart, download
// the CSV, run it again with one input changed, compare the two, and cancel
// a slow run. Screenshots of the key pages go to target/screenshots/, or to
// docs/screenshots/ with UPDATE_SCREENSHOTS=1.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { chromium } from "playwright-core";

import { ADMIN, startModelrun } from "../lib/server.mjs";
import { shotPath } from "../lib/shots.mjs";

const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";

let server;
let browser;
let page;

before(async () => {
  assert.ok(existsSync(executablePath), `no Chromium at ${executablePath}: apt-get install chromium`);
  server = await startModelrun();
  browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
  const context = await browser.newContext({
    viewport: { width: 1200, height: 860 },
    acceptDownloads: true,
    baseURL: server.base,
  });
  context.setDefaultTimeout(20_000);
  page = await context.newPage();
  page.on("pageerror", (error) => assert.fail(`a script error on ${page.url()}: ${error}`));
  page.on("console", (message) => {
    if (message.type() === "error") assert.fail(`console error on ${page.url()}: ${message.text()}`);
  });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function shot(name) {
  await page.screenshot({ path: shotPath(name), fullPage: true });
}

/** Waits for the run page's status to become `status` (the page refreshes itself). */
async function waitForStatus(status, timeout = 60_000) {
  await page.locator(`h1 .status-${status}`).waitFor({ timeout });
}

async function runId() {
  const match = new URL(page.url()).pathname.match(/^\/runs\/(\d+)$/);
  assert.ok(match, `on a run page: ${page.url()}`);
  return Number(match[1]);
}

test("sign in, run the forecast, watch it, chart and download it", async () => {
  await page.goto("/models");
  assert.match(new URL(page.url()).pathname, /^\/login/);
  await page.getByLabel("Email").fill(ADMIN.email);
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Models" }).waitFor();

  await page.getByRole("link", { name: "Revenue forecast" }).first().click();
  await page.getByRole("link", { name: "New run" }).click();
  const growth = page.locator("#in-growth_rate");
  assert.equal(await growth.inputValue(), "0.02", "the default is filled in");
  await growth.fill("0.07");
  await page.locator("#in-horizon_months").fill("12");
  await shot("form");
  await page.getByRole("button", { name: "Submit run" }).click();

  await page.locator("h1").filter({ hasText: "Run #" }).waitFor();
  await waitForStatus("succeeded");
  const chart = page.locator("figure.chart svg");
  await chart.waitFor();
  assert.match(await chart.getAttribute("aria-labelledby"), /run-chart-title/);
  assert.equal(await page.locator("figure.chart polygon").count() > 0, true, "the low–high band");
  await shot("run");

  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.locator('a[download][href$="/outputs/forecast.csv"]').click(),
  ]);
  assert.equal(download.suggestedFilename(), "forecast.csv");
  const csv = readFileSync(await download.path(), "utf8").trim().split("\n");
  assert.equal(csv[0], "month,revenue,low,high");
  assert.equal(csv.length, 13, "twelve months");
  // 100,000 × 1.07 growth × 0.99 after churn.
  assert.equal(csv[1].split(",")[1], "105930.00");

  await page.getByRole("link", { name: "Preview" }).first().click();
  await page.locator("table.data").waitFor();
  await shot("preview");
});

test("run it again with one input changed, then compare the two", async () => {
  await page.goto("/runs");
  await page.locator("table.runs a").first().click();
  const first = await runId();
  await page.getByRole("link", { name: "Run again" }).click();
  await page.getByText(`Filled in with the inputs of run #${first}`).waitFor();
  assert.equal(await page.locator("#in-growth_rate").inputValue(), "0.07", "the origin's value");
  assert.equal(await page.locator("#in-horizon_months").inputValue(), "12");
  await page.locator("#in-growth_rate").fill("0.03");
  await page.getByRole("button", { name: "Submit run" }).click();
  await waitForStatus("succeeded");
  const second = await runId();
  assert.notEqual(second, first);
  await page.getByText(`Run again from run #${first}`).waitFor();

  await page.goto("/runs");
  await page.getByLabel(`Compare run #${first}`).check();
  await page.getByLabel(`Compare run #${second}`).check();
  await page.getByRole("button", { name: "Compare selected runs" }).click();
  await page.getByRole("heading", { name: "Compare runs of forecast" }).waitFor();
  await page.getByText("1 input differs").waitFor();
  const differing = page.locator("tbody[aria-labelledby=inputs] tr.differs th");
  assert.equal(await differing.count(), 1);
  // Key figures that differ are marked as inputs are: the row, its name and a tag.
  const figures = page.locator("tbody[aria-labelledby=figures] tr.differs th");
  assert.ok(await figures.count() >= 1, "the revenue figures differ");
  assert.equal(await figures.first().locator(".tag").innerText(), "differs");
  assert.match(await differing.first().innerText(), /growth rate/);
  assert.equal(await page.locator("figure.chart svg path[stroke-width='2']").count(), 2, "two lines overlaid");
  await shot("compare");
});

test("watch a forecast wait behind a slow run, live, then cancel the slow one", async () => {
  await page.goto("/models/slow/runs/new");
  await page.getByRole("button", { name: "Submit run" }).click();
  await waitForStatus("running");
  await page.locator("pre.log").filter({ hasText: "working" }).waitFor();
  const slowUrl = page.url();

  // One run at a time on this server: the forecast waits, and its page
  // follows it without a reload.
  await page.goto("/models/forecast/runs/new");
  await page.locator("#in-growth_rate").fill("0.05");
  await page.getByRole("button", { name: "Submit run" }).click();
  await waitForStatus("runnable");
  const forecastUrl = page.url();
  await shot("live-run");

  const other = await page.context().newPage();
  await other.goto(slowUrl);
  other.once("dialog", (dialog) => {
    assert.match(dialog.message(), /Cancel run #\d+\?/);
    dialog.accept();
  });
  await other.getByRole("button", { name: "Cancel run" }).click();
  await other.locator("h1 .status-cancelled").waitFor({ timeout: 30_000 });
  await other.getByText("cancel requested by admin@localhost").first().waitFor();
  await other.close();

  // The forecast's page saw it start and finish by itself.
  assert.equal(page.url(), forecastUrl);
  await waitForStatus("succeeded");
  await page.locator("figure.chart svg").waitFor();
});

test("keyboard and phone: labels, focus and a narrow screen", async () => {
  await page.goto("/models/forecast/runs/new");
  // Every input of the form has a label tied to it.
  const unlabeled = await page.locator("form.run-form input:not([type=hidden]), form.run-form select")
    .evaluateAll((elements) => elements.filter((e) => !e.labels || e.labels.length === 0).map((e) => e.name));
  assert.deepEqual(unlabeled, []);
  // The skip link is the first stop of the keyboard.
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.className), "skip");
  await page.setViewportSize({ width: 390, height: 844 });
  for (const path of ["/models", "/models/forecast", "/models/forecast/runs/new", "/runs", "/runs/1", "/admin/audit"]) {
    await page.goto(path);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `${path} fits a phone (overflows by ${overflow}px)`);
  }
  await page.setViewportSize({ width: 1200, height: 860 });
});
