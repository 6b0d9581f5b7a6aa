/**
 * What an mcp-framework server with `OAuthAuthProvider` writes to stderr (the framework's
 * `logger`): nothing from building the provider (the framework's own constructor logged
 * "OAuthAuthProvider initialized with JWT validation" whatever the provider validates with),
 * and per authenticated request only the framework's own lines, documented in
 * docs/mcp-framework.md, never a token. Deliberately without ./support.js, which silences
 * the framework's logger.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { MCPServer } from "mcp-framework";
import { OAuthAuthProvider, type OAuthAuthProviderOptions } from "@mcp-oauth/mcp-framework";
import { WhoamiTool } from "../../../examples/mcp-framework-server/src/tools.js";
import {
  startTestAuthorizationServer,
  type TestAuthorizationServer,
} from "../../../test/helpers/authorization-server.js";
import { freePort } from "../../../test/helpers/listen.js";
import { rawRequest } from "../../../test/helpers/raw-request.js";

/** The lines written to stderr while `action` runs (the framework's logger writes there). */
async function stderrOf(action: () => unknown): Promise<string[]> {
  const written: string[] = [];
  const stderr = process.stderr as { write: (...args: unknown[]) => boolean };
  const write = stderr.write;
  stderr.write = (chunk: unknown) => {
    written.push(String(chunk));
    return true;
  };
  try {
    await action();
  } finally {
    stderr.write = write;
  }
  return written
    .join("")
    .split("\n")
    .filter((line) => line.trim() !== "");
}

/** A log line without the framework's timestamp: `[INFO] message`. */
const withoutTime = (line: string): string => line.replace(/^\[[^\]]+\] /, "");

let as: TestAuthorizationServer;
beforeAll(async () => {
  as = await startTestAuthorizationServer();
});
afterAll(() => as?.close());

describe("building the provider", () => {
  it.each<[string, Partial<OAuthAuthProviderOptions>]>([
    ["jwt", {}],
    ["introspection", { validation: { type: "introspection" }, introspection: { clientId: "rs", clientSecret: "s" } }],
    ["auto", { validation: { type: "auto" }, introspection: { clientId: "rs", clientSecret: "s" } }],
  ])("with %s validation logs nothing", async (_type, extra) => {
    const lines = await stderrOf(
      () => new OAuthAuthProvider({ resource: "http://127.0.0.1:1/mcp", authorizationServers: [as.issuer], ...extra }),
    );
    expect(lines).toEqual([]);
  });
});

describe("an authenticated request", () => {
  it("logs the framework's three lines of its auth handler, no token, nothing of ours", async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/mcp`;
    const provider = new OAuthAuthProvider({ resource: url, authorizationServers: [as.issuer] });
    const server = new MCPServer({
      name: "logging",
      version: "0.0.0",
      transport: { type: "http-stream", options: { port, host: "127.0.0.1", auth: { provider } } },
    });
    server.addTool(WhoamiTool);
    let running: Promise<unknown> | undefined;
    await stderrOf(async () => {
      running = server.start().catch((error: unknown) => error);
      for (let waitedMs = 0; waitedMs < 10_000; waitedMs += 20) {
        if (
          await rawRequest(`${url}`).then(
            () => true,
            () => false,
          )
        )
          break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    });
    try {
      const token = as.mint(url, { sub: "ada" });
      const headers = {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      };
      let sessionId = "";
      await stderrOf(async () => {
        const initialized = await rawRequest(url, {
          method: "POST",
          headers,
          body: JSON.stringify({
            jsonrpc: "2.0",
            id: 1,
            method: "initialize",
            params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "0" } },
          }),
        });
        expect(initialized.status).toBe(200);
        sessionId = String(initialized.headers["mcp-session-id"]);
      });
      const lines = await stderrOf(() =>
        rawRequest(url, {
          method: "POST",
          headers: { ...headers, "mcp-session-id": sessionId, "mcp-protocol-version": "2025-06-18" },
          body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list", params: {} }),
        }).then((res) => expect(res.status).toBe(200)),
      );
      expect(lines.join("\n")).not.toContain(token);
      expect(lines.map(withoutTime)).toEqual([
        "[INFO] Authentication successful for message:",
        expect.stringMatching(/^\[INFO\] - Client IP: /),
        "[INFO] - Auth Type: OAuthAuthProvider",
      ]);
    } finally {
      await stderrOf(async () => {
        await server.stop();
        await running;
      });
    }
  });
});
