// Playwright drives Debian's Chromium (never a downloaded browser) against the console that
// tests/console/run starts; CONSOLE_URL and STOPPED_LOYALTY_CONSOLE_URL come from it.
import { defineConfig } from "@playwright/test";
import path from "node:path";

const results = process.env.CONSOLE_RESULTS ?? path.resolve("results");

export default defineConfig({
  testDir: "specs",
  // One worker, files in name order: the flow changes the demo data as an agent would.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 5_000 },
  forbidOnly: !!process.env.CI,
  outputDir: path.join(results, "test-output"),
  globalSetup: "./support/global-setup.mjs",
  globalTeardown: "./support/global-teardown.mjs",
  reporter: [["list"], ["json", { outputFile: path.join(results, "report.json") }]],
  use: {
    baseURL: process.env.CONSOLE_URL ?? "http://127.0.0.1:8080",
    browserName: "chromium",
    viewport: { width: 1280, height: 800 },
    locale: "en-GB",
    timezoneId: "UTC",
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
      // Without the background-networking flags Chromium keeps dialling out, which this
      // machine's closed network refuses; --no-sandbox because CI runs as root.
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
});
