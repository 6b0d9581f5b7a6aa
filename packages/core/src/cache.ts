/**
 * Caching of validation results behind a small interface, so a shared store (Redis,
 * memcached) can replace the in-memory default. Keys are SHA-256 hashes of tokens, never
 * tokens.
 */
import { hash } from "node:crypto";

/** A key-value store with per-entry lifetimes. Methods may answer synchronously or with a promise. */
export interface TokenCacheStore<V> {
  get(key: string): V | undefined | Promise<V | undefined>;
  set(key: string, value: V, ttlMs: number): void | Promise<void>;
}

interface Slot<V> {
  value: V;
  expiresAt: number;
}

/** In-memory LRU bounded by entry count; expired entries are dropped when read. */
export class MemoryTokenCache<V> implements TokenCacheStore<V> {
  readonly maxEntries: number;
  readonly #slots = new Map<string, Slot<V>>();

  constructor(maxEntries = 10_000) {
    this.maxEntries = maxEntries;
  }

  get size(): number {
    return this.#slots.size;
  }

  get(key: string): V | undefined {
    const slot = this.#slots.get(key);
    if (slot === undefined) return undefined;
    if (slot.expiresAt <= Date.now()) {
      this.#slots.delete(key);
      return undefined;
    }
    // Re-insert: a Map iterates in insertion order, so the first key is the least recently used.
    this.#slots.delete(key);
    this.#slots.set(key, slot);
    return slot.value;
  }

  set(key: string, value: V, ttlMs: number): void {
    if (ttlMs <= 0 || this.maxEntries === 0) return;
    this.#slots.delete(key);
    this.#slots.set(key, { value, expiresAt: Date.now() + ttlMs });
    while (this.#slots.size > this.maxEntries) {
      const oldest = this.#slots.keys().next().value;
      if (oldest === undefined) break;
      this.#slots.delete(oldest);
    }
  }

  clear(): void {
    this.#slots.clear();
  }
}

/** The cache key of a token: its SHA-256, base64url. */
export function tokenCacheKey(token: string): string {
  // One-shot hash (Node 20.12+): no Hash object per request.
  return hash("sha256", token, "base64url");
}
