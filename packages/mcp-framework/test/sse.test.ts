/**
 * OAuthAuthProvider behind mcp-framework's real legacy SSE transport: with auth on the
 * stream endpoint (the example: endpoints { sse: true, messages: true }) and without it
 * (an MCPServer built here with endpoints { sse: false, messages: true }).
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { request as httpRequest, type ClientRequest, type IncomingMessage } from "node:http";
import { MCPServer } from "mcp-framework";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { obtainAccessToken } from "@mcp-oauth/local-authorization-server";
import { OAuthAuthProvider } from "@mcp-oauth/mcp-framework";
import { startTestAuthorizationServer, type TestAuthorizationServer } from "../../../test/helpers/authorization-server.js";
import { WhoamiTool } from "../../../examples/mcp-framework-server/src/tools.js";
import {
  bearerChallenge, callWhoami, connectSse, DESCRIPTIONS, freePort, frameworkErrorBody, INITIALIZE, jwtPayload, postJson,
  rawRequest, startExample, startFramework, type RunningExample, type Started,
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
    rootMetadata = `${ex.origin}/.well-known/oauth-protected-resource`;
    token = (await obtainAccessToken(as.issuer, { resource: ex.url, scope: "mcp:read", login: "gina" })).access_token;
  });
  afterAll(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await ex.stop();
  });

  it("the resource is the SSE endpoint, published verbatim at the root", async () => {
    expect(ex.url).toBe(`http://127.0.0.1:${ex.port}/sse`);
    const res = await rawRequest(rootMetadata);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ resource: ex.url, authorization_servers: [as.issuer] });
  });

  it("connecting to the stream without a token: 401 with the challenge, no error", async () => {
    const res = await rawRequest(ex.url, { headers: { accept: "text/event-stream" } });
    expect(res.status).toBe(401);
    expect(res.headers["content-type"]).not.toBe("text/event-stream");
    expect(bearerChallenge(res.headers["www-authenticate"])).toEqual({ resource_metadata: rootMetadata, scope: "mcp:read" });
    expect(JSON.parse(res.body)).toEqual(frameworkErrorBody(401, DESCRIPTIONS.missing));
  });

  it("connecting with an expired token: 401 invalid_token", async () => {
    const expired = as.mint(ex.url, { iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 });
    const res = await rawRequest(ex.url, { headers: { accept: "text/event-stream", authorization: `Bearer ${expired}` } });
    expect(res.status).toBe(401);
    expect(bearerChallenge(res.headers["www-authenticate"])).toEqual({
      error: "invalid_token", error_description: DESCRIPTIONS.expired, resource_metadata: rootMetadata, scope: "mcp:read",
    });
  });

  it("posting a message without a token: 401 with the challenge", async () => {
    const res = await postJson(`${ex.origin}/messages?sessionId=whatever`, INITIALIZE);
    expect(res.status).toBe(401);
    expect(bearerChallenge(res.headers["www-authenticate"])).toEqual({ resource_metadata: rootMetadata, scope: "mcp:read" });
  });

  it("the SDK client without a token cannot connect", async () => {
    const client = new Client({ name: "anonymous", version: "0" });
    await expect(client.connect(new SSEClientTransport(new URL(ex.url)))).rejects.toThrow(/401|Unauthorized/);
    await client.close();
  });

  it("with a token on the stream and the messages, whoami works over SSEClientTransport", async () => {
    const client = await connectSse(ex.url, token, token);
    clients.push(client);
    expect(await callWhoami(client)).toEqual({ sub: "gina", clientId: jwtPayload(token)["client_id"], scopes: ["mcp:read"] });
  });
});

/** Opens the event stream by hand and returns the message endpoint the server announced. */
function openStream(url: string, headers: Record<string, string> = {}): Promise<{ req: ClientRequest; res: IncomingMessage; endpoint: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { accept: "text/event-stream", ...headers }, agent: false }, (res) => {
      let buffer = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buffer += chunk;
        const match = /event: endpoint\r?\ndata: (\S+)/.exec(buffer);
        if (match) resolve({ req, res, endpoint: match[1]! });
      });
      res.on("end", () => reject(new Error(`stream ended: HTTP ${res.statusCode} ${buffer}`)));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("SSE transport with auth on the messages only (endpoints { sse: false, messages: true })", () => {
  let started: Started;
  let url: string;
  let token: string;

  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}/sse`;
    const provider = new OAuthAuthProvider({ resource: url, authorizationServers: [as.issuer], scopes: ["mcp:read"] });
    const server = new MCPServer({
      name: "sse-messages-only",
      version: "0.0.0",
      transport: { type: "sse", options: { port, host: "127.0.0.1", auth: { provider, endpoints: { sse: false, messages: true } } } },
    });
    server.addTool(WhoamiTool);
    started = await startFramework(server, port);
    token = (await obtainAccessToken(as.issuer, { resource: url, scope: "mcp:read", login: "hugo" })).access_token;
  });
  afterAll(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await started.stop();
  });

  it("the stream opens without a token, but its messages still need one", async () => {
    const stream = await openStream(url);
    try {
      expect(stream.res.statusCode).toBe(200);
      expect(stream.res.headers["content-type"]).toBe("text/event-stream");
      expect(stream.endpoint).toMatch(/^\/messages\?sessionId=[\w-]+$/);
      const messages = `${started.origin}${stream.endpoint}`;

      const anonymous = await postJson(messages, INITIALIZE);
      expect(anonymous.status).toBe(401);
      expect(bearerChallenge(anonymous.headers["www-authenticate"])).toEqual({
        resource_metadata: `${started.origin}/.well-known/oauth-protected-resource`, scope: "mcp:read",
      });

      const invalid = await postJson(messages, INITIALIZE, { authorization: "Bearer not-a-jwt" });
      expect(invalid.status).toBe(401);
      expect(bearerChallenge(invalid.headers["www-authenticate"])).toMatchObject({ error: "invalid_token" });

      const accepted = await postJson(messages, INITIALIZE, { authorization: `Bearer ${token}` });
      expect(accepted.status).toBe(202);
    } finally {
      stream.req.destroy();
    }
  });

  it("the SDK client with no token on the stream and a token on the messages reaches whoami", async () => {
    const client = await connectSse(url, undefined, token);
    clients.push(client);
    expect(await callWhoami(client)).toEqual({ sub: "hugo", clientId: jwtPayload(token)["client_id"], scopes: ["mcp:read"] });
  });

  it("the SDK client with no token on the messages cannot initialize", async () => {
    const client = new Client({ name: "anonymous", version: "0" });
    await expect(client.connect(new SSEClientTransport(new URL(url)))).rejects.toThrow(/401/);
    await client.close();
  });
});
