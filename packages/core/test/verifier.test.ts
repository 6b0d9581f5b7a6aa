/**
 * JWT verification end to end: the real authorization server for the normal paths, a stub
 * for key rotation and outages.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createPublicKey } from "node:crypto";
import { generateSigningKey, obtainAccessToken, type PrivateJwk } from "@mcp-oauth/local-authorization-server";
import { McpOAuthError, ResourceServer, type McpOAuthEvent } from "../src/index.js";
import { decodeJwt } from "../src/internal.js";
import {
  startTestAuthorizationServer,
  type TestAuthorizationServer,
} from "../../../test/helpers/authorization-server.js";
import { signJwt } from "../../../test/helpers/jwt.js";
import { json, startStubServer, type StubServer } from "../../../test/helpers/stub-server.js";
import { codeOf } from "../../../test/helpers/error-code.js";

const RESOURCE = "http://127.0.0.1:4444/mcp";

describe("with the real authorization server", () => {
  let as: TestAuthorizationServer;
  beforeAll(async () => {
    as = await startTestAuthorizationServer();
  });
  afterAll(() => as.close());

  it("accepts a token from the authorization code flow and returns the SDK's AuthInfo", async () => {
    const server = new ResourceServer({ resource: RESOURCE, authorizationServers: [as.issuer] });
    const { access_token: token, client_id: clientId } = await obtainAccessToken(as.issuer, {
      resource: RESOURCE,
      scope: "mcp:read mcp:write",
      login: "carol",
    });
    const auth = await server.verifyToken(token);
    expect(auth.token).toBe(token);
    expect(auth.clientId).toBe(clientId);
    expect(auth.scopes).toEqual(["mcp:read", "mcp:write"]);
    expect(auth.resource?.href).toBe(RESOURCE);
    expect(auth.expiresAt).toBeGreaterThan(Date.now() / 1000);
    expect(auth.extra).toMatchObject({ sub: "carol", iss: as.issuer, aud: RESOURCE });
    expect((auth.extra as { claims: Record<string, unknown> }).claims["jti"]).toEqual(expect.any(String));
  });

  it("discovers jwks_uri from the authorization server metadata and fetches the key set once", async () => {
    const before = as.requestCounts.get("/jwks") ?? 0;
    const server = new ResourceServer({ resource: RESOURCE, authorizationServers: [as.issuer] });
    const tokens = Array.from({ length: 25 }, (_, i) => as.mint(RESOURCE, { sub: `user-${i}` }));
    const results = await Promise.all(tokens.map((t) => server.verifyToken(t)));
    expect(results.map((r) => (r.extra as { sub: string }).sub)).toEqual(tokens.map((_, i) => `user-${i}`));
    await server.verifyToken(as.mint(RESOURCE));
    expect((as.requestCounts.get("/jwks") ?? 0) - before).toBe(1);
  });

  it("never touches the network for a token from an unknown issuer", async () => {
    const server = new ResourceServer({ resource: RESOURCE, authorizationServers: [as.issuer] });
    const before = [...as.requestCounts.values()].reduce((a, b) => a + b, 0);
    expect(await codeOf(server.verifyToken(as.mint(RESOURCE, { iss: "http://127.0.0.1:1/evil" })))).toBe(
      "issuer_not_allowed",
    );
    expect(await codeOf(server.verifyToken(as.mint(RESOURCE, { iss: `${as.issuer}/` })))).toBe("issuer_not_allowed");
    expect([...as.requestCounts.values()].reduce((a, b) => a + b, 0)).toBe(before);
  });

  it("refuses a token signed by a key the authorization server does not publish", async () => {
    const server = new ResourceServer({
      resource: RESOURCE,
      authorizationServers: [as.issuer],
      validation: { jwksUri: as.jwksUri },
    });
    const stranger = generateSigningKey("RS256");
    const forged = signJwt(
      { alg: "RS256", typ: "at+jwt", kid: as.key.kid },
      { iss: as.issuer, aud: RESOURCE, sub: "x", exp: Math.floor(Date.now() / 1000) + 60 },
      stranger,
    );
    expect(await codeOf(server.verifyToken(forged))).toBe("signature_invalid");
    const unknownKid = signJwt(
      { alg: "RS256", typ: "at+jwt", kid: "not-there" },
      { iss: as.issuer, aud: RESOURCE, sub: "x", exp: Math.floor(Date.now() / 1000) + 60 },
      stranger,
    );
    expect(await codeOf(server.verifyToken(unknownKid))).toBe("key_not_found");
  });

  it("decodes a header once only after a signature under it has verified", async () => {
    const server = new ResourceServer({
      resource: RESOURCE,
      authorizationServers: [as.issuer],
      validation: { jwksUri: as.jwksUri },
    });
    const claims = { iss: as.issuer, aud: RESOURCE, sub: "x", exp: Math.floor(Date.now() / 1000) + 60 };
    // A header no other test uses, so the memo starts without it.
    const header = { alg: "RS256", typ: "at+jwt", kid: as.key.kid, x_memo: "verifier-test" };
    const forged = signJwt(header, claims, generateSigningKey("RS256"));
    expect(await codeOf(server.verifyToken(forged))).toBe("signature_invalid");
    expect(decodeJwt(forged).header).not.toBe(decodeJwt(forged).header);
    const genuine = signJwt(header, claims, as.key);
    await server.verifyToken(genuine);
    expect(decodeJwt(forged).header).toBe(decodeJwt(genuine).header);
  });

  it("refuses HS256 signed with the public key (algorithm confusion) and alg none", async () => {
    const server = new ResourceServer({ resource: RESOURCE, authorizationServers: [as.issuer] });
    const pem = createPublicKey({ key: as.key, format: "jwk" }).export({ format: "pem", type: "spki" });
    const claims = { iss: as.issuer, aud: RESOURCE, sub: "x", exp: Math.floor(Date.now() / 1000) + 60 };
    const { createSecretKey } = await import("node:crypto");
    expect(
      await codeOf(
        server.verifyToken(signJwt({ alg: "HS256", kid: as.key.kid }, claims, createSecretKey(Buffer.from(pem)))),
      ),
    ).toBe("algorithm_not_allowed");
    const none = `${Buffer.from(JSON.stringify({ alg: "none" })).toString("base64url")}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.`;
    expect(await codeOf(server.verifyToken(none))).toBe("token_malformed");
    const noneWithSig = `${none}c2ln`;
    expect(await codeOf(server.verifyToken(noneWithSig))).toBe("algorithm_not_allowed");
  });

  it("ignores jku, x5u and jwk headers as key sources", async () => {
    const server = new ResourceServer({ resource: RESOURCE, authorizationServers: [as.issuer] });
    const attacker = generateSigningKey("RS256");
    const publicJwk = createPublicKey({ key: attacker, format: "jwk" }).export({ format: "jwk" });
    const token = signJwt(
      {
        alg: "RS256",
        kid: attacker.kid,
        jku: "http://127.0.0.1:1/jwks",
        x5u: "http://127.0.0.1:1/cert",
        jwk: publicJwk,
      },
      { iss: as.issuer, aud: RESOURCE, sub: "x", exp: Math.floor(Date.now() / 1000) + 60 },
      attacker,
    );
    expect(await codeOf(server.verifyToken(token))).toBe("key_not_found");
  });

  it("verifies HS256 only with an explicitly configured shared secret", async () => {
    const secret = "a-shared-secret-that-is-long-enough-for-hs256";
    const server = new ResourceServer({
      resource: RESOURCE,
      authorizationServers: [as.issuer],
      validation: { secret },
    });
    const { createSecretKey } = await import("node:crypto");
    const claims = { iss: as.issuer, aud: RESOURCE, sub: "svc", exp: Math.floor(Date.now() / 1000) + 60 };
    const auth = await server.verifyToken(
      signJwt({ alg: "HS256", typ: "at+jwt" }, claims, createSecretKey(Buffer.from(secret))),
    );
    expect((auth.extra as { sub: string }).sub).toBe("svc");
    expect(
      await codeOf(server.verifyToken(signJwt({ alg: "HS256" }, claims, createSecretKey(Buffer.from(`${secret}x`))))),
    ).toBe("signature_invalid");
  });

  it("ready() discovers, loads the key set, and reports what MCP clients need", async () => {
    const events: McpOAuthEvent[] = [];
    const server = new ResourceServer({
      resource: RESOURCE,
      authorizationServers: [as.issuer],
      onEvent: (e) => events.push(e),
    });
    const [report] = await server.ready();
    expect(report).toEqual({
      issuer: as.issuer,
      ok: true,
      metadataUrl: `${as.issuer}/.well-known/oauth-authorization-server`,
      pkceS256: true,
      registrationEndpoint: `${as.issuer}/reg`,
      clientIdMetadataDocumentSupported: true,
      jwksUri: `${as.issuer}/jwks`,
      introspectionEndpoint: `${as.issuer}/token/introspection`,
      warnings: [],
    });
    expect(events.map((e) => e.type)).toEqual(
      expect.arrayContaining(["authorization_server_discovered", "key_set_refreshed"]),
    );
  });
});

describe.each(["ES256", "PS256"] as const)("tokens signed with %s by the real authorization server", (alg) => {
  let as: TestAuthorizationServer;
  beforeAll(async () => {
    as = await startTestAuthorizationServer({ keys: [generateSigningKey(alg)] });
  });
  afterAll(() => as.close());

  it("verify", async () => {
    const server = new ResourceServer({ resource: RESOURCE, authorizationServers: [as.issuer] });
    const { access_token: token } = await obtainAccessToken(as.issuer, { resource: RESOURCE });
    expect(JSON.parse(Buffer.from(token.split(".")[0]!, "base64url").toString()).alg).toBe(alg);
    await expect(server.verifyToken(token)).resolves.toMatchObject({ scopes: ["mcp:read"] });
  });
});

describe("with a misbehaving key set", () => {
  let stub: StubServer;
  let keys: PrivateJwk[];
  const publish = (): void =>
    stub.handle(
      "/jwks",
      json({
        keys: keys.map((k) => ({
          ...createPublicKey({ key: k, format: "jwk" }).export({ format: "jwk" }),
          kid: k.kid,
          alg: k.alg,
          use: "sig",
        })),
      }),
    );
  const token = (key: PrivateJwk, kid = key.kid): string =>
    signJwt(
      { alg: key.alg, typ: "at+jwt", kid },
      { iss: stub.url, aud: RESOURCE, sub: "s", exp: Math.floor(Date.now() / 1000) + 60 },
      key,
    );
  // A short deadline for the tests of outages; the others pass a longer one (a loaded machine).
  const server = (timeoutMs = 300): ResourceServer =>
    new ResourceServer({
      resource: RESOURCE,
      authorizationServers: [stub.url],
      validation: { jwksUri: `${stub.url}/jwks`, jwksRequestsPerMinute: 5 },
      timeoutMs,
      retryAfterSeconds: 7,
      cache: false,
    });

  beforeAll(async () => {
    stub = await startStubServer();
  });
  afterAll(() => stub.close());

  it("picks up a rotated key on the first token that needs it", async () => {
    keys = [generateSigningKey("RS256")];
    publish();
    const rs = server();
    await rs.verifyToken(token(keys[0]!));
    const next = generateSigningKey("RS256");
    keys = [keys[0]!, next];
    publish();
    await expect(rs.verifyToken(token(next))).resolves.toBeDefined();
  });

  it.each<[string, Record<string, unknown>]>([
    ["use: enc", { use: "enc" }],
    ['key_ops: ["encrypt"]', { use: undefined, key_ops: ["encrypt"] }],
    ['key_ops: ["sign"]', { use: undefined, key_ops: ["sign"] }],
    ['key_ops: ["wrapKey", "deriveBits"] beside use: sig', { key_ops: ["wrapKey", "deriveBits"] }],
    ["key_ops: []", { key_ops: [] }],
    ['key_ops: "verify", not an array', { key_ops: "verify" }],
  ])(
    "never verifies with a published key whose %s says it is not for verification (RFC 7517 section 4)",
    async (_label, fields) => {
      const [barred, usable] = [generateSigningKey("ES256"), generateSigningKey("ES256")];
      const jwk = (key: PrivateJwk, extra: Record<string, unknown> = {}) =>
        Object.fromEntries(
          Object.entries({
            ...createPublicKey({ key, format: "jwk" }).export({ format: "jwk" }),
            kid: key.kid,
            alg: key.alg,
            use: "sig",
            ...extra,
          }).filter(([, value]) => value !== undefined),
        );
      stub.handle("/jwks", json({ keys: [jwk(barred, fields), jwk(usable)] }));
      const rs = server(5_000);
      await expect(rs.verifyToken(token(usable))).resolves.toBeDefined();
      expect(await codeOf(rs.verifyToken(token(barred)))).toBe("key_not_found");
    },
  );

  it.each<[string, Record<string, unknown>]>([
    ['key_ops: ["verify"]', { key_ops: ["verify"] }],
    ['key_ops: ["sign", "verify"] without use', { use: undefined, key_ops: ["sign", "verify"] }],
  ])("verifies with a key whose %s includes verify", async (_label, fields) => {
    const key = generateSigningKey("ES256");
    const published = Object.fromEntries(
      Object.entries({
        ...createPublicKey({ key, format: "jwk" }).export({ format: "jwk" }),
        kid: key.kid,
        alg: key.alg,
        use: "sig",
        ...fields,
      }).filter(([, value]) => value !== undefined),
    );
    stub.handle("/jwks", json({ keys: [published] }));
    await expect(server(5_000).verifyToken(token(key))).resolves.toBeDefined();
  });

  it("bounds key-set fetches under a flood of unknown kids", async () => {
    keys = [generateSigningKey("RS256")];
    publish();
    stub.hits.clear();
    const rs = server();
    const codes = await Promise.all(
      Array.from({ length: 40 }, (_, i) => codeOf(rs.verifyToken(token(keys[0]!, `unknown-${i}`)))),
    );
    expect(new Set(codes)).toEqual(new Set(["key_not_found"]));
    expect(stub.hits.get("/jwks")).toBeLessThanOrEqual(6);
  });

  it("keeps validating with held keys through an outage for the stale window, then answers 503", async () => {
    keys = [generateSigningKey("RS256")];
    publish();
    // No token cache: this is about the key set, and the same token would be served from it.
    const rs = new ResourceServer({
      resource: RESOURCE,
      authorizationServers: [stub.url],
      timeoutMs: 300,
      cache: false,
      validation: {
        jwksUri: `${stub.url}/jwks`,
        jwksCacheMaxAgeMs: 50,
        jwksStaleWindowMs: 400,
        jwksRequestsPerMinute: 600,
      },
    });
    await rs.verifyToken(token(keys[0]!));
    stub.handle("/jwks", json({ error: "down" }, 503));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await expect(rs.verifyToken(token(keys[0]!))).resolves.toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, 450));
    expect(await codeOf(rs.verifyToken(token(keys[0]!)))).toBe("upstream_unavailable");
    publish();
    await new Promise((resolve) => setTimeout(resolve, 120));
    await expect(rs.verifyToken(token(keys[0]!))).resolves.toBeDefined();
  });

  it("retries a failing key set at most once per cooldown", async () => {
    keys = [generateSigningKey("RS256")];
    stub.handle("/jwks", json({ error: "down" }, 500));
    stub.hits.clear();
    const rs = server();
    const codes = [];
    for (let i = 0; i < 10; i++) codes.push(await codeOf(rs.verifyToken(token(keys[0]!))));
    expect(new Set(codes)).toEqual(new Set(["upstream_unavailable"]));
    expect(stub.hits.get("/jwks")).toBe(1);
  });

  it.each([
    ["answers 500", json({ error: "boom" }, 500)],
    [
      "answers HTML",
      ((_req, res) => {
        res.setHeader("content-type", "text/html");
        res.end("<html>maintenance</html>");
      }) as Parameters<StubServer["handle"]>[1],
    ],
    [
      "times out",
      ((_req, _res) => {
        /* never answers */
      }) as Parameters<StubServer["handle"]>[1],
    ],
  ])("is unavailable (503 with Retry-After, not invalid_token) when the key set %s", async (_name, handler) => {
    keys = [generateSigningKey("RS256")];
    stub.handle("/jwks", handler);
    const rs = server();
    let caught: unknown;
    await rs.verifyToken(token(keys[0]!)).catch((error: unknown) => {
      caught = error;
    });
    expect(caught).toBeInstanceOf(McpOAuthError);
    expect((caught as McpOAuthError).code).toBe("upstream_unavailable");
    const answer = rs.answer(caught);
    expect(answer.status).toBe(503);
    expect(answer.headers["Retry-After"]).toBe("7");
    expect(answer.headers["WWW-Authenticate"]).toBeUndefined();
  });
});

describe("authorization server discovery", () => {
  let stub: StubServer;
  beforeAll(async () => {
    stub = await startStubServer();
  });
  afterAll(() => stub.close());

  it("tries RFC 8414 path insertion, then OIDC path insertion, then OIDC path appending", async () => {
    const issuer = `${stub.url}/tenant/a`;
    const key = generateSigningKey("RS256");
    stub.handle("/tenant/a/.well-known/openid-configuration", json({ issuer, jwks_uri: `${stub.url}/tenant/a/keys` }));
    stub.handle(
      "/tenant/a/keys",
      json({
        keys: [{ ...createPublicKey({ key, format: "jwk" }).export({ format: "jwk" }), kid: key.kid, use: "sig" }],
      }),
    );
    const rs = new ResourceServer({ resource: RESOURCE, authorizationServers: [issuer] });
    const t = signJwt(
      { alg: "RS256", kid: key.kid },
      { iss: issuer, aud: RESOURCE, exp: Math.floor(Date.now() / 1000) + 60 },
      key,
    );
    await expect(rs.verifyToken(t)).resolves.toBeDefined();
    expect(stub.hits.get("/.well-known/oauth-authorization-server/tenant/a")).toBe(1);
    expect(stub.hits.get("/.well-known/openid-configuration/tenant/a")).toBe(1);
    expect(stub.hits.get("/tenant/a/.well-known/openid-configuration")).toBe(1);
  });

  it("refuses metadata whose issuer differs from the configured one, and backs off before retrying", async () => {
    const issuer = `${stub.url}/tenant/b`;
    stub.handle(
      "/.well-known/oauth-authorization-server/tenant/b",
      json({ issuer: `${issuer}/`, jwks_uri: `${stub.url}/nowhere` }),
    );
    const rs = new ResourceServer({ resource: RESOURCE, authorizationServers: [issuer] });
    const key = generateSigningKey("RS256");
    const t = signJwt(
      { alg: "RS256", kid: key.kid },
      { iss: issuer, aud: RESOURCE, exp: Math.floor(Date.now() / 1000) + 60 },
      key,
    );
    expect(await codeOf(rs.verifyToken(t))).toBe("upstream_unavailable");
    expect(await codeOf(rs.verifyToken(t))).toBe("upstream_unavailable");
    expect(stub.hits.get("/.well-known/oauth-authorization-server/tenant/b")).toBe(1);
    await expect(rs.ready()).rejects.toBeInstanceOf(McpOAuthError);
  });
});

describe("key rotation at the real authorization server", () => {
  it("a key rotated in during the refetch cooldown gets 503 with the rest of the cooldown as Retry-After, then is accepted", async () => {
    const [k1, k2] = [generateSigningKey("RS256"), generateSigningKey("RS256")];
    let as = await startTestAuthorizationServer({ keys: [k1] });
    try {
      const port = Number(new URL(as.issuer).port);
      // The default 10 per minute: one unknown-kid refetch per 6 s.
      const rs = new ResourceServer({ resource: RESOURCE, authorizationServers: [as.issuer], cache: false });
      await rs.ready();
      // A kid the key set, read just now for it, lacks: provably unknown, 401. This read starts the cooldown.
      expect(await codeOf(rs.verifyToken(as.mint(RESOURCE, {}, { kid: "never-published" })))).toBe("key_not_found");

      // The authorization server rotates: same issuer, a new signing key published first.
      await as.close();
      as = await startTestAuthorizationServer({ keys: [k2, k1], port });
      const rotated = as.mint(RESOURCE, { sub: "rotated" });
      let caught: unknown;
      await rs.verifyToken(rotated).catch((error: unknown) => {
        caught = error;
      });
      expect(caught).toBeInstanceOf(McpOAuthError);
      expect((caught as McpOAuthError).code).toBe("upstream_unavailable");
      const answer = rs.answer(caught);
      expect(answer.status).toBe(503);
      expect(answer.headers["WWW-Authenticate"]).toBeUndefined();
      const retryAfter = Number(answer.headers["Retry-After"]);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(6);
      // A client that waits as told gets in.
      await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000));
      await expect(rs.verifyToken(rotated)).resolves.toMatchObject({ extra: { sub: "rotated" } });
    } finally {
      await as.close();
    }
  });
});

describe("key sources belong to their resource server", () => {
  let as: TestAuthorizationServer;
  beforeAll(async () => {
    as = await startTestAuthorizationServer();
  });
  afterAll(() => as.close());

  it("a second resource server for the same jwks_uri reads the key set with its own settings and events", async () => {
    const first = new ResourceServer({
      resource: RESOURCE,
      authorizationServers: [as.issuer],
      validation: { jwksUri: as.jwksUri },
    });
    await first.ready();
    const events: McpOAuthEvent[] = [];
    const second = new ResourceServer({
      resource: RESOURCE,
      authorizationServers: [as.issuer],
      validation: { jwksUri: as.jwksUri, jwksCacheMaxAgeMs: 1000 },
      onEvent: (e) => events.push(e),
    });
    const before = as.requestCounts.get("/jwks") ?? 0;
    await second.ready();
    expect((as.requestCounts.get("/jwks") ?? 0) - before).toBe(1);
    expect(events).toContainEqual({ type: "key_set_refreshed", jwksUri: as.jwksUri, keyCount: 1 });
  });
});

describe("endpoints from metadata follow the rules of configured ones", () => {
  let stub: StubServer;
  beforeAll(async () => {
    stub = await startStubServer();
  });
  afterAll(() => stub.close());

  it("refuses a discovered plain-http jwks_uri on a non-loopback host before any request: 503 and an event", async () => {
    const issuer = `${stub.url}/tenant/insecure-jwks`;
    stub.handle(
      "/.well-known/oauth-authorization-server/tenant/insecure-jwks",
      json({ issuer, jwks_uri: "http://example.com/jwks" }),
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
        timeoutMs: 300,
        retryAfterSeconds: 7,
        onEvent: (e) => events.push(e),
      },
      { fetch: spy },
    );
    const key = generateSigningKey("RS256");
    const t = signJwt(
      { alg: "RS256", kid: key.kid },
      { iss: issuer, aud: RESOURCE, exp: Math.floor(Date.now() / 1000) + 60 },
      key,
    );
    let caught: unknown;
    await rs.verifyToken(t).catch((error: unknown) => {
      caught = error;
    });
    expect((caught as McpOAuthError).code).toBe("upstream_unavailable");
    expect(rs.answer(caught)).toMatchObject({ status: 503, headers: { "Retry-After": "7" } });
    await expect(rs.ready()).rejects.toThrow(/jwks_uri.*http/);
    expect(events).toContainEqual({
      type: "upstream_error",
      upstream: "jwks",
      url: "http://example.com/jwks",
      reason: expect.stringMatching(/plain http on a non-loopback host/),
    });
    expect(requested.length).toBeGreaterThan(0);
    expect(requested.every((url) => url.startsWith(`${stub.url}/`))).toBe(true);
  });
});
