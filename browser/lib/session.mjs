// A signed-in Chromium page on a fresh `modelrun up`: what a browser test
// starts from. Chromium is Debian's (CHROMIUM overrides the path).

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { chromium } from "playwright-core";

import { ADMIN, startModelrun } from "./server.mjs";

export const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";

/**
 * Starts modelrun and a Chromium launched with `args`, opens a page in a
 * context with `context`'s options (locale, time zone, viewport…), fails
 * the test on any script error, and signs in as the administrator.
 * Returns `{ server, browser, page, close }`; `close()` stops both.
 */
export async function signedIn({ args = [], context = {} } = {}) {
  assert.ok(existsSync(executablePath), `no Chromium at ${executablePath}: apt-get install chromium`);
  const server = await startModelrun();
  const browser = await chromium.launch({ executablePath, args: ["--no-sandbox", ...args] });
  const opened = await browser.newContext({ ...context, baseURL: server.base });
  opened.setDefaultTimeout(20_000);
  const page = await opened.newPage();
  page.on("pageerror", (error) => assert.fail(`a script error on ${page.url()}: ${error}`));
  await page.goto("/login");
  await page.getByLabel("Email").fill(ADMIN.email);
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Models" }).waitFor();
  const close = async () => {
    await browser.close();
    await server.stop();
  };
  return { server, browser, page, close };
}
