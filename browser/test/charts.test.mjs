// Charts as a person reads them, in Debian's Chromium: two forecasts three
// years apart compared on one time axis (the years between kept), round
// and distinct y labels, a run's chart and the comparison on a 390 px phone
// (every line whole, readable, nothing scrolling sideways), and the charts
// in dark mode; a model's longest texts (a 200-character title of one word,
// 40-character units) wrapping and showing whole, on the run and compare
// pages, and a history two runs share drawn once. Screenshots go to
// target/screenshots/.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

import { signedIn } from "../lib/session.mjs";
import { shotPath } from "../lib/shots.mjs";

let session;
let page;
const runs = [];

before(async () => {
  session = await signedIn({ context: { viewport: { width: 1280, height: 900 } } });
  page = session.page;
});

after(async () => {
  await session?.close();
});

/** A screenshot of the whole page, or of the screen when `fullPage` is false. */
async function shot(name, fullPage = true) {
  await page.screenshot({ path: shotPath(name), fullPage });
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

/**
 * The phone's drawing of the chart in `figure` as the screen shows it: the
 * image's box, the text size once scaled, and each line's left and right
 * ends in page pixels (read from the image's own SVG).
 */
function narrowChart(figure) {
  return figure.evaluate((f) => {
    const img = f.querySelector("img.chart-narrow");
    const wide = f.querySelector("svg.chart");
    const box = img.getBoundingClientRect();
    const svg = new DOMParser()
      .parseFromString(atob(img.src.split(",")[1]), "image/svg+xml").documentElement;
    const scale = box.width / svg.viewBox.baseVal.width;
    const lines = [...svg.querySelectorAll("path.chart-line")].map((p) => {
      const xs = [...p.getAttribute("d").matchAll(/[ML]([\d.]+),/g)].map((m) => Number(m[1]));
      return { left: box.left + Math.min(...xs) * scale, right: box.left + Math.max(...xs) * scale };
    });
    return {
      left: box.left,
      right: box.right,
      figureRight: f.getBoundingClientRect().right,
      wideShown: getComputedStyle(wide).display !== "none",
      textPx: Number(svg.getAttribute("font-size")) * scale,
      legend: [...svg.querySelectorAll(".chart-legend")].map((t) => t.textContent),
      ticks: [...svg.querySelectorAll(".chart-x")].map((t) => t.textContent),
      lines,
      alt: img.alt,
    };
  });
}

test("on a phone every line shows whole, in readable text, without scrolling sideways", async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  for (const [where, name, count] of [
    [`/runs/${runs[0]}`, "chart-phone", 1],
    [`/compare?runs=${runs.join(",")}`, "compare-phone", 2],
  ]) {
    await page.goto(where);
    const figure = page.locator("figure.chart").first();
    await figure.locator("img.chart-narrow").waitFor();
    const chart = await narrowChart(figure);
    assert.equal(chart.wideShown, false, `${where}: the wide drawing is left out`);
    assert.ok(chart.left >= 0 && chart.right <= chart.figureRight && chart.figureRight <= 390,
      `${where}: the chart fits the screen (${chart.left}–${chart.right})`);
    assert.ok(chart.textPx >= 10, `${where}: its text reads at ${chart.textPx.toFixed(1)}px`);
    assert.equal(chart.lines.length, count, `${where}: every line drawn`);
    assert.equal(chart.legend.length, count, `${where}: one legend line each`);
    for (const line of chart.lines) {
      assert.ok(line.left >= chart.left && line.right <= chart.right,
        `${where}: a line runs whole inside the chart (${line.left}–${line.right})`);
    }
    assert.ok(chart.ticks.length >= 2 && chart.ticks.length <= 5, `${where}: few x ticks: ${chart.ticks}`);
    assert.match(chart.alt, /from \d{4}-\d{2} to \d{4}-\d{2}/, "the image says what it shows");
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `${where}: the page does not scroll sideways (by ${overflow}px)`);
    const scrolls = await figure.evaluate((f) => f.scrollWidth > f.clientWidth);
    assert.equal(scrolls, false, `${where}: nor does the chart's box`);
    await figure.evaluate((f) => f.scrollIntoView({ block: "center" }));
    await shot(name, false);
  }
  // The run's outputs table shows every column: it fits, or scrolls in its own box.
  await page.goto(`/runs/${runs[0]}`);
  const outputs = await page.locator("section[aria-labelledby=outputs] table").evaluate((table) => {
    const box = table.getBoundingClientRect();
    return {
      right: box.right,
      scrolls: table.scrollWidth > table.clientWidth && getComputedStyle(table).overflowX === "auto",
    };
  });
  assert.ok(outputs.right <= 390, `the outputs table is not cut off (right edge ${outputs.right}, scrolls: ${outputs.scrolls})`);
  await page.goto(`/compare?runs=${runs.join(",")}`);
  const compare = await narrowChart(page.locator("figure.chart").first());
  assert.ok(compare.lines[1].right > compare.lines[0].right + 100, "the 2030 run sits right of the 2027 one");
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

  // The phone's drawing, an image, turns about as a whole.
  await page.setViewportSize({ width: 390, height: 844 });
  const filter = await page.locator("figure.chart img.chart-narrow").first()
    .evaluate((img) => getComputedStyle(img).filter);
  assert.match(filter, /invert\(1\)/, `the narrow chart is drawn light on dark (${filter})`);
  await page.locator("figure.chart").first().evaluate((f) => f.scrollIntoView({ block: "center" }));
  await shot("chart-dark-phone", false);
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.emulateMedia({ colorScheme: "light" });
});

/** A chart title of 200 characters and no space, and units of 40: the longest a manifest allows. */
const LONG_TITLE = `Revenue${"X".repeat(193)}`;
const LONG_UNITS = "thousands of euros per household at 2027";
const LONG = `name = "longtext"
title = "Long texts"
description = "Declares a chart with the longest title and units a manifest allows."
command = ["python3", "-c", '''
import os
out = os.environ["MODELRUN_OUTPUT_DIR"]
run = int(os.environ["MODELRUN_RUN_ID"])
open(os.path.join(out, "history.csv"), "w").write("month,revenue\\n2026-11,100\\n2026-12,110\\n")
open(os.path.join(out, "forecast.csv"), "w").write(f"month,forecast\\n2027-01,{120 + run}\\n2027-02,{130 + run}\\n")
''']
[inputs]
type = "object"
[[outputs.charts]]
file = "history.csv"
x = "month"
title = "${LONG_TITLE}"
units = "${LONG_UNITS}"
series = [
  { column = "revenue", label = "Actual" },
  { file = "forecast.csv", column = "forecast", label = "Forecast" },
]
`;

/** How far the page scrolls sideways, in px. */
function sideways() {
  return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}

/** The units above a chart's y axis: their text and whether they sit inside the drawing. */
function units(figure) {
  return figure.locator("svg.chart .chart-units").evaluate((text) => {
    const box = text.getBoundingClientRect();
    const svg = text.ownerSVGElement.getBoundingClientRect();
    return { text: text.textContent, inside: box.left >= svg.left - 1 && box.right <= svg.right + 1 };
  });
}

test("the longest title wraps and the longest units show whole, on a desktop and a phone", async () => {
  const dir = path.join(session.server.dataDir, "longtext-model");
  mkdirSync(dir);
  writeFileSync(path.join(dir, "modelrun.toml"), LONG);
  session.server.cli(["models", "register", dir]);
  const ids = [];
  for (const _ of [1, 2]) {
    await page.goto("/models/longtext/runs/new");
    await page.getByRole("button", { name: "Submit run" }).click();
    await page.locator("h1 .status-succeeded").waitFor({ timeout: 60_000 });
    ids.push(Number(new URL(page.url()).pathname.split("/").pop()));
  }
  const heading = page.getByRole("heading", { name: LONG_TITLE });
  await heading.waitFor();
  const right = await heading.evaluate((h) => h.getBoundingClientRect().right);
  assert.ok(right <= 1280, `the title wraps inside the screen (right edge ${right})`);
  assert.ok(await sideways() <= 1, `the run page does not scroll sideways (by ${await sideways()}px)`);
  const figure = page.locator("section", { has: heading }).locator("figure.chart");
  const shown = await units(figure);
  assert.equal(shown.text, LONG_UNITS, "the units whole");
  assert.ok(shown.inside, "inside the drawing");
  await figure.evaluate((f) => f.scrollIntoView({ block: "center" }));
  await shot("chart-long-texts", false);

  await page.goto(`/compare?runs=${ids.join(",")}`);
  const compare = page.locator("figure.chart").first();
  const legend = await compare.locator("svg.chart .chart-legend").allTextContents();
  assert.deepEqual(
    legend,
    ["Actual", `#${ids[0]}: Forecast`, `#${ids[1]}: Forecast`],
    "the shared history once, each run's forecast",
  );
  assert.equal((await units(compare)).text, LONG_UNITS);
  assert.ok(await sideways() <= 1, "the compare page does not scroll sideways");

  await page.setViewportSize({ width: 390, height: 844 });
  for (const where of [`/runs/${ids[0]}`, `/compare?runs=${ids.join(",")}`, "/models/longtext"]) {
    await page.goto(where);
    assert.ok(await sideways() <= 1, `${where} on a phone does not scroll sideways (by ${await sideways()}px)`);
  }
  await page.goto(`/runs/${ids[0]}`);
  const narrow = await page.locator("figure.chart img.chart-narrow").first().evaluate((img) => {
    const svg = atob(img.src.split("base64,")[1]);
    return new DOMParser().parseFromString(svg, "image/svg+xml").querySelector(".chart-units").textContent;
  });
  assert.equal(narrow, LONG_UNITS, "the phone's drawing shows the units whole");
  await page.setViewportSize({ width: 1280, height: 900 });
});
