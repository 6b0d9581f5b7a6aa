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
import { Redis, type RedisOptions } from "ioredis";
import {
  McpOAuthConfigError,
  MemoryTokenCache,
  type CachedValidation,
  type McpOAuthEvent,
  type McpOAuthEventListener,
  type TokenCacheLease,
  type TokenCacheStore,
} from "@mcp-oauth/core";
import { decode, encode } from "./codec.js";

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

/** A call that did not answer in time or failed: the caller treats it as a miss. */
const FAILED = Symbol("failed");
type Outcome<T> = T | typeof FAILED;

const VALUE = "v1:t:";
const LEASE = "v1:l:";

// Releases a lease only if this process still holds it: an expired lease may have passed
// to another replica meanwhile (the usual compare-and-delete of a Redis lock).
const RELEASE_SCRIPT = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`;

function positive(option: string, value: number | undefined, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new McpOAuthConfigError(
      option,
      `must be a ${allowZero ? "non-negative" : "positive"} number, not ${String(value)}`,
    );
  }
  return value;
}

/** An error in words for an event, without credentials a URL might carry. */
function reasonOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\/\/[^/@\s]*@/g, "//***@").slice(0, 200);
}

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
  readonly #ownsClient: boolean;
  readonly #prefix: string;
  readonly #timeoutMs: number;
  readonly #retryAfterMs: number;
  readonly #maxValueBytes: number;
  readonly #memory: MemoryTokenCache<CachedValidation> | undefined;
  readonly #lease: Required<RedisLeaseOptions> | undefined;
  readonly #listeners = new Set<McpOAuthEventListener>();
  /** Writes still on their way, by key: a lease is released only after its verdict is stored. */
  readonly #writes = new Map<string, Promise<unknown>>();
  #available = true;
  /** Until when (ms since epoch) Redis is left alone after a failure. */
  #quietUntil = 0;
  #closed = false;

  constructor(options: RedisTokenCacheOptions) {
    if ((options.url === undefined) === (options.client === undefined)) {
      throw new McpOAuthConfigError(
        "url",
        "give RedisTokenCache either a redis:// or rediss:// `url` or a `client`, not both or neither",
      );
    }
    if (options.url !== undefined && !/^rediss?:\/\//i.test(options.url)) {
      throw new McpOAuthConfigError(
        "url",
        "must be a redis:// or rediss:// (TLS) URL, e.g. rediss://:password@cache.internal:6380/0",
      );
    }
    this.#prefix = options.keyPrefix ?? "mcp-oauth:";
    this.#timeoutMs = positive("timeoutMs", options.timeoutMs, 500);
    this.#retryAfterMs = positive("retryAfterMs", options.retryAfterMs, 1000, true);
    this.#maxValueBytes = positive("maxValueBytes", options.maxValueBytes, 16_384);
    const memoryEntries = positive("memoryEntries", options.memoryEntries, 10_000, true);
    this.#memory = memoryEntries > 0 ? new MemoryTokenCache<CachedValidation>(memoryEntries) : undefined;
    const lease = options.lease ?? true;
    this.#lease =
      lease === false
        ? undefined
        : {
            ttlMs: positive("lease.ttlMs", lease === true ? undefined : lease.ttlMs, 10_000),
            waitMs: positive("lease.waitMs", lease === true ? undefined : lease.waitMs, 5_000),
          };
    if (options.onEvent !== undefined) this.#listeners.add(options.onEvent);

    this.#ownsClient = options.client === undefined;
    this.client =
      options.client ??
      new Redis(options.url!, {
        // While disconnected a command fails at once (a miss) instead of waiting in a queue.
        enableOfflineQueue: false,
        // A command in flight when the connection drops fails instead of being sent again later.
        maxRetriesPerRequest: 0,
        autoResendUnfulfilledCommands: false,
        commandTimeout: this.#timeoutMs,
        // Reconnect for ever, backing off to one attempt every 2 s.
        retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
        connectionName: "mcp-oauth",
        ...options.redisOptions,
      });
    // ioredis reports connection failures as 'error' events; unheard, they would be printed.
    this.client.on("error", (error: unknown) => this.#failed(error));
    this.client.on("close", () => {
      if (!this.#closed) this.#failed(new Error("connection closed"));
    });
    this.client.on("ready", () => {
      this.#quietUntil = 0;
    });
  }

  listen(listener: McpOAuthEventListener): void {
    this.#listeners.add(listener);
  }

  get(key: string): CachedValidation | undefined | Promise<CachedValidation | undefined> {
    const local = this.#memory?.get(key);
    if (local !== undefined || !this.#usable()) return local;
    const redisKey = this.#prefix + VALUE + key;
    return this.#call(() => this.client.pipeline().get(redisKey).pttl(redisKey).exec().then(replied)).then((replies) =>
      replies === FAILED ? undefined : this.#found(key, replies),
    );
  }

  set(key: string, value: CachedValidation, ttlMs: number): void | Promise<void> {
    // Core never asks past `exp`; the store holds to it as well, whatever a caller asks.
    const lifetime = Math.ceil(value.ok ? Math.min(ttlMs, value.expiresAt * 1000 - Date.now()) : ttlMs);
    if (!(lifetime > 0)) return;
    this.#memory?.set(key, value, lifetime);
    if (!this.#usable()) return;
    const encoded = encode(value);
    if (Buffer.byteLength(encoded) > this.#maxValueBytes) return;
    const write = this.#call(() => this.client.set(this.#prefix + VALUE + key, encoded, "PX", lifetime));
    this.#writes.set(key, write);
    return write.then(() => {
      if (this.#writes.get(key) === write) this.#writes.delete(key);
    });
  }

  async lease(key: string): Promise<TokenCacheLease<CachedValidation> | undefined> {
    const lease = this.#lease;
    if (lease === undefined || !this.#usable()) return undefined;
    const valueKey = this.#prefix + VALUE + key;
    const leaseKey = this.#prefix + LEASE + key;
    const holder = randomBytes(12).toString("base64url");
    const giveUpAt = Date.now() + lease.waitMs;
    let pause = 5;
    for (;;) {
      const taken = await this.#call(() => this.client.set(leaseKey, holder, "PX", lease.ttlMs, "NX"));
      if (taken === FAILED) return undefined;
      if (taken === "OK") return { release: () => this.#release(key, leaseKey, holder) };
      // Another replica validates this token: wait for its verdict, or for its lease to end.
      for (;;) {
        if (Date.now() >= giveUpAt) return undefined;
        await sleep(pause);
        pause = Math.min(pause * 2, 50);
        const replies = await this.#call(() =>
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
  async close(): Promise<void> {
    this.#closed = true;
    if (!this.#ownsClient) return;
    const quit = await this.#call(() => this.client.quit());
    if (quit === FAILED) this.client.disconnect();
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
    void write.then(() => this.#call(() => this.client.eval(RELEASE_SCRIPT, 1, leaseKey, holder)));
  }

  /** Connected and not resting after a failure. */
  #usable(): boolean {
    return !this.#closed && this.client.status === "ready" && Date.now() >= this.#quietUntil;
  }

  /** Runs one Redis call under the deadline; a failure or a late answer is `FAILED`, never a rejection. */
  #call<T>(run: () => Promise<T>): Promise<Outcome<T>> {
    return new Promise<Outcome<T>>((resolve) => {
      const timer = setTimeout(() => {
        this.#failed(new Error(`no answer within ${this.#timeoutMs} ms`));
        resolve(FAILED);
      }, this.#timeoutMs);
      timer.unref();
      let pending: Promise<T>;
      try {
        pending = run();
      } catch (error) {
        pending = Promise.reject(error);
      }
      pending.then(
        (result) => {
          clearTimeout(timer);
          this.#answered();
          resolve(result);
        },
        (error: unknown) => {
          clearTimeout(timer);
          this.#failed(error);
          resolve(FAILED);
        },
      );
    });
  }

  #answered(): void {
    if (this.#available) return;
    this.#available = true;
    this.#emit({ type: "cache_store_recovered", store: "redis" });
  }

  #failed(error: unknown): void {
    if (this.#closed) return;
    this.#quietUntil = Date.now() + this.#retryAfterMs;
    if (!this.#available) return;
    this.#available = false;
    this.#emit({ type: "cache_store_unavailable", store: "redis", reason: reasonOf(error) });
  }

  #emit(event: McpOAuthEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // A logging bug must not break a request.
      }
    }
  }
}
