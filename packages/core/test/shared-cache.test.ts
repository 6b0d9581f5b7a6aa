/**
 * One cache store shared by several resource servers (replicas behind a load balancer, or
 * several MCP endpoints in one process): a verdict is reused only by a server that would
 * have reached the same verdict; a failing store degrades to no caching; `maxAgeSeconds`
 * bounds how long any verdict is reused, so a revocation is seen within it.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { obtainAccessToken } from "@mcp-oauth/local-authorization-server";
import {
  McpOAuthConfigError,
  MemoryTokenCache,
  ResourceServer,
  type CachedValidation,
  type McpOAuthEvent,
  type McpOAuthOptions,
  type TokenCacheStore,
} from "../src/index.js";
import { tokenCacheKey } from "../src/internal.js";
import {
  startTestAuthorizationServer,
  type TestAuthorizationServer,
} from "../../../test/helpers/authorization-server.js";
import { codeOf } from "../../../test/helpers/error-code.js";
import { watchUnhandledRejections } from "../../../test/hardening/support.js";

const RESOURCE_A = "http://127.0.0.1:4777/a/mcp";
const RESOURCE_B = "http://127.0.0.1:4777/b/mcp";
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A shared store as a Redis client would be: asynchronous, keyed by strings, TTL honoured. */
function asyncMapStore(): TokenCacheStore<CachedValidation> & { entries: Map<string, CachedValidation> } {
  const entries = new Map<string, CachedValidation>();
  return {
    entries,
    get: async (key) => entries.get(key),
    set: async (key, value) => {
      entries.set(key, value);
    },
  };
}

/** Polls `probe` until it returns true; fails the test when `limitMs` passes first (no speed assertion). */
async function eventually(probe: () => Promise<boolean>, limitMs: number, what: string): Promise<void> {
  const giveUpAt = Date.now() + limitMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > giveUpAt) throw new Error(`${what}: not within ${limitMs} ms`);
    await sleep(100);
  }
}

/** `check()` as the adapters call it: an AuthInfo, a thrown error, or a promise (asynchronous store). */
function checked(server: ResourceServer, token: string): Promise<unknown> {
  try {
    return Promise.resolve(server.check({ headers: { authorization: `Bearer ${token}` } }));
  } catch (error) {
    return Promise.reject(error);
  }
}

let as: TestAuthorizationServer;
beforeAll(async () => {
  as = await startTestAuthorizationServer();
});
afterAll(() => as.close());

const stores: Array<[string, () => TokenCacheStore<CachedValidation>]> = [
  ["a shared MemoryTokenCache", () => new MemoryTokenCache<CachedValidation>()],
  ["a shared asynchronous Map store", () => asyncMapStore()],
];

describe.each(stores)("two resource servers over %s", (_name, makeStore) => {
  const pair = (extraB: Partial<McpOAuthOptions> = {}): [ResourceServer, ResourceServer] => {
    const store = makeStore();
    return [
      new ResourceServer({ resource: RESOURCE_A, authorizationServers: [as.issuer], cache: { store } }),
      new ResourceServer({ resource: RESOURCE_B, authorizationServers: [as.issuer], cache: { store }, ...extraB }),
    ];
  };

  it("a token A accepted is still refused by B (another resource)", async () => {
    const [a, b] = pair();
    const forA = as.mint(RESOURCE_A);
    expect(await codeOf(a.verifyToken(forA))).toBe("ok");
    expect(await codeOf(b.verifyToken(forA))).toBe("audience_mismatch");
    // And through check(), the way the adapters call it.
    expect(await codeOf(checked(b, forA))).toBe("audience_mismatch");
  });

  it("B's cached rejection of A's token does not make A refuse it", async () => {
    const [a, b] = pair();
    const forA = as.mint(RESOURCE_A);
    expect(await codeOf(b.verifyToken(forA))).toBe("audience_mismatch");
    expect(await codeOf(b.verifyToken(forA))).toBe("audience_mismatch");
    expect(b.stats()).toMatchObject({ cacheHits: 1 });
    expect(await codeOf(a.verifyToken(forA))).toBe("ok");
    expect(a.stats()).toMatchObject({ cacheHits: 0, validations: 1 });
  });

  it("a verdict under one set of claim rules is not reused under another", async () => {
    // Same resource, but B requires Cognito's token_use and the RFC 9068 profile.
    const store = makeStore();
    const lax = new ResourceServer({ resource: RESOURCE_A, authorizationServers: [as.issuer], cache: { store } });
    const strict = new ResourceServer({
      resource: RESOURCE_A,
      authorizationServers: [as.issuer],
      cache: { store },
      validation: { strict: true, requiredClaims: { token_use: "access" } },
    });
    const legacyTyp = as.mint(RESOURCE_A, {}, { typ: "JWT" });
    expect(await codeOf(lax.verifyToken(legacyTyp))).toBe("ok");
    expect(await codeOf(strict.verifyToken(legacyTyp))).toBe("invalid_token_type");
    const withTokenUse = as.mint(RESOURCE_A, { token_use: "access" });
    expect(await codeOf(strict.verifyToken(withTokenUse))).toBe("ok");
    expect(await codeOf(lax.verifyToken(withTokenUse))).toBe("ok");
  });

  it("servers with identical decision inputs share verdicts, accepted and refused", async () => {
    const store = makeStore();
    const options: McpOAuthOptions = { resource: RESOURCE_A, authorizationServers: [as.issuer], cache: { store } };
    const first = new ResourceServer(options);
    // Same inputs, lists in another order, a different event listener: still the same verdicts.
    const second = new ResourceServer({
      ...options,
      validation: { audience: [RESOURCE_A], issuer: [as.issuer] },
      onEvent: () => {},
    });
    const good = as.mint(RESOURCE_A);
    const bad = as.mint(RESOURCE_B);
    expect(await codeOf(first.verifyToken(good))).toBe("ok");
    expect(await codeOf(first.verifyToken(bad))).toBe("audience_mismatch");
    expect(await codeOf(second.verifyToken(good))).toBe("ok");
    expect(await codeOf(second.verifyToken(bad))).toBe("audience_mismatch");
    expect(second.stats()).toMatchObject({ validations: 0, cacheHits: 2 });
    expect(second.cacheFingerprint).toBe(first.cacheFingerprint);
  });
});

describe("cache keys", () => {
  const base: McpOAuthOptions = { resource: RESOURCE_A, authorizationServers: ["http://127.0.0.1:4900"] };
  const fingerprint = (options: Partial<McpOAuthOptions>): string =>
    new ResourceServer({ ...base, ...options }).cacheFingerprint;
  const introspection = { clientId: "rs", clientSecret: "s3cret-s3cret" };

  it("differ for every input that can change a verdict", () => {
    const variants: Array<Partial<McpOAuthOptions>> = [
      {},
      { resource: RESOURCE_B },
      { authorizationServers: ["http://127.0.0.1:4900", "http://127.0.0.1:4901"] },
      { validation: { audience: ["urn:other"] } },
      { validation: { audience: [RESOURCE_A, "urn:other"] } },
      { validation: { issuer: "http://127.0.0.1:4901" } },
      { validation: { algorithms: ["ES256"] } },
      { validation: { secret: "a".repeat(32) } },
      { validation: { secret: "b".repeat(32) } },
      { validation: { clockToleranceSeconds: 0 } },
      { validation: { strict: true } },
      { validation: { maxTokenLength: 4096 } },
      { validation: { jwksUri: "http://127.0.0.1:4900/jwks" } },
      { validation: { jwksStaleWindowMs: 0 } },
      { validation: { jwksCacheMaxAgeMs: 1000 } },
      { validation: { jwksRequestsPerMinute: 1 } },
      { validation: { scopeClaims: ["permissions"] } },
      { validation: { requiredClaims: { token_use: "access" } } },
      { validation: { requiredClaims: { token_use: ["access", "id"] } } },
      { validation: { clientIdAsAudience: ["client-1"] } },
      { timeoutMs: 1000 },
      { maxResponseBytes: 4096 },
      { allowInsecureHttp: true },
      { validation: { type: "introspection" }, introspection },
      { validation: { type: "auto" }, introspection },
      { validation: { type: "introspection" }, introspection: { ...introspection, clientId: "rs2" } },
      {
        validation: { type: "introspection" },
        introspection: { ...introspection, endpoint: "http://127.0.0.1:4900/introspect" },
      },
      { validation: { type: "introspection" }, introspection: { ...introspection, authMethod: "client_secret_post" } },
    ];
    const fingerprints = variants.map(fingerprint);
    expect(new Set(fingerprints).size).toBe(variants.length);
  });

  it("are the same for the same inputs however they are written, and whatever the cache lifetimes", () => {
    expect(
      fingerprint({
        validation: {
          audience: ["urn:x", "urn:y"],
          clientIdAsAudience: ["c1", "c2"],
          requiredClaims: { a: ["1", "2"], b: "3" },
        },
      }),
    ).toBe(
      fingerprint({
        validation: {
          audience: ["urn:y", "urn:x"],
          clientIdAsAudience: ["c2", "c1"],
          requiredClaims: { b: ["3"], a: ["2", "1"] },
        },
      }),
    );
    expect(fingerprint({ cache: { ttlSeconds: 5, maxAgeSeconds: 1 }, onEvent: () => {}, scopes: ["mcp:read"] })).toBe(
      fingerprint({}),
    );
    // The introspection client's secret authenticates us; it changes no verdict and stays out of the keys.
    expect(fingerprint({ validation: { type: "introspection" }, introspection })).toBe(
      fingerprint({
        validation: { type: "introspection" },
        introspection: { ...introspection, clientSecret: "other-secret" },
      }),
    );
  });

  it("are hashes that fold in the fingerprint: neither the token nor its bare SHA-256 reaches the store", async () => {
    const store = asyncMapStore();
    const server = new ResourceServer({ resource: RESOURCE_A, authorizationServers: [as.issuer], cache: { store } });
    const token = as.mint(RESOURCE_A);
    await server.verifyToken(token);
    expect(await codeOf(server.verifyToken(as.mint(RESOURCE_B)))).toBe("audience_mismatch");
    const keys = [...store.entries.keys()];
    expect(keys).toHaveLength(2);
    for (const key of keys) expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(keys).toContain(tokenCacheKey(token, server.cacheFingerprint));
    expect(keys).not.toContain(tokenCacheKey(token));
    expect(JSON.stringify([...store.entries])).not.toContain(token.split(".")[2]);
  });
});

describe("a failing cache store degrades to no caching", () => {
  const failures: Array<[string, TokenCacheStore<CachedValidation>, "get" | "set"]> = [
    [
      "get throws",
      {
        get: () => {
          throw new Error("store down for key");
        },
        set: () => {},
      },
      "get",
    ],
    ["get rejects", { get: () => Promise.reject(new Error("store down")), set: () => {} }, "get"],
    [
      "set throws",
      {
        get: () => undefined,
        set: () => {
          throw new Error("store down");
        },
      },
      "set",
    ],
    ["set rejects", { get: () => undefined, set: () => Promise.reject(new Error("store down")) }, "set"],
  ];

  it.each(failures)(
    "when %s: every request is decided as if uncached, and an event says so",
    async (_name, store, operation) => {
      const watch = watchUnhandledRejections();
      try {
        const events: McpOAuthEvent[] = [];
        const server = new ResourceServer({
          resource: RESOURCE_A,
          authorizationServers: [as.issuer],
          cache: { store },
          onEvent: (e) => events.push(e),
        });
        const good = as.mint(RESOURCE_A);
        const bad = as.mint(RESOURCE_B);
        for (let round = 0; round < 2; round++) {
          expect(await codeOf(server.verifyToken(good))).toBe("ok");
          expect(await codeOf(server.verifyToken(bad))).toBe("audience_mismatch");
          // check() is what the adapters call: it must not throw the store's error (a 503).
          expect(await codeOf(checked(server, good))).toBe("ok");
          expect(await codeOf(checked(server, bad))).toBe("audience_mismatch");
          // A request refused before the lookup settles leaves no rejection unhandled.
          expect(await codeOf(checked(server, "a,b"))).toBe("malformed_authorization_header");
        }
        await sleep(10);
        const cacheErrors = events.filter((e) => e.type === "cache_error");
        expect(cacheErrors.length).toBeGreaterThan(0);
        for (const event of cacheErrors) expect(event).toEqual({ type: "cache_error", operation, error: "Error" });
        expect(server.stats().cacheErrors).toBe(cacheErrors.length);
        const logged = JSON.stringify(events);
        expect(logged).not.toContain(good.split(".")[2]);
        expect(logged).not.toContain(tokenCacheKey(good, server.cacheFingerprint));
        expect(logged).not.toContain("store down");
        expect(watch.reasons).toEqual([]);
      } finally {
        watch.stop();
      }
    },
  );

  it.each([
    ["garbage", { ok: "yes" }],
    ["a missing key as Redis clients answer it", null],
    [
      "an acceptance without checkedAt (another version's)",
      { ok: true, method: "jwt", claims: {}, scopes: [], clientId: "x", expiresAt: 4e9 },
    ],
    ["a cached outage", { ok: false, method: "jwt", code: "upstream_unavailable", checkedAt: 4e12 }],
    [
      "an acceptance without claims",
      { ok: true, method: "jwt", scopes: [], clientId: "x", expiresAt: 4e9, checkedAt: Date.now() },
    ],
    [
      "an acceptance whose claims are null",
      { ok: true, method: "jwt", claims: null, scopes: [], clientId: "x", expiresAt: 4e9, checkedAt: Date.now() },
    ],
    [
      "an acceptance whose scopes are not a list",
      { ok: true, method: "jwt", claims: {}, scopes: "mcp:read", clientId: "x", expiresAt: 4e9, checkedAt: Date.now() },
    ],
  ])("treats %s in the store as a miss", async (_name, entry) => {
    const server = new ResourceServer({
      resource: RESOURCE_A,
      authorizationServers: [as.issuer],
      cache: { store: { get: () => entry as unknown as CachedValidation, set: () => {} } },
    });
    expect(await codeOf(server.verifyToken(as.mint(RESOURCE_B)))).toBe("audience_mismatch");
    expect(await codeOf(server.verifyToken(as.mint(RESOURCE_A)))).toBe("ok");
    expect(server.stats()).toMatchObject({ cacheHits: 0, validations: 2 });
  });
});

describe("cache.maxAgeSeconds: how long any verdict is reused", () => {
  it("is checked at start-up", () => {
    for (const maxAgeSeconds of [-1, Number.NaN, Infinity, "5" as unknown as number]) {
      expect(
        () => new ResourceServer({ resource: RESOURCE_A, authorizationServers: [as.issuer], cache: { maxAgeSeconds } }),
      ).toThrow(expect.objectContaining({ option: "cache.maxAgeSeconds" }));
    }
    expect(
      () =>
        new ResourceServer({ resource: RESOURCE_A, authorizationServers: [as.issuer], cache: { maxAgeSeconds: -1 } }),
    ).toThrow(McpOAuthConfigError);
    for (const store of [{}, { get: () => undefined }, null]) {
      expect(
        () =>
          new ResourceServer({
            resource: RESOURCE_A,
            authorizationServers: [as.issuer],
            cache: { store: store as unknown as TokenCacheStore<CachedValidation> },
          }),
      ).toThrow(expect.objectContaining({ option: "cache.store" }));
    }
  });

  it("0 reuses nothing and stores nothing", async () => {
    const store = asyncMapStore();
    const server = new ResourceServer({
      resource: RESOURCE_A,
      authorizationServers: [as.issuer],
      cache: { store, maxAgeSeconds: 0 },
    });
    const token = as.mint(RESOURCE_A);
    for (let i = 0; i < 3; i++) {
      expect(await codeOf(server.verifyToken(token))).toBe("ok");
      expect(await codeOf(server.verifyToken(as.mint(RESOURCE_B)))).toBe("audience_mismatch");
    }
    expect(store.entries.size).toBe(0);
    expect(server.stats()).toMatchObject({ validations: 6, cacheHits: 0 });
  });

  it("bounds a JWT's reuse, even from a store that ignores lifetimes or was filled by a replica with longer ones", async () => {
    const store = asyncMapStore(); // ignores ttlMs entirely
    const longLived = new ResourceServer({ resource: RESOURCE_A, authorizationServers: [as.issuer], cache: { store } });
    const bounded = new ResourceServer({
      resource: RESOURCE_A,
      authorizationServers: [as.issuer],
      cache: { store, maxAgeSeconds: 1 },
    });
    const token = as.mint(RESOURCE_A);
    await longLived.verifyToken(token);
    await eventually(
      async () => {
        await bounded.verifyToken(token);
        return bounded.stats().validations > 0;
      },
      10_000,
      "verdict re-checked after maxAgeSeconds",
    );
  });

  it("with introspection, a token revoked at the authorization server is refused once maxAgeSeconds have passed", async () => {
    const opaque = await startTestAuthorizationServer({ accessTokenFormat: "opaque" });
    try {
      const options: McpOAuthOptions = {
        resource: RESOURCE_A,
        authorizationServers: [opaque.issuer],
        validation: { type: "introspection" },
        introspection: { clientId: opaque.introspection.clientId, clientSecret: opaque.introspection.clientSecret },
      };
      // introspectionTtlSeconds stays at its default (60 s): maxAgeSeconds alone bounds the delay.
      const bounded = new ResourceServer({ ...options, cache: { maxAgeSeconds: 1 } });
      const byDefault = new ResourceServer(options);
      const tokens = await obtainAccessToken(opaque.issuer, { resource: RESOURCE_A });
      expect(await codeOf(bounded.verifyToken(tokens.access_token))).toBe("ok");
      expect(await codeOf(byDefault.verifyToken(tokens.access_token))).toBe("ok");
      // oidc-provider prints a notice about its default revocation policy: keep the test quiet.
      const notice = jest.spyOn(console, "info").mockImplementation(() => {});
      const revoked = await fetch(`${opaque.issuer}/token/revocation`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ token: tokens.access_token, client_id: tokens.client_id }).toString(),
      }).finally(() => notice.mockRestore());
      expect(revoked.status).toBe(200);
      await eventually(
        async () => (await codeOf(bounded.verifyToken(tokens.access_token))) === "token_inactive",
        10_000,
        "revocation seen",
      );
      // The default reuses the introspection answer for up to 60 s: still accepted.
      expect(await codeOf(byDefault.verifyToken(tokens.access_token))).toBe("ok");
    } finally {
      await opaque.close();
    }
  });
});
