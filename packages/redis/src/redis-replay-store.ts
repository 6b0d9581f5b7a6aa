/**
 * `RedisReplayStore`: the DPoP `jti` memory shared by every replica of a resource server
 * (RFC 9449 section 11.1), so that a proof accepted by one replica is refused by all: one
 * `SET key 1 NX EX ttl` per proof, keyed by core's `replayKey` (a hash of the key
 * thumbprint and the `jti`, never the `jti` as sent).
 *
 * Outages follow the token cache's policy by default (`onUnavailable: "local"`): every call
 * has a deadline, a failing or slow Redis leaves this replica on its own memory (every proof
 * it accepted, Redis up or not, is remembered in front), one event says Redis stopped
 * answering and one that it answers again. A replay sent to another replica during an outage
 * is then caught only by the `iat` window and nonces. `onUnavailable: "refuse"` fails closed
 * instead: 503 `dpop_replay_unavailable` until Redis answers.
 */
import { Redis, type RedisOptions } from "ioredis";
import { McpOAuthConfigError, McpOAuthError, type McpOAuthEvent, type McpOAuthEventListener } from "@mcp-oauth/core";
import { DEFAULT_REPLAY_MAX_ENTRIES, MemoryReplayStore, type DpopReplayStore } from "@mcp-oauth/core/internal";

export interface RedisReplayStoreOptions {
  /** `redis://…` or `rediss://…` (TLS). Either this or `client`. */
  url?: string;
  /** More ioredis options for the connection built from `url`. */
  redisOptions?: RedisOptions;
  /** A connection of your own (the token cache's `client`, say); `close()` leaves it open. */
  client?: Redis;
  /** Prefix of every key this store writes. Default `mcp-oauth:`. */
  keyPrefix?: string;
  /** Deadline of every Redis call, in ms. Default 500. */
  timeoutMs?: number;
  /** After a failed call, how long Redis is left alone before it is tried again, in ms. Default 1000. */
  retryAfterMs?: number;
  /** `local` (default): this replica's memory answers while Redis does not; `refuse`: 503 until it does. */
  onUnavailable?: "local" | "refuse";
  /** Bound of the in-memory layer, in proofs; 0 for none (then an outage refuses). Default 100000. */
  memoryEntries?: number;
  /** Store events (`cache_store_unavailable`, `cache_store_recovered`, store `redis-dpop-replay`). */
  onEvent?: McpOAuthEventListener;
}

const KEY = "v1:j:";
const STORE_NAME = "redis-dpop-replay";
const FAILED = Symbol("failed");

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

export class RedisReplayStore implements DpopReplayStore {
  readonly client: Redis;
  readonly #ownsClient: boolean;
  readonly #prefix: string;
  readonly #timeoutMs: number;
  readonly #retryAfterMs: number;
  readonly #refuseWhenUnavailable: boolean;
  readonly #memory: MemoryReplayStore | undefined;
  readonly #listeners = new Set<McpOAuthEventListener>();
  #available = true;
  #quietUntil = 0;
  #closed = false;

  constructor(options: RedisReplayStoreOptions) {
    if ((options.url === undefined) === (options.client === undefined)) {
      throw new McpOAuthConfigError("url", "give RedisReplayStore either a redis:// or rediss:// `url` or a `client`");
    }
    if (options.url !== undefined && !/^rediss?:\/\//i.test(options.url)) {
      throw new McpOAuthConfigError("url", "must be a redis:// or rediss:// (TLS) URL");
    }
    const onUnavailable = options.onUnavailable ?? "local";
    if (onUnavailable !== "local" && onUnavailable !== "refuse") {
      throw new McpOAuthConfigError("onUnavailable", `"${String(onUnavailable)}" is not one of local, refuse`);
    }
    this.#refuseWhenUnavailable = onUnavailable === "refuse";
    this.#prefix = options.keyPrefix ?? "mcp-oauth:";
    this.#timeoutMs = positive("timeoutMs", options.timeoutMs, 500);
    this.#retryAfterMs = positive("retryAfterMs", options.retryAfterMs, 1000, true);
    const memoryEntries = positive("memoryEntries", options.memoryEntries, DEFAULT_REPLAY_MAX_ENTRIES, true);
    this.#memory = memoryEntries > 0 ? new MemoryReplayStore({ maxEntries: memoryEntries }) : undefined;
    if (options.onEvent !== undefined) this.#listeners.add(options.onEvent);

    this.#ownsClient = options.client === undefined;
    this.client =
      options.client ??
      new Redis(options.url!, {
        // As the token cache: fail at once while disconnected, never resend later.
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        autoResendUnfulfilledCommands: false,
        commandTimeout: this.#timeoutMs,
        retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
        connectionName: "mcp-oauth-dpop",
        ...options.redisOptions,
      });
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

  async rememberOnce(key: string, ttlSeconds: number): Promise<boolean> {
    // This replica's own memory first: a replay to the same replica needs no round trip, and
    // what it accepted stays known through an outage. Full is not an answer: Redis decides.
    let local: boolean | undefined;
    try {
      local = this.#memory?.rememberOnce(key, ttlSeconds);
    } catch {
      local = undefined;
    }
    if (local === false) return false;
    const seconds = Math.max(1, Math.ceil(ttlSeconds));
    const reply = this.#usable()
      ? await this.#call(() => this.client.set(this.#prefix + KEY + key, "1", "EX", seconds, "NX"))
      : FAILED;
    if (reply !== FAILED) return reply === "OK";
    if (this.#refuseWhenUnavailable || local === undefined) {
      throw new McpOAuthError("dpop_replay_unavailable", "the shared replay store does not answer", {
        retryAfter: Math.max(1, Math.ceil(this.#retryAfterMs / 1000)),
      });
    }
    return local;
  }

  /** Ends the connection this store opened (a client given to it stays open). */
  async close(): Promise<void> {
    this.#closed = true;
    if (!this.#ownsClient) return;
    const quit = await this.#call(() => this.client.quit());
    if (quit === FAILED) this.client.disconnect();
  }

  #usable(): boolean {
    return !this.#closed && this.client.status === "ready" && Date.now() >= this.#quietUntil;
  }

  /** One Redis call under the deadline; a failure or a late answer is `FAILED`, never a rejection. */
  #call<T>(run: () => Promise<T>): Promise<T | typeof FAILED> {
    return new Promise((resolve) => {
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
    this.#emit({ type: "cache_store_recovered", store: STORE_NAME });
  }

  #failed(error: unknown): void {
    if (this.#closed) return;
    this.#quietUntil = Date.now() + this.#retryAfterMs;
    if (!this.#available) return;
    this.#available = false;
    this.#emit({ type: "cache_store_unavailable", store: STORE_NAME, reason: reasonOf(error) });
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
