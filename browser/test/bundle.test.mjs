// The reproducibility bundle, in Chromium: an ended run's page offers it,
// and its link downloads a zip that holds the manifest, the README, the
// inputs, the outputs and the log.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

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

test("an ended run's page offers its bundle, and the download is a zip", async () => {
  await page.goto("/models/forecast/runs/new");
  await page.locator("#in-horizon_months").fill("2");
  await page.getByRole("button", { name: "Submit run" }).click();
  await page.locator("h1").filter({ hasText: "Run #" }).waitFor();
  await page.locator("h1 .status-succeeded").waitFor({ timeout: 60_000 });
  const id = Number(new URL(page.url()).pathname.split("/").pop());

  const link = page.getByRole("link", { name: "Download the reproducibility bundle" });
  assert.equal(await link.getAttribute("href"), `/runs/${id}/bundle`);
  const [download] = await Promise.all([page.waitForEvent("download", { timeout: 30_000 }), link.click()]);
  assert.equal(download.suggestedFilename(), `modelrun-run-${id}.zip`);
  const zip = readFileSync(await download.path());
  assert.equal(zip.subarray(0, 4).toString("binary"), "PK\x03\x04", "a zip's first entry");
  // Entry names are stored as they are in a zip's headers.
  const names = zip.toString("latin1");
  for (const name of ["bundle.json", "README.md", "inputs.json", "outputs/forecast.csv", "log.txt"]) {
    assert.ok(names.includes(name), `${name} is in the bundle`);
  }
});
