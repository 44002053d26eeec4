// Promise: José promises to pay part of his arrears next week.
import { test, expect } from "@playwright/test";
import { DEMO, checkpoint, openOverview } from "../support/console.mjs";

test("a promise to pay is recorded and shown on the overview", async ({ page }) => {
  const overviewPath = await openOverview(page, DEMO.withOptions, "garcia");
  const before = await page.getByTestId("promises").locator("li").count();
  await page.getByTestId("account").getByRole("link", { name: "Record a promise to pay" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Record a promise to pay" })).toBeVisible();
  await checkpoint(page, "15-promise");

  const inAWeek = new Date(Date.now() + 7 * 86_400_000);
  const iso = inAWeek.toISOString().slice(0, 10);
  const [year, month, day] = iso.split("-");
  await page.getByLabel("Amount (EUR)").fill("250,00");
  await page.getByLabel("Date the customer will pay").fill(iso);
  await page.getByLabel("Note (optional)").fill("Paid on Friday, from his last wages.");
  await page.getByRole("button", { name: "Record promise" }).click();

  await expect(page.getByTestId("notice")).toHaveText("The promise to pay was recorded.");
  expect(new URL(page.url()).pathname).toBe(overviewPath);
  const promises = page.getByTestId("promises").locator("li");
  await expect(promises).toHaveCount(before + 1);
  // es-ES: "250,00 EUR by 09/12/2026".
  await expect(page.getByTestId("promises")).toContainText(`250,00 EUR by ${day}/${month}/${year}`);
  await checkpoint(page, "16-promise-recorded");
});
