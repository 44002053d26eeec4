import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
/** Where the run writes what it saw (gitignored). */
export const RESULTS = process.env.CONSOLE_RESULTS ?? path.resolve(here, "..", "results");
export const SCREENSHOTS = path.join(RESULTS, "screenshots");
/** One line per axe scan; the teardown sums them into axe-summary.json. */
export const AXE_SCANS = path.join(RESULTS, "axe-scans.jsonl");
export const AXE_SUMMARY = path.join(RESULTS, "axe-summary.json");
