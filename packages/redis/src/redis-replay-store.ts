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
import type { Redis, RedisOptions } from "ioredis";
import { McpOAuthConfigError, McpOAuthError, type McpOAuthEventListener } from "@mcp-oauth/core";
import { DEFAULT_REPLAY_MAX_ENTRIES, MemoryReplayStore, type DpopReplayStore } from "@mcp-oauth/core/internal";
import { FAILED, positive, RedisLink } from "./redis-link.js";

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

export class RedisReplayStore implements DpopReplayStore {
  readonly client: Redis;
  /** The connection under the outage policy this package's stores share (redis-link.ts). */
  readonly #link: RedisLink;
  readonly #prefix: string;
  readonly #refuseWhenUnavailable: boolean;
  readonly #memory: MemoryReplayStore | undefined;

  constructor(options: RedisReplayStoreOptions) {
    const onUnavailable = options.onUnavailable ?? "local";
    if (onUnavailable !== "local" && onUnavailable !== "refuse") {
      throw new McpOAuthConfigError("onUnavailable", `"${String(onUnavailable)}" is not one of local, refuse`);
    }
    this.#refuseWhenUnavailable = onUnavailable === "refuse";
    this.#prefix = options.keyPrefix ?? "mcp-oauth:";
    const memoryEntries = positive("memoryEntries", options.memoryEntries, DEFAULT_REPLAY_MAX_ENTRIES, true);
    this.#link = new RedisLink({
      owner: "RedisReplayStore",
      url: options.url,
      client: options.client,
      redisOptions: options.redisOptions,
      timeoutMs: options.timeoutMs,
      retryAfterMs: options.retryAfterMs,
      connectionName: "mcp-oauth-dpop",
      storeName: "redis-dpop-replay",
      onEvent: options.onEvent,
    });
    this.#memory = memoryEntries > 0 ? new MemoryReplayStore({ maxEntries: memoryEntries }) : undefined;
    this.client = this.#link.client;
  }

  listen(listener: McpOAuthEventListener): void {
    this.#link.listen(listener);
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
    const reply = this.#link.usable()
      ? await this.#link.call(() => this.client.set(this.#prefix + KEY + key, "1", "EX", seconds, "NX"))
      : FAILED;
    if (reply !== FAILED) return reply === "OK";
    if (this.#refuseWhenUnavailable || local === undefined) {
      throw new McpOAuthError("dpop_replay_unavailable", "the shared replay store does not answer", {
        retryAfter: Math.max(1, Math.ceil(this.#link.retryAfterMs / 1000)),
      });
    }
    return local;
  }

  /** Ends the connection this store opened (a client given to it stays open). */
  close(): Promise<void> {
    return this.#link.close();
  }
}
