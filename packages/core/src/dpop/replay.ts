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

/** The group of keys given whole to `rememberOnce` (a thumbprint is never empty). */
const WHOLE_KEYS = "";

/** Default bound of `MemoryReplayStore`, in remembered proofs. */
export const DEFAULT_REPLAY_MAX_ENTRIES = 100_000;

export interface MemoryReplayStoreOptions {
  /** Most proofs remembered at once. Default 100000. */
  maxEntries?: number;
  /** The clock, in ms since the epoch. */
  now?: () => number;
}

/**
 * Proofs remembered in this process, grouped by the proof key's thumbprint. Per proof it
 * keeps its `jti` as sent (the string the proof's JSON already made), or its SHA-256 when
 * longer than a hash, in its key's group (a `Set`), and a place in the list of its expiry
 * second, which lets expired proofs be dropped a second at a time without a scan: about 90
 * bytes of heap per proof (bench/dpop-results.md), so the default bound is about 9 MB.
 * Grouped, no string is made per proof: a key built as thumbprint and `jti` was a new
 * 65-character string for every request (docs/dpop.md, "Costs", measures what grouping
 * saved). A long `jti` kept as its hash could equal another `jti` of the same key as sent:
 * one client refusing its own proofs, never another's.
 *
 * At the bound, expired proofs are dropped first; if none has expired, the new proof is
 * refused (`dpop_replay_unavailable`, 503 with `Retry-After` until the first one expires)
 * rather than forgetting one that could still be replayed: evicting would let a client that
 * sends enough valid proofs of its own reopen the replay window of anybody else's.
 */
export class MemoryReplayStore implements DpopReplayStore {
  readonly maxEntries: number;
  readonly #now: () => number;
  /** Thumbprint (or `WHOLE_KEYS`) → the keys remembered within it. */
  readonly #groups = new Map<string, Set<string>>();
  /** Expiry second (since the epoch) → the keys forgotten then, as pairs: their group, the key. */
  readonly #bySecond = new Map<number, (Set<string> | string)[]>();
  #size = 0;
  /** The last second whose expired keys were dropped. */
  #sweptUpTo = 0;

  constructor(options: MemoryReplayStoreOptions = {}) {
    this.maxEntries = options.maxEntries ?? DEFAULT_REPLAY_MAX_ENTRIES;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#size;
  }

  /** How many groups of proofs are held: one per client key with proofs remembered, one for keys given whole. */
  get groups(): number {
    return this.#groups.size;
  }

  /**
   * `rememberOnce` for a proof of the key `thumbprint` (its RFC 7638 thumbprint), without
   * `replayKey`'s hash per proof (see the class). The verifier's path when its store is this one.
   */
  rememberProofOnce(thumbprint: string, jti: string, ttlSeconds: number): boolean {
    return this.#remember(thumbprint, jti.length <= PLAIN_JTI_MAX_LENGTH ? jti : sha256Base64url(jti), ttlSeconds);
  }

  rememberOnce(key: string, ttlSeconds: number): boolean {
    return this.#remember(WHOLE_KEYS, key, ttlSeconds);
  }

  #remember(group: string, key: string, ttlSeconds: number): boolean {
    const now = Math.floor(this.#now() / 1000);
    this.#sweep(now);
    let keys = this.#groups.get(group);
    if (keys?.has(key) === true) return false;
    if (this.#size >= this.maxEntries) {
      throw new McpOAuthError("dpop_replay_unavailable", "replay store full", {
        retryAfter: Math.max(1, this.#firstExpiry() - now),
      });
    }
    if (keys === undefined) {
      keys = new Set();
      this.#groups.set(group, keys);
    }
    const expiry = now + Math.max(1, Math.ceil(ttlSeconds));
    keys.add(key);
    this.#size++;
    const list = this.#bySecond.get(expiry);
    if (list === undefined) this.#bySecond.set(expiry, [keys, key]);
    else list.push(keys, key);
    return true;
  }

  /** Drops every key whose expiry second has come, and groups left empty; at most once per second. */
  #sweep(now: number): void {
    if (now <= this.#sweptUpTo) return;
    this.#sweptUpTo = now;
    // At most one list per second of the longest lifetime: a few hundred, never the keys.
    for (const [second, list] of this.#bySecond) {
      if (second > now) continue;
      for (let i = 0; i < list.length; i += 2) (list[i] as Set<string>).delete(list[i + 1] as string);
      this.#size -= list.length / 2;
      this.#bySecond.delete(second);
    }
    // One group per client key with proofs in the window: a walk once a second costs less than
    // telling, per proof dropped, whether its group emptied.
    for (const [group, keys] of this.#groups) if (keys.size === 0) this.#groups.delete(group);
  }

  #firstExpiry(): number {
    let first = Infinity;
    for (const second of this.#bySecond.keys()) first = Math.min(first, second);
    return first;
  }
}
