/**
 * Verification keys from a JSON Web Key Set. The set is read by `fetchJson` (a total
 * deadline, a size limit, no redirects: see `outbound.ts`); the crypto seam turns each JWK
 * into a public key (`importPublicJwk`); this module decides when to read the set and holds
 * each key as a `KeyObject`.
 *
 * Why not jwks-rsa (used here until issue 27): its request has only a socket idle timeout
 * and no size limit (a key set dripped a byte at a time held requests indefinitely); its
 * cache hands out PEM strings, which cost a re-parse on every verify (a `KeyObject` does
 * not; docs/architecture.md, "Performance history"); its rate limiter makes callers over the
 * limit wait for the next window instead of answering (a flood of unknown `kid`s would hang
 * requests); it has no single flight and no stale window for outages; and it needs Node's
 * http, https, util and tty modules, which Workers do not have.
 *
 * The rules here:
 * - one fetch at a time per key set (single flight), shared by every request that waits;
 * - a token whose key is held never waits on a fetch while the set is younger than
 *   `maxAge + staleWindow`: past `maxAge` the set is read again in the background
 *   (stale-while-revalidate), and held keys keep working until it succeeds or the stale
 *   window ends (a key-set outage is not a full outage);
 * - an unknown `kid` triggers a refetch (key rotation) at most once per `cooldown`. Inside
 *   the cooldown its verdict cannot be known (the key may have been published a moment
 *   ago): 503 with the rest of the cooldown as `Retry-After`, never `invalid_token`.
 *   `key_not_found` (401) only from a fetch the token waited on;
 * - a failed fetch is retried no sooner than `cooldown` later, and never cached as a result.
 */
import { importPublicJwk, type KeyObject } from "../crypto/index.js";
import { McpOAuthError } from "../errors.js";
import { fetchJson, OutboundError } from "../outbound.js";

export interface KeySourceOptions {
  jwksUri: string;
  /** How long a fetched key set is used before it is read again, in ms. */
  maxAge: number;
  /** How long held keys keep working past `maxAge` while the set is being read again or unreachable, in ms. */
  staleWindow: number;
  /** Minimum time between two fetches caused by unknown `kid`s or failures, in ms. */
  cooldown: number;
  /** Total deadline of each key-set request, connect to last byte, in ms. */
  timeout: number;
  /** Largest key set read, in bytes. */
  maxResponseBytes: number;
  /** `Retry-After` seconds when the key set is unreachable. */
  retryAfter: number;
  /** Replaces the global `fetch` (tests). */
  fetch?: typeof fetch | undefined;
}

/** Told about fetches, for events; never given key material. */
export interface KeySourceObserver {
  refreshed?(jwksUri: string, keyCount: number): void;
  failed?(jwksUri: string, reason: string): void;
}

interface HeldKey {
  key: KeyObject;
  /** The JWK's `alg`, when it names one. */
  alg: string | undefined;
}

/** One key set of one resource server (each `JwtVerifier` owns its sources). */
export class JwksKeySource {
  readonly jwksUri: string;
  readonly #options: KeySourceOptions;
  readonly #observer: KeySourceObserver;
  #keys = new Map<string, HeldKey>();
  /** When the held keys were fetched (0: never). */
  #fetchedAt = 0;
  /** When the last fetch caused by an unknown `kid` started. */
  #missFetchAt = 0;
  /** When the last failed fetch started. */
  #failedAt = 0;
  #inflight: Promise<void> | undefined;
  /** Key-set fetches started, for tests and events. */
  fetchCount = 0;

  constructor(options: KeySourceOptions, observer: KeySourceObserver = {}) {
    this.jwksUri = options.jwksUri;
    this.#options = options;
    this.#observer = observer;
  }

  /**
   * The key for `kid` when held and usable: the hot path, no promise involved. Past
   * `maxAge` (inside the stale window) the held key is still returned, and the key set is
   * read again in the background.
   */
  cachedKey(kid: string | undefined, alg: string): KeyObject | undefined {
    const age = this.#now() - this.#fetchedAt;
    if (age >= this.#options.maxAge + this.#options.staleWindow) return undefined;
    const held = this.#find(kid);
    if (held === undefined) return undefined;
    if (age >= this.#options.maxAge) this.#revalidate();
    checkKeyAlgorithm(held, alg);
    return held.key;
  }

  /** The key for `kid`, reading the key set when that is allowed and needed. */
  async key(kid: string | undefined, alg: string): Promise<KeyObject> {
    const cached = this.cachedKey(kid, alg);
    if (cached) return cached;
    if (this.#inflight === undefined) {
      const now = this.#now();
      const { cooldown, retryAfter } = this.#options;
      if (now < this.#failedAt + cooldown) {
        throw new McpOAuthError("upstream_unavailable", "key set unreachable (cooling down before the next attempt)", {
          retryAfter,
        });
      }
      // Held and past the stale window: this is a due refresh. Not held while the set is
      // fresh: a rotation, or an unknown kid, limited to one fetch per cooldown.
      const fresh = now < this.#fetchedAt + this.#options.maxAge;
      if (fresh) {
        // RFC 7515 section 4.1.4: without `kid`, only a set with one key will do; another
        // read of the set would not make the token less ambiguous.
        if (kid === undefined && this.#keys.size > 1)
          throw new McpOAuthError("key_not_found", "no kid and several keys");
        const wait = this.#missFetchAt + cooldown - now;
        if (wait > 0) {
          throw new McpOAuthError("upstream_unavailable", "kid not in the key set, which may not be read again yet", {
            retryAfter: Math.max(1, Math.ceil(wait / 1000)),
          });
        }
        this.#missFetchAt = now;
      }
    }
    // Joined or started: either way the set is read after this token arrived, so a failure
    // is 503 and a set without the kid is a verdict.
    await this.#refresh();
    const held = this.#find(kid);
    if (held === undefined)
      throw new McpOAuthError(
        "key_not_found",
        kid === undefined ? "no kid and several keys" : "kid not in the key set",
      );
    checkKeyAlgorithm(held, alg);
    return held.key;
  }

  /**
   * `Date.now()`, the times recorded here pulled back to it when the wall clock went back (an
   * NTP step, a resumed VM): a step of an hour must not stretch a cooldown by that hour (every
   * token 503) nor the set's freshness (no rotation seen). At most one cooldown, or one
   * `maxAge`, counts from the first request after the step.
   */
  #now(): number {
    const now = Date.now();
    this.#fetchedAt = Math.min(this.#fetchedAt, now);
    this.#missFetchAt = Math.min(this.#missFetchAt, now);
    this.#failedAt = Math.min(this.#failedAt, now);
    return now;
  }

  #find(kid: string | undefined): HeldKey | undefined {
    if (kid !== undefined) return this.#keys.get(kid);
    // RFC 7515 section 4.1.4: without `kid`, only an unambiguous key set will do.
    return this.#keys.size === 1 ? this.#keys.values().next().value : undefined;
  }

  /** Starts a background read of the key set unless one runs or a failure is cooling down. */
  #revalidate(): void {
    if (this.#inflight !== undefined || Date.now() < this.#failedAt + this.#options.cooldown) return;
    // The failure is recorded and reported by #refresh; nobody waits on this one.
    this.#refresh().catch(() => {});
  }

  async #fetchKeySet(): Promise<unknown[]> {
    const document = await fetchJson(this.jwksUri, {
      headers: { accept: "application/jwk-set+json, application/json" },
      timeoutMs: this.#options.timeout,
      maxResponseBytes: this.#options.maxResponseBytes,
      fetch: this.#options.fetch,
    });
    const keys = (document as { keys?: unknown } | null)?.keys;
    // RFC 7517 section 5: a JWK Set is an object whose `keys` is an array.
    if (!Array.isArray(keys)) throw new OutboundError("answer is not a JWK Set");
    if (keys.length === 0) throw new OutboundError("the JWK Set has no keys");
    return keys.filter(verifiesSignatures);
  }

  #refresh(): Promise<void> {
    if (this.#inflight) return this.#inflight;
    const startedAt = Date.now();
    const observer = this.#observer;
    this.fetchCount++;
    this.#inflight = (async () => {
      let jwks: unknown[];
      try {
        jwks = await this.#fetchKeySet();
      } catch (error) {
        this.#failedAt = startedAt;
        observer.failed?.(
          this.jwksUri,
          error instanceof OutboundError ? error.reason : ((error as Error).message ?? String(error)),
        );
        throw new McpOAuthError("upstream_unavailable", "key set unreachable or unusable", {
          cause: error,
          retryAfter: this.#options.retryAfter,
        });
      }
      const keys = new Map<string, HeldKey>();
      for (const jwk of jwks as Record<string, unknown>[]) {
        // One unusable key must not take the others down with it.
        const key = importPublicJwk(jwk);
        if (key === undefined) continue;
        const { kid, alg } = jwk;
        keys.set(typeof kid === "string" ? kid : "", {
          key,
          alg: typeof alg === "string" && alg !== "" ? alg : undefined,
        });
      }
      if (keys.size === 0) {
        this.#failedAt = startedAt;
        observer.failed?.(this.jwksUri, "no usable signing key");
        throw new McpOAuthError("upstream_unavailable", "key set has no usable signing key", {
          retryAfter: this.#options.retryAfter,
        });
      }
      this.#keys = keys;
      this.#fetchedAt = Date.now();
      observer.refreshed?.(this.jwksUri, keys.size);
    })().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }
}

/**
 * RFC 7517 section 4.3: a JWK with `key_ops` may be used only for the operations it lists,
 * so a key without `verify` there (or with a `key_ops` that is no array) verifies nothing.
 */
function verifiesSignatures(jwk: unknown): boolean {
  // A `null` entry throws here: the set is unusable (503), as it was through jwks-rsa.
  const keyOps = (jwk as { key_ops?: unknown }).key_ops;
  return keyOps === undefined || (Array.isArray(keyOps) && keyOps.includes("verify"));
}

// RFC 8725 section 3.1: when the JWK names its algorithm, the token must use that one.
function checkKeyAlgorithm(held: HeldKey, alg: string): void {
  if (held.alg !== undefined && held.alg !== alg)
    throw new McpOAuthError("algorithm_not_allowed", "alg differs from the key's alg");
}
