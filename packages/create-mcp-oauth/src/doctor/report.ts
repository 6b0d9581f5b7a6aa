/** The doctor's findings and their two renderings: lines for people, JSON for machines. */

export type CheckStatus = "pass" | "warn" | "fail";

export type CheckSection = "endpoint" | "resource_metadata" | "authorization_server" | "token" | "dpop";

export interface Check {
  /** Stable identifier, e.g. `challenge.resource_metadata_quoted`. */
  id: string;
  section: CheckSection;
  /** For `authorization_server` checks: the issuer they are about. */
  subject?: string;
  status: CheckStatus;
  message: string;
  /** What to change; every failure has one. */
  fix?: string;
}

export interface DoctorReport {
  /** The MCP endpoint checked. */
  resource: string;
  /** The authorization servers checked (given, or read from the metadata). */
  authorizationServers: string[];
  /** True when nothing failed (warnings allowed). */
  ok: boolean;
  summary: Record<CheckStatus, number>;
  checks: Check[];
}

export function summarize(resource: string, authorizationServers: string[], checks: Check[]): DoctorReport {
  const summary: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0 };
  for (const check of checks) summary[check.status]++;
  return { resource, authorizationServers, ok: summary.fail === 0, summary, checks };
}

const SECTION_TITLES: Record<CheckSection, string> = {
  endpoint: "MCP endpoint",
  resource_metadata: "Protected resource metadata (RFC 9728)",
  authorization_server: "Authorization server",
  token: "Token",
  dpop: "DPoP (RFC 9449)",
};

const LABELS: Record<CheckStatus, string> = { pass: "PASS", warn: "WARN", fail: "FAIL" };

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

/** The report as text: one line per check, grouped by section, fixes indented under. */
export function formatReport(report: DoctorReport): string {
  const lines: string[] = [`mcp-oauth doctor: ${report.resource}`];
  let heading = "";
  for (const check of report.checks) {
    const title =
      check.subject !== undefined ? `${SECTION_TITLES[check.section]} ${check.subject}` : SECTION_TITLES[check.section];
    if (title !== heading) {
      heading = title;
      lines.push("", title);
    }
    lines.push(`  ${LABELS[check.status]}  ${check.message}`);
    if (check.fix !== undefined && check.status !== "pass") lines.push(`        fix: ${check.fix}`);
  }
  const { pass, warn, fail } = report.summary;
  lines.push(
    "",
    `${fail === 0 ? "OK" : "FAILED"}: ${plural(fail, "failure")}, ${plural(warn, "warning")}, ${pass} passed`,
  );
  return `${lines.join("\n")}\n`;
}
