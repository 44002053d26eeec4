// Hardship: Oliver (GBP, en-GB, no case yet) calls before he falls behind: his hours were cut. A
// case is opened, his income and expenditure taken (a mistyped or negative amount is refused
// beside its field with what he said kept), food above its trigger figure is flagged (the
// plans service's SFS trigger figures are in GBP; other currencies have none configured), and
// he is referred to debt advice.
import { test, expect } from "@playwright/test";
import { DEMO, checkpoint, openOverview } from "../support/console.mjs";

test.describe.configure({ mode: "serial" });

/** The case page's URL once opened, for the tests after the first. */
let casePath;

test("a hardship case is opened from the overview's account", async ({ page }) => {
  await openOverview(page, DEMO.inGbp, "oliver");
  await page.getByTestId("account").getByRole("link", { name: "Open a hardship case" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Open a hardship case" })).toBeVisible();
  await checkpoint(page, "07-hardship-open");
  // Submitted without a reason: refused beside the field, the account still chosen.
  const account = page.getByLabel("Account");
  const chosen = await account.inputValue();
  expect(chosen, "the account is chosen from the overview's link").not.toBe("");
  await page.getByRole("button", { name: "Open hardship case" }).click();
  const reason = page.getByLabel("Reason");
  await expect(reason).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByLabel("Account")).toHaveValue(chosen);

  await reason.selectOption({ label: "Reduced income" });
  await page.getByLabel("What happened (optional)").fill("His hours were cut from five days to three.");
  await page.getByRole("button", { name: "Open hardship case" }).click();
  await expect(page.getByTestId("notice")).toHaveText("The hardship case was opened.");
  await expect(page.getByRole("heading", { level: 1, name: "Hardship case" })).toBeVisible();
  await expect(page.locator("dt:text-is('Currency') + dd")).toHaveText("GBP");
  casePath = new URL(page.url()).pathname;
  await checkpoint(page, "08-hardship-case");
});

/** The refused input's error: tied by aria-describedby, in the input's own field, drawn beside it. */
async function expectErrorBeside(page, input, label) {
  await expect(input).toHaveAttribute("aria-invalid", "true");
  const described = (await input.getAttribute("aria-describedby")) ?? "";
  const errorId = described.split(/\s+/u).find((id) => id.endsWith("-error"));
  expect(errorId, `${label}: an error tied by aria-describedby`).toBeTruthy();
  const error = page.locator(`[id="${errorId}"]`);
  await expect(error).toHaveText(/^Error: /u);
  await expect(input.locator("xpath=..").locator(`[id="${errorId}"]`), `${label}: the error is in the input's field`).toHaveCount(1);
  const [inputBox, errorBox] = [await input.boundingBox(), await error.boundingBox()];
  const gap = Math.min(Math.abs(inputBox.y - (errorBox.y + errorBox.height)), Math.abs(errorBox.y - (inputBox.y + inputBox.height)));
  expect(gap, `${label}: the error is drawn right above or below its input`).toBeLessThan(40);
  return (await error.textContent()).trim();
}

test("a malformed amount is refused beside its field, with everything typed kept", async ({ page }) => {
  test.skip(!casePath, "no case was opened");
  await page.goto(casePath);
  const form = page.getByTestId("statement-form");
  await form.getByLabel("Adults").fill("1");
  await form.getByLabel("Earnings (GBP a month)", { exact: true }).fill("2,400.00");
  await form.getByLabel("Home and contents (GBP a month)", { exact: true }).fill("12.3x");
  await form.getByLabel("Utilities (GBP a month)", { exact: true }).fill("150.00");
  await form.getByRole("button", { name: "Save income and expenditure" }).click();

  await expect(page.getByTestId("form-errors")).toBeVisible();
  const input = form.getByLabel("Home and contents (GBP a month)", { exact: true });
  await expect(input, "what was typed is still there").toHaveValue("12.3x");
  const text = await expectErrorBeside(page, input, "Home and contents");
  expect(text).toContain("GBP");
  await expect(form.getByLabel("Earnings (GBP a month)", { exact: true })).toHaveValue("2,400.00");
  await expect(form.getByLabel("Utilities (GBP a month)", { exact: true })).toHaveValue("150.00");
  await expect(form.getByLabel("Adults")).toHaveValue("1");
  await expect(form.getByLabel("Earnings (GBP a month)", { exact: true })).not.toHaveAttribute("aria-invalid", "true");
  await checkpoint(page, "09-hardship-malformed-amount");
});

test("a negative amount is refused beside its field, with everything typed kept", async ({ page }) => {
  test.skip(!casePath, "no case was opened");
  await page.goto(casePath);
  const form = page.getByTestId("statement-form");
  await form.getByLabel("Adults").fill("1");
  await form.getByLabel("Earnings (GBP a month)", { exact: true }).fill("-2400.00");
  await form.getByLabel("Utilities (GBP a month)", { exact: true }).fill("150.00");
  await form.getByRole("button", { name: "Save income and expenditure" }).click();

  await expect(page.getByTestId("form-errors")).toBeVisible();
  const input = form.getByLabel("Earnings (GBP a month)", { exact: true });
  await expect(input).toHaveValue("-2400.00");
  await expectErrorBeside(page, input, "Earnings");
  await expect(form.getByLabel("Utilities (GBP a month)", { exact: true })).toHaveValue("150.00");
  await checkpoint(page, "10-hardship-negative-amount");
});

test("a malformed and a negative amount are both refused at once, each beside its field", async ({ page }) => {
  test.skip(!casePath, "no case was opened");
  await page.goto(casePath);
  const form = page.getByTestId("statement-form");
  await form.getByLabel("Earnings (GBP a month)", { exact: true }).fill("-2400.00");
  await form.getByLabel("Home and contents (GBP a month)", { exact: true }).fill("12.3x");
  await form.getByRole("button", { name: "Save income and expenditure" }).click();

  await expect(page.getByTestId("form-errors")).toBeVisible();
  await expectErrorBeside(page, form.getByLabel("Earnings (GBP a month)", { exact: true }), "Earnings");
  await expectErrorBeside(page, form.getByLabel("Home and contents (GBP a month)", { exact: true }), "Home and contents");
});

test("income and expenditure: food above its trigger figure is flagged, never cut", async ({ page }) => {
  test.skip(!casePath, "no case was opened");
  await page.goto(casePath);
  const form = page.getByTestId("statement-form");
  await form.getByLabel("Adults").fill("1");
  await form.getByLabel("Children").fill("0");
  await form.getByLabel("Vehicles").fill("0");
  await form.getByLabel("Earnings (GBP a month)", { exact: true }).fill("2,400.00");
  await form.getByLabel("Home and contents (GBP a month)", { exact: true }).fill("900.00");
  await form.getByLabel("Utilities (GBP a month)", { exact: true }).fill("150.00");
  // One adult's food and housekeeping trigger figure is 350.00 (SFS defaults): 600.00 is above it.
  await form.getByLabel("Food and housekeeping (GBP a month)", { exact: true }).fill("600.00");
  await form.getByLabel("Communications and leisure (GBP a month)", { exact: true }).fill("60.00");
  await form.getByRole("button", { name: "Save income and expenditure" }).click();

  await expect(page.getByTestId("notice")).toContainText("Income and expenditure were saved");
  const affordability = page.getByTestId("affordability");
  await expect(affordability.locator("dt:text-is('Income') + dd")).toHaveText("GBP 2,400.00");
  // 2,400 − 900 − 150 − 600 − 60 = 690.00, with food as declared (not cut to its trigger figure).
  await expect(page.getByTestId("disposable-income")).toContainText("GBP 690.00");
  const flagged = page.getByTestId("flagged-costs");
  await expect(flagged).toBeVisible();
  await expect(flagged.locator("li")).toHaveCount(1);
  await expect(flagged.locator("li")).toContainText(/^Food and housekeeping: GBP 600\.00 declared, trigger figure GBP [\d,]+\.\d{2} \(above by GBP [\d,]+\.\d{2}\)$/u);
  await expect(form.getByLabel("Food and housekeeping (GBP a month)", { exact: true }), "the statement is shown as saved").toHaveValue("600.00");
  await checkpoint(page, "11-hardship-affordability");
});

test("the customer is referred to debt advice with his consent", async ({ page }) => {
  test.skip(!casePath, "no case was opened");
  await page.goto(casePath);
  const form = page.getByTestId("referral-form");
  await form.getByLabel("Debt-advice service").selectOption({ label: "StepChange Debt Charity (GB)" });
  await form.getByLabel("The customer agreed to their details being shared with the service").check();
  await form.getByLabel("Notes (optional)").fill("Prefers a call after 17:00.");
  await form.getByRole("button", { name: "Refer to debt advice" }).click();
  await expect(page.getByTestId("notice")).toHaveText("The referral to debt advice was recorded.");
  await expect(page.getByTestId("referrals-made").locator("li")).toHaveCount(1);
  await expect(page.getByTestId("referrals-made")).toContainText("StepChange Debt Charity");
  await expect(page.getByTestId("referrals-made")).toContainText("with the customer's consent");
  await checkpoint(page, "12-hardship-referred");
});
