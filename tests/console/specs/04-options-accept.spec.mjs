// Options and Accept: José (EUR, es-ES, 65 days late) has a case with income and expenditure and
// no plan yet. The agent reads him the ranked options and he chooses the first; a double click
// and a resent form still make exactly one plan.
import { test, expect } from "@playwright/test";
import { DEMO, checkpoint, openOverview } from "../support/console.mjs";

test.describe.configure({ mode: "serial" });

let overviewPath;
let optionsUrl;

test("José's options are ranked, each with its schedule, summary and a script to read aloud", async ({ page }) => {
  overviewPath = await openOverview(page, DEMO.withOptions, "garcia");
  await expect(page.getByTestId("plans").locator("article"), "no plan before").toHaveCount(0);
  await page.getByTestId("account").getByRole("link", { name: "Hardship case" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Hardship case" })).toBeVisible();
  await page.getByRole("button", { name: /^See payment-plan options/u }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Payment-plan options" })).toBeVisible();
  optionsUrl = page.url();

  const options = page.getByTestId("plan-option");
  const count = await options.count();
  expect(count, "at least one option is offered").toBeGreaterThan(0);
  const headings = await options.locator("h2").allTextContents();
  expect(headings.map((h) => Number(/^Option (\d+): /u.exec(h)?.[1])), "ranked 1, 2, 3…").toEqual(
    Array.from({ length: count }, (_, i) => i + 1),
  );
  for (let i = 0; i < count; i += 1) {
    const option = options.nth(i);
    const summary = (await option.getByTestId("option-summary").textContent()).trim();
    expect(summary.length, `option ${i + 1} has a plain-language summary`).toBeGreaterThan(10);
    const script = (await option.getByTestId("script").textContent()).trim();
    expect(script, `option ${i + 1}'s script names him and reads the summary`).toMatch(/^José, /u);
    expect(script).toContain(summary);
    const table = option.getByRole("table");
    const months = Number(await option.locator("dt:text-is('Months') + dd").textContent());
    if (months === 0) {
      // A pause (breathing space) has nothing to pay, so no schedule, and says when it is reviewed.
      await expect(table).toHaveCount(0);
      await expect(option.locator("dt:text-is('Review') + dd")).toHaveText(/\d/u);
      continue;
    }
    await expect(table, `option ${i + 1} has its schedule`).toHaveCount(1);
    const caption = (await table.locator("caption").textContent()).trim();
    const payments = Number(/, (\d+) payments?$/u.exec(caption)?.[1]);
    await expect(table.locator("tbody tr")).toHaveCount(payments);
    await expect(table.locator("thead th")).toHaveText(["No.", "Due", "Amount", "Principal", "Interest", "Balance after"]);
    // es-ES writes money "1.234,56 EUR": the euro's two decimals, a decimal comma.
    await expect(option.locator("dt:text-is('Monthly amount') + dd")).toHaveText(/^\d{1,3}(\.\d{3})*,\d{2} EUR$/u);
    await expect(table.locator("tbody tr").first().locator("td").nth(1)).toHaveText(/^\d{1,3}(\.\d{3})*,\d{2} EUR$/u);
  }
  await checkpoint(page, "13-options");
});

test("accepting twice quickly, then sending the same form again, makes exactly one plan", async ({ page }) => {
  test.skip(!optionsUrl, "the options page was not reached");
  await page.goto(optionsUrl);
  const first = page.getByTestId("plan-option").first();
  const kind = (await first.locator("h2").textContent()).replace(/^Option 1: /u, "").trim();
  const form = first.getByTestId("accept-form");
  const action = new URL(await form.getAttribute("action"), page.url()).href;
  const fields = await form.evaluate((f) => Object.fromEntries(new FormData(f).entries()));
  expect(fields.request_id, "the form carries its idempotency key").toBeTruthy();

  await form.getByLabel("Call recording or document id (optional)").fill("CALL-2026-12-02-0001");
  fields["agreement.evidence_ref"] = "CALL-2026-12-02-0001";
  // Two clicks before the first answer has come back. Chromium itself sends one POST for them
  // (seen: it starts no second submission while the first is pending), so the same form is
  // then sent twice more, at once, as a retry or a second tab would: those reach the server.
  const posts = [];
  page.on("request", (request) => {
    if (request.method() === "POST" && request.url() === action) posts.push(request.url());
  });
  const button = form.getByRole("button", { name: "Accept option 1" });
  await button.dblclick();
  await expect(page.getByTestId("notice")).toHaveText("The plan was accepted.");
  expect(new URL(page.url()).pathname).toBe(overviewPath);

  // The same form, the same idempotency key, twice at once: the suite acts once.
  const origin = new URL(page.url()).origin;
  const resent = await Promise.all(
    [1, 2].map(() => page.request.post(action, { form: fields, headers: { Origin: origin }, maxRedirects: 0 })),
  );
  for (const response of resent) {
    // Answered as the first was (the same plan, found by its key), not refused as a second plan.
    expect(response.status(), "a resent acceptance redirects to the overview like the first").toBe(303);
    expect(response.headers().location).toBe(`${overviewPath}?notice=plan-accepted`);
  }
  test.info().annotations.push({
    type: "acceptances sent",
    description: `${posts.length} from the double click, then 2 resent: HTTP ${resent.map((r) => r.status()).join(", ")}`,
  });

  await page.goto(overviewPath);
  const plans = page.getByTestId("plans").locator("article");
  await expect(plans, "exactly one plan").toHaveCount(1);
  await expect(plans.locator("h3")).toHaveText(new RegExp(`^${kind} — active$`, "u"));
  await checkpoint(page, "14-accepted-one-plan");
});
