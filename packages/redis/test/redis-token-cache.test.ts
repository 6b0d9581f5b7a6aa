/**
 * RedisTokenCache against a real redis-server and the real authorization server: what is
 * stored (compact, hashes only, never past `exp`), the in-memory layer in front, leases
 * for introspection, and a Redis that is down, slow or answering errors.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "@jest/globals";
import { Redis } from "ioredis";
import {
  McpOAuthError,
  optionsFromEnv,
  ResourceServer,
  type McpOAuthEvent,
  type McpOAuthOptions,
} from "@mcp-oauth/core";
import { obtainAccessToken } from "@mcp-oauth/local-authorization-server";
import {
  decodeCachedValidation,
  redisCacheFromEnv,
  RedisTokenCache,
  type RedisTokenCacheOptions,
} from "../src/index.js";
import {
  startTestAuthorizationServer,
  type TestAuthorizationServer,
} from "../../../test/helpers/authorization-server.js";
import { startTestRedisServer, type TestRedisServer } from "../../../test/helpers/redis-server.js";

const RESOURCE = "http://127.0.0.1:4777/mcp";
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let redis: TestRedisServer;
let admin: Redis;
let as: TestAuthorizationServer;
const stores: RedisTokenCache[] = [];

beforeAll(async () => {
  [redis, as] = await Promise.all([startTestRedisServer(), startTestAuthorizationServer()]);
  admin = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: null });
  admin.on("error", () => {});
  await admin.connect();
});

afterAll(async () => {
  admin.disconnect();
  await Promise.all([redis?.stop(), as?.close()]);
});

beforeEach(async () => {
  await admin.flushall();
});

afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()));
});

/** A store on the test Redis, connected before it is returned. */
async function store(
  options: Omit<RedisTokenCacheOptions, "url" | "client"> = {},
  url = redis.url,
): Promise<RedisTokenCache> {
  const created = new RedisTokenCache({ url, ...options });
  stores.push(created);
  await waitFor(() => created.client.status === "ready");
  return created;
}

async function waitFor(condition: () => boolean | Promise<boolean>, what = "condition"): Promise<void> {
  for (let attempt = 0; attempt < 400; attempt++) {
    if (await condition()) return;
    await sleep(25);
  }
  throw new Error(`timed out waiting for ${what}`);
}

function server(cache: RedisTokenCache, extra: Partial<McpOAuthOptions> = {}): ResourceServer {
  return new ResourceServer({
    resource: RESOURCE,
    authorizationServers: [as.issuer],
    ...extra,
    cache: { store: cache, ...(extra.cache || {}) },
  });
}

const storedKeys = (): Promise<string[]> => admin.keys("*");

describe("what is stored", () => {
  it("shares a verified JWT with another replica through Redis, keyed by a hash, compact, never the token", async () => {
    const [a, b] = [server(await store()), server(await store())];
    const token = as.mint(RESOURCE, { scope: "mcp:read mcp:write" });
    const first = await a.verifyToken(token);
    await waitFor(async () => (await storedKeys()).length === 1, "the verdict in Redis");
    const [key] = await storedKeys();
    expect(key).toMatch(/^mcp-oauth:v1:t:[A-Za-z0-9_-]+$/);
    const stored = (await admin.get(key!))!;
    // Nothing that could rebuild the token: not the token, not its signature, not its header.
    for (const part of [token, ...token.split(".")]) {
      expect(stored).not.toContain(part);
      expect(key).not.toContain(part);
    }
    expect(JSON.parse(stored)).toEqual([
      1,
      0,
      expect.any(Number),
      first.expiresAt,
      "test-client",
      ["mcp:read", "mcp:write"],
      expect.objectContaining({ sub: "alice", aud: RESOURCE }),
    ]);

    const second = await b.verifyToken(token);
    expect(second.scopes).toEqual(["mcp:read", "mcp:write"]);
    expect(b.stats()).toMatchObject({ validations: 0, cacheHits: 1 });
  });

  it("keeps a verdict no longer than the cache lifetime and never past exp", async () => {
    const a = server(await store(), { cache: { ttlSeconds: 300 } });
    const soon = as.mint(RESOURCE, { exp: Math.floor(Date.now() / 1000) + 3 });
    const later = as.mint(RESOURCE, { exp: Math.floor(Date.now() / 1000) + 3600 });
    await a.verifyToken(soon);
    await a.verifyToken(later);
    await waitFor(async () => (await storedKeys()).length === 2, "both verdicts in Redis");
    const lifetimes = (await Promise.all((await storedKeys()).map((key) => admin.pttl(key)))).sort((x, y) => x - y);
    expect(lifetimes[0]).toBeGreaterThan(0);
    expect(lifetimes[0]).toBeLessThanOrEqual(3000);
    expect(lifetimes[1]).toBeGreaterThan(3000);
    expect(lifetimes[1]).toBeLessThanOrEqual(300_000);
  });

  it("shares a rejection for its short lifetime, with its code", async () => {
    const [a, b] = [server(await store()), server(await store())];
    const events: McpOAuthEvent[] = [];
    const c = server(await store(), { onEvent: (event) => events.push(event) });
    const wrongAudience = as.mint("http://127.0.0.1:4777/other");
    await expect(a.verifyToken(wrongAudience)).rejects.toMatchObject({ code: "audience_mismatch" });
    await waitFor(async () => (await storedKeys()).length === 1, "the rejection in Redis");
    const [key] = await storedKeys();
    expect(JSON.parse((await admin.get(key!))!)).toEqual([0, 0, expect.any(Number), "audience_mismatch"]);
    expect(await admin.pttl(key!)).toBeLessThanOrEqual(10_000);
    await expect(b.verifyToken(wrongAudience)).rejects.toMatchObject({ code: "audience_mismatch" });
    expect(b.stats().validations).toBe(0);
    await expect(c.verifyToken(wrongAudience)).rejects.toBeInstanceOf(McpOAuthError);
    expect(events).toContainEqual({ type: "token_rejected", code: "audience_mismatch", method: "jwt", cached: true });
  });

  it("answers from memory, synchronously, once a verdict came from Redis", async () => {
    const [a, b] = [server(await store()), server(await store())];
    const token = as.mint(RESOURCE);
    await a.verifyToken(token);
    await waitFor(async () => (await storedKeys()).length === 1, "the verdict in Redis");
    const request = { headers: { authorization: `Bearer ${token}` } };
    const fromRedis = b.check(request);
    expect(fromRedis).toBeInstanceOf(Promise);
    await fromRedis;
    const fromMemory = b.check(request);
    expect(fromMemory).not.toBeInstanceOf(Promise);
    expect((fromMemory as { clientId: string }).clientId).toBe("test-client");
  });

  it("keeps a verdict larger than maxValueBytes in memory only", async () => {
    const cache = await store({ maxValueBytes: 1024 });
    const a = server(cache);
    const big = as.mint(RESOURCE, { padding: "x".repeat(2000) });
    await a.verifyToken(big);
    await a.verifyToken(as.mint(RESOURCE));
    await waitFor(async () => (await storedKeys()).length === 1, "the small verdict in Redis");
    await a.verifyToken(big);
    expect(a.stats()).toMatchObject({ validations: 2, cacheHits: 1 });
  });

  it("reads a value of any other shape as a miss, never as a verdict", async () => {
    const token = as.mint(RESOURCE, { sub: "mallory" });
    const a = server(await store());
    await a.verifyToken(token);
    await waitFor(async () => (await storedKeys()).length === 1, "the verdict in Redis");
    const [key] = await storedKeys();
    for (const garbage of [
      "{",
      "[1,0]",
      `[1,0,"x","c",[],{}]`,
      `[0,0,"no_such_code"]`,
      `[1,7,1,"c",[],{}]`,
      `[1,0,9999999999,"c","mcp:admin",{}]`,
    ]) {
      expect(decodeCachedValidation(garbage)).toBeUndefined();
      await admin.set(key!, garbage, "PX", 60_000);
      const b = server(await store());
      const info = await b.verifyToken(token);
      expect((info.extra as { sub: string }).sub).toBe("mallory");
      expect(b.stats().validations).toBe(1);
    }
  });
});

describe("OAUTH_CACHE_REDIS_URL", () => {
  const env = { OAUTH_RESOURCE: RESOURCE, OAUTH_AUTHORIZATION_SERVER: "http://127.0.0.1:1" };

  it("builds the store with redisCacheFromEnv and its settings", () => {
    const options = optionsFromEnv(
      {
        ...env,
        OAUTH_CACHE_REDIS_URL: "redis://127.0.0.1:1",
        OAUTH_CACHE_REDIS_LEASE: "off",
        OAUTH_CACHE_INTROSPECTION_TTL: "5",
      },
      {},
      { redisCache: redisCacheFromEnv },
    );
    const cache = options.cache as { store: RedisTokenCache; introspectionTtlSeconds: number };
    expect(cache.store).toBeInstanceOf(RedisTokenCache);
    expect(cache.introspectionTtlSeconds).toBe(5);
    stores.push(cache.store);
  });

  it("refuses bad settings with what to change", () => {
    expect(() => redisCacheFromEnv("redis://127.0.0.1:1", { OAUTH_CACHE_REDIS_LEASE: "maybe" })).toThrow(
      /OAUTH_CACHE_REDIS_LEASE.*on, off/,
    );
    expect(() => redisCacheFromEnv("redis://127.0.0.1:1", { OAUTH_CACHE_REDIS_TIMEOUT_MS: "soon" })).toThrow(
      /OAUTH_CACHE_REDIS_TIMEOUT_MS/,
    );
    expect(() => new RedisTokenCache({ url: "http://127.0.0.1:6379" })).toThrow(/redis:\/\/ or rediss:\/\//);
  });
});

describe("single flight across replicas (introspection)", () => {
  let opaque: TestAuthorizationServer;
  beforeAll(async () => {
    opaque = await startTestAuthorizationServer({ accessTokenFormat: "opaque" });
  });
  afterAll(() => opaque.close());

  const introspecting = (cache: RedisTokenCache): ResourceServer =>
    new ResourceServer({
      resource: RESOURCE,
      authorizationServers: [opaque.issuer],
      validation: { type: "introspection" },
      introspection: { clientId: opaque.introspection.clientId, clientSecret: opaque.introspection.clientSecret },
      cache: { store: cache },
    });
  const calls = (): number => opaque.requestCounts.get("/token/introspection") ?? 0;

  it("makes one introspection call for a new token seen by several replicas at once; without leases, one each", async () => {
    const replicas = await Promise.all([1, 2, 3, 4].map(async () => introspecting(await store())));
    await Promise.all(replicas.map((replica) => replica.ready()));
    const { access_token: token } = await obtainAccessToken(opaque.issuer, { resource: RESOURCE });
    const before = calls();
    const answers = await Promise.all(
      replicas.flatMap((replica) => [replica.verifyToken(token), replica.verifyToken(token)]),
    );
    expect(new Set(answers.map((info) => (info.extra as { sub: string }).sub))).toEqual(new Set(["alice"]));
    expect(calls() - before).toBe(1);
    expect(replicas.map((replica) => replica.stats().introspectionCalls).sort()).toEqual([0, 0, 0, 1]);

    const without = await Promise.all([1, 2, 3].map(async () => introspecting(await store({ lease: false }))));
    await Promise.all(without.map((replica) => replica.ready()));
    const { access_token: other } = await obtainAccessToken(opaque.issuer, { resource: RESOURCE });
    const start = calls();
    await Promise.all(without.map((replica) => replica.verifyToken(other)));
    expect(calls() - start).toBeGreaterThanOrEqual(1);
    expect(calls() - start).toBeLessThanOrEqual(3);
  });

  it("takes over when the lease holder cannot reach the authorization server", async () => {
    const [a, b] = await Promise.all([store(), store()]);
    // The holder's introspection call fails, but only once the other replica is waiting.
    let fail!: () => void;
    const gate = new Promise<void>((resolve) => {
      fail = resolve;
    });
    const holder = new ResourceServer(
      {
        resource: RESOURCE,
        authorizationServers: [opaque.issuer],
        validation: { type: "introspection" },
        introspection: { clientId: opaque.introspection.clientId, clientSecret: opaque.introspection.clientSecret },
        cache: { store: a },
      },
      {
        fetch: async (input, init) =>
          String(input).includes("introspection")
            ? gate.then(() => Promise.reject(new Error("connection refused")))
            : fetch(input, init),
      },
    );
    const other = introspecting(b);
    await Promise.all([holder.ready(), other.ready()]);
    const { access_token: token } = await obtainAccessToken(opaque.issuer, { resource: RESOURCE });
    const before = calls();
    const failed = holder.verifyToken(token).then(
      () => "accepted",
      (error: McpOAuthError) => error.code,
    );
    await waitFor(async () => (await admin.keys("mcp-oauth:v1:l:*")).length === 1, "the holder's lease");
    const served = other.verifyToken(token);
    await sleep(100);
    expect(calls() - before).toBe(0);
    fail();
    expect(await failed).toBe("upstream_unavailable");
    expect((await served).clientId).toEqual(expect.any(String));
    expect(calls() - before).toBe(1);
    await waitFor(async () => (await admin.keys("mcp-oauth:v1:l:*")).length === 0, "every lease released");
  });
});

describe("a Redis that is down, slow or answering errors", () => {
  it("validates locally while Redis is down, says so once, and reconnects by itself", async () => {
    const events: McpOAuthEvent[] = [];
    const cache = await store({ retryAfterMs: 0 });
    const a = server(cache, { onEvent: (event) => events.push(event) });
    await redis.kill();
    try {
      for (let i = 0; i < 5; i++) await a.verifyToken(as.mint(RESOURCE));
      expect(a.stats()).toMatchObject({ accepted: 5, validations: 5 });
      const unavailable = events.filter((event) => event.type === "cache_store_unavailable");
      expect(unavailable).toHaveLength(1);
      expect(unavailable[0]).toMatchObject({ store: "redis", reason: expect.any(String) });
    } finally {
      await redis.start();
    }
    await waitFor(() => cache.client.status === "ready", "the reconnection");
    const token = as.mint(RESOURCE);
    await a.verifyToken(token);
    await waitFor(async () => (await storedKeys()).length === 1, "a verdict stored after the reconnection");
    expect(events).toContainEqual({ type: "cache_store_recovered", store: "redis" });
  });

  it("answers before a paused Redis does, and leaves it alone for a while", async () => {
    const events: McpOAuthEvent[] = [];
    const cache = await store({ timeoutMs: 100, retryAfterMs: 60_000 });
    // Signatures on the event loop: a miss whose key is held then answers synchronously
    // unless it waits on Redis, which is what this test looks at.
    const a = server(cache, {
      onEvent: (event) => events.push(event),
      validation: { signatureVerification: "event-loop" },
    });
    await a.ready();
    const pauser = new Redis(redis.url);
    const marker = new Redis(redis.url);
    try {
      await Promise.all([pauser.ping(), marker.ping()]);
      await pauser.client("PAUSE", 3000, "ALL");
      // Answered by the paused server only when the pause ends.
      let pauseOver = false;
      const ended = marker.ping().then(() => {
        pauseOver = true;
      });
      const info = await a.verifyToken(as.mint(RESOURCE));
      expect(info.clientId).toBe("test-client");
      expect(pauseOver).toBe(false);
      expect(events).toContainEqual(
        expect.objectContaining({
          type: "cache_store_unavailable",
          reason: expect.stringMatching(/no answer within 100 ms/),
        }),
      );
      // Resting after the failure: the next miss costs no Redis call (it answers synchronously).
      expect(a.check({ headers: { authorization: `Bearer ${as.mint(RESOURCE)}` } })).not.toBeInstanceOf(Promise);
      expect(pauseOver).toBe(false);
      await ended;
    } finally {
      pauser.disconnect();
      marker.disconnect();
    }
  });

  it("treats error answers as misses", async () => {
    const events: McpOAuthEvent[] = [];
    const cache = await store({ retryAfterMs: 0 });
    const a = server(cache, { onEvent: (event) => events.push(event) });
    const token = as.mint(RESOURCE);
    await a.verifyToken(token);
    await waitFor(async () => (await storedKeys()).length === 1, "the verdict in Redis");
    const [key] = await storedKeys();
    // The key now holds a list: GET answers WRONGTYPE.
    await admin.del(key!);
    await admin.rpush(key!, "x");
    const b = server(await store({ retryAfterMs: 0 }), { onEvent: (event) => events.push(event) });
    const info = await b.verifyToken(token);
    expect(info.clientId).toBe("test-client");
    expect(b.stats().validations).toBe(1);
    expect(events).toContainEqual(
      expect.objectContaining({ type: "cache_store_unavailable", reason: expect.stringMatching(/WRONGTYPE/) }),
    );
  });
});

/**
 * The cache-key fingerprint (each resource server's decision inputs folded into every key)
 * on a real shared store: before it, two resource servers on one Redis answered for each
 * other (seen red: the first accepted a token for another resource, the second refused a
 * valid one).
 */
describe("resource servers with different resources sharing one Redis", () => {
  const OTHER = "http://127.0.0.1:4778/mcp";
  const pair = async (): Promise<[ResourceServer, ResourceServer]> => [
    server(await store()),
    new ResourceServer({ resource: OTHER, authorizationServers: [as.issuer], cache: { store: await store() } }),
  ];

  it("never accepts, for one resource, a token another resource server accepted", async () => {
    const [mine, other] = await pair();
    const token = as.mint(RESOURCE);
    await mine.verifyToken(token);
    await waitFor(async () => (await storedKeys()).length === 1, "the verdict in Redis");
    await expect(other.verifyToken(token)).rejects.toMatchObject({ code: "audience_mismatch" });
  });

  it("never refuses, for one resource, a token only another resource server refused", async () => {
    const [mine, other] = await pair();
    const token = as.mint(RESOURCE);
    await expect(other.verifyToken(token)).rejects.toMatchObject({ code: "audience_mismatch" });
    await waitFor(async () => (await storedKeys()).length === 1, "the rejection in Redis");
    expect((await mine.verifyToken(token)).clientId).toBe("test-client");
  });
});

describe("a Redis user limited to the store's keys and commands (docs/deployment.md)", () => {
  it("is all the store needs, leases included", async () => {
    await admin.call(
      "ACL",
      "SETUSER",
      "mcp",
      "on",
      ">s3cret",
      "~mcp-oauth:*",
      "+@connection",
      "+info",
      "+get",
      "+set",
      "+pttl",
      "+exists",
      "+eval",
      "+del",
    );
    try {
      const url = `redis://mcp:s3cret@127.0.0.1:${redis.port}`;
      const events: McpOAuthEvent[] = [];
      const [a, b] = [
        server(await store({}, url), { onEvent: (e) => events.push(e) }),
        server(await store({}, url), { onEvent: (e) => events.push(e) }),
      ];
      const token = as.mint(RESOURCE);
      await a.verifyToken(token);
      await waitFor(async () => (await storedKeys()).length === 1, "the verdict in Redis");
      await b.verifyToken(token);
      expect(b.stats().validations).toBe(0);
      const opaque = await startTestAuthorizationServer({ accessTokenFormat: "opaque" });
      try {
        const introspecting = new ResourceServer({
          resource: RESOURCE,
          authorizationServers: [opaque.issuer],
          validation: { type: "introspection" },
          introspection: { clientId: opaque.introspection.clientId, clientSecret: opaque.introspection.clientSecret },
          cache: { store: await store({}, url) },
          onEvent: (e) => events.push(e),
        });
        await introspecting.verifyToken((await obtainAccessToken(opaque.issuer, { resource: RESOURCE })).access_token);
        await waitFor(async () => (await admin.keys("mcp-oauth:v1:l:*")).length === 0, "the lease released");
      } finally {
        await opaque.close();
      }
      expect(events.filter((event) => event.type.startsWith("cache_store"))).toEqual([]);
    } finally {
      await admin.call("ACL", "DELUSER", "mcp");
    }
  });
});
