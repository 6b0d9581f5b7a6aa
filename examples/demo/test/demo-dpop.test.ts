/**
 * The demo's DPoP runs as a test (RFC 9449): with each SDK client generation, against the
 * Express example (OAUTH_DPOP=allowed, nonces on) and the mcp-framework example
 * (OAUTH_DPOP=allowed, its own process), the client gets DPoP-bound tokens, calls tools,
 * steps up, and the server refuses a replayed proof, the bound token sent as Bearer and the
 * DPoP scheme without a proof. No token or proof appears in the output.
 */
import { describe, expect, it } from "@jest/globals";
import { runDpopDemo, runFrameworkDemo, startDemoStack, type DemoRun } from "../src/demo.js";
import { runFlow } from "../src/flow.js";

function expectClean(run: DemoRun, lines: string[], nonces: boolean): void {
  expect(run.checks.filter((check) => !check.ok)).toEqual([]);
  // 17 checks of the Bearer flow, 4 DPoP ones along it (5 with nonces), 4 refusals.
  expect(run.checks.length).toBe(nonces ? 26 : 25);
  const output = lines.join("\n");
  // The step-up challenge: Bearer and DPoP side by side (DPoP alone when required), the error
  // on the DPoP one (the scheme used).
  const forbidden = lines.find((line) => line.includes("-> 403  WWW-Authenticate: "));
  expect(forbidden).toMatch(/WWW-Authenticate: (Bearer .*, )?DPoP .*error="insufficient_scope"/);
  expect(forbidden).toMatch(/algs="[^"]*ES256[^"]*"/);
  if (nonces) expect(output).toContain("DPoP-Nonce: (a new nonce)");
  expect(output).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
  expect(output).not.toMatch(/(Bearer|DPoP) [A-Za-z0-9._~+/-]{20,}/);
}

describe.each(["v1", "v2"] as const)("the DPoP flow with the SDK %s client", (generation) => {
  it("passes every check against the Express example", async () => {
    const lines: string[] = [];
    expectClean(await runDpopDemo(generation, (line) => lines.push(line)), lines, true);
  });

  it("passes every check against the Express example with OAUTH_DPOP=required (DPoP challenge alone)", async () => {
    const stack = await startDemoStack("jwt", {}, { OAUTH_DPOP: "required" });
    try {
      const lines: string[] = [];
      const checks = await runFlow({
        mcpUrl: stack.mcp.url,
        generation,
        login: "alice",
        log: (line) => lines.push(line),
        dpop: true,
        dpopRequired: true,
      });
      expectClean({ validation: "jwt", generation, dpop: true, checks }, lines, false);
    } finally {
      await stack.close();
    }
  });

  it("passes every check against the mcp-framework example", async () => {
    const lines: string[] = [];
    expectClean(await runFrameworkDemo(generation, (line) => lines.push(line), { dpop: true }), lines, false);
  });
});
