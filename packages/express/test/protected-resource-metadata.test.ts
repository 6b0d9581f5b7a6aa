/**
 * protectedResourceMetadata(): the RFC 9728 document, public, at the path-suffixed and
 * root well-known URLs, built once and served from memory.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import express, { type Express } from "express";
import { createServer } from "node:http";
import request from "supertest";
import {
  McpOAuthConfigError,
  protectedResourceMetadata,
  requireBearer,
  type McpOAuthOptions,
} from "@mcp-oauth/express";
import { listen, rawRequest, type Listening, serverFor } from "./support.js";

const RESOURCE = "http://127.0.0.1:4444/mcp";
const AS = "https://auth.example.com/tenant/";
const SUFFIXED = "/.well-known/oauth-protected-resource/mcp";
const ROOT = "/.well-known/oauth-protected-resource";

/** An app whose fall-through handler shows that the middleware called next(). */
function appWith(middleware: ReturnType<typeof protectedResourceMetadata>): Express {
  const app = express();
  app.use(middleware);
  app.use((req, res) => {
    res.status(404).json({ fellThrough: req.originalUrl, method: req.method });
  });
  return app;
}

describe("minimal configuration", () => {
  const options: McpOAuthOptions = { resource: RESOURCE, authorizationServers: [AS] };
  const app = appWith(protectedResourceMetadata(serverFor(options)));
  const expected = { resource: RESOURCE, authorization_servers: [AS], bearer_methods_supported: ["header"] };

  it.each([SUFFIXED, ROOT])("GET %s answers 200 JSON with the document", async (path) => {
    const res = await request(app).get(path);
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^application\/json(;|$)/);
    expect(res.headers["cache-control"]).toBe("public, max-age=3600");
    expect(res.headers["access-control-allow-origin"]).toBe("*");
    expect(JSON.parse(res.text)).toEqual(expected);
  });

  it("omits scopes_supported, resource_name and resource_documentation when not configured", async () => {
    const res = await request(app).get(SUFFIXED);
    const body = JSON.parse(res.text) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(["authorization_servers", "bearer_methods_supported", "resource"]);
  });

  it("publishes the authorization server issuer byte for byte (trailing slash kept)", async () => {
    const res = await request(app).get(ROOT);
    expect(res.text).toContain(`"authorization_servers":["${AS}"]`);
  });

  it("serves the document when the URL has a query string", async () => {
    const res = await request(app).get(`${SUFFIXED}?x=1`);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual(expected);
  });

  it.each([SUFFIXED, ROOT])("HEAD %s answers 200 with the headers of GET and no body", async (path) => {
    const server = await listen(createServer(appWith(protectedResourceMetadata(serverFor(options)))));
    try {
      const get = await rawRequest(`${server.url}${path}`);
      const head = await rawRequest(`${server.url}${path}`, { method: "HEAD" });
      expect(head.status).toBe(200);
      expect(head.body).toBe("");
      expect(head.headers["content-type"]).toMatch(/^application\/json(;|$)/);
      expect(head.headers["cache-control"]).toBe("public, max-age=3600");
      expect(head.headers["access-control-allow-origin"]).toBe("*");
      expect(head.headers["content-length"]).toBe(String(Buffer.byteLength(get.body)));
    } finally {
      await server.close();
    }
  });

  it.each([SUFFIXED, ROOT])(
    "answers a CORS preflight to %s with 204 and Access-Control-Allow-Origin *",
    async (path) => {
      const res = await request(app)
        .options(path)
        .set("Origin", "https://inspector.example.org")
        .set("Access-Control-Request-Method", "GET");
      expect(res.status).toBe(204);
      expect(res.headers["access-control-allow-origin"]).toBe("*");
      expect(res.headers["access-control-allow-methods"]).toMatch(/\bGET\b/);
      expect(res.text).toBe("");
    },
  );

  it("lets any origin read the document with GET", async () => {
    const res = await request(app).get(SUFFIXED).set("Origin", "https://inspector.example.org");
    expect(res.status).toBe(200);
    expect(res.headers["access-control-allow-origin"]).toBe("*");
  });

  it.each(["post", "put", "delete", "patch"] as const)("answers %s with 405, Allow and a JSON body", async (method) => {
    for (const path of [SUFFIXED, ROOT]) {
      const res = await request(app)[method](path);
      expect(res.status).toBe(405);
      expect(res.headers["allow"]).toBe("GET, HEAD, OPTIONS");
      expect(res.headers["content-type"]).toMatch(/^application\/json(;|$)/);
      expect(res.body).toEqual({ error: "invalid_request", error_description: expect.any(String) });
    }
  });

  it.each([
    ["a bogus bearer token", "Bearer not-a-real-token"],
    ["a malformed header", "Bearer"],
    ["a Basic credential", "Basic dXNlcjpwYXNz"],
  ])("never requires a token: GET with %s still answers 200", async (_name, authorization) => {
    for (const path of [SUFFIXED, ROOT]) {
      const res = await request(app).get(path).set("Authorization", authorization);
      expect(res.status).toBe(200);
      expect(res.headers["www-authenticate"]).toBeUndefined();
      expect(JSON.parse(res.text)).toEqual(expected);
    }
  });

  it("stays public when mounted in front of requireBearer", async () => {
    const guarded = express();
    guarded.use(protectedResourceMetadata(serverFor(options)));
    guarded.use(requireBearer(serverFor(options)));
    guarded.use((_req, res) => {
      res.status(418).end();
    });
    for (const path of [SUFFIXED, ROOT]) {
      const res = await request(guarded).get(path).set("Authorization", "Bearer garbage");
      expect(res.status).toBe(200);
      expect(JSON.parse(res.text)).toEqual(expected);
    }
    // The guard itself is active: the metadata is public because of the order, not by accident.
    const mcp = await request(guarded).post("/mcp");
    expect(mcp.status).toBe(401);
  });

  it.each([
    "/mcp",
    "/.well-known/oauth-protected-resource/other",
    "/.well-known/oauth-protected-resource/mcp/",
    "/.well-known/oauth-protected-resource/mcpx",
    "/.well-known/oauth-authorization-server",
    "/.well-known/openid-configuration",
  ])("lets %s fall through to the next handler", async (path) => {
    const res = await request(app).get(path);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ fellThrough: path, method: "GET" });
  });

  it("lets a POST to another path fall through (405 only on its own paths)", async () => {
    const res = await request(app).post("/mcp");
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ fellThrough: "/mcp", method: "POST" });
  });
});

describe("full configuration", () => {
  const options: McpOAuthOptions = {
    resource: RESOURCE,
    authorizationServers: [AS, "https://second.example.com"],
    scopes: ["mcp:read"],
    scopesSupported: ["mcp:read", "mcp:write"],
    resourceName: "Notes MCP server",
    resourceDocumentation: "https://docs.example.com/mcp",
    metadata: { resource_policy_uri: "https://example.com/policy", tls_client_certificate_bound_access_tokens: false },
  };
  const app = appWith(protectedResourceMetadata(serverFor(options)));

  it("publishes every configured field and the extra fields", async () => {
    const res = await request(app).get(SUFFIXED);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({
      resource: RESOURCE,
      authorization_servers: [AS, "https://second.example.com"],
      scopes_supported: ["mcp:read", "mcp:write"],
      bearer_methods_supported: ["header"],
      resource_name: "Notes MCP server",
      resource_documentation: "https://docs.example.com/mcp",
      resource_policy_uri: "https://example.com/policy",
      tls_client_certificate_bound_access_tokens: false,
    });
  });

  it("serves the same document at the root URL", async () => {
    const [suffixed, root] = await Promise.all([request(app).get(SUFFIXED), request(app).get(ROOT)]);
    expect(root.status).toBe(200);
    expect(root.text).toBe(suffixed.text);
  });

  it("publishes the base scopes as scopes_supported when scopesSupported is not set", async () => {
    const res = await request(
      appWith(
        protectedResourceMetadata(
          serverFor({ resource: RESOURCE, authorizationServers: [AS], scopes: ["mcp:read", "mcp:tools"] }),
        ),
      ),
    ).get(SUFFIXED);
    expect(JSON.parse(res.text).scopes_supported).toEqual(["mcp:read", "mcp:tools"]);
  });

  it("refuses offline_access at configuration time", () => {
    expect(() =>
      protectedResourceMetadata(
        serverFor({ resource: RESOURCE, authorizationServers: [AS], scopesSupported: ["mcp:read", "offline_access"] }),
      ),
    ).toThrow(McpOAuthConfigError);
    expect(() =>
      protectedResourceMetadata(
        serverFor({ resource: RESOURCE, authorizationServers: [AS], scopes: ["offline_access"] }),
      ),
    ).toThrow(/offline_access/);
  });

  it.each([
    ["resource", "https://evil.example"],
    ["authorization_servers", ["https://evil.example"]],
    ["scopes_supported", ["mcp:read", "offline_access"]],
    ["bearer_methods_supported", ["header", "body"]],
    ["resource_name", "x"],
    ["resource_documentation", "https://docs.example.com"],
  ])("does not let extra metadata set %s, which the library owns", (field, value) => {
    expect(() =>
      protectedResourceMetadata(
        serverFor({ resource: RESOURCE, authorizationServers: [AS], metadata: { [field]: value } }),
      ),
    ).toThrow(McpOAuthConfigError);
    expect(() =>
      protectedResourceMetadata(
        serverFor({ resource: RESOURCE, authorizationServers: [AS], metadata: { [field]: value } }),
      ),
    ).toThrow(`metadata.${field}`);
  });
});

describe("a root resource", () => {
  const options: McpOAuthOptions = { resource: "https://mcp.example.com", authorizationServers: [AS] };
  const app = appWith(protectedResourceMetadata(serverFor(options)));

  it("is served only at the root well-known URL, with resource verbatim (no trailing slash)", async () => {
    const res = await request(app).get(ROOT);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text).resource).toBe("https://mcp.example.com");
    expect(res.text).toContain('"resource":"https://mcp.example.com"');
    expect(res.text).not.toContain("https://mcp.example.com/");
  });

  it.each([`${ROOT}/`, `${ROOT}/mcp`])("does not serve %s", async (path) => {
    const res = await request(app).get(path);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ fellThrough: path, method: "GET" });
  });
});

describe("options", () => {
  it("serveAtRoot: false serves only the path-suffixed URL", async () => {
    const app = appWith(
      protectedResourceMetadata(serverFor({ resource: RESOURCE, authorizationServers: [AS] }), { serveAtRoot: false }),
    );
    expect((await request(app).get(SUFFIXED)).status).toBe(200);
    const root = await request(app).get(ROOT);
    expect(root.status).toBe(404);
    expect(root.body).toEqual({ fellThrough: ROOT, method: "GET" });
  });

  // Built inside each test: Stryker can only change code that runs inside a test.
  it("answers a preflight with exactly the methods it serves, cached for a day", async () => {
    const app = appWith(protectedResourceMetadata(serverFor({ resource: RESOURCE, authorizationServers: [AS] })));
    const res = await request(app)
      .options(SUFFIXED)
      .set("Origin", "https://inspector.example.org")
      .set("Access-Control-Request-Method", "GET");
    expect(res.status).toBe(204);
    expect(res.headers["access-control-allow-origin"]).toBe("*");
    expect(res.headers["access-control-allow-methods"]).toBe("GET, HEAD, OPTIONS");
    expect(res.headers["access-control-max-age"]).toBe("86400");
  });

  it("answers a plain OPTIONS (no preflight) with 204, Allow and no body (RFC 9110 section 9.3.7)", async () => {
    const server = await listen(
      createServer(appWith(protectedResourceMetadata(serverFor({ resource: RESOURCE, authorizationServers: [AS] })))),
    );
    try {
      for (const path of [SUFFIXED, ROOT]) {
        const res = await rawRequest(`${server.url}${path}`, { method: "OPTIONS" });
        expect(res.status).toBe(204);
        expect(res.headers["allow"]).toBe("GET, HEAD, OPTIONS");
        expect(res.body).toBe("");
      }
    } finally {
      await server.close();
    }
  });

  it("cacheControl replaces the default Cache-Control", async () => {
    const app = appWith(
      protectedResourceMetadata(serverFor({ resource: RESOURCE, authorizationServers: [AS] }), {
        cacheControl: "no-cache",
      }),
    );
    const res = await request(app).get(SUFFIXED);
    expect(res.headers["cache-control"]).toBe("no-cache");
  });
});

describe("without Express", () => {
  let server: Listening;
  beforeAll(async () => {
    const middleware = protectedResourceMetadata(serverFor({ resource: RESOURCE, authorizationServers: [AS] }));
    server = await listen(
      createServer((req, res) =>
        middleware(req, res, () => {
          res.statusCode = 404;
          res.end("next");
        }),
      ),
    );
  });
  afterAll(() => server.close());

  it("carries the security headers on a preflight and on a plain OPTIONS", async () => {
    const variants: Record<string, string>[] = [
      { origin: "https://app.example.com", "access-control-request-method": "GET" },
      {},
    ];
    for (const headers of variants) {
      const res = await rawRequest(`${server.url}${SUFFIXED}`, { method: "OPTIONS", headers });
      expect(res.status).toBe(204);
      expect(res.headers["x-content-type-options"]).toBe("nosniff");
      expect(res.headers["content-security-policy"]).toContain("default-src 'none'");
    }
  });

  it.each([
    ["rateLimit: false", { rateLimit: false as const }],
    ["no rateLimit", {}],
  ])("%s: no rate limit, no RateLimit headers", async (_name, options) => {
    const unlimited = protectedResourceMetadata(serverFor({ resource: RESOURCE, authorizationServers: [AS] }), options);
    const plain = await listen(createServer((req, res) => unlimited(req, res, () => res.end("next"))));
    try {
      const res = await rawRequest(`${plain.url}${SUFFIXED}`);
      expect(res.status).toBe(200);
      expect(res.headers["ratelimit"]).toBeUndefined();
      expect(res.headers["ratelimit-policy"]).toBeUndefined();
      expect(res.headers["access-control-expose-headers"]).toBeUndefined();
    } finally {
      await plain.close();
    }
  });

  it("rate limits on a plain node:http server too: 429 with RateLimit headers, never an unlimited document", async () => {
    const limited = protectedResourceMetadata(serverFor({ resource: RESOURCE, authorizationServers: [AS] }), {
      rateLimit: { limit: 2, windowMs: 60_000 },
    });
    const plain = await listen(
      createServer((req, res) =>
        limited(req, res, () => {
          res.statusCode = 404;
          res.end("next");
        }),
      ),
    );
    try {
      const first = await rawRequest(`${plain.url}${SUFFIXED}`);
      expect(first.status).toBe(200);
      expect(first.headers["ratelimit"]).toEqual(expect.any(String));
      expect(first.headers["ratelimit-policy"]).toEqual(expect.any(String));
      expect((await rawRequest(`${plain.url}${SUFFIXED}`)).status).toBe(200);
      const third = await rawRequest(`${plain.url}${SUFFIXED}`);
      expect(third.status).toBe(429);
      expect(JSON.parse(third.body).error).toBe("too_many_requests");
      // Like every answer of the document (docs/metadata.md): a browser-based client reads
      // the 429 and, with Retry-After exposed, when to come back.
      expect(third.headers["allow"]).toBe("GET, HEAD, OPTIONS");
      expect(third.headers["access-control-allow-origin"]).toBe("*");
      expect(third.headers["access-control-expose-headers"]).toBe("Retry-After, RateLimit, RateLimit-Policy");
      const preflight = await rawRequest(`${plain.url}${ROOT}`, {
        method: "OPTIONS",
        headers: { origin: "https://app.example.com", "access-control-request-method": "GET" },
      });
      expect(preflight.status).toBe(429);
      expect(preflight.headers["allow"]).toBe("GET, HEAD, OPTIONS");
      expect(preflight.headers["access-control-allow-origin"]).toBe("*");
    } finally {
      await plain.close();
    }
  });

  it("serves the document when the rate limit's store fails (a counter outage refuses nobody), and never hangs", async () => {
    const failing = {
      increment: async () => {
        throw new Error("store down");
      },
      decrement: async () => {},
      resetKey: async () => {},
    };
    const limited = protectedResourceMetadata(serverFor({ resource: RESOURCE, authorizationServers: [AS] }), {
      rateLimit: { limit: 2, store: failing },
    });
    const plain = await listen(
      createServer((req, res) =>
        limited(req, res, () => {
          res.statusCode = 404;
          res.end("next");
        }),
      ),
    );
    const logged = jest.spyOn(console, "error").mockImplementation(() => {});
    try {
      const res = await rawRequest(`${plain.url}${SUFFIXED}`);
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body).resource).toBe(RESOURCE);
    } finally {
      logged.mockRestore();
      await plain.close();
    }
  });

  it("serves the document from a plain node:http server and calls next for other paths", async () => {
    const doc = await rawRequest(`${server.url}${SUFFIXED}`);
    expect(doc.status).toBe(200);
    expect(JSON.parse(doc.body)).toEqual({
      resource: RESOURCE,
      authorization_servers: [AS],
      bearer_methods_supported: ["header"],
    });
    const other = await rawRequest(`${server.url}/mcp`);
    expect(other.status).toBe(404);
    expect(other.body).toBe("next");
  });
});
