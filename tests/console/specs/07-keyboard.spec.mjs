// Keyboard only: Find → Overview with Tab and Enter, and a focus outline one can see at every stop.
import { test, expect } from "@playwright/test";
import { DEMO, checkpoint, shot, tabTo } from "../support/console.mjs";

const visibleFocus = (f) => f.outlineWidth > 0 && f.outlineStyle !== "none";

test("Find → Overview with the keyboard alone, the focus always outlined", async ({ page }) => {
  await page.goto("/");
  const stops = [];
  const record = (f) => {
    stops.push(f);
    return f;
  };

  // The first Tab reaches the skip link, which shows itself.
  const skip = record(await tabTo(page, () => true, 1));
  expect(skip.text).toBe("Skip to main content");
  await expect(page.getByRole("link", { name: "Skip to main content" })).toBeInViewport();

  // On to the name field; type and submit with Enter.
  record(await tabTo(page, (f) => record(f).tag === "input"));
  await expect(page.getByLabel("Name", { exact: true })).toBeFocused();
  await shot(page, "19-keyboard-find-focus");
  await page.keyboard.type("stefan");
  await page.keyboard.press("Enter");
  await expect(page.getByRole("heading", { level: 2, name: "Results" })).toBeVisible();

  // Through the results page to Ștefan's link; Enter opens his overview.
  const link = record(await tabTo(page, (f) => record(f).tag === "a" && f.text === DEMO.inHardship));
  expect(link.outlineWidth, "the focused result link's outline width (px)").toBeGreaterThan(0);
  await shot(page, "20-keyboard-result-focus");
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("customer-name")).toHaveText(DEMO.inHardship);

  // On the overview, the first links are reachable too.
  const onOverview = record(await tabTo(page, (f) => record(f).tag === "a" && f.text === "Payment-plan options"));
  expect(onOverview.outlineWidth).toBeGreaterThan(0);
  await checkpoint(page, "21-keyboard-overview");

  const unseen = stops.filter((f) => f.tag !== "body" && !visibleFocus(f));
  expect(unseen.map((f) => `${f.tag} "${f.text}"`), "focus stops without a visible outline").toEqual([]);
});
