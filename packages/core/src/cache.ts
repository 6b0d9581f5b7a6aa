/**
 * Caching of validation results behind a small interface, so a shared store (Redis,
 * memcached) can replace the in-memory default. Keys are SHA-256 hashes of tokens, never
 * tokens.
 */
import { hash } from "node:crypto";
import { LRUCache } from "lru-cache";
import type { McpOAuthEventListener } from "./events.js";

/**
 * A store's answer to `lease`: either the verdict another process stored while this one
 * waited, or the right (and duty) to validate, ended by `release()`.
 */
export interface TokenCacheLease<V> {
  /** A verdict another process stored meanwhile: use it instead of validating. */
  readonly value?: V;
  /** Ends this process's lease once its verdict is stored (or the validation failed). Never throws. */
  release(): void;
}

/** A key-value store with per-entry lifetimes. Methods may answer synchronously or with a promise. */
export interface TokenCacheStore<V> {
  get(key: string): V | undefined | Promise<V | undefined>;
  set(key: string, value: V, ttlMs: number): void | Promise<void>;
  /**
   * Optional single flight across processes sharing the store, asked on a cache miss before
   * an introspection call (the one validation that costs an upstream call per token): at
   * most one process holds the lease of a key; the others wait, bounded, for its verdict.
   * Resolves to `undefined` when the store cannot tell (then this process validates on
   * its own); never rejects.
   */
  lease?(key: string): Promise<TokenCacheLease<V> | undefined>;
  /** Optional: the resource server hands its event listener to the store (store outages, recoveries). */
  listen?(listener: McpOAuthEventListener): void;
}

/**
 * In-memory LRU bounded by entry count, each entry with its own lifetime (expired entries
 * are never returned). Backed by `lru-cache`: a hand-rolled `Map` LRU (delete + re-insert
 * on every hit, evict the first key) measured 8 µs per hit and 9 µs per eviction with
 * 10k entries once evictions began (holes left by deletes are skipped on every
 * `keys().next()`), 56 µs at 100k; lru-cache's index-linked list stays near 0.1 µs and
 * 1 µs (bench/results.md).
 */
export class MemoryTokenCache<V extends {}> implements TokenCacheStore<V> {
  readonly maxEntries: number;
  readonly #entries: LRUCache<string, V> | undefined;

  constructor(maxEntries = 10_000) {
    this.maxEntries = maxEntries;
    // ttlAutopurge off: no timer per entry; an expired entry is dropped when read or evicted.
    this.#entries = maxEntries > 0 ? new LRUCache<string, V>({ max: maxEntries, ttlAutopurge: false }) : undefined;
  }

  get size(): number {
    return this.#entries?.size ?? 0;
  }

  get(key: string): V | undefined {
    return this.#entries?.get(key);
  }

  set(key: string, value: V, ttlMs: number): void {
    if (ttlMs <= 0 || this.#entries === undefined) return;
    this.#entries.set(key, value, { ttl: Math.ceil(ttlMs) });
  }

  clear(): void {
    this.#entries?.clear();
  }
}

/** The cache key of a token: its SHA-256, base64url. */
export function tokenCacheKey(token: string): string {
  // One-shot hash (Node 20.12+): no Hash object per request.
  return hash("sha256", token, "base64url");
}
