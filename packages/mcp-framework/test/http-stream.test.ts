/**
 * OAuthAuthProvider behind mcp-framework's real HTTP Stream transport (the example server,
 * configured by environment), in both response modes, with the MCP SDK v1 client and
 * tokens from the local oidc-provider.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { obtainAccessToken } from "@mcp-oauth/local-authorization-server";
import { MCPServer } from "mcp-framework";
import { WhoamiTool } from "../../../examples/mcp-framework-server/src/tools.js";
import { OAuthAuthProvider } from "@mcp-oauth/mcp-framework";
import {
  startTestAuthorizationServer,
  type TestAuthorizationServer,
} from "../../../test/helpers/authorization-server.js";
import {
  bearerChallenge,
  callWhoami,
  connectStreamableHttp,
  DESCRIPTIONS,
  errorBody,
  freePort,
  INITIALIZE,
  jwtPayload,
  nowSeconds,
  postJson,
  rawRequest,
  startExample,
  startFramework,
  type RunningExample,
} from "./support.js";

let as: TestAuthorizationServer;

beforeAll(async () => {
  as = await startTestAuthorizationServer();
});
afterAll(() => as.close());

const TOOLS_LIST = { jsonrpc: "2.0", id: 2, method: "tools/list", params: {} } as const;

describe.each(["batch", "stream"] as const)("HTTP Stream transport, responseMode %s", (mode) => {
  let ex: RunningExample;
  let rootMetadata: string;
  let readToken: string;
  let writeOnlyToken: string;
  const clients: Client[] = [];

  beforeAll(async () => {
    ex = await startExample({
      MCP_TRANSPORT: "http-stream",
      MCP_RESPONSE_MODE: mode,
      OAUTH_AUTHORIZATION_SERVER: as.issuer,
      OAUTH_SCOPES: "mcp:read",
    });
    rootMetadata = `${ex.origin}/.well-known/oauth-protected-resource/mcp`;
    const [read, writeOnly] = await Promise.all([
      obtainAccessToken(as.issuer, { resource: ex.url, scope: "mcp:read", login: "gina" }),
      obtainAccessToken(as.issuer, { resource: ex.url, scope: "mcp:write", login: "hugo" }),
    ]);
    readToken = read.access_token;
    writeOnlyToken = writeOnly.access_token;
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await ex.stop();
  });

  it("publishes the endpoint URL verbatim as the resource", () => {
    expect(ex.url).toBe(`http://127.0.0.1:${ex.port}/mcp`);
  });

  it.each([
    ["POST initialize", () => postJson(ex.url, INITIALIZE)],
    ["POST tools/list without a session", () => postJson(ex.url, TOOLS_LIST)],
    ["GET", () => rawRequest(ex.url, { headers: { accept: "text/event-stream" } })],
    ["DELETE", () => rawRequest(ex.url, { method: "DELETE" })],
  ])("%s without a token: 401, challenge with resource_metadata and scope, no error", async (_name, send) => {
    const res = await send();
    expect(res.status).toBe(401);
    expect(bearerChallenge(res.headers["www-authenticate"])).toEqual({
      resource_metadata: rootMetadata,
      scope: "mcp:read",
    });
    expect(JSON.parse(res.body)).toEqual(errorBody(401, DESCRIPTIONS.missing));
  });

  it.each([
    ["malformed", () => "not-a-jwt", DESCRIPTIONS.malformed],
    ["expired", () => as.mint(ex.url, { iat: nowSeconds() - 7200, exp: nowSeconds() - 3600 }), DESCRIPTIONS.expired],
    ["wrong-audience", () => as.mint(`http://127.0.0.1:${ex.port}/other`), DESCRIPTIONS.audience],
    ["tampered-signature", () => `${as.mint(ex.url).slice(0, -8)}AAAAAAAA`, DESCRIPTIONS.signature],
  ])('%s token: 401 error="invalid_token"', async (_name, token, description) => {
    const res = await postJson(ex.url, INITIALIZE, { authorization: `Bearer ${token()}` });
    expect(res.status).toBe(401);
    expect(bearerChallenge(res.headers["www-authenticate"])).toEqual({
      error: "invalid_token",
      error_description: description,
      resource_metadata: rootMetadata,
      scope: "mcp:read",
    });
    expect(JSON.parse(res.body)).toEqual(errorBody(401, description));
  });

  it("a real token issued for another resource: 401 invalid_token", async () => {
    const { access_token: token } = await obtainAccessToken(as.issuer, {
      resource: "http://127.0.0.1:1/mcp",
      scope: "mcp:read",
    });
    const res = await postJson(ex.url, INITIALIZE, { authorization: `Bearer ${token}` });
    expect(res.status).toBe(401);
    expect(bearerChallenge(res.headers["www-authenticate"])).toMatchObject({
      error: "invalid_token",
      error_description: DESCRIPTIONS.audience,
    });
  });

  it("a token in the query string is refused: 400 invalid_request", async () => {
    const res = await postJson(`${ex.url}?access_token=${readToken}`, INITIALIZE);
    expect(res.status).toBe(400);
    expect(bearerChallenge(res.headers["www-authenticate"])).toEqual({
      error: "invalid_request",
      error_description: DESCRIPTIONS.queryToken,
      resource_metadata: rootMetadata,
      scope: "mcp:read",
    });
  });

  it("serves the metadata document publicly at both RFC 9728 URLs, resource = the endpoint URL", async () => {
    for (const url of [rootMetadata, `${ex.origin}/.well-known/oauth-protected-resource`]) {
      for (const headers of [{}, { authorization: "Bearer not-a-jwt" }] as Record<string, string>[]) {
        const res = await rawRequest(url, { headers });
        expect(res.status).toBe(200);
        expect(res.headers["content-type"]).toBe("application/json");
        expect(res.headers["www-authenticate"]).toBeUndefined();
        const doc = JSON.parse(res.body) as Record<string, unknown>;
        expect(doc).toMatchObject({
          resource: `http://127.0.0.1:${ex.port}/mcp`,
          authorization_servers: [as.issuer],
          scopes_supported: ["mcp:read"],
        });
      }
    }
  });

  it(`a valid token reaches the transport, which answers in ${mode} mode`, async () => {
    const res = await postJson(ex.url, INITIALIZE, { authorization: `Bearer ${readToken}` });
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(mode === "batch" ? /^application\/json/ : /^text\/event-stream/);
    expect(typeof res.headers["mcp-session-id"]).toBe("string");
    expect(res.body).toContain('"serverInfo"');
  });

  it("a valid token from the real flow reaches whoami, which reads sub, clientId and scopes from getRequestContext()", async () => {
    const client = await connectStreamableHttp(ex.url, readToken);
    clients.push(client);
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name).sort()).toEqual(["whoami", "write_note"]);
    const me = await callWhoami(client);
    expect(me).toEqual({ sub: "gina", clientId: jwtPayload(readToken)["client_id"], scopes: ["mcp:read"] });
    expect(me.clientId).toEqual(expect.any(String));
  });

  it("a minted token's claims reach the tool unchanged", async () => {
    const client = await connectStreamableHttp(
      ex.url,
      as.mint(ex.url, { sub: "ivy", client_id: "ivy-client", scope: "mcp:read mcp:write" }),
    );
    clients.push(client);
    expect(await callWhoami(client)).toEqual({ sub: "ivy", clientId: "ivy-client", scopes: ["mcp:read", "mcp:write"] });
  });

  it('a token without the base scope (OAUTH_SCOPES): 403 error="insufficient_scope"', async () => {
    for (const body of [INITIALIZE, TOOLS_LIST]) {
      const res = await postJson(ex.url, body, { authorization: `Bearer ${writeOnlyToken}` });
      expect(res.status).toBe(403);
      expect(bearerChallenge(res.headers["www-authenticate"])).toEqual({
        error: "insufficient_scope",
        error_description: DESCRIPTIONS.scope,
        resource_metadata: rootMetadata,
        scope: "mcp:read",
      });
      expect(JSON.parse(res.body)).toEqual(errorBody(403, DESCRIPTIONS.scope));
    }
  });

  it("a session id is never authentication: requests in a session without a token get 401", async () => {
    const init = await postJson(ex.url, INITIALIZE, { authorization: `Bearer ${readToken}` });
    const sessionId = init.headers["mcp-session-id"] as string;
    expect(typeof sessionId).toBe("string");
    const res = await postJson(ex.url, TOOLS_LIST, {
      "mcp-session-id": sessionId,
      "mcp-protocol-version": "2025-06-18",
    });
    expect(res.status).toBe(401);
    expect(bearerChallenge(res.headers["www-authenticate"])).toEqual({
      resource_metadata: rootMetadata,
      scope: "mcp:read",
    });
  });
});

describe("HTTP Stream transport without OAUTH_SCOPES", () => {
  let ex: RunningExample;
  beforeAll(async () => {
    ex = await startExample({ MCP_TRANSPORT: "http-stream", OAUTH_AUTHORIZATION_SERVER: as.issuer });
  });
  afterAll(() => ex.stop());

  it("the challenge carries resource_metadata only", async () => {
    const res = await postJson(ex.url, INITIALIZE);
    expect(res.status).toBe(401);
    expect(bearerChallenge(res.headers["www-authenticate"])).toEqual({
      resource_metadata: `${ex.origin}/.well-known/oauth-protected-resource/mcp`,
    });
  });

  it("an invalid token's challenge carries no scope either", async () => {
    const res = await postJson(ex.url, INITIALIZE, { authorization: "Bearer not-a-jwt" });
    expect(res.status).toBe(401);
    expect(bearerChallenge(res.headers["www-authenticate"])).toEqual({
      error: "invalid_token",
      error_description: DESCRIPTIONS.malformed,
      resource_metadata: `${ex.origin}/.well-known/oauth-protected-resource/mcp`,
    });
  });
});

describe("HTTP Stream maxMessageSize: enforced by the bridge, which hands the transport the body", () => {
  const serverWith = async (maxMessageSize: unknown): Promise<{ server: MCPServer; port: number; url: string }> => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/mcp`;
    const provider = new OAuthAuthProvider({ resource: url, authorizationServers: [as.issuer], scopes: ["mcp:read"] });
    const server = new MCPServer({
      name: "size-limit",
      version: "0.0.0",
      transport: {
        type: "http-stream",
        options: { port, host: "127.0.0.1", maxMessageSize: maxMessageSize as number, auth: { provider } },
      },
    });
    server.addTool(WhoamiTool);
    return { server, port, url };
  };

  it.each([
    [0, 1],
    [400, 401],
  ])(
    "maxMessageSize %d: a body of %d bytes is 413 body_too_large; one within the limit passes",
    async (limit, size) => {
      const { server, port, url } = await serverWith(limit);
      const started = await startFramework(server, port);
      try {
        const token = as.mint(url, { sub: "gina", scope: "mcp:read" });
        const headers = {
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
        };
        const tooLarge = await rawRequest(url, { method: "POST", headers, body: "x".repeat(size) });
        expect([tooLarge.status, JSON.parse(tooLarge.body)]).toEqual([
          413,
          expect.objectContaining({ error: "invalid_request" }),
        ]);
        if (limit > 0) {
          const body = JSON.stringify(INITIALIZE);
          const padded = `${body}${" ".repeat(limit - Buffer.byteLength(body))}`;
          expect(Buffer.byteLength(padded)).toBe(limit);
          expect((await rawRequest(url, { method: "POST", headers, body: padded })).status).toBe(200);
        }
      } finally {
        await started.stop();
      }
    },
  );

  it.each([[-1], ["4mb"], [Number.NaN]])("maxMessageSize %p fails at start-up, saying what to set", async (limit) => {
    const { server } = await serverWith(limit);
    await expect(server.start()).rejects.toThrow(/maxMessageSize.*must be a number of bytes, 0 or more/);
  });
});
