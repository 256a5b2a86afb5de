// A phone and a browser without JavaScript, in Debian's Chromium. On a
// 390 px screen every table keeps its names, links, statuses and actions on
// the screen without sliding sideways (the lesser columns left out), sizes
// and times never break inside, and compared runs keep their names' column
// in place. Without script, Cancel asks on a page of its own and stops
// nothing until it is answered. Screenshots go to target/screenshots/:
// phone-outputs.png, phone-versions.png, phone-tokens.png, phone-compare.png,
// nojs-cancel.png.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";

import { signedIn } from "../lib/session.mjs";
import { ADMIN } from "../lib/server.mjs";
import { shotPath } from "../lib/shots.mjs";

const WIDTH = 390;

let session;
let page;
const runs = [];

before(async () => {
  session = await signedIn({ context: { viewport: { width: 1280, height: 860 } } });
  page = session.page;
  for (const growth of ["0.02", "0.05"]) {
    await page.goto("/models/forecast/runs/new");
    await page.locator("#in-growth_rate").fill(growth);
    await page.getByRole("button", { name: "Submit run" }).click();
    await page.locator("h1 .status-succeeded").waitFor({ timeout: 60_000 });
    runs.push(Number(new URL(page.url()).pathname.split("/").pop()));
  }
  await page.goto("/account");
  await page.getByLabel("Name", { exact: true }).fill("a-rather-long-token-name-for-the-nightly-export");
  await page.getByRole("button", { name: /Create token/ }).click();
  await page.locator("table a, table button", { hasText: "Revoke" }).first().waitFor();
});

after(async () => {
  await session?.close();
});

/** A new signed-in page of the administrator in its own context. */
async function pageWith(context) {
  const opened = await session.browser.newContext({ baseURL: session.server.base, ...context });
  opened.setDefaultTimeout(20_000);
  const other = await opened.newPage();
  await other.goto("/login");
  await other.getByLabel("Email").fill(ADMIN.email);
  await other.getByLabel("Password").fill(ADMIN.password);
  await other.getByRole("button", { name: "Sign in" }).click();
  await other.getByRole("heading", { name: "Models" }).waitFor();
  return other;
}

/** The tables of the page that slide sideways, and the links and buttons in them off the screen. */
function cutOff(on) {
  return on.evaluate((width) => {
    const tables = [...document.querySelectorAll("main table")].filter(
      (table) => !table.closest(".compare-scroll, .results-scroll, .table-scroll"),
    );
    return {
      sliding: tables
        .filter((table) => table.scrollWidth > table.clientWidth + 1)
        .map((table) => `${table.id || table.className || "table"}: ${table.scrollWidth} in ${table.clientWidth}`),
      hidden: tables
        .flatMap((table) => [...table.querySelectorAll("a, button, .status, .env")])
        .filter((element) => element.getClientRects().length > 0)
        .filter((element) => element.getBoundingClientRect().right > width + 1)
        .map((element) => element.textContent.trim()),
    };
  }, WIDTH);
}

test("on a phone every table keeps its names, links and actions on the screen", async () => {
  const phone = await pageWith({ viewport: { width: WIDTH, height: 844 }, isMobile: true, hasTouch: true });
  for (const [where, name] of [
    [`/runs/${runs[0]}`, "phone-outputs"],
    ["/models/forecast", "phone-versions"],
    ["/account", "phone-tokens"],
    ["/runs", null],
    ["/admin/users", "phone-users"],
    ["/models", null],
    ["/sweeps", null],
    ["/schedules", null],
    ["/admin/tasks", null],
    ["/admin/audit", null],
    ["/admin/budgets", null],
    ["/admin/outbox", null],
  ]) {
    await phone.goto(where);
    const { sliding, hidden } = await cutOff(phone);
    assert.deepEqual(sliding, [], `${where}: tables slide sideways`);
    assert.deepEqual(hidden, [], `${where}: off the screen`);
    if (name) {
      await phone.screenshot({ path: shotPath(name), fullPage: true });
    }
  }

  // Sizes and times are one line each.
  await phone.goto(`/runs/${runs[0]}`);
  await phone.getByRole("link", { name: "Preview" }).first().waitFor();
  const size = await phone.locator("section[aria-labelledby=outputs] td.nowrap").first();
  const line = await size.evaluate((cell) => parseFloat(getComputedStyle(cell).lineHeight));
  assert.ok((await size.boundingBox()).height < line * 2 + 16, "a size is on one line");
  await phone.goto("/runs");
  // A run's time may put its day and its hour on two lines, each whole.
  for (const part of await phone.locator("table.runs time > span").all()) {
    const lines = await part.evaluate((element) => element.getClientRects().length);
    assert.equal(lines, 1, `${await part.textContent()} is on one line`);
  }

  // Compared runs: two fit; the names stay put.
  await phone.goto(`/compare?runs=${runs[0]}&runs=${runs[1]}`);
  const second = await phone.locator("#compare-grid thead a").nth(1).boundingBox();
  assert.ok(second && second.x + second.width <= WIDTH, `run #2 is on the screen: ${JSON.stringify(second)}`);
  const sticky = await phone
    .locator("#compare-grid tbody th[scope=row]")
    .first()
    .evaluate((cell) => getComputedStyle(cell).position);
  assert.equal(sticky, "sticky");
  await phone.screenshot({ path: shotPath("phone-compare"), fullPage: true });
  await phone.context().close();
});

test("without JavaScript, Cancel asks on a page and stops nothing until answered", async () => {
  const plain = await pageWith({ javaScriptEnabled: false, viewport: { width: 1000, height: 800 } });
  await plain.goto("/models/slow/runs/new");
  await plain.getByRole("button", { name: "Submit run" }).click();
  await plain.waitForURL(/\/runs\/\d+$/);
  const runPage = new URL(plain.url()).pathname;
  const id = runPage.split("/").pop();

  await plain.getByRole("button", { name: "Cancel run" }).click();
  await plain.getByRole("heading", { name: `Cancel run #${id}? Work in progress is lost.` }).waitFor();
  await plain.screenshot({ path: shotPath("nojs-cancel"), fullPage: true });
  await plain.getByRole("link", { name: "Keep it running" }).click();
  assert.equal(new URL(plain.url()).pathname, runPage);
  assert.equal(await plain.locator("h1 .status-cancelled, h1 .status-cancelling").count(), 0, "kept");

  await plain.getByRole("button", { name: "Cancel run" }).click();
  await plain.getByRole("button", { name: "Cancel the run" }).click();
  assert.equal(new URL(plain.url()).pathname, runPage);
  await plain.locator("h1 .status-cancelling, h1 .status-cancelled").waitFor();
  await plain.context().close();
});
