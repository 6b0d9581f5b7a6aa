/**
 * oauthCors(): CORS for browser-based MCP clients, and the Streamable HTTP transport's
 * Origin rule (a present, disallowed Origin gets 403).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "@jest/globals";
import express, { type Express } from "express";
import request from "supertest";
import {
  MCP_ALLOWED_HEADERS,
  MCP_EXPOSED_HEADERS,
  oauthCors,
  requireBearer,
  ResourceServer,
  type OAuthCorsOptions,
} from "@mcp-oauth/express";
import {
  startTestAuthorizationServer,
  type TestAuthorizationServer,
} from "../../../test/helpers/authorization-server.js";
import { bearerChallenge, headerList } from "./support.js";

const RESOURCE = "http://127.0.0.1:4444/mcp";
const RESOURCE_ORIGIN = "http://127.0.0.1:4444";
const METADATA_URL = "http://127.0.0.1:4444/.well-known/oauth-protected-resource/mcp";
const APP_ORIGIN = "https://app.example.com";
const EVIL_ORIGIN = "https://evil.example";

const REQUIRED_ALLOWED = [
  "authorization",
  "content-type",
  "mcp-protocol-version",
  "mcp-session-id",
  "last-event-id",
  "mcp-method",
  "mcp-name",
];
const REQUIRED_EXPOSED = ["www-authenticate", "mcp-session-id", "mcp-protocol-version"];

let as: TestAuthorizationServer;
let server: ResourceServer;

/** oauthCors, then requireBearer, then a route that marks that it was reached. */
function appFor(corsOptions: OAuthCorsOptions): Express {
  const app = express();
  app.use(oauthCors(server, corsOptions));
  app.use(requireBearer(server));
  app.all("/mcp", (req, res) => {
    res.set("X-Reached", "route").json({ reached: true, sub: req.auth?.extra?.["sub"] ?? null });
  });
  return app;
}

let app: Express;
beforeAll(async () => {
  as = await startTestAuthorizationServer();
  server = new ResourceServer({ resource: RESOURCE, authorizationServers: [as.issuer] });
});
// Built for each test, not once: Stryker (docs/security.md "Mutation testing") can only
// change code that runs inside a test, and the middleware's options are set when it is built.
beforeEach(() => {
  app = appFor({ allowedOrigins: [APP_ORIGIN] });
});
afterAll(() => as.close());

const bearer = (): string => `Bearer ${as.mint(RESOURCE)}`;

describe("preflight", () => {
  it("is answered without authentication, allowing every MCP request header and exposing the challenge", async () => {
    const res = await request(app)
      .options("/mcp")
      .set("Origin", APP_ORIGIN)
      .set("Access-Control-Request-Method", "POST")
      .set(
        "Access-Control-Request-Headers",
        "authorization, content-type, mcp-protocol-version, mcp-session-id, last-event-id, mcp-method, mcp-name",
      );
    expect(res.status).toBe(204);
    expect(res.headers["x-reached"]).toBeUndefined();
    expect(res.headers["www-authenticate"]).toBeUndefined();
    expect(res.headers["access-control-allow-origin"]).toBe(APP_ORIGIN);
    const allowed = headerList(res.headers["access-control-allow-headers"]);
    for (const name of REQUIRED_ALLOWED) expect(allowed).toContain(name);
    const methods = headerList(res.headers["access-control-allow-methods"]);
    for (const method of ["get", "post", "delete"]) expect(methods).toContain(method);
    const exposed = headerList(res.headers["access-control-expose-headers"]);
    expect(exposed).toContain("www-authenticate");
    expect(exposed).toContain("mcp-session-id");
    expect(Number(res.headers["access-control-max-age"])).toBeGreaterThan(0);
  });

  it("carries the security headers every library answer has", async () => {
    const res = await request(app)
      .options("/mcp")
      .set("Origin", APP_ORIGIN)
      .set("Access-Control-Request-Method", "POST");
    expect(res.status).toBe(204);
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
    expect(res.headers["content-security-policy"]).toContain("default-src 'none'");
    expect(res.headers["x-frame-options"]).toBe("SAMEORIGIN");
  });

  it("is never challenged, even with a bad Authorization header on it", async () => {
    const res = await request(app)
      .options("/mcp")
      .set("Origin", APP_ORIGIN)
      .set("Access-Control-Request-Method", "DELETE")
      .set("Authorization", "Bearer garbage");
    expect(res.status).toBe(204);
    expect(res.headers["www-authenticate"]).toBeUndefined();
  });

  // cors takes every OPTIONS for a preflight and would answer this one 204: oauthCors shows
  // it an actual request, so it goes on to authentication like a GET.
  it("an OPTIONS without Access-Control-Request-Method is no preflight: 401 with the CORS headers, the route with a token", async () => {
    const refused = await request(app).options("/mcp").set("Origin", APP_ORIGIN);
    expect(refused.status).toBe(401);
    expect(refused.headers["x-reached"]).toBeUndefined();
    expect(refused.headers["access-control-allow-origin"]).toBe(APP_ORIGIN);
    expect(refused.headers["access-control-allow-methods"]).toBeUndefined();
    expect(bearerChallenge(refused.headers["www-authenticate"])).toEqual({ resource_metadata: METADATA_URL });
    const reached = await request(app).options("/mcp").set("Origin", APP_ORIGIN).set("Authorization", bearer());
    expect(reached.status).toBe(200);
    expect(reached.headers["x-reached"]).toBe("route");
  });

  it("publishes the header lists the reference requires", () => {
    expect(MCP_ALLOWED_HEADERS.map((h) => h.toLowerCase())).toEqual(expect.arrayContaining(REQUIRED_ALLOWED));
    expect(MCP_EXPOSED_HEADERS.map((h) => h.toLowerCase())).toEqual(expect.arrayContaining(REQUIRED_EXPOSED));
  });
});

describe("the Origin rule", () => {
  it("refuses a disallowed Origin on an MCP request with 403 JSON, even with a valid token", async () => {
    const res = await request(app)
      .post("/mcp")
      .set("Origin", EVIL_ORIGIN)
      .set("Authorization", bearer())
      .send({ jsonrpc: "2.0", id: 1, method: "ping" });
    expect(res.status).toBe(403);
    expect(res.headers["x-reached"]).toBeUndefined();
    expect(res.headers["content-type"]).toMatch(/^application\/json(;|$)/);
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(res.body).toEqual({ error: "access_denied", error_description: expect.any(String) });
    expect(res.headers["access-control-allow-origin"]).toBeUndefined();
    expect(res.headers["www-authenticate"]).toBeUndefined();
  });

  it("refuses a disallowed Origin on GET and DELETE too", async () => {
    for (const method of ["get", "delete"] as const) {
      const res = await request(app)[method]("/mcp").set("Origin", EVIL_ORIGIN).set("Authorization", bearer());
      expect(res.status).toBe(403);
      expect(res.headers["x-reached"]).toBeUndefined();
    }
  });

  it("refuses the literal Origin null", async () => {
    const res = await request(app).post("/mcp").set("Origin", "null").set("Authorization", bearer());
    expect(res.status).toBe(403);
  });

  it("does not treat a look-alike of an allowed origin as allowed", async () => {
    for (const origin of [`${APP_ORIGIN}.evil.example`, "http://app.example.com", `${APP_ORIGIN}:8443`]) {
      const res = await request(app).post("/mcp").set("Origin", origin).set("Authorization", bearer());
      expect(res.status).toBe(403);
    }
  });

  it("echoes an allowed Origin and lets the request through", async () => {
    const res = await request(app).post("/mcp").set("Origin", APP_ORIGIN).set("Authorization", bearer()).send({});
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ reached: true, sub: "alice" });
    expect(res.headers["access-control-allow-origin"]).toBe(APP_ORIGIN);
    expect(headerList(res.headers["vary"])).toContain("origin");
    const exposed = headerList(res.headers["access-control-expose-headers"]);
    for (const name of REQUIRED_EXPOSED) expect(exposed).toContain(name);
  });

  it("allows the resource's own origin by default", async () => {
    const res = await request(app).post("/mcp").set("Origin", RESOURCE_ORIGIN).set("Authorization", bearer());
    expect(res.status).toBe(200);
    expect(res.headers["access-control-allow-origin"]).toBe(RESOURCE_ORIGIN);
  });

  it("lets a request without Origin through (non-browser clients), adding no CORS header", async () => {
    const res = await request(app).post("/mcp").set("Authorization", bearer());
    expect(res.status).toBe(200);
    expect(res.body.reached).toBe(true);
    expect(Object.keys(res.headers).filter((name) => name.startsWith("access-control-"))).toEqual([]);
  });

  it("leaves the application's own answers to the application: no security headers on what it lets through", async () => {
    const res = await request(app).post("/mcp").set("Origin", APP_ORIGIN).set("Authorization", bearer()).send({});
    expect(res.status).toBe(200);
    expect(res.headers["content-security-policy"]).toBeUndefined();
    expect(res.headers["x-frame-options"]).toBeUndefined();
  });

  it("still authenticates a request from an allowed origin: 401 carrying the CORS headers browsers need to read the challenge", async () => {
    const res = await request(app).post("/mcp").set("Origin", APP_ORIGIN);
    expect(res.status).toBe(401);
    expect(res.headers["x-reached"]).toBeUndefined();
    expect(res.headers["access-control-allow-origin"]).toBe(APP_ORIGIN);
    expect(headerList(res.headers["access-control-expose-headers"])).toContain("www-authenticate");
    expect(bearerChallenge(res.headers["www-authenticate"])).toEqual({ resource_metadata: METADATA_URL });
  });

  it("still authenticates a request without Origin", async () => {
    const res = await request(app).post("/mcp");
    expect(res.status).toBe(401);
    expect(res.headers["x-reached"]).toBeUndefined();
  });
});

describe('allowedOrigins: "*"', () => {
  it("allows any origin", async () => {
    const open = appFor({ allowedOrigins: "*" });
    for (const origin of [EVIL_ORIGIN, "http://localhost:6274", APP_ORIGIN]) {
      const res = await request(open).post("/mcp").set("Origin", origin).set("Authorization", bearer());
      expect(res.status).toBe(200);
      expect([origin, "*"]).toContain(res.headers["access-control-allow-origin"]);
    }
    const preflight = await request(open)
      .options("/mcp")
      .set("Origin", EVIL_ORIGIN)
      .set("Access-Control-Request-Method", "POST");
    expect(preflight.status).toBe(204);
    expect([EVIL_ORIGIN, "*"]).toContain(preflight.headers["access-control-allow-origin"]);
  });

  it("adds no CORS header to a request without Origin (not a browser's cross-origin request)", async () => {
    const open = appFor({ allowedOrigins: "*" });
    const res = await request(open).post("/mcp").set("Authorization", bearer());
    expect(res.status).toBe(200);
    expect(Object.keys(res.headers).filter((name) => name.startsWith("access-control-"))).toEqual([]);
  });

  it("still requires a token", async () => {
    const open = appFor({ allowedOrigins: "*" });
    const res = await request(open).post("/mcp").set("Origin", EVIL_ORIGIN);
    expect(res.status).toBe(401);
  });
});

describe("allowedOrigins and maxAge on their own", () => {
  it("allows only the resource's own origin without allowedOrigins", async () => {
    const bare = express();
    bare.use(oauthCors(server));
    bare.post("/mcp", (_req, res) => {
      res.json({ reached: true });
    });
    const own = await request(bare).post("/mcp").set("Origin", RESOURCE_ORIGIN);
    expect(own.status).toBe(200);
    expect(own.headers["access-control-allow-origin"]).toBe(RESOURCE_ORIGIN);
    for (const origin of [APP_ORIGIN, EVIL_ORIGIN, "null"]) {
      const res = await request(bare).post("/mcp").set("Origin", origin);
      expect(res.status).toBe(403);
    }
  });

  it("allows only the listed origins and answers a disallowed one with 403 JSON", async () => {
    const bare = express();
    bare.use(oauthCors(server, { allowedOrigins: [APP_ORIGIN] }));
    bare.post("/mcp", (_req, res) => {
      res.json({ reached: true });
    });
    const denied = await request(bare).post("/mcp").set("Origin", EVIL_ORIGIN);
    expect(denied.status).toBe(403);
    expect(denied.headers["content-type"]).toMatch(/^application\/json(;|$)/);
    expect(denied.body).toEqual({ error: "access_denied", error_description: expect.any(String) });
    const allowed = await request(bare).post("/mcp").set("Origin", APP_ORIGIN);
    expect(allowed.status).toBe(200);
    expect(allowed.headers["access-control-allow-origin"]).toBe(APP_ORIGIN);
    const none = await request(bare).post("/mcp");
    expect(none.status).toBe(200);
  });

  it("honours maxAge", async () => {
    const bare = express();
    bare.use(oauthCors(server, { allowedOrigins: [APP_ORIGIN], maxAge: 600 }));
    const res = await request(bare)
      .options("/mcp")
      .set("Origin", APP_ORIGIN)
      .set("Access-Control-Request-Method", "POST");
    expect(res.status).toBe(204);
    expect(res.headers["access-control-max-age"]).toBe("600");
  });
});
