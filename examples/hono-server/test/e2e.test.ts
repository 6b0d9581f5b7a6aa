/**
 * End to end: the Hono example (@mcp-oauth/fetch's mcpOAuthHono on @hono/node-server, the MCP
 * SDK v2's web-standard transport), tokens from the real oidc-provider authorization server,
 * the real MCP SDK v2 client. The black-box checks the Express example has: metadata,
 * challenges, step-up, path spellings, CORS and preflights, outage 503, charset 415, 413.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { McpOAuthConfigError } from "@mcp-oauth/core";
import { obtainAccessToken } from "@mcp-oauth/local-authorization-server";
import {
  startTestAuthorizationServer,
  type TestAuthorizationServer,
} from "../../../test/helpers/authorization-server.js";
import { parseChallenge } from "../../../test/helpers/challenge-parser.js";
import { freePort } from "../../../test/helpers/listen.js";
import { rawSocketRequest } from "../../../test/helpers/raw-socket.js";
import { runFlow } from "../../demo/src/flow.js";
import { startExampleServer, type RunningExample } from "../src/server.js";

let as: TestAuthorizationServer;
let mcp: RunningExample;
let port: number;
let origin: string;
let aliceRead: string;
let aliceWrite: string;
let bobRead: string;

const MCP_HEADERS = { "content-type": "application/json", accept: "application/json, text/event-stream" };
const INITIALIZE = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "e2e", version: "0" } },
});
const WRITE_NOTE = JSON.stringify({
  jsonrpc: "2.0",
  id: 2,
  method: "tools/call",
  params: { name: "write_note", arguments: { text: "x" } },
});

interface Seen {
  status: number;
  challenge: string | null;
}

function recordingFetch(seen: Seen[]): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    seen.push({ status: response.status, challenge: response.headers.get("www-authenticate") });
    return response;
  };
}

async function connect(token: string | undefined, seen: Seen[] = []): Promise<Client> {
  const client = new Client({ name: "e2e-hono", version: "0.0.0" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(mcp.url), {
      requestInit: token ? { headers: { Authorization: `Bearer ${token}` } } : {},
      fetch: recordingFetch(seen),
    }),
  );
  return client;
}

const textOf = (result: unknown): string => (result as { content: { text: string }[] }).content[0]?.text ?? "";

beforeAll(async () => {
  as = await startTestAuthorizationServer();
  mcp = await startExampleServer({
    OAUTH_AUTHORIZATION_SERVER: as.issuer,
    OAUTH_SCOPES: "mcp:read",
    OAUTH_ALLOWED_ORIGINS: "https://app.example",
    PORT: "0",
  });
  port = Number(new URL(mcp.url).port);
  origin = new URL(mcp.url).origin;
  [aliceRead, aliceWrite, bobRead] = await Promise.all([
    obtainAccessToken(as.issuer, { resource: mcp.url, scope: "mcp:read", login: "alice" }).then((t) => t.access_token),
    obtainAccessToken(as.issuer, { resource: mcp.url, scope: "mcp:read mcp:write", login: "alice" }).then(
      (t) => t.access_token,
    ),
    obtainAccessToken(as.issuer, { resource: mcp.url, scope: "mcp:read", login: "bob" }).then((t) => t.access_token),
  ]);
});

afterAll(async () => {
  await mcp?.close();
  await as?.close();
});

describe("metadata", () => {
  it("serves the RFC 9728 document at the path-suffixed and the root URL, public, to any origin", async () => {
    for (const path of ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"]) {
      const res = await fetch(`${origin}${path}`, { headers: { origin: "https://elsewhere.example" } });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("application/json");
      expect(res.headers.get("access-control-allow-origin")).toBe("*");
      expect(res.headers.get("cache-control")).toBe("public, max-age=3600");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(await res.json()).toEqual({
        resource: mcp.url,
        authorization_servers: [as.issuer],
        scopes_supported: ["mcp:read"],
        bearer_methods_supported: ["header"],
        resource_name: "mcp-oauth example (Hono)",
      });
    }
    const post = await fetch(`${origin}/.well-known/oauth-protected-resource`, { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
  });
});

describe("the MCP SDK v2 client", () => {
  it("runs the whole OAuth flow, write_note step-up included", async () => {
    const lines: string[] = [];
    const checks = await runFlow({ mcpUrl: mcp.url, generation: "v2", login: "heidi", log: (l) => lines.push(l) });
    expect(checks.filter((check) => !check.ok)).toEqual([]);
    expect(checks.length).toBe(17);
    expect(lines.join("\n")).toContain('403  WWW-Authenticate: Bearer error="insufficient_scope"');
  });

  it("is refused without a token with the MCP challenge", async () => {
    const seen: Seen[] = [];
    await expect(connect(undefined, seen)).rejects.toThrow();
    expect(seen[0]?.status).toBe(401);
    expect(parseChallenge(seen[0]!.challenge!).params).toEqual({
      resource_metadata: `${origin}/.well-known/oauth-protected-resource/mcp`,
      scope: "mcp:read",
    });
  });

  it("calls whoami with a real token, and the tool sees the caller", async () => {
    const client = await connect(aliceRead);
    expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual(["whoami", "write_note"]);
    const who = JSON.parse(textOf(await client.callTool({ name: "whoami", arguments: {} })));
    expect(who.sub).toBe("alice");
    expect(who.scopes).toEqual(["mcp:read"]);
    await client.close();
  });

  it("gets 403 insufficient_scope naming every needed scope for write_note without mcp:write, and runs it with it", async () => {
    const seen: Seen[] = [];
    const reader = await connect(aliceRead, seen);
    await expect(reader.callTool({ name: "write_note", arguments: { text: "hello" } })).rejects.toThrow();
    const refused = seen.find((s) => s.status === 403);
    expect(parseChallenge(refused!.challenge!).params).toEqual({
      error: "insufficient_scope",
      error_description: "The access token lacks the scope this request needs",
      scope: "mcp:read mcp:write",
      resource_metadata: `${origin}/.well-known/oauth-protected-resource/mcp`,
    });
    await reader.close();
    const writer = await connect(aliceWrite);
    expect(textOf(await writer.callTool({ name: "write_note", arguments: { text: "hello" } }))).toMatch(
      /^saved note \d+ for alice$/,
    );
    await writer.close();
  });

  it("is refused with invalid_token for an expired token and for a token of another resource", async () => {
    for (const token of [as.mint(mcp.url, { exp: Math.floor(Date.now() / 1000) - 3600 }), as.mint(`${origin}/other`)]) {
      const seen: Seen[] = [];
      await expect(connect(token, seen)).rejects.toThrow();
      expect(seen[0]?.status).toBe(401);
      expect(parseChallenge(seen[0]!.challenge!).params["error"]).toBe("invalid_token");
    }
  });

  it("binds sessions to their subject: bob cannot use alice's session", async () => {
    const client = await connect(aliceRead);
    const sessionId = (client.transport as StreamableHTTPClientTransport).sessionId!;
    expect(sessionId).toBeTruthy();
    const call = (token: string): Promise<Response> =>
      fetch(mcp.url, {
        method: "POST",
        headers: {
          ...MCP_HEADERS,
          authorization: `Bearer ${token}`,
          "mcp-session-id": sessionId,
          "mcp-protocol-version": "2025-06-18",
        },
        body: JSON.stringify({ jsonrpc: "2.0", id: 7, method: "tools/list" }),
      });
    const asBob = await call(bobRead);
    expect(asBob.status).toBe(404);
    await asBob.body?.cancel();
    const asAlice = await call(aliceRead);
    expect(asAlice.status).toBe(200);
    await asAlice.body?.cancel();
    await client.close();
  });
});

describe("path spellings", () => {
  const spellings = (): string[] => [
    "/mcp",
    "/MCP",
    "/Mcp/",
    "/mcp/",
    "/mcp?x=1",
    "/x/../mcp",
    "/./mcp",
    "//mcp",
    "/%6Dcp",
    "/%6dcp",
    `http://127.0.0.1:${port}/mcp`,
    `http://127.0.0.1:${port}/MCP`,
    `HTTP://127.0.0.1:${port}/mcp/`,
    `http://localhost:${port}/mcp?a=b`,
    "/anything/else",
  ];

  it("answers initialize without a token with 401 under every spelling", async () => {
    for (const target of spellings()) {
      const res = await rawSocketRequest(port, "POST", target, { headers: MCP_HEADERS, body: INITIALIZE });
      if (target.startsWith("HTTP://")) {
        // @hono/node-server refuses an upper-case scheme itself (400, empty): no Request is built, nothing runs.
        expect({ target, status: res.status, body: res.body }).toEqual({ target, status: 400, body: "" });
        continue;
      }
      expect({ target, status: res.status }).toEqual({ target, status: 401 });
      expect(res.headers["www-authenticate"]).toMatch(/^Bearer resource_metadata="/);
      expect(res.headers["mcp-session-id"]).toBeUndefined();
    }
  });

  it("applies the scope policy under other spellings that route to /mcp", async () => {
    for (const target of ["/mcp", "/x/../mcp", "/%6Dcp", `http://127.0.0.1:${port}/mcp`]) {
      const res = await rawSocketRequest(port, "POST", target, {
        headers: { ...MCP_HEADERS, authorization: `Bearer ${as.mint(mcp.url)}` },
        body: WRITE_NOTE,
      });
      expect({ target, status: res.status }).toEqual({ target, status: 403 });
      expect(res.headers["www-authenticate"]).toContain('error="insufficient_scope"');
    }
  });
});

describe("CORS and the Origin rule", () => {
  it("answers a preflight from an allowed origin itself, 204 with the CORS headers", async () => {
    const res = await fetch(mcp.url, {
      method: "OPTIONS",
      headers: {
        origin: "https://app.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(res.headers.get("access-control-allow-headers")).toContain("Authorization");
    expect(res.headers.get("access-control-allow-methods")).toBe("GET,POST,DELETE,OPTIONS");
    expect(res.headers.get("mcp-session-id")).toBeNull();
  });

  it("refuses a disallowed origin with 403, preflight or not, token or not", async () => {
    for (const init of [
      { method: "OPTIONS", headers: { origin: "https://evil.example", "access-control-request-method": "POST" } },
      {
        method: "POST",
        headers: { ...MCP_HEADERS, origin: "https://evil.example", authorization: `Bearer ${aliceRead}` },
        body: INITIALIZE,
      },
    ]) {
      const res = await fetch(mcp.url, init);
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual({
        error: "access_denied",
        error_description: "The request Origin is not allowed",
      });
    }
  });

  it("treats an OPTIONS that is no preflight as any request: 401 without a token", async () => {
    for (const headers of [{}, { origin: "https://app.example" }, { "access-control-request-method": "POST" }]) {
      const res = await fetch(mcp.url, { method: "OPTIONS", headers });
      expect(res.status).toBe(401);
    }
  });

  it("puts the CORS headers on refusals and on the application's responses for an allowed origin", async () => {
    const refused = await fetch(mcp.url, {
      method: "POST",
      headers: { ...MCP_HEADERS, origin: "https://app.example" },
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(refused.headers.get("access-control-expose-headers")).toContain("WWW-Authenticate");
    const served = await fetch(mcp.url, {
      method: "POST",
      headers: { ...MCP_HEADERS, origin: "https://app.example", authorization: `Bearer ${aliceRead}` },
      body: INITIALIZE,
    });
    expect(served.status).toBe(200);
    expect(served.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(served.headers.get("access-control-expose-headers")).toContain("Mcp-Session-Id");
    await served.body?.cancel();
  });
});

describe("bodies", () => {
  it("refuses a body in another charset with 415 before anything runs", async () => {
    const res = await fetch(mcp.url, {
      method: "POST",
      headers: {
        ...MCP_HEADERS,
        "content-type": "application/json; charset=utf-7",
        authorization: `Bearer ${aliceWrite}`,
      },
      body: INITIALIZE,
    });
    expect(res.status).toBe(415);
    expect(res.headers.get("mcp-session-id")).toBeNull();
  });

  it("refuses a body over the limit with 413", async () => {
    const res = await fetch(mcp.url, {
      method: "POST",
      headers: { ...MCP_HEADERS, authorization: `Bearer ${aliceRead}` },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping", params: { pad: "x".repeat(5 * 1024 * 1024) } }),
    });
    expect(res.status).toBe(413);
  });
});

describe("outage", () => {
  it("answers 503 temporarily_unavailable with Retry-After when the key set cannot be fetched, never invalid_token", async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const down = await startExampleServer({
      OAUTH_AUTHORIZATION_SERVER: dead,
      OAUTH_ISSUER: dead,
      OAUTH_JWKS_URI: `${dead}/jwks`,
      PORT: "0",
    });
    try {
      const res = await fetch(down.url, {
        method: "POST",
        headers: { ...MCP_HEADERS, authorization: `Bearer ${as.mint(down.url, { iss: dead })}` },
        body: INITIALIZE,
      });
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
      expect((await res.json()).error).toBe("temporarily_unavailable");
    } finally {
      await down.close();
    }
  });
});

describe("configuration", () => {
  it("refuses to start with what it cannot enforce (OAUTH_RATE_LIMIT, OAUTH_CACHE_REDIS_URL), naming it", async () => {
    for (const [name, value] of [
      ["OAUTH_RATE_LIMIT", "60"],
      ["OAUTH_CACHE_REDIS_URL", "redis://127.0.0.1:1"],
    ] as const) {
      const outcome = await startExampleServer({
        OAUTH_AUTHORIZATION_SERVER: as.issuer,
        PORT: "0",
        [name]: value,
      }).then(
        (started) => started,
        (error: unknown) => error,
      );
      // A server that started anyway is closed before the assertion fails, so nothing is left behind.
      if (!(outcome instanceof Error)) await outcome.close();
      expect({ name, refused: outcome instanceof McpOAuthConfigError }).toEqual({ name, refused: true });
      expect((outcome as Error).message).toContain(name);
    }
  });
});
