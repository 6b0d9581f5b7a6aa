/** Per-scenario outcomes of conformance runs, the differences between two runs, and a table of them. */
import type { Check, SuiteResult } from "./suite.js";

/** What the comparison compares: every check's id and status (messages carry ports and times). */
function signature(checks: readonly Check[] | undefined): string {
  if (checks === undefined) return "(not run)";
  return checks
    .map(({ id, status }) => `${id}=${status}`)
    .sort()
    .join(" ");
}

/** `pass 3/3`, or `FAIL 1/2: <first failing check and its message>`; the shape people read. */
export function outcome(checks: readonly Check[] | undefined): string {
  if (checks === undefined) return "(not run)";
  const counted = checks.filter((c) => c.status === "SUCCESS" || c.status === "FAILURE");
  const failed = checks.filter((c) => c.status === "FAILURE");
  const passed = counted.length - failed.length;
  if (failed.length === 0) return `pass ${passed}/${counted.length}`;
  const first = failed[0]!;
  const message = (first.errorMessage ?? "").replace(/\s+/g, " ").slice(0, 140);
  return `FAIL ${passed}/${counted.length}: ${first.id}${message ? ` (${message})` : ""}`;
}

export const failed = (checks: readonly Check[] | undefined): boolean =>
  checks === undefined || checks.some((c) => c.status === "FAILURE");

/** The scenarios of `names` (default: every scenario of either run) whose checks differ between `a` and `b`. */
export function differingScenarios(a: SuiteResult, b: SuiteResult, names?: readonly string[]): string[] {
  const scenarios = names ?? [...new Set([...a.keys(), ...b.keys()])];
  return scenarios.filter((name) => signature(a.get(name)) !== signature(b.get(name)));
}

export interface Column {
  label: string;
  result: SuiteResult;
}

/** A plain-text table, one row per scenario, `*` before the rows in `marked`. */
export function table(columns: readonly Column[], marked: readonly string[] = []): string {
  const scenarios = [...new Set(columns.flatMap(({ result }) => [...result.keys()]))];
  const rows = [
    ["", "scenario", ...columns.map((c) => c.label)],
    ...scenarios.map((name) => [
      marked.includes(name) ? "*" : "",
      name,
      ...columns.map(({ result }) => outcome(result.get(name))),
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
