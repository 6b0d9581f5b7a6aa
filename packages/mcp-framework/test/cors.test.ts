/**
 * CORS and the Origin rule on the framework's transports behind the bridge: oauthCors()
 * decides (the example wires OAUTH_ALLOWED_ORIGINS into the provider's `cors` option), and
 * origins given to the transport through frameworkCors() join the same rule.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { frameworkCors } from "@mcp-oauth/mcp-framework";
import {
  startTestAuthorizationServer,
  type TestAuthorizationServer,
} from "../../../test/helpers/authorization-server.js";
import { MCPServer } from "mcp-framework";
import { OAuthAuthProvider } from "@mcp-oauth/mcp-framework";
import { WhoamiTool } from "../../../examples/mcp-framework-server/src/tools.js";
import {
  bearerChallenge,
  errorBody,
  freePort,
  headerList,
  INITIALIZE,
  postJson,
  rawRequest,
  startExample,
  startFramework,
  type RunningExample,
} from "./support.js";

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
    expect(headerList(cors.allowHeaders)).toEqual(
      expect.arrayContaining([
        "authorization",
        "content-type",
        "mcp-protocol-version",
        "mcp-session-id",
        "last-event-id",
      ]),
    );
    expect(headerList(cors.exposeHeaders)).toEqual(expect.arrayContaining(["www-authenticate", "mcp-session-id"]));
    expect(headerList(cors.allowMethods)).toEqual(expect.arrayContaining(["get", "post", "delete", "options"]));
    expect(cors.maxAge).toBe("86400");
  });

  it("one allowed origin is the Allow-Origin value; several give * with the list enforced", () => {
    expect(frameworkCors({ allowedOrigins: [APP] })).toMatchObject({ allowOrigin: APP, allowedOrigins: [APP] });
    expect(frameworkCors({ allowedOrigins: [APP, "http://localhost:5173"], maxAge: 60 })).toMatchObject({
      allowOrigin: "*",
      allowedOrigins: [APP, "http://localhost:5173"],
      maxAge: "60",
    });
  });
});

describe.each([
  ["http-stream", "/mcp"],
  ["sse", "/sse"],
] as const)("the %s transport with OAUTH_ALLOWED_ORIGINS", (transport, endpoint) => {
  let ex: RunningExample;
  beforeAll(async () => {
    ex = await startExample({
      MCP_TRANSPORT: transport,
      OAUTH_AUTHORIZATION_SERVER: as.issuer,
      OAUTH_SCOPES: "mcp:read",
      OAUTH_ALLOWED_ORIGINS: APP,
    });
  });
  afterAll(() => ex.stop());

  it.each([endpoint, ...(transport === "sse" ? ["/messages"] : [])])(
    "answers a preflight on %s without authentication, allowing Authorization and Mcp-Protocol-Version",
    async (path) => {
      const res = await rawRequest(`${ex.origin}${path}`, {
        method: "OPTIONS",
        headers: {
          origin: APP,
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization, content-type, mcp-protocol-version",
        },
      });
      expect(res.status).toBe(204);
      expect(res.headers["www-authenticate"]).toBeUndefined();
      expect(res.headers["access-control-allow-origin"]).toBe(APP);
      expect(headerList(res.headers["access-control-allow-headers"])).toEqual(
        expect.arrayContaining(["authorization", "content-type", "mcp-protocol-version", "mcp-session-id"]),
      );
      expect(headerList(res.headers["access-control-allow-methods"])).toEqual(expect.arrayContaining(["post", "get"]));
      expect(headerList(res.headers["access-control-expose-headers"])).toEqual(
        expect.arrayContaining(["www-authenticate", "mcp-session-id"]),
      );
      expect(res.headers["access-control-max-age"]).toBe("86400");
    },
  );

  it("a 401 to the allowed origin exposes WWW-Authenticate so the browser client can read the challenge", async () => {
    const res =
      transport === "sse"
        ? await rawRequest(ex.url, { headers: { origin: APP, accept: "text/event-stream" } })
        : await postJson(ex.url, INITIALIZE, { origin: APP });
    expect(res.status).toBe(401);
    expect(res.headers["access-control-allow-origin"]).toBe(APP);
    expect(headerList(res.headers["access-control-expose-headers"])).toEqual(
      expect.arrayContaining(["www-authenticate", "mcp-session-id"]),
    );
    expect(bearerChallenge(res.headers["www-authenticate"])).toEqual({
      resource_metadata: `${ex.origin}/.well-known/oauth-protected-resource${endpoint}`,
      scope: "mcp:read",
    });
  });

  it.each([EVIL, "null", "https://app.example.com.evil.example"])(
    "Origin %s is refused with 403 by the library, before authentication",
    async (origin) => {
      for (const res of [
        await rawRequest(ex.url, { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST" } }),
        transport === "sse"
          ? await rawRequest(ex.url, {
              headers: { origin, accept: "text/event-stream", authorization: `Bearer ${as.mint(ex.url)}` },
            })
          : await postJson(ex.url, INITIALIZE, { origin, authorization: `Bearer ${as.mint(ex.url)}` }),
      ]) {
        expect(res.status).toBe(403);
        expect(res.headers["www-authenticate"]).toBeUndefined();
        expect(JSON.parse(res.body)).toEqual(errorBody(403, "The request Origin is not allowed"));
      }
    },
  );

  it("a request without Origin (not a browser) is not subject to the rule", async () => {
    const res = transport === "sse" ? await rawRequest(ex.url) : await postJson(ex.url, INITIALIZE);
    expect(res.status).toBe(401);
  });
});

describe("the HTTP Stream transport with a valid token from the allowed origin", () => {
  let ex: RunningExample;
  beforeAll(async () => {
    ex = await startExample({
      MCP_TRANSPORT: "http-stream",
      OAUTH_AUTHORIZATION_SERVER: as.issuer,
      OAUTH_ALLOWED_ORIGINS: APP,
    });
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

describe.each([
  [[APP], [APP], [EVIL]],
  [["*"], [APP, EVIL], []],
] as const)("frameworkCors({ allowedOrigins: %j }) on the transport", (origins, allowed, refused) => {
  let started: Awaited<ReturnType<typeof startFramework>>;
  let url: string;
  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}/mcp`;
    const provider = new OAuthAuthProvider({ resource: url, authorizationServers: [as.issuer] });
    const server = new MCPServer({
      name: "framework-cors",
      version: "0.0.0",
      transport: {
        type: "http-stream",
        options: { port, auth: { provider }, cors: frameworkCors({ allowedOrigins: [...origins] }) },
      },
    });
    server.addTool(WhoamiTool);
    started = await startFramework(server, port);
  });
  afterAll(() => started.stop());

  it("its origins join the library's rule, next to the resource's own origin; one rule decides", async () => {
    for (const origin of [...allowed, started.origin]) {
      const res = await postJson(url, INITIALIZE, { origin, authorization: `Bearer ${as.mint(url)}` });
      expect([origin, res.status, res.headers["access-control-allow-origin"]]).toEqual([origin, 200, origin]);
    }
    for (const origin of refused) {
      const res = await postJson(url, INITIALIZE, { origin, authorization: `Bearer ${as.mint(url)}` });
      expect([origin, res.status]).toEqual([origin, 403]);
    }
  });
});
