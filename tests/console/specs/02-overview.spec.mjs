// Overview: what the agent must know before speaking comes first; protections cannot be missed;
// money in the customer's currency and locale; a desk whose loyalty service is stopped says so.
import { test, expect } from "@playwright/test";
import { DEMO, STOPPED_LOYALTY_CONSOLE_URL, checkpoint, openOverview } from "../support/console.mjs";

/** ISO 4217 minor-unit exponents of the currencies a demo may use. */
const EXPONENT = { JPY: 0, KRW: 0, CLP: 0, ISK: 0, VND: 0, KWD: 3, BHD: 3, OMR: 3, JOD: 3, TND: 3 };
const exponent = (code) => EXPONENT[code] ?? 2;

/** "8.500,00 RON", "USD 3,100.00", "JPY 1,500,000" → { code, decimals }. */
function moneyParts(text) {
  const match = text.trim().match(/^(?:([A-Z]{3})\s)?([\d.,\u00a0\u202f’٬٫٠-٩]+)(?:\s([A-Z]{3}))?$/u);
  if (!match) return null;
  const code = match[1] ?? match[3];
  const number = match[2];
  const mark = /[,.٫](\d+)$/u.exec(number);
  // A trailing group of exactly three digits after the only separator is grouping, not decimals,
  // when the currency has no minor unit.
  const decimals = mark && !(exponent(code) === 0 && mark[1].length === 3) ? mark[1].length : 0;
  return { code, decimals };
}

test("Ștefan's overview: may we call and the next best action first, then his protection", async ({ page }) => {
  await openOverview(page, DEMO.inHardship, "stefan");
  const main = page.locator("main");
  const sectionOrder = await main.locator(":scope > section").evaluateAll((sections) =>
    sections.map((s) => s.getAttribute("data-testid")),
  );
  expect(sectionOrder.slice(0, 3), "the first sections, in order").toEqual(["may-we-call", "next-best-action", "protections"]);
  expect(sectionOrder).toEqual(
    expect.arrayContaining(["accounts", "hardship-cases", "plans", "promises", "loyalty", "follow-ups", "commitments", "referrals"]),
  );
  await expect(page.getByRole("heading", { level: 2, name: "May we call now?" })).toBeVisible();
  await expect(page.getByTestId("call-answer")).toHaveText(/^(Yes|No) — /);
  await expect(page.getByTestId("next-best-action").locator(".answer")).toBeVisible();

  // The demo gave him a breathing space: a one-line alert under his name says so in words, in the
  // first screen at 1280×800.
  const line = page.getByTestId("protection-banner");
  await expect(line).toHaveAttribute("role", "alert");
  await expect(line).toContainText(/^Protected customer: .*Breathing space/u);
  const lineBox = await line.boundingBox();
  expect(lineBox.y + lineBox.height, "the protection line is on the first screen").toBeLessThan(800);

  // The full section is an alert too and says so in its heading (how far down the page it starts
  // is noted).
  const protections = page.getByTestId("protections");
  await expect(protections).toHaveAttribute("role", "alert");
  await expect(protections.getByRole("heading", { level: 2 })).toHaveText(/^Protected customer: /);
  await expect(protections).toContainText("Breathing space");
  await expect(protections).toBeVisible();
  const box = await protections.boundingBox();
  test.info().annotations.push({
    type: "protections",
    description: `the protections section starts ${Math.round(box.y)} px down the page (the window is 800 px high)`,
  });

  // Everything else the demo seeded for him.
  await expect(page.getByTestId("account")).toHaveCount(1);
  await expect(page.getByTestId("plans").locator("article")).toHaveCount(1);
  await expect(page.getByTestId("promises").locator("li")).not.toHaveCount(0);
  await expect(page.getByTestId("follow-ups").locator("li")).not.toHaveCount(0);
  await expect(page.getByTestId("commitments")).toContainText("Call back on the next payment date");
  await expect(page.getByTestId("loyalty").getByTestId("section-unavailable")).toHaveCount(0);
  await checkpoint(page, "04-overview");
});

test("money is written in the customer's currency with its exponent and locale", async ({ page }) => {
  // Ștefan (ro-RO, RON): "8.358,33 RON"; Emily (en-US, USD): "USD 3,100.00".
  for (const [who, query, currency, balance] of [
    [DEMO.inHardship, "stefan", "RON", /^\d{1,3}(\.\d{3})*,\d{2} RON$/u],
    [DEMO.noCase, "emily", "USD", /^USD \d{1,3}(,\d{3})*\.\d{2}$/u],
  ]) {
    await openOverview(page, who, query);
    const account = page.getByTestId("account").first();
    const balanceText = (await account.locator("dt:text-is('Balance') + dd").textContent()).trim();
    expect(balanceText, `${who}'s balance`).toMatch(balance);
    const amounts = await page
      .locator("[data-testid=account] dd, [data-testid=hardship-cases] dd, [data-testid=plans] dd, [data-testid=promises] li")
      .evaluateAll((nodes) =>
        nodes.flatMap((n) => n.textContent.match(/\b(?:[A-Z]{3}\s\d[\d.,\u00a0]*\d|\d[\d.,\u00a0]*\d\s[A-Z]{3})\b/gu) ?? []),
      );
    expect(amounts.length, `${who}: amounts on the overview`).toBeGreaterThan(2);
    for (const text of amounts) {
      const parts = moneyParts(text);
      expect(parts, `"${text}" reads as money`).not.toBeNull();
      expect(parts.code).toBe(currency);
      expect(parts.decimals, `"${text}": ${currency} has ${exponent(currency)} decimals`).toBe(exponent(currency));
    }
  }
});

test("a currency without a minor unit (JPY) is shown without decimals", async ({ page }) => {
  // Every demo customer's overview is looked through for a JPY amount; services/rapport/src/demo.rs
  // seeds RON, EUR, USD, GBP and CNY accounts only, so until it has a JPY one this is skipped.
  const seen = [];
  for (const who of DEMO.everyone) {
    await openOverview(page, who);
    const texts = await page.getByTestId("account").locator("dd").allTextContents();
    seen.push(...texts.filter((t) => /\bJPY\b/u.test(t)).map((t) => t.trim().split(" (")[0]));
  }
  test.skip(seen.length === 0, "the demo has no JPY account (services/rapport/src/demo.rs)");
  for (const text of seen) {
    expect(text, "a JPY amount has no decimal part").toMatch(/^(JPY [\d,]+|[\d.\u00a0]+ JPY)$/u);
  }
});

test("a desk whose loyalty service is stopped shows loyalty as unavailable, and the rest", async ({ page }) => {
  test.skip(!STOPPED_LOYALTY_CONSOLE_URL, "STOPPED_LOYALTY_CONSOLE_URL is not set (tests/console/run sets it)");
  const base = new URL(STOPPED_LOYALTY_CONSOLE_URL);
  await page.goto(new URL("/", base).href);
  await page.getByLabel("Name", { exact: true }).fill("stefan");
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByTestId("search-results").getByRole("link", { name: DEMO.inHardship }).click();
  await expect(page.getByTestId("customer-name")).toHaveText(DEMO.inHardship);
  const loyalty = page.getByTestId("loyalty");
  await expect(loyalty.getByTestId("section-unavailable")).toHaveText(/^Loyalty is unavailable right now/);
  // Follow-ups come from loyalty too; the sections from the other services still answer.
  await expect(page.getByTestId("follow-ups").getByTestId("section-unavailable")).toBeVisible();
  await expect(page.getByTestId("accounts").getByTestId("section-unavailable")).toHaveCount(0);
  await expect(page.getByTestId("account")).toHaveCount(1);
  await expect(page.getByTestId("protections")).toContainText("Breathing space");
  await checkpoint(page, "05-overview-loyalty-stopped");

  // Its follow-up queue cannot be listed: said in words, not as an empty queue.
  await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Follow-ups" }).click();
  await expect(page.getByTestId("call-failed")).toContainText("Could not list follow-ups");
  await expect(page.getByTestId("follow-up")).toHaveCount(0);
  await checkpoint(page, "06-follow-ups-loyalty-stopped");
});
