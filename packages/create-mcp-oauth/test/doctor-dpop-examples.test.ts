/**
 * `mcp-oauth doctor`'s DPoP checks against the real examples with DPoP on (OAUTH_DPOP), and a
 * real DPoP-bound token from the local authorization server (got through the reference DPoP
 * client of examples/demo): a healthy DPoP setup passes every check, with no warning, in
 * both modes and on both frameworks. Needs the resource server's DPoP (branch wt-dpop-rs).
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { logger } from "mcp-framework";
import {
  obtainAccessToken,
  startLocalAuthorizationServer,
  type LocalAuthorizationServer,
} from "@mcp-oauth/local-authorization-server";
import { startExampleServer, type RunningExample } from "../../../examples/express-server/src/server.js";
import { createFrameworkExample, type FrameworkExample } from "../../../examples/mcp-framework-server/src/server.js";
import { DpopClient } from "../../../examples/demo/src/dpop-client.js";
import { freePort, waitForUrl } from "../../../examples/demo/src/demo.js";
import { runDoctor } from "../src/doctor/doctor.js";
import { formatReport, type DoctorReport } from "../src/doctor/report.js";

// mcp-framework logs every request to stderr at INFO; the report says what happened.
logger.info = () => {};

let as: LocalAuthorizationServer;
beforeAll(async () => {
  as = await startLocalAuthorizationServer();
});
afterAll(async () => {
  await as?.close();
});

/** A token bound to a fresh key, for `resource`. */
async function boundToken(resource: string): Promise<string> {
  const client = await DpopClient.create();
  const tokens = await obtainAccessToken(as.issuer, { resource, scope: "mcp:read", fetch: client.fetch() });
  expect(tokens.token_type).toBe("DPoP");
  return tokens.access_token;
}

function expectHealthy(report: DoctorReport, mode: "allowed" | "required"): void {
  const text = formatReport(report);
  expect({ ok: report.ok, notPassed: report.checks.filter((c) => c.status !== "pass"), text }).toMatchObject({
    ok: true,
    notPassed: [],
  });
  const ids = report.checks.filter((c) => c.section === "dpop").map((c) => c.id);
  expect(ids).toEqual(["dpop.advertised", "dpop.challenge", "dpop.unproven", "dpop.bound_as_bearer"]);
  expect(text).toContain(mode === "required" ? "DPoP required" : "DPoP accepted next to Bearer");
  expect(text).toContain('error="invalid_dpop_proof"');
}

describe.each(["allowed", "required"] as const)("the Express example with OAUTH_DPOP=%s", (mode) => {
  let mcp: RunningExample;
  beforeAll(async () => {
    mcp = await startExampleServer({
      OAUTH_AUTHORIZATION_SERVER: as.issuer,
      OAUTH_SCOPES: "mcp:read",
      OAUTH_DPOP: mode,
      PORT: "0",
    });
  });
  afterAll(async () => {
    await mcp?.close();
  });

  it("passes every check with a DPoP-bound token, which is never printed", async () => {
    const token = await boundToken(mcp.url);
    const report = await runDoctor({ resource: mcp.url, token });
    expectHealthy(report, mode);
    expect(formatReport(report)).not.toContain(token);
  });
});

describe("the mcp-framework example with OAUTH_DPOP=allowed", () => {
  let example: FrameworkExample;
  beforeAll(async () => {
    example = createFrameworkExample({
      OAUTH_AUTHORIZATION_SERVER: as.issuer,
      OAUTH_SCOPES: "mcp:read",
      OAUTH_DPOP: "allowed",
      PORT: String(await freePort()),
      HOST: "127.0.0.1",
    });
    void example.server.start();
    const url = new URL(example.url);
    await waitForUrl(`${url.origin}/.well-known/oauth-protected-resource${url.pathname}`);
  });
  afterAll(async () => {
    await example?.server.stop();
  });

  it("passes every check with a DPoP-bound token", async () => {
    expectHealthy(await runDoctor({ resource: example.url, token: await boundToken(example.url) }), "allowed");
  });
});
