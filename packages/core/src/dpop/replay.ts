/**
 * Replay detection (RFC 9449 section 11.1): a proof's `jti` is accepted once while the proof
 * could pass the `iat` check. The store is behind a small interface so that replicas share
 * one (`RedisReplayStore` of @mcp-oauth/redis); the default is in memory, bounded, and fails
 * closed at its bound.
 */
import { sha256Base64url } from "../crypto/index.js";
import { McpOAuthError } from "../errors.js";

/** Where `jti`s are remembered. */
export interface DpopReplayStore {
  /**
   * Remembers `key` for `ttlSeconds` and answers true, or answers false when it was already
   * remembered (a replay). Throws (or rejects with) an `McpOAuthError` with the code
   * `dpop_replay_unavailable` when it cannot tell: a proof is never accepted on a guess.
   */
  rememberOnce(key: string, ttlSeconds: number): Promise<boolean> | boolean;
}

/**
 * The store key of a proof: SHA-256 (base64url, 43 characters) of the key thumbprint (fixed
 * length, 43 characters) and the `jti`. Per key: a client cannot block another's proofs by
 * reusing its `jti`s, and a store holds no `jti` as sent. The whole hash, not a prefix: a
 * prefix cut from it would be a V8 sliced string keeping the whole one alive (measured: 133
 * bytes per remembered proof against 101).
 */
export function replayKey(thumbprint: string, jti: string): string {
  return sha256Base64url(thumbprint + jti);
}

/** The longest `jti` the memory store keeps as sent; a longer one is kept as its SHA-256 (43 characters). */
const PLAIN_JTI_MAX_LENGTH = 43;

/**
 * The memory store's key of a proof: the thumbprint (always 43 characters, so no two pairs
 * give one key) and the `jti` as sent, or its SHA-256 when longer than a hash. No hash per
 * proof for the usual `jti` (a 22-character random value): the SHA-256 of `replayKey` was a
 * tenth of the DPoP cost beyond the signature (bench/dpop-results.md), and this process's
 * memory needs neither a fixed-length key nor to hold no `jti` as sent. A long `jti` hashed
 * could equal another `jti` of the same key as sent: one client refusing its own proofs.
 */
function memoryKey(thumbprint: string, jti: string): string {
  return thumbprint + (jti.length <= PLAIN_JTI_MAX_LENGTH ? jti : sha256Base64url(jti));
}

/** Default bound of `MemoryReplayStore`, in remembered proofs. */
export const DEFAULT_REPLAY_MAX_ENTRIES = 100_000;

export interface MemoryReplayStoreOptions {
  /** Most proofs remembered at once. Default 100000. */
  maxEntries?: number;
  /** The clock, in ms since the epoch. */
  now?: () => number;
}

/**
 * Proofs remembered in this process. Per proof it keeps its key (the verifier's: the key
 * thumbprint and the `jti`, 65 characters for the usual 22-character `jti`, 86 at most) and
 * the second it may be forgotten (one `Map` entry), and a reference to the key in the list of
 * its expiry second, which lets expired proofs be dropped a second at a time without a scan:
 * about 120 bytes of heap per proof (bench/dpop-results.md), so the default bound is about 12 MB.
 *
 * At the bound, expired proofs are dropped first; if none has expired, the new proof is
 * refused (`dpop_replay_unavailable`, 503 with `Retry-After` until the first one expires)
 * rather than forgetting one that could still be replayed: evicting would let a client that
 * sends enough valid proofs of its own reopen the replay window of anybody else's.
 */
export class MemoryReplayStore implements DpopReplayStore {
  readonly maxEntries: number;
  readonly #now: () => number;
  /** Key → the second (since the epoch) from which it is forgotten. */
  readonly #expiries = new Map<string, number>();
  /** Expiry second → the keys forgotten then. */
  readonly #bySecond = new Map<number, string[]>();
  /** The last second whose expired keys were dropped. */
  #sweptUpTo = 0;

  constructor(options: MemoryReplayStoreOptions = {}) {
    this.maxEntries = options.maxEntries ?? DEFAULT_REPLAY_MAX_ENTRIES;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#expiries.size;
  }

  /**
   * `rememberOnce` for a proof of the key `thumbprint` (its RFC 7638 thumbprint), keyed
   * without `replayKey`'s hash (see `memoryKey`). The verifier's path when its store is this one.
   */
  rememberProofOnce(thumbprint: string, jti: string, ttlSeconds: number): boolean {
    return this.rememberOnce(memoryKey(thumbprint, jti), ttlSeconds);
  }

  rememberOnce(key: string, ttlSeconds: number): boolean {
    const now = Math.floor(this.#now() / 1000);
    this.#sweep(now);
    if (this.#expiries.has(key)) return false;
    if (this.#expiries.size >= this.maxEntries) {
      throw new McpOAuthError("dpop_replay_unavailable", "replay store full", {
        retryAfter: Math.max(1, this.#firstExpiry() - now),
      });
    }
    const expiry = now + Math.max(1, Math.ceil(ttlSeconds));
    this.#expiries.set(key, expiry);
    const list = this.#bySecond.get(expiry);
    if (list === undefined) this.#bySecond.set(expiry, [key]);
    else list.push(key);
    return true;
  }

  /** Drops every key whose expiry second has come; at most once per second. */
  #sweep(now: number): void {
    if (now <= this.#sweptUpTo) return;
    this.#sweptUpTo = now;
    // At most one list per second of the longest lifetime: a few hundred, never the keys.
    for (const [second, keys] of this.#bySecond) {
      if (second > now) continue;
      for (const key of keys) this.#expiries.delete(key);
      this.#bySecond.delete(second);
    }
  }

  #firstExpiry(): number {
    let first = Infinity;
    for (const second of this.#bySecond.keys()) first = Math.min(first, second);
    return first;
  }
}
