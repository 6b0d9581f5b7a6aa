/**
 * The demo's client flow against the mcp-framework example (HTTP Stream, both response
 * modes) protected by @mcp-oauth/mcp-framework's OAuthAuthProvider, with both SDK client
 * generations. Step 5 (per-tool step-up) is not expressible through the framework's own
 * transports; see docs/mcp-framework.md for the Express-in-front alternative.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { startLocalAuthorizationServer, type LocalAuthorizationServer } from "@mcp-oauth/local-authorization-server";
import { createFrameworkExample, type FrameworkExample } from "../../mcp-framework-server/src/server.js";
import { freePort, waitForUrl } from "../src/demo.js";
import { runFlow } from "../src/flow.js";


describe.each(["batch", "stream"] as const)("mcp-framework HTTP Stream (%s mode)", (mode) => {
  let as: LocalAuthorizationServer;
  let example: FrameworkExample;
  beforeAll(async () => {
    as = await startLocalAuthorizationServer();
    example = createFrameworkExample({ OAUTH_AUTHORIZATION_SERVER: as.issuer, OAUTH_SCOPES: "mcp:read", PORT: String(await freePort()), MCP_RESPONSE_MODE: mode });
    void example.server.start();
    await waitForUrl(`${new URL(example.url).origin}/.well-known/oauth-protected-resource`);
  });
  afterAll(async () => {
    await example?.server.stop();
    await as?.close();
  });

  it.each(["v1", "v2"] as const)("runs the flow with the SDK %s client", async (generation) => {
    const lines: string[] = [];
    const checks = await runFlow({
      mcpUrl: example.url, generation, login: "heidi", log: (line) => lines.push(line), stepUp: false,
      metadataUrl: `${new URL(example.url).origin}/.well-known/oauth-protected-resource`,
    });
    expect(checks.filter((check) => !check.ok)).toEqual([]);
    expect(checks.length).toBe(10);
  });
});
