// Prints one line per test from results/report.json (Playwright's JSON reporter), with the
// figures the tests noted (timings, request counts), for the run's log.
import fs from "node:fs";
import path from "node:path";
import { RESULTS } from "./paths.mjs";

const report = JSON.parse(fs.readFileSync(path.join(RESULTS, "report.json"), "utf8"));
const lines = [];
const walk = (suite) => {
  for (const spec of suite.specs ?? []) {
    for (const test of spec.tests) {
      const last = test.results.at(-1);
      const status = test.status === "skipped" ? "skipped" : last?.status === "passed" ? "ok" : "FAILED";
      lines.push(`  ${status.padEnd(7)} ${path.basename(spec.file)} › ${spec.title}`);
      const notes = [...(test.annotations ?? []), ...(last?.annotations ?? [])].filter((n) => n.description);
      const seen = new Set();
      for (const note of notes) {
        const line = `            ${note.type}: ${note.description}`;
        if (!seen.has(line)) lines.push(line);
        seen.add(line);
      }
    }
  }
  for (const child of suite.suites ?? []) walk(child);
};
for (const suite of report.suites) walk(suite);
console.log(lines.join("\n"));
const { expected = 0, unexpected = 0, skipped = 0, flaky = 0 } = report.stats ?? {};
console.log(`  ${expected} passed, ${unexpected} failed, ${flaky} flaky, ${skipped} skipped`);
