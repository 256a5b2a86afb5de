// Every role, a phone and the dark, in Debian's Chromium: a viewer meets no
// button that ends in a refusal; Cancel (a run's and a sweep's) asks first
// with a plain click, even after the page has refreshed itself; the runs
// filter keeps each label beside its box, takes days typed YYYY-MM-DD and
// folds away on a phone, where the runs table still shows each status; and
// the whole app is dark when the system is. Screenshots go to
// target/screenshots/: dark.png, phone-runs.png, phone-run.png.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";

import { signedIn } from "../lib/session.mjs";
import { shotPath } from "../lib/shots.mjs";

const VIEWER = { email: "vera@localhost", password: "viewer-password-for-tests" };

let session;
let page;
let runId;

before(async () => {
  session = await signedIn({ context: { viewport: { width: 1280, height: 860 } } });
  page = session.page;
  // An administrator makes a viewer's account, as on the Users page.
  await page.goto("/admin/users");
  await page.getByLabel("Email", { exact: true }).fill(VIEWER.email);
  await page.getByLabel("Role", { exact: true }).selectOption("viewer");
  await page.getByLabel("Password", { exact: true }).fill(VIEWER.password);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByText(`The account ${VIEWER.email} is created.`).waitFor();
  // One finished run for every page to show.
  await page.goto("/models/forecast/runs/new");
  await page.getByRole("button", { name: "Submit run" }).click();
  await page.locator("h1 .status-succeeded").waitFor({ timeout: 60_000 });
  runId = Number(new URL(page.url()).pathname.split("/").pop());
});

after(async () => {
  await session?.close();
});

async function shot(on, name) {
  await on.screenshot({ path: shotPath(name), fullPage: true });
}

/** A new signed-in page of `who`, in its own context (its own cookies). */
async function pageOf(who, context = {}) {
  const opened = await session.browser.newContext({ baseURL: session.server.base, ...context });
  opened.setDefaultTimeout(20_000);
  const other = await opened.newPage();
  other.on("pageerror", (error) => assert.fail(`a script error on ${other.url()}: ${error}`));
  await other.goto("/login");
  await other.getByLabel("Email").fill(who.email);
  await other.getByLabel("Password").fill(who.password);
  await other.getByRole("button", { name: "Sign in" }).click();
  await other.getByRole("heading", { name: "Models" }).waitFor();
  return other;
}

/** Every link and form of the page: what a click on it would ask for. */
function offers(on) {
  return on.evaluate(() => ({
    links: [...document.querySelectorAll("a[href]")]
      .map((a) => new URL(a.href, location.href))
      .filter((url) => url.origin === location.origin && !url.hash)
      .map((url) => url.pathname + url.search),
    forms: [...document.querySelectorAll("form")].map((form) => ({
      method: (form.getAttribute("method") || "get").toLowerCase(),
      action: new URL(form.action, location.href).pathname,
      fields: Object.fromEntries(
        [...new FormData(form)].filter(([, value]) => typeof value === "string"),
      ),
    })),
  }));
}

test("a viewer is offered nothing that ends in a refusal", async () => {
  const viewer = await pageOf(VIEWER);
  await viewer.goto("/models/forecast");
  const version = await viewer
    .locator("a[href^='/models/forecast/versions/']")
    .first()
    .getAttribute("href");
  const asked = [];
  for (const where of ["/models", "/models/forecast", version, `/runs/${runId}`, "/runs"]) {
    await viewer.goto(where);
    for (const word of ["New run", "Run again", "Cancel run", "Retire", "Users"]) {
      assert.equal(
        await viewer.getByRole("link", { name: word, exact: true }).count() +
          (await viewer.getByRole("button", { name: word, exact: true }).count()),
        0,
        `${where} offers ${word} to a viewer`,
      );
    }
    const { links, forms } = await offers(viewer);
    for (const link of links) {
      asked.push({ where, method: "get", target: link });
    }
    for (const form of forms.filter((form) => form.action !== "/logout")) {
      const query = new URLSearchParams(form.fields).toString();
      asked.push({
        where,
        method: form.method,
        target: form.method === "get" ? `${form.action}?${query}` : form.action,
        fields: form.fields,
      });
    }
  }
  assert.ok(asked.length > 20, `links and forms were found (${asked.length})`);
  const seen = new Set();
  for (const { where, method, target, fields } of asked) {
    if (seen.has(`${method} ${target}`)) continue;
    seen.add(`${method} ${target}`);
    const response =
      method === "get"
        ? await viewer.request.get(target, { maxRedirects: 0 })
        : await viewer.request.post(target, {
            form: fields,
            headers: { origin: session.server.base },
            maxRedirects: 0,
          });
    assert.notEqual(response.status(), 403, `${method.toUpperCase()} ${target} (offered on ${where}) is refused`);
  }
  await viewer.context().close();
});

test("the runs filter keeps each label by its box and takes days typed YYYY-MM-DD", async () => {
  await page.goto("/runs");
  const filters = page.locator("#runs-filters");
  assert.equal(await filters.evaluate((details) => details.open), true, "open on a wide screen");
  for (const filter of await page.locator("#runs-filters .filter:has(label)").all()) {
    const label = await filter.locator("label").boundingBox();
    const box = await filter.locator("input, select").boundingBox();
    assert.ok(label && box, "the label and its box are shown");
    const middle = (rect) => rect.y + rect.height / 2;
    assert.ok(Math.abs(middle(label) - middle(box)) < 6, `label and box on one line: ${JSON.stringify([label, box])}`);
    assert.ok(label.x < box.x, "the label comes first");
  }
  const today = await page.evaluate(() => new Date().toLocaleDateString("sv-SE"));
  assert.equal(await page.getByLabel("From").getAttribute("placeholder"), "YYYY-MM-DD");
  await page.getByLabel("From").fill(today);
  await page.getByLabel("To").fill(today);
  await page.getByRole("button", { name: "Filter" }).click();
  await page.waitForURL(/from=\d{4}-\d{2}-\d{2}/);
  assert.equal(await page.getByLabel("From").inputValue(), today, "the day stays as typed");
  await page.locator(`table.runs a[href="/runs/${runId}"]`).waitFor();

  // The browser's own style of date is stopped in the form, and named by the server.
  await page.getByLabel("From").fill("12/01/2026");
  await page.getByRole("button", { name: "Filter" }).click();
  assert.equal(await page.getByLabel("From").evaluate((box) => box.matches(":invalid")), true);
  const refused = await page.goto("/runs?from=12%2F01%2F2026");
  assert.equal(refused.status(), 400);
  await page.locator("#filter-error").filter({ hasText: "from must be a day written YYYY-MM-DD" }).waitFor();
  assert.equal(await page.getByLabel("From").inputValue(), "12/01/2026", "what was typed stays to be mended");
});

test("on a phone the filters fold away and every page fits the screen", async () => {
  const phone = await pageOf(
    { email: "admin@localhost", password: "browser-test-password" },
    { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true },
  );
  await phone.goto("/runs");
  assert.equal(await phone.locator("#runs-filters").evaluate((details) => details.open), false, "folded");
  const status = await phone.locator("table.runs thead th", { hasText: "Status" }).boundingBox();
  assert.ok(status, "the Status column is shown");
  assert.ok(status.x >= 0 && status.x + status.width <= 390, `Status fits across: ${JSON.stringify(status)}`);
  assert.ok(status.y + status.height <= 844, `Status is on the first screen: ${JSON.stringify(status)}`);
  await shot(phone, "phone-runs");
  await phone.goto("/runs?status=succeeded");
  assert.equal(await phone.locator("#runs-filters").evaluate((details) => details.open), true, "open when a filter is set");
  for (const where of ["/models", "/models/forecast", "/models/forecast/runs/new", "/runs", `/runs/${runId}`, "/account", "/admin/users"]) {
    await phone.goto(where);
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `${where} fits a phone (overflows by ${overflow}px)`);
  }
  await phone.goto(`/runs/${runId}`);
  await shot(phone, "phone-run");
  await phone.context().close();
});

test("the app is dark when the system is, and still readable", async () => {
  await page.emulateMedia({ colorScheme: "dark" });
  await page.goto(`/runs/${runId}`);
  const colours = await page.evaluate(() => {
    const rgb = (text) => text.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number);
    const luminance = (text) => {
      const [r, g, b] = rgb(text).map((v) => {
        const c = v / 255;
        return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const contrast = (a, b) => {
      const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
      return (hi + 0.05) / (lo + 0.05);
    };
    // The first ground behind an element that is not transparent.
    const ground = (element) => {
      for (let at = element; at; at = at.parentElement) {
        const colour = getComputedStyle(at).backgroundColor;
        if (!/rgba\(.*, 0\)$/.test(colour)) return colour;
      }
      return "rgb(255, 255, 255)";
    };
    const pair = (selector) => {
      const element = document.querySelector(selector);
      return element ? contrast(getComputedStyle(element).color, ground(element)) : null;
    };
    return {
      body: luminance(getComputedStyle(document.body).backgroundColor),
      text: pair("main h1"),
      link: pair("main a[href]"),
      status: pair("h1 .status"),
      cell: pair("main table td"),
      muted: pair("main .muted"),
      log: pair("pre.log"),
    };
  });
  assert.ok(colours.body < 0.05, `the page's ground is dark (luminance ${colours.body})`);
  for (const [what, ratio] of Object.entries(colours)) {
    if (what === "body" || ratio === null) continue;
    assert.ok(ratio >= 4.5, `${what} reads at ${ratio.toFixed(2)}:1 on its ground`);
  }
  await page.goto("/runs");
  const field = await page.getByLabel("Version").evaluate((box) => getComputedStyle(box).backgroundColor);
  assert.notEqual(field, "rgb(255, 255, 255)", "form fields are dark too");
  await page.goto(`/runs/${runId}`);
  await shot(page, "dark");
  await page.emulateMedia({ colorScheme: "light" });
});

/** Submits the slow model, which runs until cancelled, and returns its page's URL. */
async function slowRun() {
  await page.goto("/models/slow/runs/new");
  await page.getByRole("button", { name: "Submit run" }).click();
  await page.locator("h1 .status-running").waitFor({ timeout: 60_000 });
  return page.url();
}

/** Waits until the page's live part has been replaced by a refresh. */
async function refreshed() {
  await page.evaluate(() => {
    document.querySelector("#run-live").firstElementChild.dataset.before = "yes";
  });
  await page.waitForFunction(() => !document.querySelector("#run-live [data-before]"));
}

test("Cancel asks first, with a plain click, for a sweep and for a run", async () => {
  const slow = await slowRun();
  const slowId = new URL(slow).pathname.split("/").pop();

  // One run at a time on this server: a sweep waits behind the slow run.
  await page.goto("/models/forecast/runs/new");
  const growth = page.locator("#vary-growth_rate");
  await growth.locator("summary").click();
  await growth.getByLabel("From").fill("0.02");
  await growth.getByLabel("To").fill("0.03");
  await growth.getByLabel("Step").fill("0.01");
  await page.getByRole("button", { name: "Submit sweep (2 runs)" }).click();
  await page.getByRole("heading", { name: /^Sweep #\d+ of forecast/ }).waitFor();
  const sweepId = new URL(page.url()).pathname.split("/").pop();
  await refreshed();
  let asked = "";
  page.once("dialog", (dialog) => {
    asked = dialog.message();
    dialog.dismiss();
  });
  await page.getByRole("button", { name: "Cancel sweep" }).click();
  assert.match(asked, new RegExp(`^Cancel sweep #${sweepId}\\?`));
  await page.waitForTimeout(1000);
  await page.reload();
  assert.equal(await page.locator("#sweep-status.status-cancelled").count(), 0, "dismissed: the sweep goes on");
  await page.getByRole("button", { name: "Cancel sweep" }).waitFor();
  page.once("dialog", (dialog) => dialog.accept());
  await page.getByRole("button", { name: "Cancel sweep" }).click();
  await page.locator("#sweep-cancelled").waitFor();

  await page.goto(slow);
  await refreshed();
  page.once("dialog", (dialog) => {
    asked = dialog.message();
    dialog.dismiss();
  });
  await page.getByRole("button", { name: "Cancel run" }).click();
  assert.match(asked, new RegExp(`^Cancel run #${slowId}\\?`));
  await page.waitForTimeout(1000);
  await page.reload();
  await page.locator("h1 .status-running").waitFor();
  page.once("dialog", (dialog) => dialog.accept());
  await page.getByRole("button", { name: "Cancel run" }).click();
  await page.locator("h1 .status-cancelled").waitFor({ timeout: 30_000 });
});
