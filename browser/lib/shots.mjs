// Where the suite's screenshots go: target/screenshots/, and with
// UPDATE_SCREENSHOTS=1 the ones the README and docs show go to
// docs/screenshots/ instead, so one run of the suite retakes them all.

import { mkdirSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..", "..");

/** The screenshots the README and docs/ show, by name. */
export const PUBLISHED = new Set([
  "form", "run", "preview", "compare", "compare-years", "live-run", "dark",
  "phone-run", "phone-runs", "progress", "schedules", "sweep",
]);

/** The path of screenshot `name` (without `.png`), its directory made. */
export function shotPath(name) {
  const published = process.env.UPDATE_SCREENSHOTS === "1" && PUBLISHED.has(name);
  const dir = published ? path.join(root, "docs", "screenshots") : path.join(root, "target", "screenshots");
  mkdirSync(dir, { recursive: true });
  return path.join(dir, `${name}.png`);
}
