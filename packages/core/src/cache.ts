/**
 * Caching of validation results behind a small interface, so a shared store (Redis,
 * memcached) can replace the in-memory default. Keys are SHA-256 hashes of a resource
 * server's decision fingerprint and the token, never tokens.
 */
import { sha256Base64url } from "./crypto/index.js";
import { LRUCache } from "lru-cache";
import type { ResolvedTokenRules, ResolvedOptions } from "./options.js";
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
 * are never returned). Backed by `lru-cache`, not a `Map` LRU: deleting and re-inserting on
 * every hit leaves holes that every `keys().next()` skips once evictions begin
 * (docs/architecture.md, "Performance history").
 */
export class MemoryTokenCache<V extends NonNullable<unknown>> implements TokenCacheStore<V> {
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

/**
 * The cache key of a token: SHA-256 (base64url) of the resource server's decision
 * fingerprint (see `decisionFingerprint`) followed by the token. The fingerprint has a fixed
 * length (43 characters), so the concatenation is unambiguous; keyed this way, a store
 * never sees the fingerprint or the token's own hash on their own.
 */
export function tokenCacheKey(token: string, fingerprint = ""): string {
  // One-shot hash where the runtime has it: no Hash object per request.
  return sha256Base64url(fingerprint + token);
}

const sorted = (values: Iterable<string>): string[] => [...values].sort();

/**
 * What a resource server's verdict on a token depends on, as a SHA-256 (base64url) of a
 * canonical JSON: every cache key folds it in, so a verdict cached in a shared store is
 * reused only by a server that would reach the same verdict (same resource, audiences,
 * issuers, claim rules, algorithms, keys, introspection client), while replicas with
 * identical options share entries. Lists whose order does not matter are sorted.
 *
 * The objects below are typed with every field of the resolved options, so a new option
 * does not compile until it is either folded in or left out here with the reason.
 * Left out: what is decided per request after the cache (scopes, scope policy), what
 * bounds reuse (cache lifetimes: each reader applies its own to an entry's `checkedAt`),
 * published metadata, listeners, and the introspection client's secret (it authenticates
 * us and changes no verdict; keeping it out of keys keeps it out of reach of a store).
 */
export function decisionFingerprint(options: ResolvedOptions): string {
  const jwt = options.tokenRules;
  const jwtInputs: { [K in keyof ResolvedTokenRules]: unknown } = {
    issuers: sorted(jwt.issuers),
    jwksUri: jwt.jwksUri ?? null,
    audiences: sorted(jwt.audiences),
    audienceMatcher: undefined, // derived from `audiences`
    algorithms: sorted(jwt.algorithms),
    // A different HMAC secret verifies different tokens. Only a hash of it is folded in,
    // and the fingerprint is itself hashed into each key.
    secretKey: jwt.secretKey === undefined ? null : sha256Base64url(jwt.secretKey.export()),
    clockToleranceSeconds: jwt.clockToleranceSeconds,
    strict: jwt.strict,
    maxTokenLength: jwt.maxTokenLength,
    // Key-set freshness: decides whether a verdict is reached with a stale key at all.
    jwksCacheMaxAgeMs: jwt.jwksCacheMaxAgeMs,
    jwksStaleWindowMs: jwt.jwksStaleWindowMs,
    jwksRequestsPerMinute: jwt.jwksRequestsPerMinute,
    // Order kept: claims are read in this order into the cached scopes.
    scopeClaims: jwt.scopeClaims,
    requiredClaims: [...jwt.requiredClaims]
      .map(([claim, values]) => [claim, sorted(values)])
      .sort(([a], [b]) => (a! < b! ? -1 : 1)),
    clientIdAsAudience: sorted(jwt.clientIdAsAudience),
    // Where the signature is checked, not whether it verifies: the same verdict either way.
    signatureVerification: undefined,
  };
  const introspection = options.introspection;
  const inputs: { [K in keyof ResolvedOptions]: unknown } = {
    resource: options.resource,
    resourceUrl: undefined, // parsed from `resource`
    // Order kept: the first one's introspection endpoint is used.
    authorizationServers: options.authorizationServers,
    allowInsecureHttp: options.allowInsecureHttp,
    validationType: options.validationType,
    tokenRules: jwtInputs,
    introspection:
      introspection === undefined
        ? null
        : {
            endpoint: introspection.endpoint ?? null,
            clientId: introspection.clientId,
            authMethod: introspection.authMethod,
          },
    // Whether an upstream answer arrives in time: not a verdict, but cheap to keep apart.
    timeoutMs: options.timeoutMs,
    maxResponseBytes: options.maxResponseBytes,
    // Checked per request, after the cache:
    requiredScopes: undefined,
    expandScopes: undefined,
    scopePolicy: undefined,
    // The proof and the token's key binding (`cnf.jkt`, a claim of the cached verdict) are
    // checked on every request, after the cache: DPoP settings change no verdict.
    dpop: undefined,
    // Published, not decided on:
    scopesSupported: undefined,
    resourceName: undefined,
    resourceDocumentation: undefined,
    extraMetadata: undefined,
    metadataPath: undefined,
    resourceMetadataUrl: undefined,
    retryAfterSeconds: undefined,
    cache: undefined,
    onEvent: undefined,
  };
  return sha256Base64url(JSON.stringify(["mcp-oauth cache v1", inputs]));
}
