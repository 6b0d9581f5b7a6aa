/**
 * The demo's flow as a test, with both generations of the MCP SDK client, both kinds of
 * validation and both ways of getting a client id: every check of every step must pass.
 */
import { describe, expect, it } from "@jest/globals";
import { runDemo } from "../src/demo.js";

describe.each(["v1", "v2"] as const)("the full MCP OAuth flow with the SDK %s client", (generation) => {
  it.each(["jwt", "introspection"] as const)("passes every check with %s validation", async (validation) => {
    const lines: string[] = [];
    const run = await runDemo(validation, generation, (line) => lines.push(line));
    const failed = run.checks.filter((check) => !check.ok);
    expect(failed).toEqual([]);
    expect(run.checks.length).toBe(17);
    // The client registers in the JWT run and is identified by a Client ID Metadata Document in the other.
    expect(run.checks.map((check) => check.what)).toContain(
      validation === "jwt"
        ? "client registered itself (RFC 7591)"
        : "the authorization server read the client's metadata document; no registration",
    );
    const output = lines.join("\n");
    expect(output).toContain('403  WWW-Authenticate: Bearer error="insufficient_scope"');
    // The demo prints every exchange; no token may appear in it.
    expect(output).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
    expect(output).not.toMatch(/Bearer [A-Za-z0-9._~+/-]{20,}/);
  });
});
