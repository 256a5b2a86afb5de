// Charts as a person reads them, in Debian's Chromium: two forecasts three
// years apart compared on one time axis (the years between kept), round
// and distinct y labels, a run's chart on a 390 px phone (readable, and
// scrolling in its own box rather than the page), and the charts in dark
// mode. Screenshots go to target/screenshots/.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import path from "node:path";

import { signedIn } from "../lib/session.mjs";

const root = path.resolve(import.meta.dirname, "..", "..");
const shots = path.join(root, "target", "screenshots");

let session;
let page;
const runs = [];

before(async () => {
  mkdirSync(shots, { recursive: true });
  session = await signedIn({ context: { viewport: { width: 1280, height: 900 } } });
  page = session.page;
});

after(async () => {
  await session?.close();
});

/** A screenshot of the whole page, or of the screen when `fullPage` is false. */
async function shot(name, fullPage = true) {
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage });
}

/** Runs the forecast from `start` for `months` and waits for it to succeed; its id. */
async function forecast(start, months) {
  await page.goto("/models/forecast/runs/new");
  await page.locator("#in-start_month").fill(start);
  await page.locator("#in-horizon_months").fill(String(months));
  await page.getByRole("button", { name: "Submit run" }).click();
  await page.locator("h1 .status-succeeded").waitFor({ timeout: 60_000 });
  const match = new URL(page.url()).pathname.match(/^\/runs\/(\d+)$/);
  assert.ok(match, `on a run page: ${page.url()}`);
  return Number(match[1]);
}

/** The texts and centres (in page pixels) of a chart's elements of `selector`. */
function placed(selector) {
  return page.locator(selector).evaluateAll((elements) =>
    elements.map((e) => {
      const box = e.getBoundingClientRect();
      return { text: e.textContent, x: box.left + box.width / 2, left: box.left, right: box.right };
    }));
}

test("runs three years apart compare on a time axis that keeps the years between", async () => {
  runs.push(await forecast("2027-01", 12));
  runs.push(await forecast("2030-01", 12));
  await page.goto(`/compare?runs=${runs.join(",")}`);
  const svg = page.locator("figure.chart svg");
  await svg.waitFor();

  const years = await placed("figure.chart .chart-x");
  assert.deepEqual(years.map((t) => t.text), ["2027", "2028", "2029", "2030"], "year ticks, none skipped");
  const gaps = years.slice(1).map((t, i) => t.x - years[i].x);
  for (const gap of gaps) {
    assert.ok(Math.abs(gap - gaps[0]) < 2, `years evenly apart: ${gaps}`);
  }
  for (let i = 1; i < years.length; i++) {
    assert.ok(years[i].left > years[i - 1].right, `"${years[i - 1].text}" and "${years[i].text}" do not overlap`);
  }

  // Each run's line spans its own year: the years between are empty.
  const lines = await page.locator("figure.chart path.chart-line").evaluateAll((paths) =>
    paths.map((p) => {
      const box = p.getBoundingClientRect();
      return { left: box.left, right: box.right };
    }));
  assert.equal(lines.length, 2);
  assert.ok(lines[0].right < years[1].x, "the 2027 run ends before 2028");
  assert.ok(lines[1].left >= years[3].x - 1, "the 2030 run starts at 2030");

  const yLabels = (await placed("figure.chart .chart-y")).map((t) => t.text);
  assert.ok(yLabels.length >= 3, `y ticks: ${yLabels}`);
  assert.equal(new Set(yLabels).size, yLabels.length, `distinct y labels: ${yLabels}`);
  await shot("compare-years");
});

test("on a phone the chart keeps a readable size and scrolls in its own box", async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`/runs/${runs[0]}`);
  const figure = page.locator("figure.chart").first();
  await figure.waitFor();
  const sizes = await figure.evaluate((f) => {
    const svg = f.querySelector("svg");
    const text = f.querySelector("svg .chart-text");
    const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    return {
      figure: f.getBoundingClientRect().right,
      clientWidth: f.clientWidth,
      scrollWidth: f.scrollWidth,
      overflowX: getComputedStyle(f).overflowX,
      svgWidth: svg.getBoundingClientRect().width,
      textPx: parseFloat(getComputedStyle(text).fontSize) * scale,
    };
  });
  assert.ok(sizes.figure <= 390, `the chart's box fits the screen (right edge ${sizes.figure})`);
  assert.ok(sizes.svgWidth >= 600, `the chart keeps its width (${sizes.svgWidth}px)`);
  assert.ok(sizes.textPx >= 10.5, `its text reads at ${sizes.textPx.toFixed(1)}px`);
  assert.equal(sizes.overflowX, "auto");
  assert.ok(sizes.scrollWidth > sizes.clientWidth, "it scrolls sideways in its box");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `the page does not scroll sideways (by ${overflow}px)`);

  // The outputs table shows every column: it fits, or scrolls in its own box.
  const outputs = await page.locator("section[aria-labelledby=outputs] table").evaluate((table) => {
    const box = table.getBoundingClientRect();
    return {
      right: box.right,
      scrolls: table.scrollWidth > table.clientWidth && getComputedStyle(table).overflowX === "auto",
    };
  });
  assert.ok(outputs.right <= 390, `the outputs table is not cut off (right edge ${outputs.right}, scrolls: ${outputs.scrolls})`);
  await figure.evaluate((f) => f.scrollIntoView({ block: "center" }));
  await shot("chart-phone", false);
  await page.setViewportSize({ width: 1280, height: 900 });
});

test("in dark mode the chart's text, grid and box are drawn for a dark page", async () => {
  await page.emulateMedia({ colorScheme: "dark" });
  await page.goto(`/compare?runs=${runs.join(",")}`);
  await page.locator("figure.chart svg").waitFor();
  const colours = await page.evaluate(() => {
    const lightness = (colour) => {
      const [r, g, b] = colour.match(/\d+(\.\d+)?/g).map(Number);
      return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
    };
    const style = (selector) => getComputedStyle(document.querySelector(selector));
    return {
      text: lightness(style("figure.chart .chart-text").fill),
      legend: lightness(style("figure.chart .chart-legend").fill),
      grid: lightness(style("figure.chart .chart-grid").stroke),
      box: lightness(style("figure.chart").backgroundColor),
    };
  });
  assert.ok(colours.box < 0.2, `the chart's box is dark (${colours.box})`);
  assert.ok(colours.text > 0.7, `its tick labels are light (${colours.text})`);
  assert.ok(colours.legend > 0.7, `its legend is light (${colours.legend})`);
  assert.ok(colours.grid < 0.35 && colours.grid > colours.box, `its grid is faint (${colours.grid})`);
  await shot("chart-dark");
  await page.emulateMedia({ colorScheme: "light" });
});
