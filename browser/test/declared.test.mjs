// What the forecast's manifest declares (`[outputs]`), as a planner sees it
// in Debian's Chromium: the key figures by their labels, written as
// amounts, a percentage and a count, in the declared order; the declared
// chart under its title, with its units and band; and the same figures in
// the reader's own number style. A screenshot `run-declared` goes to
// target/screenshots/.

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

async function shot(name) {
  await page.screenshot({ path: shotPath(name), fullPage: true });
}

/** The key figures on the page, as [label, value] pairs in their order. */
function figures() {
  return page.locator("dl.figures > div").evaluateAll((rows) =>
    rows.map((row) => [row.querySelector("dt").textContent.trim(), row.querySelector("dd").textContent.trim()]));
}

test("the forecast's run page shows its declared figures and chart", async () => {
  await page.goto("/models/forecast/runs/new");
  await page.locator("#in-growth_rate").fill("0.07");
  await page.locator("#in-horizon_months").fill("12");
  await page.getByRole("button", { name: "Submit run" }).click();
  await page.locator("h1 .status-succeeded").waitFor({ timeout: 60_000 });

  const shown = await figures();
  assert.deepEqual(
    shown.map(([label]) => label),
    ["Total revenue", "Annual growth", "Average month", "Peak month", "Final month", "Months forecast"],
    "labelled, in the declared order",
  );
  const value = (label) => shown.find(([name]) => name === label)[1];
  assert.match(value("Annual growth"), /^\d+\.\d%$/, "a percentage with one decimal");
  assert.match(value("Total revenue"), /^€\d{1,3}(,\d{3})+\.\d{2}$/, "an amount in €, thousands grouped");
  assert.equal(value("Months forecast"), "12");

  const heading = page.getByRole("heading", { name: "Monthly revenue forecast" });
  await heading.waitFor();
  const section = page.locator("section", { has: heading });
  const svg = section.locator("figure.chart svg");
  await svg.waitFor();
  assert.equal(await svg.locator("title").textContent(), "Monthly revenue forecast");
  assert.ok(await svg.locator("polygon").count() > 0, "the low–high band");
  assert.match(await svg.textContent(), /Revenue/, "the line's label in the legend");
  assert.equal(
    await page.getByRole("heading", { name: "Chart", exact: true }).count(),
    0,
    "no guessed chart beside the declared one",
  );
  await section.scrollIntoViewIfNeeded();
  await shot("run-declared");

  // In the 1.234,5 style the same figures follow it.
  const run = page.url();
  await page.goto("/account");
  await page.getByLabel("Numbers", { exact: true }).selectOption("1.234,5");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText("Your pages now show times and numbers this way.").waitFor();
  await page.goto(run);
  const styled = await figures();
  const styledValue = (label) => styled.find(([name]) => name === label)[1];
  assert.match(styledValue("Annual growth"), /^\d+,\d %$/, "7,1 % in that style");
  assert.match(styledValue("Total revenue"), /^\d{1,3}(\.\d{3})+,\d{2} €$/, "the symbol after the amount");
});
