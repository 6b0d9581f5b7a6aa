/**
 * Verification keys from a JSON Web Key Set. jwks-rsa fetches the set (with a timeout)
 * and turns each JWK into a public key; this module decides when to fetch and holds each
 * key as a `KeyObject`.
 *
 * Why not jwks-rsa's own cache and rate limiter: its cache hands out PEM strings, which
 * jsonwebtoken re-parses on every verify (about 120 µs per token on our machine, against
 * about 22 µs with a `KeyObject`); its rate limiter makes callers over the limit wait for
 * the next window instead of answering (a flood of unknown `kid`s would hang requests);
 * and it has no single flight and no stale window for outages.
 *
 * The rules here:
 * - one fetch at a time per key set (single flight), shared by every waiting request;
 * - an unknown `kid` triggers a refetch (key rotation) at most once per `cooldown`;
 * - after `maxAge` the set is read again; if that fails, the keys already held keep
 *   working for `staleWindow` more (a key-set outage is not a full outage);
 * - a failed fetch is retried no sooner than `cooldown` later, and never cached as a result.
 */
import { createPublicKey, type KeyObject } from "node:crypto";
import jwksRsa from "jwks-rsa";
import { McpOAuthError } from "../errors.js";

export interface KeySourceOptions {
  jwksUri: string;
  /** How long a fetched key set is used before it is read again, in ms. */
  maxAge: number;
  /** How long held keys keep working past `maxAge` while the key set is unreachable, in ms. */
  staleWindow: number;
  /** Minimum time between two fetches caused by unknown `kid`s or failures, in ms. */
  cooldown: number;
  /** Timeout of each key-set request, in ms. */
  timeout: number;
  /** `Retry-After` seconds when the key set is unreachable. */
  retryAfter: number;
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

export class JwksKeySource {
  readonly jwksUri: string;
  readonly #client: jwksRsa.JwksClient;
  readonly #options: KeySourceOptions;
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

  constructor(options: KeySourceOptions) {
    this.jwksUri = options.jwksUri;
    this.#options = options;
    this.#client = new jwksRsa.JwksClient({ jwksUri: options.jwksUri, cache: false, rateLimit: false, timeout: options.timeout });
  }

  /** The key for `kid` when held and fresh: the hot path, no promise involved. */
  cachedKey(kid: string | undefined, alg: string): KeyObject | undefined {
    if (Date.now() >= this.#fetchedAt + this.#options.maxAge) return undefined;
    const held = this.#find(kid);
    if (held === undefined) return undefined;
    checkKeyAlgorithm(held, alg);
    return held.key;
  }

  /** The key for `kid`, reading the key set when that is allowed and needed. */
  async key(kid: string | undefined, alg: string, observer?: KeySourceObserver): Promise<KeyObject> {
    const cached = this.cachedKey(kid, alg);
    if (cached) return cached;
    const now = Date.now();
    const { cooldown } = this.#options;
    const fresh = now < this.#fetchedAt + this.#options.maxAge;
    // A rotation is picked up by the first token that needs the new key; a flood of unknown
    // kids costs one fetch per cooldown; a failing key set is retried once per cooldown.
    const mayFetch = this.#inflight !== undefined
      || (now >= this.#failedAt + cooldown && (!fresh || now >= this.#missFetchAt + cooldown));
    let failure: unknown;
    if (mayFetch) {
      if (fresh && this.#inflight === undefined) this.#missFetchAt = now;
      try {
        await this.#refresh(observer);
      } catch (error) {
        failure = error;
      }
    } else if (!fresh && this.#fetchedAt + this.#options.maxAge + this.#options.staleWindow <= now) {
      failure = new McpOAuthError("upstream_unavailable", "key set unreachable (cooling down before the next attempt)", { retryAfter: this.#options.retryAfter });
    }
    const withinStaleWindow = Date.now() < this.#fetchedAt + this.#options.maxAge + this.#options.staleWindow;
    if (failure !== undefined && !withinStaleWindow) throw failure;
    const held = this.#find(kid);
    if (held === undefined) {
      // The key set was just read (or was read within the cooldown) and has no such key.
      if (failure !== undefined) throw failure;
      throw new McpOAuthError("key_not_found", kid === undefined ? "no kid and several keys" : "kid not in the key set");
    }
    checkKeyAlgorithm(held, alg);
    return held.key;
  }

  #find(kid: string | undefined): HeldKey | undefined {
    if (kid !== undefined) return this.#keys.get(kid);
    // RFC 7515 section 4.1.4: without `kid`, only an unambiguous key set will do.
    return this.#keys.size === 1 ? this.#keys.values().next().value : undefined;
  }

  #refresh(observer: KeySourceObserver | undefined): Promise<void> {
    if (this.#inflight) return this.#inflight;
    const startedAt = Date.now();
    this.fetchCount++;
    this.#inflight = (async () => {
      let signingKeys: jwksRsa.SigningKey[];
      try {
        signingKeys = await this.#client.getSigningKeys();
      } catch (error) {
        this.#failedAt = startedAt;
        observer?.failed?.(this.jwksUri, (error as Error).message ?? String(error));
        throw new McpOAuthError("upstream_unavailable", "key set unreachable or unusable", { cause: error, retryAfter: this.#options.retryAfter });
      }
      const keys = new Map<string, HeldKey>();
      for (const signingKey of signingKeys) {
        try {
          keys.set(signingKey.kid ?? "", { key: createPublicKey(signingKey.getPublicKey()), alg: signingKey.alg || undefined });
        } catch {
          // One unusable key must not take the others down with it.
        }
      }
      if (keys.size === 0) {
        this.#failedAt = startedAt;
        observer?.failed?.(this.jwksUri, "no usable signing key");
        throw new McpOAuthError("upstream_unavailable", "key set has no usable signing key", { retryAfter: this.#options.retryAfter });
      }
      this.#keys = keys;
      this.#fetchedAt = Date.now();
      observer?.refreshed?.(this.jwksUri, keys.size);
    })().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }
}

// RFC 8725 section 3.1: when the JWK names its algorithm, the token must use that one.
function checkKeyAlgorithm(held: HeldKey, alg: string): void {
  if (held.alg !== undefined && held.alg !== alg) throw new McpOAuthError("algorithm_not_allowed", "alg differs from the key's alg");
}

/**
 * One key source per key-set URL per process, however many middlewares or providers are
 * built: a key set built per request is the classic cause of JWKS fetch storms.
 */
const keySources = new Map<string, JwksKeySource>();

export function keySourceFor(options: KeySourceOptions): JwksKeySource {
  const existing = keySources.get(options.jwksUri);
  if (existing) return existing;
  const source = new JwksKeySource(options);
  keySources.set(options.jwksUri, source);
  return source;
}

/** Forgets every shared key source (tests, hot reload). */
export function clearKeySources(): void {
  keySources.clear();
}
