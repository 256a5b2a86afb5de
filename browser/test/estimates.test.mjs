// Duration and cost before submit, in Chromium: the form says what to
// expect (no history yet, then the version's durations), the run page
// shows what the run took next to what was expected, and an administrator
// sets the team's monthly budget on the Budgets page. The server runs
// models locally, so runs have durations and no cost.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";

import { signedIn } from "../lib/session.mjs";

let session;
let page;

before(async () => {
  session = await signedIn();
  page = session.page;
});

after(async () => {
  await session?.close();
});

test("the form says what to expect and the run page what it took", async () => {
  await page.goto("/models/choice/runs/new");
  const expect = page.locator("#estimate");
  await expect.getByRole("heading", { name: "What to expect" }).waitFor();
  assert.match(await page.locator("#estimate-duration").innerText(), /No history yet/);
  assert.match(await page.locator("#estimate-prices").innerText(), /no cloud money/);
  assert.equal(await page.locator("#estimate-cost").count(), 0, "local runs have no cost");

  await page.getByLabel("Plan").selectOption("low");
  await page.getByRole("button", { name: "Submit run" }).click();
  await page.locator("h1").filter({ hasText: "Run #" }).waitFor();
  await page.locator("h1 .status-succeeded").waitFor({ timeout: 60_000 });
  const cost = page.locator("#run-cost");
  await cost.getByRole("heading", { name: "Duration and cost" }).waitFor();
  assert.match(await page.locator("#expected-duration").innerText(), /no history when submitted/);
  assert.match(await page.locator("#actual-duration").innerText(), /\d+ s/);

  await page.goto("/models/choice/runs/new");
  assert.match(
    await page.locator("#estimate-duration").innerText(),
    /^(About \d+|Under 1) s, from the one succeeded run of this version\.$/,
  );
});

test("an administrator sets the team's monthly budget", async () => {
  await page.goto("/models");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Budgets" }).click();
  await page.getByRole("heading", { name: "Budgets", level: 1 }).waitFor();
  assert.match(await page.locator("#unpriced").innerText(), /cost no cloud money/);
  await page.locator("#no-budgets").waitFor();

  await page.getByLabel("Monthly budget (US dollars)").fill("a lot");
  await page.getByRole("button", { name: "Set budget" }).click();
  assert.match(await page.locator("#budget-error").innerText(), /Monthly budget is not a number: .*an amount in dollars/);

  await page.getByLabel("Monthly budget (US dollars)").fill("250");
  await page.getByRole("button", { name: "Set budget" }).click();
  const row = page.locator("#budgets tbody tr");
  await row.first().waitFor();
  assert.equal(await row.count(), 1);
  assert.match(await row.innerText(), /Team\s+\$250\.00\s+\$0\.00/);

  page.once("dialog", (dialog) => {
    assert.match(dialog.message(), /Remove/);
    dialog.accept();
  });
  await row.getByRole("button", { name: "Remove" }).click();
  await page.locator("#no-budgets").waitFor();
});
