/**
 * `withMcpOAuth` around the real `mcp-handler` (`createMcpHandler`, what a Next.js route
 * handler exports), and `metadataRoute` for the `/.well-known` route, served as Next.js would
 * call them (`(request: Request) => Response`, one route per path) on loopback through
 * @hono/node-server's Request/Response bridge. Real tokens from oidc-provider, the real MCP SDK
 * v2 client: the flow, the tool seeing its caller, step-up, the metadata documents.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { serve, type ServerType } from "@hono/node-server";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { obtainAccessToken } from "@mcp-oauth/local-authorization-server";
import { fromJsonSchema } from "@modelcontextprotocol/server";
import { createMcpHandler } from "mcp-handler";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createFetchProtection } from "../src/index.js";
import { metadataRoute, withMcpOAuth } from "../src/next.js";
import {
  startTestAuthorizationServer,
  type TestAuthorizationServer,
} from "../../../test/helpers/authorization-server.js";
import { parseChallenge } from "../../../test/helpers/challenge-parser.js";

let as: TestAuthorizationServer;
let server: ServerType;
let origin: string;
let mcpUrl: string;
let readToken: string;
let writeToken: string;
/** What the handler got as `request.auth` on its last call. */
let lastAuth: unknown;

interface Seen {
  status: number;
  challenge: string | null;
}

async function connect(token: string | undefined, seen: Seen[] = []): Promise<Client> {
  const client = new Client({ name: "next-test", version: "0.0.0" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(mcpUrl), {
      requestInit: token === undefined ? {} : { headers: { Authorization: `Bearer ${token}` } },
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        seen.push({ status: response.status, challenge: response.headers.get("www-authenticate") });
        return response;
      },
    }),
  );
  return client;
}

// A JSON Schema rather than zod: the workspace's zod is 3, which the SDK v2 does not convert.
const TEXT_ARGUMENT = fromJsonSchema<{ text: string }>({
  type: "object",
  properties: { text: { type: "string" } },
  required: ["text"],
});

const textOf = (result: unknown): string => (result as { content: { text: string }[] }).content[0]?.text ?? "";

beforeAll(async () => {
  as = await startTestAuthorizationServer();
  // The routes need the resource URL, which needs the port: listen first, route once built.
  const routes: { handle?: (request: Request) => Response | Promise<Response> } = {};
  server = serve({
    fetch: (request) => routes.handle?.(request) ?? new Response(null, { status: 503 }),
    port: 0,
    hostname: "127.0.0.1",
  });
  await new Promise<void>((resolve) => server.once("listening", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  mcpUrl = `${origin}/api/mcp`;

  const protection = createFetchProtection({
    resource: mcpUrl,
    authorizationServers: [as.issuer],
    scopes: ["mcp:read"],
    scopePolicy: { tools: { write_note: ["mcp:write"] } },
    cors: { allowedOrigins: ["https://app.example"] },
  });
  // app/api/[transport]/route.ts, as mcp-handler's README writes it, with withMcpOAuth for withMcpAuth.
  const handler = createMcpHandler(
    (mcp) => {
      mcp.registerTool("whoami", { description: "Who is calling" }, async (ctx) => {
        const auth = ctx.http?.authInfo;
        const extra = (auth?.extra ?? {}) as { sub?: string };
        return { content: [{ type: "text", text: JSON.stringify({ sub: extra.sub, scopes: auth?.scopes }) }] };
      });
      mcp.registerTool(
        "write_note",
        { description: "Needs mcp:write", inputSchema: TEXT_ARGUMENT },
        async ({ text }) => ({ content: [{ type: "text", text: `saved ${text}` }] }),
      );
    },
    { serverInfo: { name: "next-test", version: "0.0.0" } },
  );
  const mcpRoute = withMcpOAuth((request) => {
    lastAuth = request.auth;
    return handler(request);
  }, protection);
  // app/.well-known/oauth-protected-resource/[[...path]]/route.ts
  const wellKnown = metadataRoute(protection);
  routes.handle = (request) => {
    const path = new URL(request.url).pathname;
    if (path === "/api/mcp") return mcpRoute(request);
    if (path.startsWith("/.well-known/oauth-protected-resource")) return wellKnown(request);
    return new Response(null, { status: 404 });
  };

  const tokenFor = (scope: string): Promise<string> =>
    obtainAccessToken(as.issuer, { resource: mcpUrl, scope, login: "alice" }).then((t) => t.access_token);
  [readToken, writeToken] = await Promise.all([tokenFor("mcp:read"), tokenFor("mcp:read mcp:write")]);
});

afterAll(async () => {
  await new Promise<void>((resolve) => {
    server?.close(() => resolve());
    (server as Server | undefined)?.closeAllConnections();
  });
  await as?.close();
});

describe("withMcpOAuth(createMcpHandler(...))", () => {
  it("is refused without a token with the MCP challenge, before mcp-handler runs", async () => {
    lastAuth = "not called";
    const seen: Seen[] = [];
    await expect(connect(undefined, seen)).rejects.toThrow();
    expect(seen[0]?.status).toBe(401);
    expect(parseChallenge(seen[0]!.challenge!).params).toEqual({
      resource_metadata: `${origin}/.well-known/oauth-protected-resource/api/mcp`,
      scope: "mcp:read",
    });
    expect(lastAuth).toBe("not called");
  });

  it("hands the verdict to mcp-handler: tools see the caller as ctx.http.authInfo", async () => {
    const client = await connect(readToken);
    expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual(["whoami", "write_note"]);
    expect(JSON.parse(textOf(await client.callTool({ name: "whoami", arguments: {} })))).toEqual({
      sub: "alice",
      scopes: ["mcp:read"],
    });
    expect(lastAuth).toMatchObject({ clientId: expect.any(String), scopes: ["mcp:read"] });
    await client.close();
  });

  it("refuses write_note without mcp:write with 403 naming every scope needed, and runs it with it", async () => {
    const seen: Seen[] = [];
    const reader = await connect(readToken, seen);
    await expect(reader.callTool({ name: "write_note", arguments: { text: "x" } })).rejects.toThrow();
    const refused = seen.find((s) => s.status === 403);
    expect(parseChallenge(refused!.challenge!).params).toMatchObject({
      error: "insufficient_scope",
      scope: "mcp:read mcp:write",
    });
    await reader.close();
    const writer = await connect(writeToken);
    expect(textOf(await writer.callTool({ name: "write_note", arguments: { text: "x" } }))).toBe("saved x");
    await writer.close();
  });

  it("replaces an `auth` set on the incoming request by the verdict", async () => {
    const forged = new Request(mcpUrl, {
      method: "POST",
      headers: {
        authorization: `Bearer ${readToken}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    Object.assign(forged, { auth: { token: "x", clientId: "forged", scopes: ["mcp:write"] } });
    let seen: unknown;
    const route = withMcpOAuth(
      (request) => {
        seen = request.auth;
        return new Response(null, { status: 204 });
      },
      createFetchProtection({ resource: mcpUrl, authorizationServers: [as.issuer] }),
    );
    expect((await route(forged)).status).toBe(204);
    expect(seen).toMatchObject({ scopes: ["mcp:read"] });
    expect((seen as { clientId: string }).clientId).not.toBe("forged");
  });

  it("adds the CORS headers of an allowed Origin to mcp-handler's response", async () => {
    const res = await fetch(mcpUrl, {
      method: "POST",
      headers: {
        origin: "https://app.example",
        authorization: `Bearer ${readToken}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "x", version: "0" } },
      }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://app.example");
    await res.body?.cancel();
  });
});

describe("metadataRoute", () => {
  it("serves the path-suffixed and the root document, 405 to POST, 404 to another path under the route", async () => {
    for (const path of ["/.well-known/oauth-protected-resource/api/mcp", "/.well-known/oauth-protected-resource"]) {
      const res = await fetch(`${origin}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("access-control-allow-origin")).toBe("*");
      expect(await res.json()).toMatchObject({ resource: mcpUrl, authorization_servers: [as.issuer] });
    }
    const post = await fetch(`${origin}/.well-known/oauth-protected-resource`, { method: "POST" });
    expect(post.status).toBe(405);
    await post.body?.cancel();
    const other = await fetch(`${origin}/.well-known/oauth-protected-resource/elsewhere`);
    expect(other.status).toBe(404);
  });
});
