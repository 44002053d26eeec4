// Find: the first page an agent sees, and a name typed as it sounds on the phone.
import { test, expect } from "@playwright/test";
import { DEMO, checkpoint, missingGlyphs, search } from "../support/console.mjs";

test("the first page is interactive within one second", async ({ page }) => {
  const started = Date.now();
  await page.goto("/", { waitUntil: "domcontentloaded" });
  const input = page.getByLabel("Name", { exact: true });
  await input.focus();
  await expect(input).toBeFocused();
  const interactive = Date.now() - started;
  const loaded = await page.evaluate(() => performance.getEntriesByType("navigation")[0].domContentLoadedEventEnd);
  test.info().annotations.push({
    type: "timing",
    description: `DOMContentLoaded ${loaded.toFixed(0)} ms; search input focused ${interactive} ms after navigation began`,
  });
  expect(loaded, "navigation to DOMContentLoaded (ms)").toBeLessThan(1000);
  expect(interactive, "navigation until the search input has the focus (ms)").toBeLessThan(1000);
  await expect(page.getByRole("heading", { level: 1, name: "Find a customer" })).toBeVisible();
  await checkpoint(page, "01-find");
});

test("stefan, typed without diacritics, finds Ștefan Ionescu", async ({ page }) => {
  const link = await search(page, "stefan", DEMO.inHardship);
  await expect(link).toBeVisible();
  await expect(page.getByLabel("Name", { exact: true }), "what was typed stays in the form").toHaveValue("stefan");
  await checkpoint(page, "02-find-results");
});

for (const [script, who] of [
  ["Han", DEMO.han],
  ["Greek", DEMO.greek],
  ["Cyrillic", DEMO.cyrillic],
  ["Arabic", DEMO.arabic],
]) {
  test(`a name in ${script} is found and rendered in its own script`, async ({ page }) => {
    const link = await search(page, who, who);
    await expect(link).toBeVisible();
    const name = link.locator("bdi");
    expect(await missingGlyphs(name), `${who}: characters drawn as empty boxes`).toEqual([]);
    const box = await name.boundingBox();
    expect(box?.width ?? 0, `${who} takes up room on the page`).toBeGreaterThan(10);
    if (script === "Arabic") {
      expect(await name.evaluate((el) => getComputedStyle(el).direction), "the Arabic name reads right to left").toBe("rtl");
      await checkpoint(page, "03-find-arabic");
    }
  });
}

test("a wrong customer id, an unknown address and an empty search are answered in plain words", async ({ page }) => {
  let response = await page.goto("/customers/not-an-id");
  expect(response.status(), "a malformed id").toBe(400);
  await expect(page.getByRole("heading", { level: 1, name: "Customer not found" })).toBeVisible();
  await expect(page.getByTestId("not-a-customer")).toHaveText("This is not a customer id: not-an-id.");
  await expect(page.getByText("Please correct the form")).toHaveCount(0);
  await expect(page.getByRole("main").getByRole("link", { name: "Find a customer" })).toBeVisible();
  await checkpoint(page, "25-not-a-customer");

  response = await page.goto("/no/such/page");
  expect(response.status()).toBe(404);
  await expect(page.getByRole("heading", { level: 1, name: "Page not found" })).toBeVisible();
  await expect(page.getByRole("main").getByRole("link", { name: "Find a customer" })).toBeVisible();
  await checkpoint(page, "26-page-not-found");

  await page.goto("/");
  await page.getByRole("button", { name: "Search" }).click();
  const name = page.getByLabel("Name", { exact: true });
  await expect(name).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByText(/Fill in at least one detail: a name, an email, a phone number/u)).toBeVisible();
  await expect(page.getByText("external_ref")).toHaveCount(0);
  await checkpoint(page, "27-find-empty");
});
