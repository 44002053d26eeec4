// 200 % zoom: a 1280×800 window at 200 % lays out 640×400 CSS pixels at two device pixels each.
// Nothing may need a horizontal scrollbar (WCAG 1.4.10; tables may scroll inside their own box).
import { test, expect } from "@playwright/test";
import { DEMO, checkpoint, openOverview, scan, shot } from "../support/console.mjs";

test.use({ viewport: { width: 640, height: 400 }, deviceScaleFactor: 2 });

const overflow = (page) =>
  page.evaluate(() => {
    const root = document.documentElement;
    const wide = [...document.querySelectorAll("main *")]
      .filter((el) => el.getBoundingClientRect().right > root.clientWidth + 1)
      .filter((el) => !el.closest(".table-wrap"))
      .slice(0, 5)
      .map((el) => `${el.tagName.toLowerCase()}${el.className ? "." + el.className : ""}: ${el.textContent.trim().slice(0, 40)}`);
    return { scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, wide };
  });

test("the overview at 200 % zoom has no horizontal scrollbar", async ({ page }) => {
  await openOverview(page, DEMO.inHardship, "stefan");
  const { scrollWidth, clientWidth, wide } = await overflow(page);
  expect(wide, "elements wider than the window").toEqual([]);
  expect(scrollWidth, "page width vs window width (CSS px)").toBeLessThanOrEqual(clientWidth);
  await checkpoint(page, "22-overview-200-percent");
});

test("Find at 200 % zoom has no horizontal scrollbar", async ({ page }) => {
  await page.goto("/");
  const { scrollWidth, clientWidth, wide } = await overflow(page);
  expect(wide, "elements wider than the window").toEqual([]);
  expect(scrollWidth).toBeLessThanOrEqual(clientWidth);
  await checkpoint(page, "23-find-200-percent");
});

test("José's payment-plan options at 200 % zoom: schedules scroll inside their own box, the page does not", async ({ page }) => {
  await openOverview(page, DEMO.withOptions, "garcia");
  await page.getByTestId("account").getByRole("link", { name: "Hardship case" }).click();
  await page.getByRole("button", { name: /^See payment-plan options/u }).click();
  await expect(page.getByTestId("plan-option").first()).toBeVisible();
  const { scrollWidth, clientWidth, wide } = await overflow(page);
  expect(wide, "elements wider than the window").toEqual([]);
  expect(scrollWidth).toBeLessThanOrEqual(clientWidth);
  // The window only: the whole page is some 25,000 px high at this zoom.
  await shot(page, "24-options-200-percent", { fullPage: false });
  await scan(page, "24-options-200-percent");
});
