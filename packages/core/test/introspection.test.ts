/**
 * RFC 7662 introspection: the real authorization server issuing opaque tokens for the
 * normal paths, a stub for answers a real one would not give and for outages.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { obtainAccessToken } from "@mcp-oauth/local-authorization-server";
import {
  McpOAuthError,
  ResourceServer,
  type McpOAuthErrorCode,
  type McpOAuthEvent,
  type McpOAuthOptions,
} from "../src/index.js";
import {
  startTestAuthorizationServer,
  type TestAuthorizationServer,
} from "../../../test/helpers/authorization-server.js";
import { json, startStubServer, type StubServer } from "../../../test/helpers/stub-server.js";
import { codeOf } from "../../../test/helpers/error-code.js";
import type { AuthorizationServerDirectory } from "../src/discovery.js";
import { IntrospectionVerifier } from "../src/introspection.js";
import { resolveOptions } from "../src/options.js";

const RESOURCE = "http://127.0.0.1:4555/mcp";

describe("against the real authorization server (opaque tokens)", () => {
  let as: TestAuthorizationServer;
  let options: McpOAuthOptions;
  beforeAll(async () => {
    as = await startTestAuthorizationServer({ accessTokenFormat: "opaque" });
    options = {
      resource: RESOURCE,
      authorizationServers: [as.issuer],
      validation: { type: "introspection" },
      introspection: { clientId: as.introspection.clientId, clientSecret: as.introspection.clientSecret },
    };
  });
  afterAll(() => as.close());

  it("accepts an active token for this resource, finding the endpoint in the metadata", async () => {
    const server = new ResourceServer(options);
    const tokens = await obtainAccessToken(as.issuer, {
      resource: RESOURCE,
      scope: "mcp:read mcp:write",
      login: "erin",
    });
    expect(tokens.access_token.split(".")).toHaveLength(1);
    const auth = await server.verifyToken(tokens.access_token);
    expect(auth).toMatchObject({
      clientId: tokens.client_id,
      scopes: ["mcp:read", "mcp:write"],
      extra: { sub: "erin", iss: as.issuer, aud: RESOURCE },
    });
    expect(auth.expiresAt).toBeGreaterThan(Date.now() / 1000);
  });

  it("sends the credentials as client_secret_post when asked", async () => {
    const server = new ResourceServer({
      ...options,
      introspection: { ...options.introspection!, authMethod: "client_secret_post" },
    });
    const tokens = await obtainAccessToken(as.issuer, { resource: RESOURCE });
    await expect(server.verifyToken(tokens.access_token)).resolves.toMatchObject({ scopes: ["mcp:read"] });
  });

  it("refuses a refresh token (active, but not an access token for us) and a token for another resource", async () => {
    const server = new ResourceServer(options);
    const tokens = await obtainAccessToken(as.issuer, { resource: RESOURCE });
    expect(await codeOf(server.verifyToken(tokens.refresh_token!))).toBe("audience_mismatch");
    const other = await obtainAccessToken(as.issuer, { resource: "http://127.0.0.1:4555/other" });
    expect(await codeOf(server.verifyToken(other.access_token))).toBe("audience_mismatch");
    expect(await codeOf(server.verifyToken("not-a-token-the-server-knows"))).toBe("token_inactive");
  });

  it("sees a revocation once the cached answer ages out", async () => {
    const server = new ResourceServer({ ...options, cache: { introspectionTtlSeconds: 0.3 } });
    const tokens = await obtainAccessToken(as.issuer, { resource: RESOURCE });
    await server.verifyToken(tokens.access_token);
    const revoked = await fetch(`${as.issuer}/token/revocation`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: tokens.access_token, client_id: tokens.client_id }).toString(),
    });
    expect(revoked.status).toBe(200);
    await expect(server.verifyToken(tokens.access_token)).resolves.toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect(await codeOf(server.verifyToken(tokens.access_token))).toBe("token_inactive");
  });

  it("answers 503, not invalid_token, when its own credentials are refused", async () => {
    const events: McpOAuthEvent[] = [];
    const server = new ResourceServer({
      ...options,
      introspection: { clientId: as.introspection.clientId, clientSecret: "wrong-secret" },
      onEvent: (e) => events.push(e),
    });
    const tokens = await obtainAccessToken(as.issuer, { resource: RESOURCE });
    let caught: unknown;
    await server.verifyToken(tokens.access_token).catch((error: unknown) => {
      caught = error;
    });
    expect((caught as McpOAuthError).code).toBe("upstream_unavailable");
    expect(server.answer(caught).status).toBe(503);
    expect(events).toContainEqual({
      type: "upstream_error",
      upstream: "introspection",
      url: as.introspection.endpoint,
      reason: "HTTP 401",
    });
    const serialized = JSON.stringify(events);
    expect(serialized).not.toContain(tokens.access_token);
    expect(serialized).not.toContain("wrong-secret");
  });

  it("makes one introspection call for many concurrent requests with the same token", async () => {
    const server = new ResourceServer(options);
    const tokens = await obtainAccessToken(as.issuer, { resource: RESOURCE });
    const before = as.requestCounts.get("/token/introspection") ?? 0;
    const results = await Promise.all(Array.from({ length: 20 }, () => server.verifyToken(tokens.access_token)));
    expect(results.every((r) => r.token === tokens.access_token)).toBe(true);
    expect((as.requestCounts.get("/token/introspection") ?? 0) - before).toBe(1);
    await server.verifyToken(tokens.access_token);
    expect((as.requestCounts.get("/token/introspection") ?? 0) - before).toBe(1);
    expect(server.stats()).toMatchObject({ validations: 1, introspectionCalls: 1, cacheHits: 1, accepted: 21 });
  });
});

describe("auto: JWTs locally, opaque tokens by introspection", () => {
  let jwtAs: TestAuthorizationServer;
  let opaqueAs: TestAuthorizationServer;
  beforeAll(async () => {
    [jwtAs, opaqueAs] = await Promise.all([
      startTestAuthorizationServer(),
      startTestAuthorizationServer({ accessTokenFormat: "opaque" }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([jwtAs.close(), opaqueAs.close()]);
  });

  it("routes each token to the right validator, across two authorization servers", async () => {
    const server = new ResourceServer({
      resource: RESOURCE,
      authorizationServers: [opaqueAs.issuer, jwtAs.issuer],
      validation: { type: "auto" },
      introspection: { clientId: opaqueAs.introspection.clientId, clientSecret: opaqueAs.introspection.clientSecret },
    });
    const [jwt, opaque] = await Promise.all([
      obtainAccessToken(jwtAs.issuer, { resource: RESOURCE, login: "jwt-user" }),
      obtainAccessToken(opaqueAs.issuer, { resource: RESOURCE, login: "opaque-user" }),
    ]);
    await expect(server.verifyToken(jwt.access_token)).resolves.toMatchObject({
      extra: { sub: "jwt-user", iss: jwtAs.issuer },
    });
    expect(server.stats().introspectionCalls).toBe(0);
    await expect(server.verifyToken(opaque.access_token)).resolves.toMatchObject({
      extra: { sub: "opaque-user", iss: opaqueAs.issuer },
    });
    expect(server.stats().introspectionCalls).toBe(1);
  });
});

describe("answers a real server would not give, and outages", () => {
  let stub: StubServer;
  const now = (): number => Math.floor(Date.now() / 1000);
  const server = (): ResourceServer =>
    new ResourceServer({
      resource: RESOURCE,
      authorizationServers: [stub.url],
      validation: { type: "introspection" },
      introspection: { endpoint: `${stub.url}/introspect`, clientId: "rs", clientSecret: "s3cret" },
      timeoutMs: 300,
      retryAfterSeconds: 9,
      cache: false,
    });
  beforeAll(async () => {
    stub = await startStubServer();
  });
  afterAll(() => stub.close());

  it.each<[string, Record<string, unknown>, McpOAuthErrorCode | "ok"]>([
    ["aud names us", { active: true, aud: RESOURCE, exp: now() + 60 }, "ok"],
    [
      "resource names us instead of aud",
      { active: true, resource: RESOURCE, exp: now() + 60, token_type: "Bearer" },
      "ok",
    ],
    [
      "aud is an array with us and a trailing slash",
      { active: true, aud: ["x", `${RESOURCE}/`], exp: now() + 60 },
      "ok",
    ],
    ["inactive", { active: false }, "token_inactive"],
    ["active as the string true", { active: "true", aud: RESOURCE, exp: now() + 60 }, "upstream_unavailable"],
    ["no exp", { active: true, aud: RESOURCE }, "claim_missing"],
    ["expired", { active: true, aud: RESOURCE, exp: now() - 3600 }, "token_expired"],
    [
      "refresh token type",
      { active: true, aud: RESOURCE, exp: now() + 60, token_type: "refresh_token" },
      "invalid_token_type",
    ],
    [
      "another issuer",
      { active: true, aud: RESOURCE, exp: now() + 60, iss: "http://127.0.0.1:1" },
      "issuer_not_allowed",
    ],
    ["another audience", { active: true, aud: "http://127.0.0.1:4555/other", exp: now() + 60 }, "audience_mismatch"],
    [
      "another audience, with resource naming us",
      { active: true, aud: "https://other.example", resource: RESOURCE, exp: now() + 60 },
      "audience_mismatch",
    ],
  ])("%s", async (_name, answer, expected) => {
    let received: { authorization?: string; body?: string } = {};
    stub.handle("/introspect", (req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => {
        body += c.toString();
      });
      req.on("end", () => {
        received = { ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}), body };
        json(answer)(req, res);
      });
    });
    expect(await codeOf(server().verifyToken("opaque-token-value"))).toBe(expected);
    expect(received.authorization).toBe(`Basic ${Buffer.from("rs:s3cret").toString("base64")}`);
    expect(new URLSearchParams(received.body).get("token")).toBe("opaque-token-value");
    expect(new URLSearchParams(received.body).get("token_type_hint")).toBe("access_token");
  });

  it.each<[string, Parameters<StubServer["handle"]>[1], string]>([
    ["answers 500", json({ error: "server_error" }, 500), "HTTP 500"],
    [
      "answers HTML",
      (_req, res) => {
        res.setHeader("content-type", "text/html");
        res.end("<html>down</html>");
      },
      "answer is not JSON",
    ],
    [
      "answers truncated JSON",
      (_req, res) => {
        res.setHeader("content-type", "application/json");
        res.end('{"active": tr');
      },
      "answer is not JSON",
    ],
    ["never answers", () => {}, "timed out"],
    [
      "closes the connection",
      (req) => {
        req.socket.destroy();
      },
      "unreachable",
    ],
    // JSON, but no introspection answer (RFC 7662 section 2.2: a JSON object with `active`).
    ["answers null", json(null), "answer has no boolean active"],
    ["answers an array", json([{ active: true, aud: RESOURCE }]), "answer has no boolean active"],
    ["answers a number", json(1), "answer has no boolean active"],
    ["answers a string", json("active"), "answer has no boolean active"],
  ])("is unavailable (503 with Retry-After) when the endpoint %s, and says why", async (_name, handler, reason) => {
    stub.handle("/introspect", handler);
    const rs = server();
    let caught: unknown;
    await rs.verifyToken("opaque-token-value").catch((error: unknown) => {
      caught = error;
    });
    expect((caught as McpOAuthError).code).toBe("upstream_unavailable");
    expect((caught as McpOAuthError).message).toBe(`introspection failed: ${reason}`);
    expect((caught as McpOAuthError).retryAfter).toBe(9);
    expect(rs.answer(caught)).toMatchObject({ status: 503, headers: { "Retry-After": "9" } });
  });
});

describe("a discovered introspection_endpoint follows the rules of a configured one", () => {
  let stub: StubServer;
  beforeAll(async () => {
    stub = await startStubServer();
  });
  afterAll(() => stub.close());

  it("refuses plain http on a non-loopback host before sending the token anywhere: 503 and an event", async () => {
    const issuer = `${stub.url}/tenant/insecure-introspection`;
    stub.handle(
      "/.well-known/oauth-authorization-server/tenant/insecure-introspection",
      json({ issuer, introspection_endpoint: "http://example.com/introspect" }),
    );
    const requested: string[] = [];
    const spy: typeof fetch = (input, init) => {
      requested.push(String(input instanceof Request ? input.url : input));
      return fetch(input, init);
    };
    const events: McpOAuthEvent[] = [];
    const rs = new ResourceServer(
      {
        resource: RESOURCE,
        authorizationServers: [issuer],
        validation: { type: "introspection" },
        introspection: { clientId: "rs", clientSecret: "s3cret" },
        timeoutMs: 300,
        retryAfterSeconds: 9,
        onEvent: (e) => events.push(e),
      },
      { fetch: spy },
    );
    let caught: unknown;
    await rs.verifyToken("opaque-token-value").catch((error: unknown) => {
      caught = error;
    });
    expect((caught as McpOAuthError).code).toBe("upstream_unavailable");
    expect(rs.answer(caught)).toMatchObject({ status: 503, headers: { "Retry-After": "9" } });
    await expect(rs.ready()).rejects.toThrow(/introspection_endpoint.*http/);
    expect(events).toContainEqual({
      type: "upstream_error",
      upstream: "introspection",
      url: "http://example.com/introspect",
      reason: expect.stringMatching(/plain http on a non-loopback host/),
    });
    // Reported once, not on every request that meets it.
    await rs.verifyToken("another-opaque-token").catch(() => {});
    expect(events.filter((e) => e.type === "upstream_error" && e.url === "http://example.com/introspect")).toHaveLength(
      1,
    );
    expect(requested.length).toBeGreaterThan(0);
    expect(requested.every((url) => url.startsWith(`${stub.url}/`))).toBe(true);
  });
});

describe("client authentication at the introspection endpoint (RFC 7662 section 2.1, RFC 6749 section 2.3.1)", () => {
  let stub: StubServer;
  let received: { authorization: string | undefined; form: URLSearchParams }[] = [];
  beforeAll(async () => {
    stub = await startStubServer();
    stub.handle("/introspect", (req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => {
        body += c.toString();
      });
      req.on("end", () => {
        received.push({ authorization: req.headers.authorization, form: new URLSearchParams(body) });
        json({ active: true, aud: RESOURCE, exp: Math.floor(Date.now() / 1000) + 60 })(req, res);
      });
    });
  });
  afterAll(() => stub.close());

  const verifyWith = async (introspection: NonNullable<McpOAuthOptions["introspection"]>) => {
    received = [];
    const rs = new ResourceServer({
      resource: RESOURCE,
      authorizationServers: [stub.url],
      validation: { type: "introspection" },
      cache: false,
      introspection: { endpoint: `${stub.url}/introspect`, ...introspection },
    });
    await rs.verifyToken("opaque-token-value");
    expect(received).toHaveLength(1);
    return received[0]!;
  };

  it("client_secret_basic (the default): form-encoded credentials in the header, none in the body", async () => {
    const { authorization, form } = await verifyWith({ clientId: "rs:1 a+b", clientSecret: "s p%c" });
    // Each part form-urlencoded before base64 (`:` would otherwise split the id; space is `+`).
    expect(authorization).toBe(`Basic ${Buffer.from("rs%3A1+a%2Bb:s+p%25c").toString("base64")}`);
    expect(form.get("token")).toBe("opaque-token-value");
    expect(form.has("client_id")).toBe(false);
    expect(form.has("client_secret")).toBe(false);
  });

  it("client_secret_post: credentials in the body, no Authorization header (one method only)", async () => {
    const { authorization, form } = await verifyWith({
      clientId: "rs:1 a+b",
      clientSecret: "s p%c",
      authMethod: "client_secret_post",
    });
    expect(authorization).toBeUndefined();
    expect(form.get("client_id")).toBe("rs:1 a+b");
    expect(form.get("client_secret")).toBe("s p%c");
    expect(form.get("token")).toBe("opaque-token-value");
  });
});

describe("IntrospectionVerifier on its own", () => {
  let stub: StubServer;
  beforeAll(async () => {
    stub = await startStubServer();
  });
  afterAll(() => stub.close());

  const resolved = (introspection?: NonNullable<McpOAuthOptions["introspection"]>) =>
    resolveOptions({
      resource: RESOURCE,
      authorizationServers: [stub.url],
      validation: { type: "introspection" },
      retryAfterSeconds: 7,
      ...(introspection ? { introspection } : {}),
    });
  // With a configured endpoint the directory is never consulted: any call on it would throw.
  const noDirectory = {} as AuthorizationServerDirectory;

  it("needs introspection options", () => {
    expect(
      () =>
        new IntrospectionVerifier(
          resolveOptions({ resource: RESOURCE, authorizationServers: [stub.url] }),
          noDirectory,
        ),
    ).toThrow(TypeError);
  });

  it("works without an observer, for answers and for outages", async () => {
    const verifier = new IntrospectionVerifier(
      resolved({ endpoint: `${stub.url}/introspect`, clientId: "rs", clientSecret: "s3cret" }),
      noDirectory,
    );
    stub.handle("/introspect", json({ active: true, aud: RESOURCE, exp: Math.floor(Date.now() / 1000) + 60 }));
    await expect(verifier.verify("opaque-token-value")).resolves.toMatchObject({
      method: "introspection",
      claims: { active: true },
    });
    stub.handle("/introspect", json({ error: "server_error" }, 500));
    const caught = await verifier.verify("opaque-token-value").catch((error: unknown) => error);
    expect(caught).toBeInstanceOf(McpOAuthError);
    expect(caught).toMatchObject({
      code: "upstream_unavailable",
      retryAfter: 7,
      message: "introspection failed: HTTP 500",
    });
  });

  it("refuses a discovered plain-http endpoint without an observer too, with Retry-After", async () => {
    const directory = {
      discover: async () => ({ metadata: { introspection_endpoint: "http://example.com/introspect" } }),
    } as unknown as AuthorizationServerDirectory;
    const verifier = new IntrospectionVerifier(resolved({ clientId: "rs", clientSecret: "s3cret" }), directory);
    const caught = await verifier.verify("opaque-token-value").catch((error: unknown) => error);
    expect(caught).toBeInstanceOf(McpOAuthError);
    expect(caught).toMatchObject({ code: "upstream_unavailable", retryAfter: 7 });
    expect((caught as Error).message).toMatch(/publishes an introspection_endpoint that is refused/);
  });

  it("is unavailable, naming the fix, when the metadata publishes no introspection_endpoint", async () => {
    const issuer = `${stub.url}/tenant/no-introspection`;
    stub.handle("/.well-known/oauth-authorization-server/tenant/no-introspection", json({ issuer }));
    const rs = new ResourceServer({
      resource: RESOURCE,
      authorizationServers: [issuer],
      validation: { type: "introspection" },
      retryAfterSeconds: 7,
      introspection: { clientId: "rs", clientSecret: "s3cret" },
    });
    const caught = await rs.verifyToken("opaque-token-value").catch((error: unknown) => error);
    expect(caught).toMatchObject({ code: "upstream_unavailable", retryAfter: 7 });
    expect((caught as Error).message).toMatch(/publishes no introspection_endpoint; set introspection\.endpoint/);
  });
});
