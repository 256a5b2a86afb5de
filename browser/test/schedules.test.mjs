// Schedules in Chromium: "Schedule" beside the run form, a refused rule
// comes back naming the field, a schedule every minute makes its run (which
// says "Scheduled by …"), and pause, resume and delete work from its page.
// The schedule's page goes to target/screenshots/schedules.png (the
// README's docs/screenshots/schedules.png is one of these).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";

import { signedIn } from "../lib/session.mjs";
import { shotPath } from "../lib/shots.mjs";

let session;
let page;

before(async () => {
  session = await signedIn({
    context: { viewport: { width: 1200, height: 900 }, timezoneId: "Europe/Berlin" },
  });
  page = session.page;
});

after(async () => {
  await session?.close();
});

test("a schedule is made from the run form, fires, pauses and is deleted", async () => {
  await page.goto("/models/forecast/runs/new");
  await page.locator("#schedule-link").click();
  await page.getByRole("heading", { name: /^Schedule / }).waitFor();

  await page.getByLabel("Name").fill("Every minute");
  await page.getByLabel("When (cron)").fill("every minute please");
  await page.getByLabel("Time zone").fill("Europe/Berlin");
  await page.getByRole("button", { name: "Create schedule" }).click();
  const error = page.locator("#err-cron");
  await error.waitFor();
  assert.match(await error.innerText(), /not a cron expression/);
  assert.equal(await page.getByLabel("Name").inputValue(), "Every minute", "what was typed stays");

  await page.getByLabel("When (cron)").fill("* * * * *");
  await page.getByRole("button", { name: "Create schedule" }).click();
  await page.getByRole("heading", { name: /Every minute/ }).waitFor();
  assert.equal(await page.locator("#upcoming li").count(), 3, "the next 3 fire times");
  assert.match(await page.locator("#upcoming li").first().innerText(), /CES?T/, "in the schedule's zone");

  // The next minute's slot makes a run; the page lists it.
  const deadline = Date.now() + 90_000;
  while ((await page.locator("#fires a[href^='/runs/']").count()) === 0) {
    assert.ok(Date.now() < deadline, "no run within 90 s of a schedule every minute");
    await page.waitForTimeout(2_000);
    await page.reload();
  }
  await page.screenshot({ path: shotPath("schedules"), fullPage: true });

  // The run says which schedule made it, with a link back.
  const schedulePage = page.url();
  await page.locator("#fires a[href^='/runs/']").first().click();
  const by = page.locator("#scheduled-by");
  await by.waitFor();
  assert.match(await by.innerText(), /Scheduled by Every minute/);
  await by.getByRole("link", { name: "Every minute" }).click();
  assert.equal(page.url(), schedulePage);

  await page.getByRole("button", { name: "Pause" }).click();
  await page.locator("#schedule-state").filter({ hasText: "paused" }).waitFor();
  assert.equal(await page.locator("#upcoming").count(), 0, "a paused schedule has no next fire times");
  await page.getByRole("button", { name: "Resume" }).click();
  await page.locator("#schedule-state").filter({ hasText: "active" }).waitFor();

  await page.goto("/schedules");
  await page.getByRole("link", { name: "Every minute" }).waitFor();
  await page.getByRole("link", { name: "Every minute" }).click();
  page.once("dialog", (dialog) => dialog.accept());
  await page.getByRole("button", { name: "Delete" }).click();
  await page.locator("#schedule-state").filter({ hasText: "deleted" }).waitFor();
  assert.ok((await page.locator("#fires a[href^='/runs/']").count()) >= 1, "its runs stay");
  await page.goto("/schedules");
  assert.equal(await page.getByRole("link", { name: "Every minute" }).count(), 0);
});
