/**
 * OAuthAuthProvider on mcp-framework's real legacy SSE transport (the example: `auth: { provider }`,
 * the bridge in front): the stream and the messages both need a token; `endpoints` cannot open one.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { MCPServer } from "mcp-framework";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { obtainAccessToken } from "@mcp-oauth/local-authorization-server";
import { OAuthAuthProvider } from "@mcp-oauth/mcp-framework";
import {
  startTestAuthorizationServer,
  type TestAuthorizationServer,
} from "../../../test/helpers/authorization-server.js";
import { WhoamiTool } from "../../../examples/mcp-framework-server/src/tools.js";
import {
  bearerChallenge,
  callWhoami,
  connectSse,
  DESCRIPTIONS,
  freePort,
  errorBody,
  INITIALIZE,
  jwtPayload,
  postJson,
  rawRequest,
  startExample,
  type RunningExample,
} from "./support.js";

let as: TestAuthorizationServer;
const clients: Client[] = [];

beforeAll(async () => {
  as = await startTestAuthorizationServer();
});
afterAll(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await as.close();
});

describe("SSE transport with auth on the stream endpoint (the example)", () => {
  let ex: RunningExample;
  let rootMetadata: string;
  let token: string;

  beforeAll(async () => {
    ex = await startExample({ MCP_TRANSPORT: "sse", OAUTH_AUTHORIZATION_SERVER: as.issuer, OAUTH_SCOPES: "mcp:read" });
    rootMetadata = `${ex.origin}/.well-known/oauth-protected-resource/sse`;
    token = (await obtainAccessToken(as.issuer, { resource: ex.url, scope: "mcp:read", login: "gina" })).access_token;
  });
  afterAll(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await ex.stop();
  });

  it("the resource is the SSE endpoint, published at both RFC 9728 URLs", async () => {
    expect(ex.url).toBe(`http://127.0.0.1:${ex.port}/sse`);
    for (const url of [rootMetadata, `${ex.origin}/.well-known/oauth-protected-resource`]) {
      const res = await rawRequest(url);
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toMatchObject({ resource: ex.url, authorization_servers: [as.issuer] });
    }
  });

  it("connecting to the stream without a token: 401 with the challenge, no error", async () => {
    const res = await rawRequest(ex.url, { headers: { accept: "text/event-stream" } });
    expect(res.status).toBe(401);
    expect(res.headers["content-type"]).not.toBe("text/event-stream");
    expect(bearerChallenge(res.headers["www-authenticate"])).toEqual({
      resource_metadata: rootMetadata,
      scope: "mcp:read",
    });
    expect(JSON.parse(res.body)).toEqual(errorBody(401, DESCRIPTIONS.missing));
  });

  it("connecting with an expired token: 401 invalid_token", async () => {
    const expired = as.mint(ex.url, {
      iat: Math.floor(Date.now() / 1000) - 7200,
      exp: Math.floor(Date.now() / 1000) - 3600,
    });
    const res = await rawRequest(ex.url, {
      headers: { accept: "text/event-stream", authorization: `Bearer ${expired}` },
    });
    expect(res.status).toBe(401);
    expect(bearerChallenge(res.headers["www-authenticate"])).toEqual({
      error: "invalid_token",
      error_description: DESCRIPTIONS.expired,
      resource_metadata: rootMetadata,
      scope: "mcp:read",
    });
  });

  it("posting a message without a token: 401 with the challenge", async () => {
    const res = await postJson(`${ex.origin}/messages?sessionId=whatever`, INITIALIZE);
    expect(res.status).toBe(401);
    expect(bearerChallenge(res.headers["www-authenticate"])).toEqual({
      resource_metadata: rootMetadata,
      scope: "mcp:read",
    });
  });

  it("the SDK client without a token cannot connect", async () => {
    const client = new Client({ name: "anonymous", version: "0" });
    await expect(client.connect(new SSEClientTransport(new URL(ex.url)))).rejects.toThrow(/401|Unauthorized/);
    await client.close();
  });

  it("with a token on the stream and the messages, whoami works over SSEClientTransport", async () => {
    const client = await connectSse(ex.url, token, token);
    clients.push(client);
    expect(await callWhoami(client)).toEqual({
      sub: "gina",
      clientId: jwtPayload(token)["client_id"],
      scopes: ["mcp:read"],
    });
  });
});

describe("SSE transport with auth.endpoints.sse: false", () => {
  it("fails at start-up: the bridge protects every request, so an endpoint cannot be left open", async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/sse`;
    const provider = new OAuthAuthProvider({ resource: url, authorizationServers: [as.issuer], scopes: ["mcp:read"] });
    const server = new MCPServer({
      name: "sse-messages-only",
      version: "0.0.0",
      transport: {
        type: "sse",
        options: { port, host: "127.0.0.1", auth: { provider, endpoints: { sse: false, messages: true } } },
      },
    });
    server.addTool(WhoamiTool);
    await expect(server.start()).rejects.toThrow(/auth\.endpoints\.sse.*remove auth\.endpoints or set it to true/);
  });
});
