/**
 * An MCP SDK v2 server (`@modelcontextprotocol/server` + the Node Streamable HTTP
 * transport from `@modelcontextprotocol/node`) behind `mcpOAuth()`: the transport forwards
 * `req.auth` as the request's `authInfo`, so tool handlers see the caller as
 * `ctx.http.authInfo`. Real authorization server, real token, real v2 client.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import express from "express";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { NodeStreamableHTTPServerTransport } from "@modelcontextprotocol/node";
import { McpServer } from "@modelcontextprotocol/server";
import { mcpOAuth } from "@mcp-oauth/express";
import { obtainAccessToken } from "@mcp-oauth/local-authorization-server";
import {
  startTestAuthorizationServer,
  type TestAuthorizationServer,
} from "../../../test/helpers/authorization-server.js";

let as: TestAuthorizationServer;
let http: Server;
let mcpUrl: string;
let token: string;
let client: Client | undefined;

/** A fresh v2 server per request (the SDK's stateless pattern) with one tool, `whoami`. */
function buildMcpServer(): McpServer {
  const server = new McpServer({ name: "sdk-v2-behind-mcp-oauth", version: "1.0.0" });
  server.registerTool("whoami", { description: "Who is calling, as the transport reports it" }, async (ctx) => {
    const auth = ctx.http?.authInfo;
    const who = {
      sub: auth?.extra?.["sub"],
      clientId: auth?.clientId,
      scopes: auth?.scopes,
      resource: auth?.resource?.href,
    };
    return { content: [{ type: "text", text: JSON.stringify(who) }] };
  });
  return server;
}

beforeAll(async () => {
  as = await startTestAuthorizationServer();

  // Listen first so the resource URL (with its port) is known before building the middleware.
  http = createServer();
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const { port } = http.address() as AddressInfo;
  mcpUrl = `http://127.0.0.1:${port}/mcp`;

  const app = express();
  app.use(mcpOAuth({ resource: mcpUrl, authorizationServers: [as.issuer] }));
  app.all("/mcp", async (req, res) => {
    const server = buildMcpServer();
    const transport = new NodeStreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on("close", () => {
      void transport.close();
      void server.close();
    });
    try {
      await server.connect(transport);
      // No body parser is mounted; pass req.body only if some middleware already consumed the stream.
      await transport.handleRequest(req, res, (req as { body?: unknown }).body);
    } catch (error) {
      if (!res.headersSent) res.status(500).json({ error: String(error) });
    }
  });
  http.on("request", app);

  ({ access_token: token } = await obtainAccessToken(as.issuer, {
    resource: mcpUrl,
    scope: "mcp:read",
    login: "dave",
  }));
});

afterAll(async () => {
  await client?.close();
  http.closeAllConnections();
  await new Promise<void>((resolve, reject) => http.close((error) => (error ? reject(error) : resolve())));
  await as.close();
});

describe("an MCP SDK v2 server behind mcpOAuth()", () => {
  it("gives the tool handler the caller as ctx.http.authInfo", async () => {
    client = new Client({ name: "sdk-v2-test-client", version: "1.0.0" });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(mcpUrl), {
        requestInit: { headers: { Authorization: `Bearer ${token}` } },
      }),
    );

    const result = await client.callTool({ name: "whoami", arguments: {} });
    const content = result.content as Array<{ type: string; text?: string }>;
    expect(content[0]?.type).toBe("text");
    const who = JSON.parse(content[0]?.text ?? "{}") as {
      sub?: unknown;
      clientId?: unknown;
      scopes?: unknown;
      resource?: unknown;
    };

    expect(who.sub).toBe("dave");
    expect(who.scopes).toEqual(expect.arrayContaining(["mcp:read"]));
    expect(typeof who.clientId).toBe("string");
    expect((who.clientId as string).length).toBeGreaterThan(0);
    expect(who.resource).toBe(mcpUrl);
  });

  it("refuses an initialize without a token with 401 before the SDK sees it", async () => {
    const res = await fetch(mcpUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream" },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "0" } },
      }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate") ?? "").toMatch(/^Bearer /);
    await res.arrayBuffer();
  });
});
