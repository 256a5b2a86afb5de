// Times as the person reads them, in a Chromium set to Tokyo time: the
// pages learn the browser's zone from its script, show a run's time in it
// with UTC on hover, and the runs list's "today" is Tokyo's today. Numbers
// follow the style chosen on the account page.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";

import { signedIn } from "../lib/session.mjs";

const ZONE = "Asia/Tokyo";

let session;
let page;

/** `instant` as a YYYY-MM-DD day in Tokyo. */
function tokyoDay(instant) {
  return new Intl.DateTimeFormat("en-CA", { timeZone: ZONE }).format(instant);
}

before(async () => {
  session = await signedIn({ context: { timezoneId: ZONE } });
  page = session.page;
});

after(async () => {
  await session?.close();
});

test("a run's time is Tokyo's, UTC is a hover away, and today is Tokyo's today", async () => {
  await page.goto("/models/forecast/runs/new");
  await page.getByRole("button", { name: "Submit run" }).click();
  await page.locator("h1").filter({ hasText: "Run #" }).waitFor();
  const id = new URL(page.url()).pathname.split("/").pop();

  const submitted = page.locator("dl.summary time").first();
  const instant = new Date(await submitted.getAttribute("datetime"));
  assert.match(await submitted.getAttribute("title"), / UTC$/);
  const local = await submitted.textContent();
  assert.ok(local.startsWith(tokyoDay(instant)), `${local} is a Tokyo time`);
  assert.ok(await page.getByText(`(${ZONE})`).first().isVisible(), "the zone is named");

  const today = tokyoDay(new Date());
  await page.goto("/runs");
  assert.ok(await page.getByText(`From and To are days in ${ZONE}`).first().isVisible());
  await page.locator("#filter-from").fill(today);
  await page.locator("#filter-to").fill(today);
  await page.getByRole("button", { name: "Filter" }).click();
  await page.getByRole("link", { name: `#${id}` }).waitFor();
});

test("key figures follow the number style chosen on the account page", async () => {
  await page.goto("/account");
  await page.getByText(`${ZONE}, from your browser`).waitFor();
  await page.getByLabel("Numbers", { exact: true }).selectOption("1.234,5");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText("Your pages now show times and numbers this way.").waitFor();

  await page.goto("/runs");
  await page.locator("table.runs a").first().click();
  await page.locator("h1 .status-succeeded").waitFor({ timeout: 60_000 });
  const average = page.locator("dl.figures div", { hasText: "Average month" });
  const figure = await average.locator("dd").textContent();
  assert.match(figure, /^\d{1,3}(\.\d{3})*(,\d+)? €$/, `${figure} is written 1.234,5 €`);
});
