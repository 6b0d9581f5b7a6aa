/**
 * The demo's client flow, step-up included, against the mcp-framework example on the
 * framework's own transports (HTTP Stream in both response modes with both SDK client
 * generations; the legacy SSE transport with SDK v1's SSEClientTransport), protected by
 * @mcp-oauth/mcp-framework's OAuthAuthProvider alone (no Express).
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { logger } from "mcp-framework";
import { startLocalAuthorizationServer, type LocalAuthorizationServer } from "@mcp-oauth/local-authorization-server";
import { createFrameworkExample, type FrameworkExample } from "../../mcp-framework-server/src/server.js";
import { freePort, waitForUrl } from "../src/demo.js";
import { runFlow, type ClientGeneration } from "../src/flow.js";

// mcp-framework logs every request to stderr at INFO; the flow's own checks say what happened.
logger.info = () => {};

describe.each([
  ["http-stream", "batch", ["v1", "v2"]],
  ["http-stream", "stream", ["v1", "v2"]],
  ["sse", "batch", ["v1"]],
] as const)("mcp-framework %s (%s mode)", (transport, mode, generations) => {
  let as: LocalAuthorizationServer;
  let example: FrameworkExample;
  beforeAll(async () => {
    as = await startLocalAuthorizationServer();
    example = createFrameworkExample({
      OAUTH_AUTHORIZATION_SERVER: as.issuer,
      OAUTH_SCOPES: "mcp:read",
      PORT: String(await freePort()),
      HOST: "127.0.0.1",
      MCP_TRANSPORT: transport,
      MCP_RESPONSE_MODE: mode,
    });
    void example.server.start();
    await waitForUrl(
      `${new URL(example.url).origin}/.well-known/oauth-protected-resource${new URL(example.url).pathname}`,
    );
  });
  afterAll(async () => {
    await example?.server.stop();
    await as?.close();
  });

  it.each(generations as readonly ClientGeneration[])(
    "runs the whole flow, write_note step-up included, with the SDK %s client",
    async (generation) => {
      const lines: string[] = [];
      const checks = await runFlow({
        mcpUrl: example.url,
        generation,
        login: "heidi",
        log: (line) => lines.push(line),
        transport: transport === "sse" ? "sse" : "streamable-http",
      });
      expect(checks.filter((check) => !check.ok)).toEqual([]);
      expect(checks.length).toBe(17);
      expect(lines.join("\n")).toContain('403  WWW-Authenticate: Bearer error="insufficient_scope"');
    },
  );
});
