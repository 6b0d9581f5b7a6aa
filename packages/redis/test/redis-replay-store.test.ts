/**
 * RedisReplayStore against a real redis-server: a DPoP proof accepted by one replica is
 * refused by another sharing the Redis; what is stored; and a Redis that is down, with each
 * outage policy.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "@jest/globals";
import { Redis } from "ioredis";
import { McpOAuthConfigError, type McpOAuthEvent } from "@mcp-oauth/core";
import { DpopVerifier, replayKey, resolveDpopOptions, type DpopProofInput } from "@mcp-oauth/core/internal";
import { RedisReplayStore, type RedisReplayStoreOptions } from "../src/redis-replay-store.js";
import { codeOf } from "../../../test/helpers/error-code.js";
import { dpopKey, dpopProof, settle, type DpopKey } from "../../../test/helpers/dpop.js";
import { startTestRedisServer, type TestRedisServer } from "../../../test/helpers/redis-server.js";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const TOKEN = "access-token";
const RESOURCE = new URL("https://mcp.example.com/mcp");

let redis: TestRedisServer;
let admin: Redis;
let key: DpopKey;
const stores: RedisReplayStore[] = [];

beforeAll(async () => {
  [redis, key] = await Promise.all([startTestRedisServer(), dpopKey()]);
  admin = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: null });
  admin.on("error", () => {});
  await admin.connect();
});

afterAll(async () => {
  admin.disconnect();
  await redis?.stop();
});

beforeEach(async () => {
  await admin.flushall();
});

afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()));
});

async function waitFor(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let attempt = 0; attempt < 400; attempt++) {
    if (await condition()) return;
    await sleep(25);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A store on the test Redis, connected before it is returned. */
async function store(options: Omit<RedisReplayStoreOptions, "url" | "client"> = {}): Promise<RedisReplayStore> {
  const created = new RedisReplayStore({ url: redis.url, ...options });
  stores.push(created);
  await waitFor(() => created.client.status === "ready", "the connection");
  return created;
}

/** A replica's DPoP verifier on a shared store. */
const replica = (replay: RedisReplayStore): DpopVerifier =>
  new DpopVerifier(resolveDpopOptions({ mode: "allowed", replay: { store: replay } }), { resourceUrl: RESOURCE });

const input = (proof: string): DpopProofInput => ({
  method: "POST",
  proofs: [proof],
  requestTarget: "/mcp",
  accessToken: TOKEN,
  boundThumbprint: key.thumbprint,
});

const proof = (): Promise<string> => dpopProof(key, { accessToken: TOKEN }, Math.floor(Date.now() / 1000));

describe("replicas sharing one Redis", () => {
  it("refuse at one replica a proof the other accepted", async () => {
    const [a, b] = [replica(await store()), replica(await store())];
    const once = await proof();
    expect(await codeOf(settle(async () => a.verify(input(once))))).toBe("ok");
    expect(await codeOf(settle(async () => b.verify(input(once))))).toBe("dpop_proof_replayed");
    expect(await codeOf(settle(async () => a.verify(input(once))))).toBe("dpop_proof_replayed");
    expect(await codeOf(settle(async () => b.verify(input(await proof()))))).toBe("ok");
  });

  it("store one key per proof, a hash with the rest of the iat window as lifetime, never the jti", async () => {
    const replay = await store();
    const jti = "a-recognisable-jti-value";
    const iat = Math.floor(Date.now() / 1000);
    expect(
      await codeOf(
        settle(async () => replica(replay).verify(input(await dpopProof(key, { accessToken: TOKEN, jti }, iat)))),
      ),
    ).toBe("ok");
    const keys = await admin.keys("*");
    expect(keys).toEqual([`mcp-oauth:v1:j:${replayKey(key.thumbprint, jti)}`]);
    expect(keys[0]).not.toContain(jti);
    expect(await admin.get(keys[0]!)).toBe("1");
    const ttl = await admin.ttl(keys[0]!);
    expect(ttl).toBeGreaterThan(290);
    expect(ttl).toBeLessThanOrEqual(301);
  });

  it("answer true once and false after, store by store", async () => {
    const [a, b] = [await store({ keyPrefix: "t:" }), await store({ keyPrefix: "t:", memoryEntries: 0 })];
    expect(await a.rememberOnce("k1", 60)).toBe(true);
    expect(await b.rememberOnce("k1", 60)).toBe(false);
    expect(await b.rememberOnce("k2", 60)).toBe(true);
    expect(await a.rememberOnce("k2", 60)).toBe(false);
    expect(await admin.keys("*")).toEqual(expect.arrayContaining(["t:v1:j:k1", "t:v1:j:k2"]));
  });

  it("forget a key when its lifetime is over", async () => {
    const [a, b] = [await store({ memoryEntries: 0 }), await store({ memoryEntries: 0 })];
    expect(await a.rememberOnce("short", 1)).toBe(true);
    await waitFor(async () => (await admin.exists("mcp-oauth:v1:j:short")) === 0, "the key to expire");
    expect(await b.rememberOnce("short", 1)).toBe(true);
  });
});

describe("a Redis that is down", () => {
  it("by default, answers from this replica's memory, says so once, and shares again once back", async () => {
    const events: McpOAuthEvent[] = [];
    const replay = await store({ retryAfterMs: 0, onEvent: (event) => events.push(event) });
    const verifier = replica(replay);
    const before = await proof();
    expect(await codeOf(settle(async () => verifier.verify(input(before))))).toBe("ok");
    await redis.kill();
    try {
      const during = await proof();
      expect(await codeOf(settle(async () => verifier.verify(input(during))))).toBe("ok");
      expect(await codeOf(settle(async () => verifier.verify(input(during))))).toBe("dpop_proof_replayed");
      // Accepted before the outage: remembered here too.
      expect(await codeOf(settle(async () => verifier.verify(input(before))))).toBe("dpop_proof_replayed");
      const unavailable = events.filter((event) => event.type === "cache_store_unavailable");
      expect(unavailable).toEqual([
        { type: "cache_store_unavailable", store: "redis-dpop-replay", reason: expect.any(String) },
      ]);
    } finally {
      await redis.start();
    }
    await waitFor(() => replay.client.status === "ready", "the reconnection");
    const after = await proof();
    expect(await codeOf(settle(async () => verifier.verify(input(after))))).toBe("ok");
    expect(await codeOf(settle(async () => replica(await store()).verify(input(after))))).toBe("dpop_proof_replayed");
    expect(events).toContainEqual({ type: "cache_store_recovered", store: "redis-dpop-replay" });
  });

  it("with onUnavailable: refuse, answers 503-style dpop_replay_unavailable until Redis is back", async () => {
    const replay = await store({ retryAfterMs: 0, onUnavailable: "refuse" });
    const verifier = replica(replay);
    await redis.kill();
    try {
      expect(await codeOf(settle(async () => verifier.verify(input(await proof()))))).toBe("dpop_replay_unavailable");
    } finally {
      await redis.start();
    }
    await waitFor(() => replay.client.status === "ready", "the reconnection");
    expect(await codeOf(settle(async () => verifier.verify(input(await proof()))))).toBe("ok");
  });

  it("without a memory layer, refuses while Redis is down: it cannot tell", async () => {
    const replay = await store({ retryAfterMs: 0, memoryEntries: 0 });
    await redis.kill();
    try {
      expect(await codeOf(settle(async () => replica(replay).verify(input(await proof()))))).toBe(
        "dpop_replay_unavailable",
      );
    } finally {
      await redis.start();
    }
  });
});

describe("configuration", () => {
  it.each<[string, RedisReplayStoreOptions, string]>([
    ["neither url nor client", {}, "url"],
    ["a URL of another scheme", { url: "http://127.0.0.1:6379" }, "url"],
    ["an unknown outage policy", { url: "redis://127.0.0.1:1", onUnavailable: "ignore" as never }, "onUnavailable"],
    ["a zero deadline", { url: "redis://127.0.0.1:1", timeoutMs: 0 }, "timeoutMs"],
    ["a negative memory bound", { url: "redis://127.0.0.1:1", memoryEntries: -1 }, "memoryEntries"],
  ])("refuses %s", (_, options, option) => {
    let thrown: unknown;
    try {
      stores.push(new RedisReplayStore(options));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(McpOAuthConfigError);
    expect((thrown as McpOAuthConfigError).option).toBe(option);
  });

  it("uses a connection of the application's own and leaves it open", async () => {
    const client = new Redis(redis.url);
    try {
      const replay = new RedisReplayStore({ client });
      await waitFor(() => client.status === "ready", "the connection");
      expect(await replay.rememberOnce("own", 5)).toBe(true);
      await replay.close();
      expect(await client.ping()).toBe("PONG");
    } finally {
      client.disconnect();
    }
  });
});
