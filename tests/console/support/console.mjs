// What every spec shares: screenshots, the axe scan of each page visited, and the demo's people.
import fs from "node:fs";
import path from "node:path";
import AxeBuilder from "@axe-core/playwright";
import { expect } from "@playwright/test";
import { AXE_SCANS, SCREENSHOTS } from "./paths.mjs";

export const WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"];

/** The desk's URL whose loyalty service is stopped (tests/console/run's second server). */
export const STOPPED_LOYALTY_CONSOLE_URL = process.env.STOPPED_LOYALTY_CONSOLE_URL;

/** services/rapport/src/demo.rs: who the demo seeds, and in which currency. */
export const DEMO = {
  inHardship: "Ștefan Ionescu", // RON account 35 days late, case, plan, promise, breathing space
  withOptions: "José García Márquez", // EUR account 65 days late, case with options waiting
  noCase: "Emily Johnson", // USD account 20 days late, no case yet
  inGbp: "Oliver Smith", // GBP account, up to date, no case: the SFS trigger figures are in GBP
  han: "李雷",
  greek: "Αλέξανδρος Παπαδόπουλος",
  cyrillic: "Дмитрий Иванов",
  arabic: "محمد علي",
  /** Every customer the demo seeds. */
  everyone: [
    "Ana Popescu",
    "Ștefan Ionescu",
    "Oliver Smith",
    "Siobhán Ní Bhriain",
    "José García Márquez",
    "李雷",
    "Αλέξανδρος Παπαδόπουλος",
    "Дмитрий Иванов",
    "محمد علي",
    "Emily Johnson",
    "Tomasz Wójcik",
  ],
};

/** A screenshot as results/screenshots/NN-step.png: the full page, or only the window. */
export async function shot(page, step, { fullPage = true } = {}) {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${step}.png`);
  await page.screenshot({ path: file, fullPage });
  return file;
}

/**
 * axe-core on the page as it is now (WCAG 2.0 A/AA, 2.1 AA, 2.2 AA). Every finding is kept for
 * the summary; serious and critical ones fail the test (softly: the flow goes on and is seen).
 */
export async function scan(page, step) {
  const { violations } = await new AxeBuilder({ page }).withTags(WCAG_TAGS).analyze();
  const kept = violations.map(({ id, impact, help, nodes }) => ({
    id,
    impact,
    help,
    nodes: nodes.length,
    targets: nodes.slice(0, 5).map((node) => node.target.join(" ")),
  }));
  fs.appendFileSync(AXE_SCANS, JSON.stringify({ step, url: page.url(), violations: kept }) + "\n");
  const blocking = kept.filter(({ impact }) => impact === "serious" || impact === "critical");
  expect
    .soft(blocking, `axe-core on ${step} (${page.url()}): serious or critical violations`)
    .toEqual([]);
  return kept;
}

/** Each page an agent sees: a screenshot, an axe scan, and no script (the console has none). */
export async function checkpoint(page, step) {
  await shot(page, step);
  await scan(page, step);
  expect.soft(await page.locator("script").count(), `${step}: the console serves no JavaScript`).toBe(0);
}

/** The element that has the keyboard focus now, described for messages. */
export async function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return { tag: "body", text: "" };
    const style = getComputedStyle(el);
    return {
      tag: el.tagName.toLowerCase(),
      text: (el.getAttribute("aria-label") || el.textContent || el.getAttribute("name") || "").trim().slice(0, 80),
      href: el.getAttribute("href"),
      outlineWidth: parseFloat(style.outlineWidth) || 0,
      outlineStyle: style.outlineStyle,
      boxShadow: style.boxShadow,
    };
  });
}

/** Presses Tab until `matches(focused)` or `limit` presses; returns the focused element. */
export async function tabTo(page, matches, limit = 60) {
  for (let i = 0; i < limit; i += 1) {
    await page.keyboard.press("Tab");
    const now = await focused(page);
    if (matches(now)) return now;
  }
  throw new Error(`no element matched after ${limit} Tab presses`);
}

/**
 * The characters of `locator`'s text that render as the "no glyph" box in its own font: each is
 * drawn on a canvas and compared with a private-use character no font has.
 */
export async function missingGlyphs(locator) {
  return locator.evaluate((el) => {
    const style = getComputedStyle(el);
    const canvas = document.createElement("canvas");
    canvas.width = 64;
    canvas.height = 64;
    const context = canvas.getContext("2d", { willReadFrequently: true });
    context.font = `32px ${style.fontFamily}`;
    const draw = (text) => {
      context.clearRect(0, 0, 64, 64);
      context.fillText(text, 8, 44);
      return Array.from(context.getImageData(0, 0, 64, 64).data).join(",");
    };
    const none = draw("\u{10FFFD}");
    return Array.from(el.textContent.trim()).filter((c) => c.trim() && draw(c) === none);
  });
}

/** Searches by name on the Find page and returns the result link for `expected`. */
export async function search(page, query, expected) {
  await page.goto("/");
  await page.getByLabel("Name", { exact: true }).fill(query);
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page.getByRole("heading", { level: 2, name: "Results" })).toBeVisible();
  return page.getByTestId("search-results").getByRole("link", { name: expected, exact: true });
}

/** The overview's URL (/customers/{id}) of the demo customer `name`, found by searching for `query`. */
export async function overviewUrl(page, query, name) {
  const link = await search(page, query, name);
  await expect(link).toHaveCount(1);
  return new URL(await link.getAttribute("href"), page.url()).pathname;
}

/** Opens the overview of the demo customer `name`. */
export async function openOverview(page, name, query = name) {
  const url = await overviewUrl(page, query, name);
  await page.goto(url);
  await expect(page.getByTestId("customer-name")).toHaveText(name);
  return url;
}
