/**
 * End to end: the Express example protected by mcpOAuth, tokens from the real
 * oidc-provider authorization server, and the real MCP SDK clients (v1 and v2).
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as StreamableHTTPClientTransportV2,
} from "@modelcontextprotocol/client";
import { obtainAccessToken } from "@mcp-oauth/local-authorization-server";
import {
  startTestAuthorizationServer,
  type TestAuthorizationServer,
} from "../../../test/helpers/authorization-server.js";
import { parseChallenge } from "../../../test/helpers/challenge-parser.js";
import { startExampleServer, type RunningExample } from "../src/server.js";

let as: TestAuthorizationServer;
let mcp: RunningExample;
let aliceRead: string;
let aliceWrite: string;
let bobRead: string;

interface Seen {
  status: number;
  challenge: string | null;
}

/** A fetch that records each answer, so tests see statuses and challenges the client got. */
function recordingFetch(seen: Seen[]): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    seen.push({ status: response.status, challenge: response.headers.get("www-authenticate") });
    return response;
  };
}

async function connectV1(token: string | undefined, seen: Seen[] = []): Promise<Client> {
  const client = new Client({ name: "e2e-v1", version: "0.0.0" });
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
  mcp = await startExampleServer({ OAUTH_AUTHORIZATION_SERVER: as.issuer, OAUTH_SCOPES: "mcp:read", PORT: "0" });
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

describe("Streamable HTTP with the MCP SDK v1 client", () => {
  it("refuses a client without a token with the MCP challenge", async () => {
    const seen: Seen[] = [];
    await expect(connectV1(undefined, seen)).rejects.toThrow();
    expect(seen[0]?.status).toBe(401);
    const { scheme, params } = parseChallenge(seen[0]!.challenge!);
    expect(scheme).toBe("Bearer");
    expect(params).toEqual({
      resource_metadata: `${new URL(mcp.url).origin}/.well-known/oauth-protected-resource/mcp`,
      scope: "mcp:read",
    });
  });

  it("calls whoami with a real token and the tool sees the caller", async () => {
    const client = await connectV1(aliceRead);
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name).sort()).toEqual(["whoami", "write_note"]);
    const who = JSON.parse(textOf(await client.callTool({ name: "whoami", arguments: {} })));
    expect(who.sub).toBe("alice");
    expect(who.scopes).toEqual(["mcp:read"]);
    expect(typeof who.clientId).toBe("string");
    expect(who.clientId.length).toBeGreaterThan(0);
    await client.close();
  });

  it("answers write_note without mcp:write with 403 insufficient_scope naming every needed scope", async () => {
    const seen: Seen[] = [];
    const client = await connectV1(aliceRead, seen);
    await expect(client.callTool({ name: "write_note", arguments: { text: "hello" } })).rejects.toThrow();
    const refused = seen.find((s) => s.status === 403);
    expect(refused).toBeDefined();
    expect(parseChallenge(refused!.challenge!).params).toEqual({
      error: "insufficient_scope",
      error_description: "The access token lacks the scope this request needs",
      scope: "mcp:read mcp:write",
      resource_metadata: `${new URL(mcp.url).origin}/.well-known/oauth-protected-resource/mcp`,
    });
    await client.close();
  });

  it("lets write_note through with mcp:write", async () => {
    const client = await connectV1(aliceWrite);
    expect(textOf(await client.callTool({ name: "write_note", arguments: { text: "hello" } }))).toMatch(
      /^saved note \d+ for alice$/,
    );
    await client.close();
  });

  it("refuses an expired token and a token for another resource with invalid_token", async () => {
    for (const token of [
      as.mint(mcp.url, { exp: Math.floor(Date.now() / 1000) - 3600 }),
      as.mint(`${new URL(mcp.url).origin}/other`),
    ]) {
      const seen: Seen[] = [];
      await expect(connectV1(token, seen)).rejects.toThrow();
      expect(seen[0]?.status).toBe(401);
      expect(parseChallenge(seen[0]!.challenge!).params["error"]).toBe("invalid_token");
    }
  });

  it("binds sessions to their subject: bob cannot use alice's session", async () => {
    const client = await connectV1(aliceRead);
    const transport = client.transport as StreamableHTTPClientTransport;
    const sessionId = transport.sessionId!;
    expect(sessionId).toBeTruthy();
    const call = (token: string): Promise<Response> =>
      fetch(mcp.url, {
        method: "POST",
        headers: {
          authorization: `Bearer ${token}`,
          "mcp-session-id": sessionId,
          "mcp-protocol-version": "2025-06-18",
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
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

describe("legacy HTTP+SSE with the MCP SDK v1 client", () => {
  it("calls whoami over /sse + /messages with a token, and refuses the stream without one", async () => {
    const sseUrl = new URL("/sse", mcp.url);
    const anonymous = new Client({ name: "e2e-sse", version: "0.0.0" });
    await expect(anonymous.connect(new SSEClientTransport(sseUrl))).rejects.toThrow();

    const client = new Client({ name: "e2e-sse", version: "0.0.0" });
    const headers = { Authorization: `Bearer ${aliceRead}` };
    await client.connect(
      new SSEClientTransport(sseUrl, {
        requestInit: { headers },
        eventSourceInit: {
          fetch: (url, init) =>
            fetch(url, { ...init, headers: { ...(init?.headers as Record<string, string>), ...headers } }),
        },
      }),
    );
    expect(JSON.parse(textOf(await client.callTool({ name: "whoami", arguments: {} }))).sub).toBe("alice");
    await client.close();
  });
});

describe("Streamable HTTP with the MCP SDK v2 client", () => {
  it("calls whoami with a real token", async () => {
    const client = new ClientV2({ name: "e2e-v2", version: "0.0.0" });
    await client.connect(
      new StreamableHTTPClientTransportV2(new URL(mcp.url), {
        requestInit: { headers: { Authorization: `Bearer ${aliceRead}` } },
      }),
    );
    const who = JSON.parse(textOf(await client.callTool({ name: "whoami", arguments: {} })));
    expect(who.sub).toBe("alice");
    await client.close();
  });
});

describe("introspection-based validation (OAUTH_VALIDATION=introspection)", () => {
  it("serves whoami to a client holding an opaque token", async () => {
    const opaqueAs = await startTestAuthorizationServer({ accessTokenFormat: "opaque" });
    const server = await startExampleServer({
      OAUTH_AUTHORIZATION_SERVER: opaqueAs.issuer,
      OAUTH_VALIDATION: "introspection",
      OAUTH_CLIENT_ID: opaqueAs.introspection.clientId,
      OAUTH_CLIENT_SECRET: opaqueAs.introspection.clientSecret,
      PORT: "0",
    });
    try {
      const tokens = await obtainAccessToken(opaqueAs.issuer, {
        resource: server.url,
        scope: "mcp:read",
        login: "grace",
      });
      const client = new Client({ name: "e2e-introspection", version: "0.0.0" });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(server.url), {
          requestInit: { headers: { Authorization: `Bearer ${tokens.access_token}` } },
        }),
      );
      expect(JSON.parse(textOf(await client.callTool({ name: "whoami", arguments: {} }))).sub).toBe("grace");
      await client.close();
      expect(opaqueAs.requestCounts.get("/token/introspection")).toBeGreaterThanOrEqual(1);
    } finally {
      await server.close();
      await opaqueAs.close();
    }
  });
});
