/**
 * The "Express in front" option: mcpOAuth from @mcp-oauth/express in front of an
 * mcp-framework MCPServer served through frameworkRequestHandler() (the framework's public
 * handleRequest: stateless JSON mode). The MCPServer is never started; its top-level auth is
 * an OAuthAuthProvider, which takes the caller mcpOAuth established (`req.auth`) instead of
 * validating the token a second time, so the caller's claims reach its tools.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import express from "express";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { MCPServer } from "mcp-framework";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { mcpOAuth } from "@mcp-oauth/express";
import { obtainAccessToken } from "@mcp-oauth/local-authorization-server";
import { frameworkRequestHandler, OAuthAuthProvider } from "@mcp-oauth/mcp-framework";
import {
  startTestAuthorizationServer,
  type TestAuthorizationServer,
} from "../../../test/helpers/authorization-server.js";
import { WhoamiTool, WriteNoteTool } from "../../../examples/mcp-framework-server/src/tools.js";
import {
  bearerChallenge,
  callWhoami,
  connectStreamableHttp,
  DESCRIPTIONS,
  freePort,
  INITIALIZE,
  jwtPayload,
  nowSeconds,
  postJson,
  rawRequest,
} from "./support.js";

let as: TestAuthorizationServer;
let origin: string;
let resource: string;
let pathMetadata: string;
let server: ReturnType<typeof createServer>;
let provider: OAuthAuthProvider;
const clients: Client[] = [];

beforeAll(async () => {
  as = await startTestAuthorizationServer();
  const port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  resource = `${origin}/mcp`;
  pathMetadata = `${origin}/.well-known/oauth-protected-resource/mcp`;

  provider = new OAuthAuthProvider({ resource, authorizationServers: [as.issuer], scopes: ["mcp:read"] });
  const mcpServer = new MCPServer({ name: "express-front", version: "0.0.0", auth: { provider } });
  mcpServer.addTool(WhoamiTool);
  mcpServer.addTool(WriteNoteTool);

  const app = express();
  app.use(
    mcpOAuth({
      resource,
      authorizationServers: [as.issuer],
      scopes: ["mcp:read"],
      scopePolicy: { tools: { write_note: ["mcp:write"] } },
    }),
  );
  app.use(express.json());
  app.all("/mcp", frameworkRequestHandler(mcpServer));

  server = createServer((req: IncomingMessage, res: ServerResponse) => app(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
});
afterAll(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
  await as.close();
});

/** A fetch that remembers the status and headers of the last response the SDK client saw. */
function recordingFetch(): { fetch: typeof fetch; last: () => { status: number; headers: Headers } | undefined } {
  let last: { status: number; headers: Headers } | undefined;
  return {
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      last = { status: response.status, headers: response.headers };
      return response;
    },
    last: () => last,
  };
}

const callWriteNote = {
  jsonrpc: "2.0",
  id: 3,
  method: "tools/call",
  params: { name: "write_note", arguments: { text: "hello" } },
} as const;

describe("mcpOAuth in front of MCPServer.handleRequest", () => {
  it.each([
    ["path-suffixed", () => pathMetadata],
    ["root", () => `${origin}/.well-known/oauth-protected-resource`],
  ])("serves the metadata at the %s URL, publicly", async (_name, url) => {
    const res = await rawRequest(url(), { headers: { authorization: "Bearer not-a-jwt" } });
    expect(res.status).toBe(200);
    expect(res.headers["access-control-allow-origin"]).toBe("*");
    expect(JSON.parse(res.body)).toEqual({
      resource,
      authorization_servers: [as.issuer],
      scopes_supported: ["mcp:read"],
      bearer_methods_supported: ["header"],
    });
  });

  it("a request without a token: 401 naming the path-suffixed metadata, the library's body", async () => {
    const res = await postJson(resource, INITIALIZE);
    expect(res.status).toBe(401);
    expect(bearerChallenge(res.headers["www-authenticate"])).toEqual({
      resource_metadata: pathMetadata,
      scope: "mcp:read",
    });
    expect(JSON.parse(res.body)).toEqual({ error: "unauthorized", error_description: DESCRIPTIONS.missing });
  });

  it("an expired token: 401 invalid_token", async () => {
    const res = await postJson(resource, INITIALIZE, {
      authorization: `Bearer ${as.mint(resource, { iat: nowSeconds() - 7200, exp: nowSeconds() - 60 })}`,
    });
    expect(res.status).toBe(401);
    expect(bearerChallenge(res.headers["www-authenticate"])).toEqual({
      error: "invalid_token",
      error_description: DESCRIPTIONS.expired,
      resource_metadata: pathMetadata,
      scope: "mcp:read",
    });
    expect(JSON.parse(res.body)).toEqual({ error: "invalid_token", error_description: DESCRIPTIONS.expired });
  });

  it("whoami works through the SDK client (stateless JSON mode) and sees the caller's claims", async () => {
    const { access_token: token } = await obtainAccessToken(as.issuer, { resource, scope: "mcp:read", login: "gina" });
    const client = await connectStreamableHttp(resource, token);
    clients.push(client);
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name).sort()).toEqual(["whoami", "write_note"]);
    expect(await callWhoami(client)).toEqual({
      sub: "gina",
      clientId: jwtPayload(token)["client_id"],
      scopes: ["mcp:read"],
    });
  });

  it("the framework answers in JSON, without a session", async () => {
    const res = await postJson(resource, INITIALIZE, { authorization: `Bearer ${as.mint(resource)}` });
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(res.headers["mcp-session-id"]).toBeUndefined();
    expect(JSON.parse(res.body)).toMatchObject({
      jsonrpc: "2.0",
      id: 1,
      result: { serverInfo: { name: "express-front" } },
    });
  });

  it("write_note with an mcp:read token: 403 insufficient_scope naming every scope it needs", async () => {
    const { access_token: token } = await obtainAccessToken(as.issuer, { resource, scope: "mcp:read", login: "gina" });
    const recorder = recordingFetch();
    const client = await connectStreamableHttp(resource, token, recorder.fetch);
    clients.push(client);
    const error = await client.callTool({ name: "write_note", arguments: { text: "hello" } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StreamableHTTPError);
    expect((error as StreamableHTTPError).code).toBe(403);
    const last = recorder.last()!;
    expect(last.status).toBe(403);
    expect(bearerChallenge(last.headers)).toEqual({
      error: "insufficient_scope",
      error_description: DESCRIPTIONS.scope,
      resource_metadata: pathMetadata,
      scope: "mcp:read mcp:write",
    });
    expect((error as Error).message).toContain(
      JSON.stringify({ error: "insufficient_scope", error_description: DESCRIPTIONS.scope }),
    );

    // The same over a raw request; other tools still work with that token.
    const raw = await postJson(resource, callWriteNote, { authorization: `Bearer ${token}` });
    expect(raw.status).toBe(403);
    expect(bearerChallenge(raw.headers["www-authenticate"])).toMatchObject({
      error: "insufficient_scope",
      scope: "mcp:read mcp:write",
    });
    expect(JSON.parse(raw.body)).toEqual({ error: "insufficient_scope", error_description: DESCRIPTIONS.scope });
    expect(await callWhoami(client)).toMatchObject({ sub: "gina" });
  });

  it("write_note with an mcp:write token succeeds, for the caller", async () => {
    const { access_token: token } = await obtainAccessToken(as.issuer, {
      resource,
      scope: "mcp:read mcp:write",
      login: "hugo",
    });
    const client = await connectStreamableHttp(resource, token);
    clients.push(client);
    const result = await client.callTool({ name: "write_note", arguments: { text: "hello" } });
    expect(result.isError).toBeFalsy();
    expect(result.content).toEqual([{ type: "text", text: JSON.stringify("saved note 1 for hugo") }]);
    expect(await callWhoami(client)).toEqual({
      sub: "hugo",
      clientId: jwtPayload(token)["client_id"],
      scopes: ["mcp:read", "mcp:write"],
    });
  });
});

describe("mcpOAuth in front: one validation per token", () => {
  it("the provider behind mcpOAuth never validates: it takes the caller mcpOAuth established", async () => {
    const before = provider.resourceServer.stats();
    const res = await postJson(resource, INITIALIZE, { authorization: `Bearer ${as.mint(resource, { sub: "once" })}` });
    expect(res.status).toBe(200);
    expect(provider.resourceServer.stats()).toEqual(before);
    expect(before).toMatchObject({ validations: 0, accepted: 0, cacheMisses: 0 });
  });
});

describe("frameworkRequestHandler without mcpOAuth in front", () => {
  it("the provider validates, and concurrent refusals each reach their own request", async () => {
    const port = await freePort();
    const alone = `http://127.0.0.1:${port}/mcp`;
    const aloneProvider = new OAuthAuthProvider({
      resource: alone,
      authorizationServers: [as.issuer],
      scopes: ["mcp:read"],
    });
    const mcpServer = new MCPServer({ name: "handler-alone", version: "0.0.0", auth: { provider: aloneProvider } });
    mcpServer.addTool(WhoamiTool);
    const handler = frameworkRequestHandler(mcpServer);
    const aloneServer = createServer((req: IncomingMessage, res: ServerResponse) => handler(req, res));
    await new Promise<void>((resolve) => aloneServer.listen(port, "127.0.0.1", () => resolve()));
    try {
      const kinds = [
        { authorization: undefined, status: 401, error: undefined },
        {
          authorization: `Bearer ${as.mint(alone, { iat: nowSeconds() - 7200, exp: nowSeconds() - 60 })}`,
          status: 401,
          error: "invalid_token",
        },
        { authorization: `Bearer ${as.mint(alone, { scope: "mcp:write" })}`, status: 403, error: "insufficient_scope" },
        { authorization: `Bearer ${as.mint(alone)}`, status: 200, error: undefined },
      ];
      const list = Array.from({ length: 200 }, (_, i) => kinds[(i * 7) % kinds.length]!);
      const responses = await Promise.all(
        list.map((k) => postJson(alone, INITIALIZE, k.authorization ? { authorization: k.authorization } : {})),
      );
      const got = responses.map((r) => [
        r.status,
        r.status === 200 ? undefined : bearerChallenge(r.headers["www-authenticate"])["error"],
      ]);
      expect(got).toEqual(list.map((k) => [k.status, k.error]));
    } finally {
      await new Promise<void>((resolve) => {
        aloneServer.close(() => resolve());
        aloneServer.closeAllConnections();
      });
    }
  });
});

describe("mcpOAuth in front: an authorization server outage", () => {
  it("answers 503 temporarily_unavailable with Retry-After (what the framework's transports cannot send)", async () => {
    const port = await freePort();
    const closedIssuer = `http://127.0.0.1:${await freePort()}`;
    const outageResource = `http://127.0.0.1:${port}/mcp`;
    const provider = new OAuthAuthProvider({ resource: outageResource, authorizationServers: [closedIssuer] });
    const mcpServer = new MCPServer({ name: "express-front-outage", version: "0.0.0", auth: { provider } });
    mcpServer.addTool(WhoamiTool);
    const app = express();
    app.use(mcpOAuth({ resource: outageResource, authorizationServers: [closedIssuer], retryAfterSeconds: 7 }));
    app.use(express.json());
    app.all("/mcp", frameworkRequestHandler(mcpServer));
    const outageServer = createServer((req: IncomingMessage, res: ServerResponse) => app(req, res));
    await new Promise<void>((resolve) => outageServer.listen(port, "127.0.0.1", () => resolve()));
    try {
      const res = await postJson(outageResource, INITIALIZE, {
        authorization: `Bearer ${as.mint(outageResource, { iss: closedIssuer })}`,
      });
      expect(res.status).toBe(503);
      expect(res.headers["retry-after"]).toBe("7");
      expect(res.headers["www-authenticate"]).toBeUndefined();
      expect(JSON.parse(res.body)).toEqual({
        error: "temporarily_unavailable",
        error_description: DESCRIPTIONS.outage,
      });
    } finally {
      await new Promise<void>((resolve) => {
        outageServer.close(() => resolve());
        outageServer.closeAllConnections();
      });
    }
  });
});
