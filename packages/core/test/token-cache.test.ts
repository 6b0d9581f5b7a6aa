/** The verified-token cache and single flight. */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import {
  MemoryTokenCache,
  McpOAuthError,
  ResourceServer,
  type CachedValidation,
  type McpOAuthEvent,
  type TokenCacheStore,
} from "../src/index.js";
import { tokenCacheKey } from "../src/internal.js";
import {
  startTestAuthorizationServer,
  type TestAuthorizationServer,
} from "../../../test/helpers/authorization-server.js";

const RESOURCE = "http://127.0.0.1:4666/mcp";
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe("MemoryTokenCache", () => {
  it("is bounded by count and evicts the least recently used entry", () => {
    const cache = new MemoryTokenCache<number>(2);
    cache.set("a", 1, 10_000);
    cache.set("b", 2, 10_000);
    expect(cache.get("a")).toBe(1);
    cache.set("c", 3, 10_000);
    expect(cache.size).toBe(2);
    expect(cache.get("b")).toBeUndefined();
    expect(cache.get("a")).toBe(1);
    expect(cache.get("c")).toBe(3);
  });

  it("drops entries when their lifetime ends and ignores non-positive lifetimes", async () => {
    const cache = new MemoryTokenCache<number>(10);
    cache.set("short", 1, 30);
    cache.set("never", 2, 0);
    expect(cache.get("short")).toBe(1);
    expect(cache.get("never")).toBeUndefined();
    await sleep(40);
    expect(cache.get("short")).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it("keys by SHA-256, never by the token", () => {
    const key = tokenCacheKey("secret.token.value");
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(key).not.toContain("secret");
  });
});

describe("ResourceServer caching", () => {
  let as: TestAuthorizationServer;
  beforeAll(async () => {
    as = await startTestAuthorizationServer();
  });
  afterAll(() => as.close());

  const build = (extra: Partial<ConstructorParameters<typeof ResourceServer>[0]> = {}): ResourceServer =>
    new ResourceServer({ resource: RESOURCE, authorizationServers: [as.issuer], ...extra });

  it("checks in full a token that carries an accepted token's signature (the end the key memo is indexed by)", async () => {
    const server = build({ validation: { signatureVerification: "event-loop" } });
    await server.ready();
    const accepted = as.mint(RESOURCE, { sub: "alice" });
    const request = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
    expect(server.check(request(accepted))).toMatchObject({ extra: { sub: "alice" } });
    expect(server.check(request(accepted))).toMatchObject({ extra: { sub: "alice" } });
    const [header, , signature] = accepted.split(".");
    const other = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(accepted.split(".")[1]!, "base64url").toString()), sub: "oscar" }),
    ).toString("base64url");
    const spliced = `${header}.${other}.${signature}`;
    // Same length and same end: the memo's index cannot tell the two apart, only the full comparison can.
    expect(spliced.length).toBe(accepted.length);
    expect(() => server.check(request(spliced))).toThrow(expect.objectContaining({ code: "signature_invalid" }));
    expect(server.check(request(accepted))).toMatchObject({ extra: { sub: "alice" } });
    expect(server.stats()).toMatchObject({ validations: 2, cacheHits: 2 });
  });

  it("refuses another spelling of an accepted token's signature (unused low bits set) as token_malformed", async () => {
    const server = build();
    const token = as.mint(RESOURCE, { sub: "alice" });
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const signature = token.split(".")[2]!;
    // RS256: 256 bytes, 342 characters, the last one carrying 4 unused bits.
    expect(signature.length % 4).toBe(2);
    const last = alphabet.indexOf(signature.at(-1)!);
    const respelled = `${token.slice(0, -1)}${alphabet[last ^ 1]}`;
    expect(Buffer.from(respelled.split(".")[2]!, "base64url")).toEqual(Buffer.from(signature, "base64url"));
    await expect(server.verifyToken(token)).resolves.toMatchObject({ extra: { sub: "alice" } });
    await expect(server.verifyToken(respelled)).rejects.toMatchObject({ code: "token_malformed" });
    expect(server.stats()).toMatchObject({ accepted: 1 });
  });

  it("gives every request of a cached token the same claims, nested values included: none can change them for another", async () => {
    const server = build();
    const token = as.mint(RESOURCE, {
      sub: "alice",
      realm_access: { roles: ["reader"] },
      groups: ["staff"],
      cnf: { "x5t#S256": "abc", nested: [{ deep: ["x"] }] },
    });
    const first = await server.verifyToken(token);
    const claims = (first.extra as { claims: Record<string, unknown> }).claims;
    const attempts: Array<() => void> = [
      () => (claims["realm_access"] as { roles: string[] }).roles.push("admin"),
      () => ((claims["realm_access"] as Record<string, unknown>)["roles"] = ["admin"]),
      () => ((claims["groups"] as string[])[0] = "admins"),
      () => (claims["cnf"] as { nested: Array<{ deep: string[] }> }).nested[0]!.deep.push("y"),
      () => ((claims["cnf"] as Record<string, unknown>)["x5t#S256"] = "other"),
      () => ((claims as Record<string, unknown>)["sub"] = "mallory"),
    ];
    for (const attempt of attempts) expect(attempt).toThrow(TypeError);
    const second = await server.verifyToken(token);
    expect(server.stats()).toMatchObject({ validations: 1, cacheHits: 1 });
    expect((second.extra as { claims: Record<string, unknown> }).claims).toMatchObject({
      sub: "alice",
      realm_access: { roles: ["reader"] },
      groups: ["staff"],
      cnf: { "x5t#S256": "abc", nested: [{ deep: ["x"] }] },
    });
  });

  it("freezes the nested claims of a verdict a store hands back, once, for every request that shares it", async () => {
    // A shared store with a memory layer in front (as RedisTokenCache has) returns one decoded
    // object to every request; its own freeze is only the top level.
    let held: CachedValidation | undefined;
    const store: TokenCacheStore<CachedValidation> = {
      get: () => held,
      set: (_key, value) => {
        const copy = JSON.parse(JSON.stringify(value)) as CachedValidation;
        held = copy.ok ? { ...copy, claims: Object.freeze(copy.claims) } : copy;
      },
    };
    const server = build({ cache: { store } });
    const token = as.mint(RESOURCE, { realm_access: { roles: ["reader"] } });
    await server.verifyToken(token);
    const [second, third] = [await server.verifyToken(token), await server.verifyToken(token)];
    const claims = (second.extra as { claims: { realm_access: { roles: string[] } } }).claims;
    expect(claims).toBe((third.extra as { claims: unknown }).claims);
    expect(() => claims.realm_access.roles.push("admin")).toThrow(TypeError);
    expect((third.extra as { claims: unknown }).claims).toMatchObject({ realm_access: { roles: ["reader"] } });
    expect(server.stats()).toMatchObject({ validations: 1, cacheHits: 2 });
  });

  it("verifies a token once for many concurrent requests, then serves it from the cache", async () => {
    const server = build();
    const token = as.mint(RESOURCE);
    const results = await Promise.all(Array.from({ length: 30 }, () => server.verifyToken(token)));
    expect(new Set(results.map((r) => (r.extra as { sub: string }).sub))).toEqual(new Set(["alice"]));
    expect(server.stats().validations).toBe(1);
    await server.verifyToken(token);
    expect(server.stats()).toMatchObject({ validations: 1, cacheHits: 1, accepted: 31 });
  });

  it("check() is synchronous unless it waits on the network (signatures on the event loop)", async () => {
    const server = build({ validation: { signatureVerification: "event-loop" } });
    const token = as.mint(RESOURCE);
    const request = { headers: { authorization: `Bearer ${token}` } };
    expect(() => server.check({ headers: { authorization: "Basic abc" } })).toThrow(McpOAuthError);
    // The key set is not loaded yet: a promise.
    const first = server.check(request);
    expect(first).toBeInstanceOf(Promise);
    await first;
    // Cached: decided at once.
    const second = server.check(request);
    expect(second).not.toBeInstanceOf(Promise);
    expect(second).toMatchObject({ token, clientId: expect.any(String) });
    // Not cached, key held: verified at once too, accepted or refused.
    const other = as.mint(RESOURCE, { sub: "bob" });
    expect(server.check({ headers: { authorization: `Bearer ${other}` } })).toMatchObject({
      token: other,
      extra: { sub: "bob" },
    });
    const bad = as.mint("http://127.0.0.1:4666/elsewhere");
    expect(() => server.check({ headers: { authorization: `Bearer ${bad}` } })).toThrow(
      expect.objectContaining({ code: "audience_mismatch" }),
    );
    expect(() => server.check({ headers: { authorization: "Bearer not~a~jwt" } })).toThrow(
      expect.objectContaining({ code: "token_malformed" }),
    );
    expect(server.stats()).toMatchObject({ validations: 4, cacheHits: 1, cacheMisses: 4 });
    // The rejection is remembered, and still answered synchronously.
    expect(() => server.check({ headers: { authorization: `Bearer ${bad}` } })).toThrow(
      expect.objectContaining({ code: "audience_mismatch" }),
    );
    expect(server.stats()).toMatchObject({ validations: 4, cacheHits: 2 });
  });

  it("check() with signatures on the thread pool: a promise for a new token, the same verdicts, one verification per token", async () => {
    const server = build({ validation: { signatureVerification: "thread-pool" } });
    await server.ready();
    const token = as.mint(RESOURCE);
    const request = { headers: { authorization: `Bearer ${token}` } };
    // Key held, token new: the signature goes to the pool.
    const concurrent = [server.check(request), server.check(request), server.check(request)];
    for (const pending of concurrent) expect(pending).toBeInstanceOf(Promise);
    // Single flight: three requests, one verification.
    for (const result of await Promise.all(concurrent))
      expect(result).toMatchObject({ token, extra: { sub: "alice" } });
    expect(server.stats()).toMatchObject({ validations: 1 });
    // Cached: decided at once, as with the event loop.
    expect(server.check(request)).not.toBeInstanceOf(Promise);
    // Refusals reached before the signature are still synchronous.
    expect(() => server.check({ headers: { authorization: "Bearer not~a~jwt" } })).toThrow(
      expect.objectContaining({ code: "token_malformed" }),
    );
    const otherIssuer = as.mint(RESOURCE, { iss: "https://elsewhere.example" });
    expect(() => server.check({ headers: { authorization: `Bearer ${otherIssuer}` } })).toThrow(
      expect.objectContaining({ code: "issuer_not_allowed" }),
    );
    // After the signature: the same codes as on the event loop, in the same order.
    const bad = as.mint("http://127.0.0.1:4666/elsewhere");
    await expect(server.check({ headers: { authorization: `Bearer ${bad}` } })).rejects.toMatchObject({
      code: "audience_mismatch",
    });
    const [head, payload, signature] = as.mint(RESOURCE, { sub: "mallory" }).split(".");
    const tampered = `${head}.${payload}.${signature!.slice(0, -4)}AAAA`;
    await expect(server.check({ headers: { authorization: `Bearer ${tampered}` } })).rejects.toMatchObject({
      code: "signature_invalid",
    });
    const expiredForged = `${head}.${Buffer.from(JSON.stringify({ iss: as.issuer, aud: RESOURCE, exp: 1 })).toString("base64url")}.${signature}`;
    await expect(server.check({ headers: { authorization: `Bearer ${expiredForged}` } })).rejects.toMatchObject({
      code: "signature_invalid",
    });
    // Remembered rejections are synchronous again.
    expect(() => server.check({ headers: { authorization: `Bearer ${bad}` } })).toThrow(
      expect.objectContaining({ code: "audience_mismatch" }),
    );

    // Without a cache, flights are keyed by the token: still one verification for concurrent requests.
    const uncached = build({ cache: false, validation: { signatureVerification: "thread-pool" } });
    await uncached.ready();
    const fresh = as.mint(RESOURCE, { sub: "carol" });
    const same = await Promise.all(
      [0, 1, 2].map(() => uncached.check({ headers: { authorization: `Bearer ${fresh}` } })),
    );
    expect(same.map((a) => (a.extra as { sub: string }).sub)).toEqual(["carol", "carol", "carol"]);
    expect(uncached.stats()).toMatchObject({ validations: 1, accepted: 3 });
    await uncached.check({ headers: { authorization: `Bearer ${fresh}` } });
    expect(uncached.stats()).toMatchObject({ validations: 2 });
  });

  it("checks b64token syntax before any work on a token the cache does not know", async () => {
    const server = build();
    expect(() => server.check({ headers: { authorization: "Bearer a,b" } })).toThrow(
      expect.objectContaining({ code: "malformed_authorization_header" }),
    );
    expect(server.stats()).toMatchObject({ validations: 0, cacheMisses: 0 });
  });

  it("keeps accepted tokens' cache keys at hand without changing any verdict", async () => {
    const server = new ResourceServer(
      { resource: RESOURCE, authorizationServers: [as.issuer], validation: { clockToleranceSeconds: 0 } },
      { recentKeys: 2 },
    );
    const tokens = Array.from({ length: 5 }, (_, i) => as.mint(RESOURCE, { sub: `user-${i}` }));
    for (let round = 0; round < 3; round++) {
      for (const [i, token] of tokens.entries()) {
        expect(await server.verifyToken(token)).toMatchObject({ extra: { sub: `user-${i}` } });
      }
    }
    expect(server.stats()).toMatchObject({ validations: 5, cacheHits: 10 });
    const expiring = as.mint(RESOURCE, { exp: Math.floor(Date.now() / 1000) + 1 });
    await server.verifyToken(expiring);
    await server.verifyToken(expiring);
    await sleep(1100);
    await expect(server.verifyToken(expiring)).rejects.toMatchObject({ code: "token_expired" });
  });

  it("gives each request its own AuthInfo object", async () => {
    const server = build();
    const token = as.mint(RESOURCE);
    const first = await server.verifyToken(token);
    first.scopes.push("mcp:admin");
    // `resource` is one URL shared by every request, so nobody can change it.
    expect(() => {
      first.resource!.pathname = "/changed";
    }).toThrow(TypeError);
    expect(() => {
      first.resource!.href = "http://elsewhere/";
    }).toThrow(/read-only/);
    first.resource!.searchParams.append("x", "1");
    expect(() => Object.assign(first.resource!, { extra: 1 })).toThrow(TypeError);
    const second = await server.verifyToken(token);
    expect(second.scopes).toEqual(["mcp:read"]);
    expect(second.resource).toBeInstanceOf(URL);
    expect(second.resource?.href).toBe(RESOURCE);
    expect(`${second.resource}`).toBe(RESOURCE);
    expect(new URL(second.resource!).pathname).toBe("/mcp");
    expect(second.resource?.origin).toBe("http://127.0.0.1:4666");
    expect({ ...second }.resource?.href).toBe(RESOURCE);
    expect(JSON.parse(JSON.stringify(second)).resource).toBe(RESOURCE);
    // A handler may still put a URL of its own there.
    second.resource = new URL("http://127.0.0.1:4666/other");
    expect(second.resource.href).toBe("http://127.0.0.1:4666/other");
  });

  it("never serves a token past its exp", async () => {
    const server = build({ validation: { clockToleranceSeconds: 0 } });
    const token = as.mint(RESOURCE, { exp: Math.floor(Date.now() / 1000) + 1 });
    await server.verifyToken(token);
    await sleep(1100);
    await expect(server.verifyToken(token)).rejects.toMatchObject({ code: "token_expired" });
  });

  it("remembers a rejection briefly, but never an outage", async () => {
    const server = build();
    const wrongAudience = as.mint("http://127.0.0.1:4666/elsewhere");
    await expect(server.verifyToken(wrongAudience)).rejects.toMatchObject({ code: "audience_mismatch" });
    await expect(server.verifyToken(wrongAudience)).rejects.toMatchObject({ code: "audience_mismatch" });
    expect(server.stats()).toMatchObject({ validations: 1, cacheHits: 1, rejected: 2 });

    const unreachable = new ResourceServer({
      resource: RESOURCE,
      authorizationServers: ["http://127.0.0.1:9"],
      timeoutMs: 200,
    });
    const token = as.mint(RESOURCE, { iss: "http://127.0.0.1:9" });
    await expect(unreachable.verifyToken(token)).rejects.toMatchObject({ code: "upstream_unavailable" });
    await expect(unreachable.verifyToken(token)).rejects.toMatchObject({ code: "upstream_unavailable" });
    expect(unreachable.stats()).toMatchObject({ validations: 2, cacheHits: 0, upstreamErrors: 2 });
  });

  it("validates every time with cache: false, still in single flight", async () => {
    const server = build({ cache: false });
    const token = as.mint(RESOURCE);
    await Promise.all([server.verifyToken(token), server.verifyToken(token)]);
    await server.verifyToken(token);
    expect(server.stats().validations).toBe(2);
  });

  it("uses a pluggable asynchronous store, and survives one that fails", async () => {
    const entries = new Map<string, CachedValidation>();
    const store: TokenCacheStore<CachedValidation> = {
      get: async (key) => entries.get(key),
      set: async (key, value) => {
        entries.set(key, value);
      },
    };
    const server = build({ cache: { store } });
    const token = as.mint(RESOURCE);
    await server.verifyToken(token);
    expect([...entries.keys()]).toEqual([tokenCacheKey(token, server.cacheFingerprint)]);
    await server.verifyToken(token);
    expect(server.stats()).toMatchObject({ validations: 1, cacheHits: 1 });

    const broken: TokenCacheStore<CachedValidation> = {
      get: async () => {
        throw new Error("store down");
      },
      set: () => {
        throw new Error("store down");
      },
    };
    const resilient = build({ cache: { store: broken } });
    await expect(resilient.verifyToken(token)).resolves.toBeDefined();
  });

  it.each<[string, Record<string, unknown>]>([
    ["scp", { scope: undefined, scp: ["mcp:read mcp:write"] }],
    ["scp, beside a scope", { scope: "mcp:read", scp: ["mcp:write", "mcp:read mcp:admin"] }],
    ["permissions (a preset's claim)", { scope: undefined, permissions: ["mcp:read\tmcp:write"] }],
  ])(
    "refuses a token whose %s array holds an element with whitespace, whichever token came first (RFC 6749 section 3.3)",
    async (_label, claims) => {
      const verdict = (server: ResourceServer, token: string): Promise<unknown> =>
        server.verifyToken(token).then(
          (auth) => auth.scopes,
          (error: unknown) => (error as McpOAuthError).code,
        );
      const spaced = as.mint(RESOURCE, claims);
      const listed = as.mint(RESOURCE, { scope: "mcp:read mcp:write" });
      const rules = { validation: { scopeClaims: ["scope", "scp", "permissions"] } };

      const spacedFirst = build(rules);
      expect(await verdict(spacedFirst, spaced)).toBe("claim_invalid");
      expect(await verdict(spacedFirst, listed)).toEqual(["mcp:read", "mcp:write"]);

      const listedFirst = build(rules);
      expect(await verdict(listedFirst, listed)).toEqual(["mcp:read", "mcp:write"]);
      expect(await verdict(listedFirst, spaced)).toBe("claim_invalid");
    },
  );

  it("emits events without the token", async () => {
    const events: McpOAuthEvent[] = [];
    const server = build({ onEvent: (event) => events.push(event) });
    const token = as.mint(RESOURCE, { sub: "frank" });
    await server.verifyToken(token);
    await server.verifyToken(token);
    await server
      .verifyToken(as.mint(RESOURCE, { exp: 1 }))
      .catch((error: unknown) => expect(error).toBeInstanceOf(McpOAuthError));
    expect(events.filter((e) => e.type === "token_accepted")).toEqual([
      { type: "token_accepted", method: "jwt", cached: false, clientId: "test-client", sub: "frank" },
      { type: "token_accepted", method: "jwt", cached: true, clientId: "test-client", sub: "frank" },
    ]);
    expect(events).toContainEqual({ type: "token_rejected", code: "token_expired", method: "jwt", cached: false });
    expect(JSON.stringify(events)).not.toContain(token.split(".")[2]);
  });
});
