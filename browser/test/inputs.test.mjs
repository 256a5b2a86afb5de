// What the form submits is what the person saw, in a German-locale
// Chromium: a decimal comma typed into a number box reaches the model as
// the number it reads as, and a required choice nobody made is refused.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";

import { signedIn } from "../lib/session.mjs";

let session;
let page;

before(async () => {
  session = await signedIn({ args: ["--lang=de-DE"], context: { locale: "de-DE" } });
  page = session.page;
});

after(async () => {
  await session?.close();
});

test("a decimal comma typed in a German browser is read as a decimal", async () => {
  assert.equal(await page.evaluate(() => navigator.language), "de-DE");
  await page.goto("/models/forecast/runs/new");
  const revenue = page.locator("#in-base_revenue");
  await revenue.fill("");
  // Typed key by key, as a person does: the browser's own number handling
  // is what once dropped the comma.
  await revenue.pressSequentially("100000,50");
  await page.getByRole("button", { name: "Submit run" }).click();
  await page.locator("h1").filter({ hasText: "Run #" }).waitFor();
  const id = new URL(page.url()).pathname.split("/").pop();

  await page.goto(`/models/forecast/runs/new?from=${id}`);
  assert.equal(
    await page.locator("#in-base_revenue").inputValue(),
    "100000.5",
    "the run got 100000.5, not 10000050",
  );

  await page.locator("#in-base_revenue").fill("1.234,5");
  await page.getByRole("button", { name: "Submit run" }).click();
  await page.locator("#err-base_revenue").waitFor();
  assert.match(
    await page.locator("#err-base_revenue").innerText(),
    /^Base monthly revenue has more than one separator/,
  );
});

test("a required choice without a default starts empty and is refused empty", async () => {
  await page.goto("/models/choice/runs/new");
  const plan = page.locator("#in-plan");
  assert.equal(await plan.inputValue(), "", "nothing is chosen for the person");
  assert.equal(await plan.locator("option:checked").innerText(), "Choose…");
  // The browser refuses it first; without its check, the server does.
  assert.equal(await plan.evaluate((select) => select.validity.valueMissing), true);
  await page.evaluate(() => { document.querySelector("form.run-form").noValidate = true; });
  await page.getByRole("button", { name: "Submit run" }).click();
  await page.locator("#err-plan").waitFor();
  assert.equal(await page.locator("#err-plan").innerText(), "Plan is required.");

  await page.locator("#in-plan").selectOption("high");
  await page.getByRole("button", { name: "Submit run" }).click();
  await page.locator("h1").filter({ hasText: "Run #" }).waitFor();
});
