/**
 * `RedisTokenCache`: the token cache shared by every replica of a resource server. An
 * in-memory LRU sits in front (a hit stays synchronous, no round trip); Redis behind it
 * holds each verdict for the lifetime core gives it (never past `exp`), keyed by core's
 * opaque cache key (a hash, never the token). Optional leases give single flight across
 * replicas for introspection.
 *
 * Redis is a help, never a dependency of an answer: every call has a deadline, a failing
 * or slow Redis is a cache miss (validation goes on locally), one event says it stopped
 * answering and one says it answers again, and ioredis reconnects by itself.
 */
import { randomBytes } from "node:crypto";
import type { Redis, RedisOptions } from "ioredis";
import {
  MemoryTokenCache,
  type CachedValidation,
  type McpOAuthEventListener,
  type TokenCacheLease,
  type TokenCacheStore,
} from "@mcp-oauth/core";
import { decode, encode } from "./codec.js";
import { FAILED, positive, RedisLink } from "./redis-link.js";

export interface RedisLeaseOptions {
  /** How long a lease holds when its holder never releases it (crashed), in ms. Default 10000. */
  ttlMs?: number;
  /** Longest wait for another replica's verdict before validating here, in ms. Default 5000. */
  waitMs?: number;
}

export interface RedisTokenCacheOptions {
  /**
   * `redis://[[username]:password@]host[:port][/db]`, or `rediss://` for TLS. Either this or
   * `client`.
   */
  url?: string;
  /** More ioredis options for the connection built from `url` (TLS certificates, Sentinel, ...). */
  redisOptions?: RedisOptions;
  /**
   * A connection of your own. Commands then follow its queueing settings, still bounded by
   * `timeoutMs`; `close()` leaves it open.
   */
  client?: Redis;
  /** Prefix of every key this store writes. Default `mcp-oauth:`. */
  keyPrefix?: string;
  /** Deadline of every Redis call, in ms. Default 500. */
  timeoutMs?: number;
  /** After a failed call, how long Redis is left alone before it is tried again, in ms. Default 1000. */
  retryAfterMs?: number;
  /** Entries of the in-memory layer in front of Redis; 0 for none. Default 10000, as core's in-memory cache. */
  memoryEntries?: number;
  /** Largest stored value in bytes; a larger verdict stays in memory only. Default 16384. */
  maxValueBytes?: number;
  /**
   * Single flight across replicas for introspection (a lease per token in Redis, `SET NX PX`).
   * Default on; `false` turns it off.
   */
  lease?: RedisLeaseOptions | boolean;
  /** Store events (`cache_store_unavailable`, `cache_store_recovered`); the resource server adds its own `onEvent`. */
  onEvent?: McpOAuthEventListener;
}

const VALUE = "v1:t:";
const LEASE = "v1:l:";

// Releases a lease only if this process still holds it: an expired lease may have passed
// to another replica meanwhile (the usual compare-and-delete of a Redis lock).
const RELEASE_SCRIPT = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`;

type Replies = [error: Error | null, result: unknown][];

/** A pipeline's replies, or its first error thrown (a pipeline resolves even when its commands fail). */
function replied(replies: Replies | null): Replies {
  if (replies === null) throw new Error("pipeline discarded");
  const failed = replies.find(([error]) => error !== null);
  if (failed !== undefined) throw failed[0];
  return replies;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

export class RedisTokenCache implements TokenCacheStore<CachedValidation> {
  /** The connection: also usable for other shared state (a rate limit's counters). */
  readonly client: Redis;
  /** The connection under the outage policy this package's stores share (redis-link.ts). */
  readonly #link: RedisLink;
  readonly #prefix: string;
  readonly #maxValueBytes: number;
  readonly #memory: MemoryTokenCache<CachedValidation> | undefined;
  readonly #lease: Required<RedisLeaseOptions> | undefined;
  /** Writes still on their way, by key: a lease is released only after its verdict is stored. */
  readonly #writes = new Map<string, Promise<unknown>>();

  constructor(options: RedisTokenCacheOptions) {
    this.#prefix = options.keyPrefix ?? "mcp-oauth:";
    this.#maxValueBytes = positive("maxValueBytes", options.maxValueBytes, 16_384);
    const memoryEntries = positive("memoryEntries", options.memoryEntries, 10_000, true);
    const lease = options.lease ?? true;
    this.#lease =
      lease === false
        ? undefined
        : {
            ttlMs: positive("lease.ttlMs", lease === true ? undefined : lease.ttlMs, 10_000),
            waitMs: positive("lease.waitMs", lease === true ? undefined : lease.waitMs, 5_000),
          };
    this.#link = new RedisLink({
      owner: "RedisTokenCache",
      url: options.url,
      client: options.client,
      redisOptions: options.redisOptions,
      timeoutMs: options.timeoutMs,
      retryAfterMs: options.retryAfterMs,
      connectionName: "mcp-oauth",
      storeName: "redis",
      onEvent: options.onEvent,
    });
    this.#memory = memoryEntries > 0 ? new MemoryTokenCache<CachedValidation>(memoryEntries) : undefined;
    this.client = this.#link.client;
  }

  listen(listener: McpOAuthEventListener): void {
    this.#link.listen(listener);
  }

  get(key: string): CachedValidation | undefined | Promise<CachedValidation | undefined> {
    const local = this.#memory?.get(key);
    if (local !== undefined || !this.#link.usable()) return local;
    const redisKey = this.#prefix + VALUE + key;
    return this.#link
      .call(() => this.client.pipeline().get(redisKey).pttl(redisKey).exec().then(replied))
      .then((replies) => (replies === FAILED ? undefined : this.#found(key, replies)));
  }

  set(key: string, value: CachedValidation, ttlMs: number): void | Promise<void> {
    // Core never asks past `exp`; the store holds to it as well, whatever a caller asks.
    const lifetime = Math.ceil(value.ok ? Math.min(ttlMs, value.expiresAt * 1000 - Date.now()) : ttlMs);
    if (!(lifetime > 0)) return;
    this.#memory?.set(key, value, lifetime);
    if (!this.#link.usable()) return;
    const encoded = encode(value);
    if (Buffer.byteLength(encoded) > this.#maxValueBytes) return;
    const write = this.#link.call(() => this.client.set(this.#prefix + VALUE + key, encoded, "PX", lifetime));
    this.#writes.set(key, write);
    return write.then(() => {
      if (this.#writes.get(key) === write) this.#writes.delete(key);
    });
  }

  async lease(key: string): Promise<TokenCacheLease<CachedValidation> | undefined> {
    const lease = this.#lease;
    if (lease === undefined || !this.#link.usable()) return undefined;
    const valueKey = this.#prefix + VALUE + key;
    const leaseKey = this.#prefix + LEASE + key;
    const holder = randomBytes(12).toString("base64url");
    const giveUpAt = Date.now() + lease.waitMs;
    let pause = 5;
    for (;;) {
      const taken = await this.#link.call(() => this.client.set(leaseKey, holder, "PX", lease.ttlMs, "NX"));
      if (taken === FAILED) return undefined;
      if (taken === "OK") return { release: () => this.#release(key, leaseKey, holder) };
      // Another replica validates this token: wait for its verdict, or for its lease to end.
      for (;;) {
        if (Date.now() >= giveUpAt) return undefined;
        await sleep(pause);
        pause = Math.min(pause * 2, 50);
        const replies = await this.#link.call(() =>
          this.client.pipeline().get(valueKey).pttl(valueKey).exists(leaseKey).exec().then(replied),
        );
        if (replies === FAILED) return undefined;
        const value = this.#found(key, replies);
        if (value !== undefined) return { value, release: () => {} };
        // Released or expired without a verdict (the holder's validation failed): take it.
        if (replies[2]?.[1] === 0) break;
      }
    }
  }

  /** Ends the connection this store opened (a client given to it stays open). */
  close(): Promise<void> {
    return this.#link.close();
  }

  /** A value from `GET` + `PTTL` replies, kept in memory for the lifetime Redis has left. */
  #found(key: string, replies: Replies): CachedValidation | undefined {
    const [text, ttl] = [replies[0]?.[1], replies[1]?.[1]];
    if (typeof text !== "string" || typeof ttl !== "number" || ttl <= 0) return undefined;
    const value = decode(text);
    if (value === undefined) return undefined;
    this.#memory?.set(key, value, value.ok ? Math.min(ttl, value.expiresAt * 1000 - Date.now()) : ttl);
    return value;
  }

  #release(key: string, leaseKey: string, holder: string): void {
    const write = this.#writes.get(key) ?? Promise.resolve();
    void write.then(() => this.#link.call(() => this.client.eval(RELEASE_SCRIPT, 1, leaseKey, holder)));
  }
}
