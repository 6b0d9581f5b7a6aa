/**
 * mcpOAuth(): the parts composed in the right order, the metadata public and every other
 * request that reaches it protected, each part switchable by name; in Express and in a
 * plain node:http server. Path spellings: test/hardening/path-spelling.test.ts.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "@jest/globals";
import express, { type Express } from "express";
import { createServer } from "node:http";
import request from "supertest";
import { mcpOAuth, McpOAuthConfigError, ResourceServer, type McpOAuthMiddlewareOptions } from "@mcp-oauth/express";
import { obtainAccessToken } from "@mcp-oauth/local-authorization-server";
import {
  startTestAuthorizationServer,
  type TestAuthorizationServer,
} from "../../../test/helpers/authorization-server.js";
import { bearerChallenge, headerList, listen, rawRequest, type Listening } from "./support.js";

const RESOURCE = "http://127.0.0.1:4444/mcp";
const METADATA_URL = "http://127.0.0.1:4444/.well-known/oauth-protected-resource/mcp";
const APP_ORIGIN = "https://app.example.com";

let as: TestAuthorizationServer;
let base: McpOAuthMiddlewareOptions;

/** mcpOAuth in front of a catch-all that reports what reached it. */
function appFor(options: McpOAuthMiddlewareOptions): Express {
  const app = express();
  app.use(mcpOAuth(options));
  app.use((req, res) => {
    res
      .set("X-Reached", "route")
      .json({ reached: req.path, method: req.method, sub: req.auth?.extra?.["sub"] ?? null });
  });
  return app;
}

const bearer = (claims: Record<string, unknown> = {}): string => `Bearer ${as.mint(RESOURCE, claims)}`;

beforeAll(async () => {
  as = await startTestAuthorizationServer();
  base = { resource: RESOURCE, authorizationServers: [as.issuer], scopes: ["mcp:read"] };
});
afterAll(() => as.close());

describe("default composition", () => {
  let app: Express;
  // Built for each test: Stryker only changes code that runs inside a test (docs/security.md).
  beforeEach(() => {
    app = appFor(base);
  });

  it.each(["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"])(
    "serves the metadata at %s without a token",
    async (path) => {
      const res = await request(app).get(path);
      expect(res.status).toBe(200);
      expect(res.headers["x-reached"]).toBeUndefined();
      expect(res.headers["access-control-allow-origin"]).toBe("*");
      expect(JSON.parse(res.text)).toEqual({
        resource: RESOURCE,
        authorization_servers: [as.issuer],
        scopes_supported: ["mcp:read"],
        bearer_methods_supported: ["header"],
      });
    },
  );

  it("serves the metadata even with a bad token", async () => {
    const res = await request(app)
      .get("/.well-known/oauth-protected-resource/mcp")
      .set("Authorization", "Bearer garbage");
    expect(res.status).toBe(200);
  });

  it.each([
    ["post", "/mcp"],
    ["get", "/mcp"],
    ["delete", "/mcp"],
    ["post", "/mcp/anything"],
    ["get", "/mcp/a/b?x=1"],
  ] as const)("protects %s %s: 401 with the challenge, the route never reached", async (method, path) => {
    const res = await request(app)[method](path);
    expect(res.status).toBe(401);
    expect(res.headers["x-reached"]).toBeUndefined();
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(res.body).toEqual({ error: expect.any(String), error_description: expect.any(String) });
    expect(bearerChallenge(res.headers["www-authenticate"])).toEqual({
      resource_metadata: METADATA_URL,
      scope: "mcp:read",
    });
  });

  it("answers an invalid token on /mcp with invalid_token", async () => {
    const res = await request(app)
      .post("/mcp")
      .set("Authorization", bearer({ aud: "http://127.0.0.1:4444/elsewhere" }));
    expect(res.status).toBe(401);
    expect(bearerChallenge(res.headers["www-authenticate"])).toMatchObject({
      error: "invalid_token",
      resource_metadata: METADATA_URL,
      scope: "mcp:read",
    });
  });

  it("lets a valid token from the real flow through to the route with req.auth", async () => {
    const { access_token: token } = await obtainAccessToken(as.issuer, {
      resource: RESOURCE,
      scope: "mcp:read",
      login: "gina",
    });
    const res = await request(app)
      .post("/mcp")
      .set("Authorization", `Bearer ${token}`)
      .send({ jsonrpc: "2.0", id: 1, method: "ping" });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ reached: "/mcp", method: "POST", sub: "gina" });
  });

  it.each(["/", "/health", "/mcpx", "/other/mcp", "/sse", "/messages", "/.well-known/oauth-authorization-server"])(
    "protects %s too: whatever reaches it is protected",
    async (path) => {
      const res = await request(app).get(path);
      expect(res.status).toBe(401);
      expect(res.headers["x-reached"]).toBeUndefined();
      expect(bearerChallenge(res.headers["www-authenticate"])).toEqual({
        resource_metadata: METADATA_URL,
        scope: "mcp:read",
      });
    },
  );

  it("leaves routes registered before it to the application", async () => {
    const before = express();
    before.get("/health", (_req, res) => {
      res.json({ ok: true });
    });
    before.use(mcpOAuth(base));
    before.use((_req, res) => {
      res.json({ reached: true });
    });
    const health = await request(before).get("/health").set("Origin", "https://evil.example");
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ ok: true });
    expect((await request(before).get("/other")).status).toBe(401);
  });

  it("answers a CORS preflight on /mcp without authentication", async () => {
    // Default allow-list: the resource's own origin.
    const res = await request(app)
      .options("/mcp")
      .set("Origin", "http://127.0.0.1:4444")
      .set("Access-Control-Request-Method", "POST")
      .set("Access-Control-Request-Headers", "authorization");
    expect(res.status).toBe(204);
    expect(res.headers["x-reached"]).toBeUndefined();
    expect(res.headers["www-authenticate"]).toBeUndefined();
    expect(res.headers["access-control-allow-origin"]).toBe("http://127.0.0.1:4444");
    expect(headerList(res.headers["access-control-allow-headers"])).toContain("authorization");
  });

  it("refuses a disallowed Origin on /mcp with 403 and lets the resource's own origin through", async () => {
    const denied = await request(app).post("/mcp").set("Origin", "https://evil.example").set("Authorization", bearer());
    expect(denied.status).toBe(403);
    expect(denied.body.error).toBe("access_denied");
    const own = await request(app).post("/mcp").set("Origin", "http://127.0.0.1:4444").set("Authorization", bearer());
    expect(own.status).toBe(200);
    expect(own.headers["access-control-allow-origin"]).toBe("http://127.0.0.1:4444");
  });

  it("applies the Origin rule to every protected request", async () => {
    const res = await request(app).get("/health").set("Origin", "https://evil.example").set("Authorization", bearer());
    expect(res.status).toBe(403);
    expect(res.headers["x-reached"]).toBeUndefined();
  });

  it("exposes the resource server", () => {
    expect(mcpOAuth(base).resourceServer).toBeInstanceOf(ResourceServer);
    expect(mcpOAuth(base).resourceServer.options.resource).toBe(RESOURCE);
  });
});

describe("options", () => {
  it("protects the legacy SSE transport's /sse and /messages", async () => {
    const app = appFor(base);
    for (const [method, path] of [
      ["get", "/sse"],
      ["post", "/messages"],
      ["post", "/messages?sessionId=abc"],
    ] as const) {
      const res = await request(app)[method](path);
      expect(res.status).toBe(401);
      expect(res.headers["x-reached"]).toBeUndefined();
      expect(bearerChallenge(res.headers["www-authenticate"])["resource_metadata"]).toBe(METADATA_URL);
    }
    const ok = await request(app).post("/messages?sessionId=abc").set("Authorization", bearer());
    expect(ok.status).toBe(200);
    expect(ok.body.reached).toBe("/messages");
  });

  it.each([
    ["paths", { paths: ["/api/mcp"] }],
    ["sse", { sse: true }],
  ])("refuses the removed option %s at build time, saying what to do instead", (name, extra) => {
    expect(() => mcpOAuth({ ...base, ...extra } as McpOAuthMiddlewareOptions)).toThrow(McpOAuthConfigError);
    expect(() => mcpOAuth({ ...base, ...extra } as McpOAuthMiddlewareOptions)).toThrow(
      new RegExp(`${name}.*Register public routes before`),
    );
  });

  it("protectedResourceMetadata: false leaves the metadata paths to the app (served before mcpOAuth)", async () => {
    const app = express();
    app.get("/.well-known/oauth-protected-resource/mcp", (_req, res) => {
      res.json({ own: true });
    });
    app.use(mcpOAuth({ ...base, protectedResourceMetadata: false }));
    app.use((_req, res) => {
      res.set("X-Reached", "route").json({});
    });
    const res = await request(app).get("/.well-known/oauth-protected-resource/mcp");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ own: true });
    // Not served by mcpOAuth, so protected like any other path.
    expect((await request(app).get("/.well-known/oauth-protected-resource")).status).toBe(401);
    expect((await request(app).post("/mcp")).status).toBe(401);
  });

  it("protectedResourceMetadata options are passed on (serveAtRoot: false)", async () => {
    const app = appFor({ ...base, protectedResourceMetadata: { serveAtRoot: false } });
    expect((await request(app).get("/.well-known/oauth-protected-resource/mcp")).status).toBe(200);
    const root = await request(app).get("/.well-known/oauth-protected-resource");
    expect(root.status).toBe(401);
    expect(root.headers["x-reached"]).toBeUndefined();
  });

  it("cors: false turns off CORS and the Origin rule but not authentication", async () => {
    const app = appFor({ ...base, cors: false });
    const foreign = await request(app)
      .post("/mcp")
      .set("Origin", "https://evil.example")
      .set("Authorization", bearer());
    expect(foreign.status).toBe(200);
    expect(foreign.headers["access-control-allow-origin"]).toBeUndefined();
    const missing = await request(app).post("/mcp").set("Origin", "https://evil.example");
    expect(missing.status).toBe(401);
    expect(missing.headers["access-control-allow-origin"]).toBeUndefined();
    // Nothing answers a preflight here: it is a request like any other, never passed on
    // unauthenticated (CORS handled by the host goes in front of mcpOAuth).
    const preflight = await request(app)
      .options("/mcp")
      .set("Origin", APP_ORIGIN)
      .set("Access-Control-Request-Method", "POST");
    expect(preflight.status).toBe(401);
    expect(preflight.headers["x-reached"]).toBeUndefined();
  });

  it("cors options are passed on (allowedOrigins)", async () => {
    const app = appFor({ ...base, cors: { allowedOrigins: [APP_ORIGIN] } });
    const res = await request(app).post("/mcp").set("Origin", APP_ORIGIN);
    expect(res.status).toBe(401);
    expect(res.headers["access-control-allow-origin"]).toBe(APP_ORIGIN);
    expect(headerList(res.headers["access-control-expose-headers"])).toContain("www-authenticate");
    expect(
      (await request(app).post("/mcp").set("Origin", "https://other.example").set("Authorization", bearer())).status,
    ).toBe(403);
  });

  it("applies the scope policy, and requireScopes: false switches it off", async () => {
    const options: McpOAuthMiddlewareOptions = { ...base, scopePolicy: { tools: { write_note: ["mcp:write"] } } };
    const message = { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "write_note", arguments: {} } };
    const withPolicy = await request(appFor(options))
      .post("/mcp")
      .set("Authorization", bearer({ scope: "mcp:read" }))
      .send(message);
    expect(withPolicy.status).toBe(403);
    expect(bearerChallenge(withPolicy.headers["www-authenticate"])).toMatchObject({
      error: "insufficient_scope",
      resource_metadata: METADATA_URL,
    });
    expect(bearerChallenge(withPolicy.headers["www-authenticate"])["scope"]!.split(" ").sort()).toEqual([
      "mcp:read",
      "mcp:write",
    ]);
    const withoutPolicy = await request(appFor({ ...options, requireScopes: false }))
      .post("/mcp")
      .set("Authorization", bearer({ scope: "mcp:read" }))
      .send(message);
    expect(withoutPolicy.status).toBe(200);
  });

  it("requireScopes options are passed on (policy)", async () => {
    const message = { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "write_note", arguments: {} } };
    const app = appFor({ ...base, requireScopes: { policy: { tools: { write_note: ["mcp:write"] } } } });
    const res = await request(app)
      .post("/mcp")
      .set("Authorization", bearer({ scope: "mcp:read" }))
      .send(message);
    expect(res.status).toBe(403);
    const ok = await request(app)
      .post("/mcp")
      .set("Authorization", bearer({ scope: "mcp:read mcp:write" }))
      .send(message);
    expect(ok.status).toBe(200);
  });

  it("still checks the base scopes with requireScopes: false", async () => {
    const app = appFor({ ...base, requireScopes: false });
    const res = await request(app)
      .post("/mcp")
      .set("Authorization", bearer({ scope: "other" }));
    expect(res.status).toBe(403);
    expect(bearerChallenge(res.headers["www-authenticate"])).toMatchObject({
      error: "insufficient_scope",
      scope: "mcp:read",
    });
  });

  it("protects the resource's path and /mcp, so a prefix-stripping proxy leaves nothing open", async () => {
    const app = appFor({ resource: "http://127.0.0.1:4444/api/mcp", authorizationServers: [as.issuer] });
    expect((await request(app).post("/api/mcp")).status).toBe(401);
    expect((await request(app).post("/mcp")).status).toBe(401);
    expect((await request(app).post("/other")).status).toBe(401);
  });

  it("protects /mcp for a root resource", async () => {
    const app = appFor({ resource: "http://127.0.0.1:4444", authorizationServers: [as.issuer] });
    const res = await request(app).post("/mcp");
    expect(res.status).toBe(401);
    expect(bearerChallenge(res.headers["www-authenticate"])).toEqual({
      resource_metadata: "http://127.0.0.1:4444/.well-known/oauth-protected-resource",
    });
    const doc = await request(app).get("/.well-known/oauth-protected-resource");
    expect(JSON.parse(doc.text).resource).toBe("http://127.0.0.1:4444");
  });

  it("refuses bad options at build time", () => {
    expect(() => mcpOAuth({ resource: RESOURCE, authorizationServers: [] })).toThrow(McpOAuthConfigError);
    expect(() => mcpOAuth({ resource: "/mcp", authorizationServers: [as.issuer] })).toThrow(McpOAuthConfigError);
    expect(() => mcpOAuth({ resource: `${RESOURCE}#x`, authorizationServers: [as.issuer] })).toThrow(
      McpOAuthConfigError,
    );
    expect(() => mcpOAuth({ resource: "http://mcp.example.com/mcp", authorizationServers: [as.issuer] })).toThrow(
      McpOAuthConfigError,
    );
  });
});

describe("mounted under a prefix", () => {
  it("protects the paths relative to the mount point", async () => {
    const app = express();
    app.use("/api", mcpOAuth(base));
    app.use((req, res) => {
      res.set("X-Reached", "route").json({ reached: req.originalUrl });
    });
    expect((await request(app).post("/api/mcp")).status).toBe(401);
    const ok = await request(app).post("/api/mcp").set("Authorization", bearer());
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ reached: "/api/mcp" });
  });
});

describe("in a plain node:http server", () => {
  let server: Listening;
  const doneCalls: unknown[][] = [];
  beforeAll(async () => {
    const mw = mcpOAuth({ ...base, cors: { allowedOrigins: [APP_ORIGIN] } });
    server = await listen(
      createServer((req, res) => {
        mw(req, res, (...args: unknown[]) => {
          doneCalls.push(args);
          if (args[0] !== undefined && args[0] !== null) {
            res.statusCode = 500;
            res.end("error");
            return;
          }
          res.statusCode = 200;
          res.end("reached");
        });
      }),
    );
  });
  afterAll(() => server.close());

  it("serves the metadata", async () => {
    const res = await rawRequest(`${server.url}/.well-known/oauth-protected-resource/mcp`);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).resource).toBe(RESOURCE);
  });

  it("regression: cors calls next(null); a request without a token never reaches the route", async () => {
    doneCalls.length = 0;
    const variants: Record<string, string>[] = [
      {},
      { origin: APP_ORIGIN },
      { origin: APP_ORIGIN, authorization: "Basic dXNlcjpwYXNz" },
    ];
    for (const headers of variants) {
      const res = await rawRequest(`${server.url}/mcp`, { method: "POST", headers });
      expect(res.status).toBe(401);
      expect(res.body).not.toBe("reached");
      expect(bearerChallenge(res.headers["www-authenticate"])).toEqual({
        resource_metadata: METADATA_URL,
        scope: "mcp:read",
      });
    }
    expect(doneCalls).toEqual([]);
  });

  it("an invalid token never reaches the route", async () => {
    doneCalls.length = 0;
    const res = await rawRequest(`${server.url}/mcp`, {
      method: "POST",
      headers: { authorization: bearer({ exp: 1 }) },
    });
    expect(res.status).toBe(401);
    expect(doneCalls).toEqual([]);
  });

  it("calls next() with no error for a valid token, on any path", async () => {
    doneCalls.length = 0;
    const ok = await rawRequest(`${server.url}/mcp`, {
      method: "POST",
      headers: { authorization: bearer(), origin: APP_ORIGIN },
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toBe("reached");
    expect(ok.headers["access-control-allow-origin"]).toBe(APP_ORIGIN);
    const other = await rawRequest(`${server.url}/health`, { headers: { authorization: bearer() } });
    expect(other.body).toBe("reached");
    expect((await rawRequest(`${server.url}/health`)).status).toBe(401);
    expect(doneCalls).toHaveLength(2);
    for (const args of doneCalls) expect(args[0] ?? undefined).toBeUndefined();
  });

  it("refuses a disallowed Origin with 403", async () => {
    doneCalls.length = 0;
    const res = await rawRequest(`${server.url}/mcp`, {
      method: "POST",
      headers: { authorization: bearer(), origin: "https://evil.example" },
    });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body).error).toBe("access_denied");
    expect(doneCalls).toEqual([]);
  });
});
