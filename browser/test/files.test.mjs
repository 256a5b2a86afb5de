// A file input and a list input of the example forecast, in Chromium: a
// CSV of known revenue is uploaded as soon as it is chosen, read by the
// model, kept with the run, previewed as a table and kept again by "Run
// again"; campaign months are typed one per line. Without JavaScript the
// form sends the file itself.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import { signedIn } from "../lib/session.mjs";

const ACTUALS = "month,revenue\n2027-01,123456.5\n";

let session;
let page;

before(async () => {
  session = await signedIn();
  page = session.page;
});

after(async () => {
  await session?.close();
});

/** The run page's id. */
function runId() {
  return Number(new URL(page.url()).pathname.split("/").pop());
}

/** Downloads forecast.csv from the run page, as its rows of cells. */
async function forecastRows() {
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.locator('a[download][href$="/outputs/forecast.csv"]').click(),
  ]);
  return readFileSync(await download.path(), "utf8").trim().split("\n").map((line) => line.split(","));
}

test("a CSV is uploaded, read by the model, previewed and kept by Run again", async () => {
  await page.goto("/models/forecast/runs/new");
  await page.locator("#in-horizon_months").fill("3");
  await page.locator("#in-campaign_months").fill("2027-02\n\n2027-03");
  await page.locator("#in-actuals").setInputFiles({
    name: "actuals.csv",
    mimeType: "text/csv",
    buffer: Buffer.from(ACTUALS),
  });
  // Uploaded ahead by the page's script: the form will carry only its id.
  await page.locator("#status-actuals").filter({ hasText: "Uploaded actuals.csv" }).waitFor();
  assert.equal(await page.locator("#in-actuals").getAttribute("name"), null);
  await page.getByRole("button", { name: "Submit run" }).click();
  await page.locator("h1").filter({ hasText: "Run #" }).waitFor();
  await page.locator("h1 .status-succeeded").waitFor({ timeout: 60_000 });
  const first = runId();

  const rows = await forecastRows();
  assert.deepEqual(rows[1], ["2027-01", "123456.50", "123456.50", "123456.50"], "the known month");
  // 100,000 × (1.02 × 0.99)^2, and 10 % more for the campaign.
  assert.equal(rows[2][1], (100000 * (1.02 * 0.99) ** 2 * 1.1).toFixed(2));

  const inputs = page.locator("section[aria-labelledby=inputs]");
  await inputs.getByText("2027-02, 2027-03").waitFor();
  await inputs.getByRole("link", { name: "Preview" }).click();
  await page.getByText("The file of input Known revenue of run").waitFor();
  await page.locator("table.data").getByText("2027-01").waitFor();

  await page.goto(`/models/forecast/runs/new?from=${first}`);
  await page.locator("#kept-actuals").filter({ hasText: "Keeping actuals.csv" }).waitFor();
  assert.equal(await page.locator("#in-campaign_months").inputValue(), "2027-02\n2027-03");
  await page.getByRole("button", { name: "Submit run" }).click();
  await page.locator("h1 .status-succeeded").waitFor({ timeout: 60_000 });
  assert.notEqual(runId(), first);
  await page.locator("section[aria-labelledby=inputs]").getByRole("link", { name: "actuals.csv" }).waitFor();
  assert.deepEqual((await forecastRows())[1][1], "123456.50", "the kept file was read again");
});

test("a file chosen and then cleared is not sent", async () => {
  await page.goto("/models/forecast/runs/new");
  await page.locator("#in-horizon_months").fill("2");
  const chooser = page.locator("#in-actuals");
  await chooser.setInputFiles({ name: "actuals.csv", mimeType: "text/csv", buffer: Buffer.from(ACTUALS) });
  await page.locator("#status-actuals").filter({ hasText: "Uploaded actuals.csv" }).waitFor();
  await chooser.setInputFiles([]);
  assert.equal(await page.locator("input[type=hidden][name=actuals]").inputValue(), "");
  await page.getByRole("button", { name: "Submit run" }).click();
  await page.locator("h1").filter({ hasText: "Run #" }).waitFor();
  const row = page.locator("section[aria-labelledby=inputs] tr").filter({ hasText: "Known revenue" });
  assert.equal(await row.locator("td").innerText(), "—", "what the form showed: no file");
});

test("a list refused at one item names it, and keeps what was typed", async () => {
  await page.goto("/models/forecast/runs/new");
  await page.locator("#in-campaign_months").fill("2027-02\n2027-13");
  await page.getByRole("button", { name: "Submit run" }).click();
  await page.locator("#err-campaign_months").waitFor();
  assert.equal(
    await page.locator("#err-campaign_months").innerText(),
    "Campaign months (item 2) must look like 2027-01.",
  );
  assert.equal(await page.locator("#in-campaign_months").inputValue(), "2027-02\n2027-13");
});

test("without JavaScript the form sends the file itself", async () => {
  const context = await session.browser.newContext({ baseURL: session.server.base, javaScriptEnabled: false });
  try {
    await context.addCookies(await page.context().cookies());
    const plain = await context.newPage();
    await plain.goto("/models/forecast/runs/new");
    await plain.locator("#in-horizon_months").fill("2");
    await plain.locator("#in-actuals").setInputFiles({
      name: "known.csv",
      mimeType: "text/csv",
      buffer: Buffer.from(ACTUALS),
    });
    await plain.getByRole("button", { name: "Submit run" }).click();
    await plain.locator("h1").filter({ hasText: "Run #" }).waitFor();
    await plain.locator("section[aria-labelledby=inputs]").getByRole("link", { name: "known.csv" }).waitFor();
  } finally {
    await context.close();
  }
});
