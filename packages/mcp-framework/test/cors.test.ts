/**
 * frameworkCors(): the `cors` option of mcp-framework's transports for browser clients,
 * as the real transports apply it (the example wires it from OAUTH_ALLOWED_ORIGINS).
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { frameworkCors } from "@mcp-oauth/mcp-framework";
import { startTestAuthorizationServer, type TestAuthorizationServer } from "../../../test/helpers/authorization-server.js";
import { bearerChallenge, headerList, INITIALIZE, postJson, rawRequest, startExample, type RunningExample } from "./support.js";

const APP = "https://app.example.com";
const EVIL = "https://evil.example.com";

let as: TestAuthorizationServer;

beforeAll(async () => {
  as = await startTestAuthorizationServer();
});
afterAll(() => as.close());

describe("frameworkCors()", () => {
  it("allows the bearer token and the MCP request headers, exposes the challenge and the session id", () => {
    const cors = frameworkCors();
    expect(cors.allowOrigin).toBe("*");
    expect(cors).not.toHaveProperty("allowedOrigins");
    expect(headerList(cors.allowHeaders)).toEqual(expect.arrayContaining(["authorization", "content-type", "mcp-protocol-version", "mcp-session-id", "last-event-id"]));
    expect(headerList(cors.exposeHeaders)).toEqual(expect.arrayContaining(["www-authenticate", "mcp-session-id"]));
    expect(headerList(cors.allowMethods)).toEqual(expect.arrayContaining(["get", "post", "delete", "options"]));
    expect(cors.maxAge).toBe("86400");
  });

  it("one allowed origin is the Allow-Origin value; several give * with the list enforced", () => {
    expect(frameworkCors({ allowedOrigins: [APP] })).toMatchObject({ allowOrigin: APP, allowedOrigins: [APP] });
    expect(frameworkCors({ allowedOrigins: [APP, "http://localhost:5173"], maxAge: 60 })).toMatchObject({
      allowOrigin: "*", allowedOrigins: [APP, "http://localhost:5173"], maxAge: "60",
    });
  });
});

describe.each([
  ["http-stream", "/mcp"],
  ["sse", "/sse"],
] as const)("the %s transport with OAUTH_ALLOWED_ORIGINS", (transport, endpoint) => {
  let ex: RunningExample;
  beforeAll(async () => {
    ex = await startExample({ MCP_TRANSPORT: transport, OAUTH_AUTHORIZATION_SERVER: as.issuer, OAUTH_SCOPES: "mcp:read", OAUTH_ALLOWED_ORIGINS: APP });
  });
  afterAll(() => ex.stop());

  it.each([endpoint, ...(transport === "sse" ? ["/messages"] : [])])("answers a preflight on %s without authentication, allowing Authorization and Mcp-Protocol-Version", async (path) => {
    const res = await rawRequest(`${ex.origin}${path}`, {
      method: "OPTIONS",
      headers: { origin: APP, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type, mcp-protocol-version" },
    });
    expect(res.status).toBe(204);
    expect(res.headers["www-authenticate"]).toBeUndefined();
    expect(res.headers["access-control-allow-origin"]).toBe(APP);
    expect(headerList(res.headers["access-control-allow-headers"])).toEqual(expect.arrayContaining(["authorization", "content-type", "mcp-protocol-version", "mcp-session-id"]));
    expect(headerList(res.headers["access-control-allow-methods"])).toEqual(expect.arrayContaining(["post", "get"]));
    expect(headerList(res.headers["access-control-expose-headers"])).toEqual(expect.arrayContaining(["www-authenticate", "mcp-session-id"]));
    expect(res.headers["access-control-max-age"]).toBe("86400");
  });

  it("a 401 to the allowed origin exposes WWW-Authenticate so the browser client can read the challenge", async () => {
    const res = transport === "sse"
      ? await rawRequest(ex.url, { headers: { origin: APP, accept: "text/event-stream" } })
      : await postJson(ex.url, INITIALIZE, { origin: APP });
    expect(res.status).toBe(401);
    expect(res.headers["access-control-allow-origin"]).toBe(APP);
    expect(headerList(res.headers["access-control-expose-headers"])).toEqual(expect.arrayContaining(["www-authenticate", "mcp-session-id"]));
    expect(bearerChallenge(res.headers["www-authenticate"])).toEqual({ resource_metadata: `${ex.origin}/.well-known/oauth-protected-resource`, scope: "mcp:read" });
  });

  it.each([EVIL, "null", "https://app.example.com.evil.example"])("Origin %s is refused with 403 by the framework, before authentication", async (origin) => {
    for (const res of [
      await rawRequest(ex.url, { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST" } }),
      transport === "sse"
        ? await rawRequest(ex.url, { headers: { origin, accept: "text/event-stream", authorization: `Bearer ${as.mint(ex.url)}` } })
        : await postJson(ex.url, INITIALIZE, { origin, authorization: `Bearer ${as.mint(ex.url)}` }),
    ]) {
      expect(res.status).toBe(403);
      expect(res.headers["www-authenticate"]).toBeUndefined();
      expect(JSON.parse(res.body)).toEqual({ jsonrpc: "2.0", error: { code: -32600, message: `Forbidden: origin '${origin}' is not allowed` } });
    }
  });

  it("a request without Origin (not a browser) is not subject to the rule", async () => {
    const res = transport === "sse" ? await rawRequest(ex.url) : await postJson(ex.url, INITIALIZE);
    expect(res.status).toBe(401);
  });
});

describe("the HTTP Stream transport with a valid token from the allowed origin", () => {
  let ex: RunningExample;
  beforeAll(async () => {
    ex = await startExample({ MCP_TRANSPORT: "http-stream", OAUTH_AUTHORIZATION_SERVER: as.issuer, OAUTH_ALLOWED_ORIGINS: APP });
  });
  afterAll(() => ex.stop());

  it("answers with the session id exposed to the browser", async () => {
    const res = await postJson(ex.url, INITIALIZE, { origin: APP, authorization: `Bearer ${as.mint(ex.url)}` });
    expect(res.status).toBe(200);
    expect(res.headers["access-control-allow-origin"]).toBe(APP);
    expect(typeof res.headers["mcp-session-id"]).toBe("string");
    expect(headerList(res.headers["access-control-expose-headers"])).toContain("mcp-session-id");
  });
});
