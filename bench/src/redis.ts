/**
 * The Redis rows' server: a real `redis-server` on a loopback port (the tests' helper), and
 * what one Redis round trip costs the shared cache, measured on its own.
 */
import { once } from "node:events";
import { RedisTokenCache } from "@mcp-oauth/redis";
import { startTestRedisServer, type TestRedisServer } from "../../test/helpers/redis-server.js";

export type BenchRedis = TestRedisServer;

/** The bench's redis-server, or the reason there is none (the Redis rows then fail with it). */
export async function startBenchRedis(): Promise<BenchRedis | string> {
  try {
    return await startTestRedisServer();
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

export interface RedisMissResult {
  samples: number;
  /** One `get` of an absent key through `RedisTokenCache` (in-memory layer off), one at a time. */
  p50Us: number;
  p99Us: number;
}

/** The latency a Redis miss adds to a cold request: `get` of keys never stored, sequentially. */
export async function measureRedisMiss(url: string, samples = 2000): Promise<RedisMissResult> {
  const store = new RedisTokenCache({ url, memoryEntries: 0, lease: false });
  try {
    // Before its connection is up a command fails at once (and the store leaves Redis alone
    // for a while): that would time a refusal, not a round trip.
    if (store.client.status !== "ready") await once(store.client, "ready");
    const key = (i: number): string => `bench-miss-${i}-${process.pid}`;
    for (let i = 0; i < 200; i++) await store.get(key(-i - 1));
    const us: number[] = [];
    for (let i = 0; i < samples; i++) {
      const started = performance.now();
      await store.get(key(i));
      us.push((performance.now() - started) * 1000);
    }
    us.sort((a, b) => a - b);
    return {
      samples,
      p50Us: us[Math.floor(samples * 0.5)]!,
      p99Us: us[Math.min(samples - 1, Math.floor(samples * 0.99))]!,
    };
  } finally {
    await store.close();
  }
}
