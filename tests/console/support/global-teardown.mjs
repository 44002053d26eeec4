// Sums every page's axe scan by impact into axe-summary.json and prints it.
import fs from "node:fs";
import { AXE_SCANS, AXE_SUMMARY } from "./paths.mjs";

const IMPACTS = ["critical", "serious", "moderate", "minor"];

export default function globalTeardown() {
  const scans = fs.existsSync(AXE_SCANS)
    ? fs.readFileSync(AXE_SCANS, "utf8").split("\n").filter(Boolean).map((line) => JSON.parse(line))
    : [];
  const zero = () => Object.fromEntries(IMPACTS.map((impact) => [impact, 0]));
  const summary = {
    tags: ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"],
    pages_scanned: scans.length,
    // A rule broken on a page counts once per page; nodes counts every element that broke it.
    violations_by_impact: zero(),
    nodes_by_impact: zero(),
    rules: {},
    pages: scans.map(({ step, url, violations }) => ({
      step,
      url,
      violations: violations.map(({ id, impact, nodes }) => ({ id, impact, nodes })),
    })),
  };
  for (const scan of scans) {
    for (const { id, impact, nodes, help } of scan.violations) {
      summary.violations_by_impact[impact ?? "minor"] += 1;
      summary.nodes_by_impact[impact ?? "minor"] += nodes;
      summary.rules[id] ??= { impact, help, pages: 0 };
      summary.rules[id].pages += 1;
    }
  }
  fs.writeFileSync(AXE_SUMMARY, JSON.stringify(summary, null, 2) + "\n");
  const counts = IMPACTS.map((impact) => `${impact} ${summary.violations_by_impact[impact]}`).join(", ");
  console.log(`axe-core: ${scans.length} pages scanned; violations by impact: ${counts}`);
  for (const [id, { impact, help, pages }] of Object.entries(summary.rules)) {
    console.log(`  ${impact}: ${id} (${help}) on ${pages} page(s)`);
  }
}
