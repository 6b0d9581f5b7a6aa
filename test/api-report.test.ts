import { readFileSync } from "node:fs";
import { describe, expect, it } from "@jest/globals";
import { API_PACKAGES, apiReports, reportPath } from "../scripts/api-report.js";

// Every change to what a package exports is a deliberate, reviewed change: the committed
// report under api/ must equal the declarations the code has now.
describe("API reports", () => {
  const reports = apiReports();
  it.each(Object.keys(API_PACKAGES))("api/%s.api.md matches the public declarations", (dir) => {
    let committed = "";
    try {
      committed = readFileSync(reportPath(dir), "utf8");
    } catch {
      // missing: reported below
    }
    const current = reports.get(dir);
    if (committed !== current) {
      throw new Error(
        `api/${dir}.api.md differs from the public API of ${API_PACKAGES[dir]}: run pnpm api:update and review the diff`,
      );
    }
    expect(committed).toBe(current);
  });
});
