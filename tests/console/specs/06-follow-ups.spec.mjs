// Follow-ups: the closed loop. The queue names each detractor; Siobhán's is closed with what she
// was told (first refused without an outcome, the words typed kept).
import { test, expect } from "@playwright/test";
import { checkpoint } from "../support/console.mjs";

const SIOBHAN = "Siobhán Ní Bhriain";
// services/rapport/src/demo.rs: NPS 6 or less is a detractor.
const DETRACTORS = ["Ștefan Ionescu", SIOBHAN, "Αλέξανδρος Παπαδόπουλος", "Emily Johnson"];

test("the follow-up queue names each customer, and one is closed with what the customer was told", async ({ page }) => {
  await page.goto("/");
  await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Follow-ups" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Follow-ups" })).toBeVisible();
  const cards = page.getByTestId("follow-up");
  const names = (await cards.locator("h3").allTextContents()).map((n) => n.trim());
  expect(names, "every detractor's follow-up, by name").toEqual(expect.arrayContaining(DETRACTORS));
  expect(names.filter((n) => n.includes("name unavailable")), "no follow-up without its name").toEqual([]);
  await checkpoint(page, "17-follow-ups");

  const siobhan = cards.filter({ has: page.getByRole("heading", { level: 3, name: SIOBHAN }) });
  await expect(siobhan).toHaveCount(1);
  const told = "We refunded the duplicated fee and moved her statement date to the 5th, as she asked.";
  await siobhan.getByLabel("What the customer was told").fill(told);
  await siobhan.getByRole("button", { name: "Close follow-up" }).click();
  // No outcome chosen: refused beside the field, her words kept.
  const again = page.getByTestId("follow-up").filter({ has: page.getByRole("heading", { level: 3, name: SIOBHAN }) });
  await expect(again.getByLabel("Outcome")).toHaveAttribute("aria-invalid", "true");
  await expect(again.getByLabel("What the customer was told")).toHaveValue(told);

  await again.getByLabel("Outcome").selectOption({ label: "Resolved" });
  await again.getByRole("button", { name: "Close follow-up" }).click();
  await expect(page.getByTestId("notice")).toHaveText("The follow-up was closed.");
  await expect(page.getByTestId("follow-up").filter({ has: page.getByRole("heading", { level: 3, name: SIOBHAN }) })).toHaveCount(0);
  await expect(page.getByTestId("follow-up")).toHaveCount(names.length - 1);
  await checkpoint(page, "18-follow-up-closed");
});
