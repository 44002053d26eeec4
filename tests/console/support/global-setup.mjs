import fs from "node:fs";
import { AXE_SCANS, SCREENSHOTS } from "./paths.mjs";

export default function globalSetup() {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  fs.rmSync(AXE_SCANS, { force: true });
}
