/**
 * The framework-free resource server: everything an adapter (Express middleware,
 * mcp-framework provider) needs, built once from options. Adapters translate requests
 * and answers; every decision is made here.
 */
import { clientIdFromClaims, freezeClaims, ReadonlyURL, type AuthInfo, type AuthInfoExtra } from "./auth-info.js";
import {
  assertB64Token,
  isDpopScheme,
  readAccessToken,
  readBearerToken,
  type AccessTokenScheme,
  type TokenRequest,
} from "./authorization-header.js";
import { decisionFingerprint, tokenCacheKey } from "./cache.js";
import { acceptedTtlMs, isFresh, isNegativelyCached } from "./cache-policy.js";
import { AuthorizationServerDirectory } from "./discovery.js";
import { boundThumbprintOf, dpopProofsOf } from "./dpop/request.js";
import { DpopVerifier, type VerifiedDpop } from "./dpop/verifier.js";
import { answerFor, dpopAnswerFor, ERROR_RESPONSES, type ErrorAnswer } from "./error-responses.js";
import { McpOAuthError, type McpOAuthErrorCode } from "./errors.js";
import { emitter, type AuthorizationServerReport, type McpOAuthEventListener, type ValidationStats } from "./events.js";
import { ClaimInterner } from "./interning.js";
import { IntrospectionVerifier } from "./introspection.js";
import { looksLikeJwt } from "./jwt/decode.js";
import { JwtVerifier, type VerifiedToken } from "./jwt/verifier.js";
import { buildProtectedResourceMetadata, metadataPaths, type ProtectedResourceMetadata } from "./metadata.js";
import { resolveOptions, type CachedValidation, type McpOAuthOptions, type ResolvedOptions } from "./options.js";
import { RecentKeys } from "./recent-keys.js";
import { policyIsEmpty, scopesFromClaims, scopesForJsonRpc } from "./scopes.js";

export interface ResourceServerInternals {
  /** Replaces the global `fetch` for discovery, key sets and introspection (tests of misbehaving servers). */
  fetch?: typeof fetch;
  /** Size of the memo of recently accepted tokens' cache keys (benchmarks compare 0). */
  recentKeys?: number;
}

type Accepted = Extract<CachedValidation, { ok: true }>;

export class ResourceServer {
  readonly options: ResolvedOptions;
  readonly metadata: Readonly<ProtectedResourceMetadata>;
  /** The metadata document, serialised once. */
  readonly metadataJson: string;
  /** Paths where the metadata document is served. */
  readonly metadataPaths: readonly string[];
  /** Whether the scope policy can require anything, so adapters read bodies only when needed. */
  readonly needsBody: boolean;
  /**
   * SHA-256 of everything a verdict depends on (`decisionFingerprint`), folded into every
   * cache key: resource servers sharing a store reuse each other's verdicts only when
   * they would have reached the same ones. Computed once here, off the hot path.
   */
  readonly cacheFingerprint: string;
  readonly #emit: McpOAuthEventListener;
  readonly #directory: AuthorizationServerDirectory;
  readonly #jwt: JwtVerifier | undefined;
  readonly #introspection: IntrospectionVerifier | undefined;
  readonly #inflight = new Map<string, Promise<CachedValidation>>();
  /** Token → its cache key, for the most recently accepted tokens (see `RECENT_KEYS`). */
  readonly #recentKeys: RecentKeys;
  /** Every AuthInfo's `resource`: one read-only URL (see `ReadonlyURL`). */
  readonly #resourceUrl: URL;
  readonly #interner = new ClaimInterner();
  /** The DPoP check (RFC 9449), undefined when `dpop.mode` is off. */
  readonly #dpop: DpopVerifier | undefined;
  /** A fresh nonce for the answer of an accepted request (`successHeaders`), by its AuthInfo. */
  readonly #nextNonces = new WeakMap<AuthInfo, string>();
  readonly #stats: ValidationStats = {
    accepted: 0,
    rejected: 0,
    dpopRejected: 0,
    cacheHits: 0,
    cacheMisses: 0,
    cacheErrors: 0,
    upstreamErrors: 0,
    validations: 0,
    introspectionCalls: 0,
  };

  constructor(options: McpOAuthOptions, internals: ResourceServerInternals = {}) {
    this.options = resolveOptions(options);
    this.metadata = Object.freeze(buildProtectedResourceMetadata(this.options));
    this.metadataJson = JSON.stringify(this.metadata);
    this.metadataPaths = metadataPaths(this.options);
    this.needsBody = !policyIsEmpty(this.options.scopePolicy);
    this.cacheFingerprint = decisionFingerprint(this.options);
    this.#recentKeys = new RecentKeys(internals.recentKeys);
    this.#resourceUrl = new ReadonlyURL(this.options.resource);
    const emit = emitter(this.options.onEvent);
    this.#emit = emit;
    this.#directory = new AuthorizationServerDirectory(
      {
        timeout: this.options.timeoutMs,
        retryAfter: this.options.retryAfterSeconds,
        maxResponseBytes: this.options.maxResponseBytes,
        ...(internals.fetch ? { fetch: internals.fetch } : {}),
      },
      (report) => emit({ type: "authorization_server_discovered", report }),
    );
    const type = this.options.validationType;
    this.#jwt =
      type === "introspection"
        ? undefined
        : new JwtVerifier(
            this.options,
            this.#directory,
            {
              refreshed: (jwksUri, keyCount) => emit({ type: "key_set_refreshed", jwksUri, keyCount }),
              failed: (url, reason) => emit({ type: "upstream_error", upstream: "jwks", url, reason }),
            },
            internals.fetch,
          );
    this.#introspection =
      type === "jwt"
        ? undefined
        : new IntrospectionVerifier(
            this.options,
            this.#directory,
            {
              called: () => void this.#stats.introspectionCalls++,
              failed: (url, reason) => emit({ type: "upstream_error", upstream: "introspection", url, reason }),
            },
            internals.fetch,
          );
    this.options.cache?.store.listen?.(emit);
    this.#dpop =
      this.options.dpop.mode === "off"
        ? undefined
        : new DpopVerifier(this.options.dpop, {
            resourceUrl: this.options.resourceUrl,
            audience: this.options.resource,
          });
  }

  /** Finds and verifies the request's bearer token. Rejects with `McpOAuthError`. */
  authenticate(request: TokenRequest): Promise<AuthInfo> {
    try {
      const result = this.check(request);
      return result instanceof Promise ? result : Promise.resolve(result);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Like `authenticate`, but answers synchronously when it can: a malformed request, a
   * token the cache holds (the in-memory store answers synchronously), a token refused
   * before its signature (header, issuer), or, with `signatureVerification: "event-loop"`
   * (the default), a JWT whose key is already held is decided before this returns (an
   * `AuthInfo`, or a thrown `McpOAuthError`); a promise when the answer waits on the
   * network, on an asynchronous cache store, or on a signature checked on the thread pool
   * (`thread-pool`). Adapters use it so most requests cost no promise and no
   * deferred `next()`.
   */
  check(request: TokenRequest): AuthInfo | Promise<AuthInfo> {
    const dpop = this.#dpop;
    if (dpop === undefined) {
      // With DPoP off a bound token is still refused as Bearer: sent without its proof it
      // proves nothing of the key it is bound to (RFC 9449 section 7.2).
      const verdict = this.#verify(readBearerToken(request, this.options.tokenRules.maxTokenLength), true);
      if (verdict instanceof Promise)
        return verdict.then((auth) => this.#bindCounted(undefined, auth, "Bearer", request));
      return this.#bindCounted(undefined, verdict, "Bearer", request);
    }
    const { scheme, token } = readAccessToken(request, this.options.tokenRules.maxTokenLength, dpop.mode === "allowed");
    // The token's verdict first, from the cache when it holds one; then, on every request,
    // its key binding and the proof (RFC 9449 sections 4.3 and 7.1), which are never cached.
    const verdict = this.#verify(token, true);
    if (verdict instanceof Promise) return verdict.then((auth) => this.#bindCounted(dpop, auth, scheme, request));
    return this.#bindCounted(dpop, verdict, scheme, request);
  }

  /** `#bind`, its refusals counted and reported (`dpop_rejected`): the token's own event said accepted. */
  #bindCounted(
    dpop: DpopVerifier | undefined,
    auth: AuthInfo,
    scheme: AccessTokenScheme,
    request: TokenRequest,
  ): AuthInfo | Promise<AuthInfo> {
    let bound: AuthInfo | Promise<AuthInfo>;
    try {
      bound = this.#bind(dpop, auth, scheme, request);
    } catch (error) {
      return this.#dpopRefused(auth, error);
    }
    return bound instanceof Promise ? bound.catch((error: unknown) => this.#dpopRefused(auth, error)) : bound;
  }

  #dpopRefused(auth: AuthInfo, error: unknown): never {
    this.#stats.dpopRejected++;
    if (this.options.onEvent !== undefined && error instanceof McpOAuthError) {
      const sub = (auth.extra as unknown as AuthInfoExtra).sub;
      this.#emit({ type: "dpop_rejected", code: error.code, clientId: auth.clientId, sub });
    }
    throw error;
  }

  /**
   * What `cnf.jkt` (the JWT claim or the introspection answer's, RFC 9449 section 6) makes of
   * an accepted token: under Bearer, a bound token is a downgrade (section 7.2) and refused;
   * under DPoP, the proof is checked against it (a token without one is refused there).
   */
  #bind(
    dpop: DpopVerifier | undefined,
    auth: AuthInfo,
    scheme: AccessTokenScheme,
    request: TokenRequest,
  ): AuthInfo | Promise<AuthInfo> {
    const extra = auth.extra as unknown as AuthInfoExtra;
    const bound = boundThumbprintOf(extra.claims);
    if (scheme === "Bearer" || dpop === undefined) {
      if (bound !== undefined) throw new McpOAuthError("dpop_bound_token_as_bearer", "DPoP-bound token sent as Bearer");
      return auth;
    }
    const verified = dpop.verify({
      // Missing method or target (an adapter that passes neither): no proof can match them.
      method: request.method ?? "",
      proofs: dpopProofsOf(request),
      // Never the Host header: htu takes the configured resource's origin (htu.ts).
      requestTarget: request.originalUrl ?? request.url ?? "",
      accessToken: auth.token,
      boundThumbprint: bound,
    });
    if (verified instanceof Promise) return verified.then((proof) => this.#proven(auth, extra, proof));
    return this.#proven(auth, extra, verified);
  }

  #proven(auth: AuthInfo, extra: AuthInfoExtra, proof: VerifiedDpop): AuthInfo {
    // `extra` is this request's own (built by #settle): the proof's key goes in it alone.
    extra.dpop = { jkt: proof.thumbprint };
    if (proof.nextNonce !== undefined) this.#nextNonces.set(auth, proof.nextNonce);
    return auth;
  }

  /**
   * Headers for the answer to an accepted request: `DPoP-Nonce` when nonces are on and the
   * one the client used is past half its life (RFC 9449 section 8.2), else none.
   */
  successHeaders(auth: AuthInfo): Readonly<Record<string, string>> | undefined {
    const nonce = this.#nextNonces.get(auth);
    return nonce === undefined ? undefined : { "DPoP-Nonce": nonce };
  }

  /**
   * Verifies a token already taken from a request: from the cache when it was seen
   * recently, else in full; a verification that waits on the network is shared by every
   * request carrying the same token meanwhile (single flight). Rejects with `McpOAuthError`.
   */
  async verifyToken(token: string): Promise<AuthInfo> {
    return this.#verify(token, false);
  }

  #verify(token: string, checkSyntax: boolean): AuthInfo | Promise<AuthInfo> {
    const cache = this.options.cache;
    // The cache key (SHA-256 of the token) is computed only when something is keyed by it:
    // the cache, or a verification that waits on the network (single flight).
    let key: string | undefined;
    if (cache !== undefined) {
      const remembered = this.#recentKeys.get(token);
      key = remembered ?? tokenCacheKey(token, this.cacheFingerprint);
      let hit: CachedValidation | undefined | Promise<CachedValidation | undefined>;
      try {
        hit = cache.store.get(key);
      } catch (error) {
        // A failing store degrades to no caching, never to a refused request.
        hit = this.#storeFailed("get", error);
      }
      if (hit instanceof Promise) {
        // The store's failure is handled before the syntax check may throw: never an unhandled rejection.
        const looked = hit.then(undefined, (error: unknown) => this.#storeFailed("get", error));
        if (checkSyntax) assertB64Token(token);
        const known = key;
        return looked.then((cached) => this.#afterLookup(token, known, cached));
      }
      const fresh = this.#fresh(hit);
      if (fresh !== undefined) {
        if (fresh.ok && remembered === undefined) this.#recentKeys.remember(token, key);
        return this.#settle(token, fresh, true);
      }
    }
    // Only a token the cache does not know needs its syntax checked: a cached verdict was
    // reached after this check passed for the very same token (the key is its SHA-256).
    if (checkSyntax) assertB64Token(token);
    return this.#afterLookup(token, key, undefined);
  }

  /** A cached verdict still usable by this server (cache-policy.ts), counted as a hit. */
  #fresh(cached: CachedValidation | undefined): CachedValidation | undefined {
    if (!isFresh(cached, this.options.cache!, Date.now())) return undefined;
    this.#stats.cacheHits++;
    if (cached.ok) freezeClaims(cached.claims);
    return cached;
  }

  /** Counts and reports a store failure (the kind of error only: its message may quote the key); the lookup is a miss. */
  #storeFailed(operation: "get" | "set", error: unknown): undefined {
    this.#stats.cacheErrors++;
    if (this.options.onEvent !== undefined) {
      this.#emit({ type: "cache_error", operation, error: error instanceof Error ? error.name : typeof error });
    }
    return undefined;
  }

  #afterLookup(
    token: string,
    key: string | undefined,
    cached: CachedValidation | undefined,
  ): AuthInfo | Promise<AuthInfo> {
    const fresh = this.#fresh(cached);
    if (fresh !== undefined) return this.#settle(token, fresh, true);
    if (this.options.cache !== undefined) this.#stats.cacheMisses++;
    // Flights are keyed by the cache key when there is a cache, else by the token itself
    // (one to one with it in this server; no SHA-256 for a server that keeps nothing).
    // The map holds a token only while its verification runs.
    const flightKey = key ?? token;
    if (this.#inflight.size > 0) {
      const joined = this.#inflight.get(flightKey);
      if (joined !== undefined) return joined.then((result) => this.#settle(token, result, false));
    }
    const outcome = this.#leased(token, key) ?? this.#validate(token, key);
    // A verification decided at once is over before anything else runs: nothing to share.
    if (!(outcome instanceof Promise)) return this.#settle(token, outcome, false);
    // then(ok, failed) rather than finally(): the same effect, two promises fewer per token.
    const pending = outcome.then(
      (result) => {
        this.#inflight.delete(flightKey);
        return result;
      },
      (error: unknown) => {
        this.#inflight.delete(flightKey);
        throw error;
      },
    );
    this.#inflight.set(flightKey, pending);
    return pending.then((result) => this.#settle(token, result, false));
  }

  /**
   * Single flight across the processes sharing the cache store, when it offers `lease`:
   * only for introspection, the validation that costs an upstream call per token (a JWT is
   * checked locally once its key set is held). Another process's verdict is used as it is;
   * without one (no lease, store unavailable) this process validates on its own.
   */
  #leased(token: string, key: string | undefined): Promise<CachedValidation> | undefined {
    const store = this.options.cache?.store;
    if (store?.lease === undefined || key === undefined || this.#verifier(token) !== this.#introspection)
      return undefined;
    return store
      .lease(key)
      .catch(() => undefined)
      .then((lease) => {
        const known = this.#fresh(lease?.value);
        if (known !== undefined) return known;
        const outcome = Promise.resolve().then(() => this.#validate(token, key));
        if (lease === undefined) return outcome;
        return outcome.finally(() => {
          try {
            lease.release();
          } catch {
            // A store that breaks its contract must not turn a verdict into a failure.
          }
        });
      });
  }

  /** The verdict on a token not in the cache; stored in the cache (keyed by `key`) when there is one. */
  #validate(token: string, key: string | undefined): CachedValidation | Promise<CachedValidation> {
    this.#stats.validations++;
    const verifier = this.#verifier(token);
    let verified: VerifiedToken | Promise<VerifiedToken>;
    try {
      verified = verifier.verify(token);
    } catch (error) {
      return this.#rejected(verifier, key, error);
    }
    if (verified instanceof Promise)
      return verified.then(
        (v) => this.#accepted(key, v),
        (error: unknown) => this.#rejected(verifier, key, error),
      );
    return this.#accepted(key, verified);
  }

  #rejected(verifier: JwtVerifier | IntrospectionVerifier, key: string | undefined, error: unknown): CachedValidation {
    const code: McpOAuthErrorCode = error instanceof McpOAuthError ? error.code : "upstream_unavailable";
    if (code === "upstream_unavailable") {
      this.#stats.upstreamErrors++;
      throw error instanceof McpOAuthError
        ? error
        : new McpOAuthError(code, "unexpected failure while checking the token", { cause: error });
    }
    const rejected: CachedValidation = {
      ok: false,
      method: verifier === this.#jwt ? "jwt" : "introspection",
      code,
      checkedAt: Date.now(),
    };
    const cache = this.options.cache;
    if (cache !== undefined && key !== undefined && cache.negativeTtlMs > 0 && isNegativelyCached(code))
      this.#store(key, rejected, cache.negativeTtlMs);
    return rejected;
  }

  #accepted(key: string | undefined, verified: VerifiedToken): CachedValidation {
    const claims = verified.claims;
    const cache = this.options.cache;
    let scopes = scopesFromClaims(claims, this.options.tokenRules.scopeClaims);
    let clientId = clientIdFromClaims(claims);
    if (cache !== undefined) {
      // Only what stays in the cache is worth sharing; without a cache it would only cost.
      this.#interner.claims(claims);
      scopes = this.#interner.scopes(scopes);
      clientId = this.#interner.string(clientId);
    }
    const accepted: Accepted = {
      ok: true,
      method: verified.method,
      claims: freezeClaims(claims),
      scopes: Object.freeze(scopes),
      clientId,
      expiresAt: verified.expiresAt,
      checkedAt: Date.now(),
    };
    if (cache !== undefined && key !== undefined) {
      this.#store(key, accepted, acceptedTtlMs(verified.method, verified.expiresAt, accepted.checkedAt, cache));
    }
    return accepted;
  }

  #store(key: string, value: CachedValidation, ttlMs: number): void {
    // A lifetime of 0 (or an `exp` already near) stores nothing: shared stores refuse it (Redis `PX 0`).
    if (!(ttlMs > 0)) return;
    try {
      const done = this.options.cache!.store.set(key, value, ttlMs);
      if (done instanceof Promise) done.catch((error: unknown) => this.#storeFailed("set", error));
    } catch (error) {
      // A failing shared store degrades to no caching, never to a refused request.
      this.#storeFailed("set", error);
    }
  }

  #verifier(token: string): JwtVerifier | IntrospectionVerifier {
    if (this.#jwt && (this.#introspection === undefined || looksLikeJwt(token))) return this.#jwt;
    return this.#introspection!;
  }

  #settle(token: string, result: CachedValidation, cached: boolean): AuthInfo {
    const listening = this.options.onEvent !== undefined;
    if (!result.ok) {
      this.#stats.rejected++;
      if (listening) this.#emit({ type: "token_rejected", code: result.code, method: result.method, cached });
      throw new McpOAuthError(result.code, cached ? "rejected (cached)" : "rejected");
    }
    this.#stats.accepted++;
    const claims = result.claims;
    const extra: AuthInfoExtra = {
      sub: typeof claims["sub"] === "string" ? claims["sub"] : undefined,
      iss: typeof claims["iss"] === "string" ? claims["iss"] : "",
      aud: claims["aud"] as string | string[] | undefined,
      claims,
    };
    if (listening)
      this.#emit({ type: "token_accepted", method: result.method, cached, clientId: result.clientId, sub: extra.sub });
    return {
      token,
      clientId: result.clientId,
      scopes: [...result.scopes],
      expiresAt: result.expiresAt,
      resource: this.#resourceUrl,
      extra: extra as unknown as Record<string, unknown>,
    };
  }

  /**
   * Every scope a request needs: the base `scopes` plus, when a JSON-RPC body is given,
   * what the scope policy asks for its methods and tool names.
   */
  requiredScopesFor(body?: unknown): string[] {
    const policy = this.options.scopePolicy;
    if (policy === undefined || body === undefined) return [...this.options.requiredScopes];
    return [...new Set([...this.options.requiredScopes, ...scopesForJsonRpc(policy, body)])];
  }

  /**
   * Throws `insufficient_scope` unless the token's scopes (expanded through the hierarchy)
   * cover `required`. Call after `authenticate`: validity and audience come first.
   */
  checkScopes(authInfo: AuthInfo, required: readonly string[]): void {
    if (required.length === 0) return;
    // Every scope covers itself whatever the hierarchy: the expansion (a new Set) is built
    // only when a required scope is not granted as such.
    if (required.every((scope) => authInfo.scopes.includes(scope))) return;
    const granted = this.options.expandScopes(authInfo.scopes);
    if (required.every((scope) => granted.has(scope))) return;
    throw new McpOAuthError("insufficient_scope", "token lacks required scopes", { requiredScopes: required });
  }

  /**
   * Status, headers and JSON body for a refusal. An unexpected error (a bug, or a library
   * failing in a way we did not foresee) means the token could not be checked: 503, never
   * a 500 with a stack trace and never `invalid_token`. With DPoP on, `request` (the refused
   * one) tells which scheme's challenge carries the error (RFC 9449 section 7.1), and the
   * answer carries `DPoP-Nonce` when nonces are on.
   */
  answer(error: unknown, request?: TokenRequest): ErrorAnswer {
    const known =
      error instanceof McpOAuthError
        ? error
        : new McpOAuthError("upstream_unavailable", "unexpected failure while checking the token", { cause: error });
    const context = {
      resourceMetadataUrl: this.options.resourceMetadataUrl,
      requiredScopes: this.options.requiredScopes,
      retryAfterSeconds: this.options.retryAfterSeconds,
    };
    const dpop = this.#dpop;
    if (dpop === undefined) return answerFor(known, context);
    const authorization = request?.headers["authorization"];
    return dpopAnswerFor(known, context, {
      mode: dpop.mode as "allowed" | "required",
      algorithms: dpop.algorithms,
      scheme: isDpopScheme(authorization) ? "DPoP" : typeof authorization === "string" ? "Bearer" : undefined,
      // On the answers that ask for credentials (401, 403): the ones a client retries with a
      // proof. Not on a 5xx, which an adapter may build once at start-up (its nonce would go stale).
      nonce: ERROR_RESPONSES[known.code].challenge ? dpop.nonce() : undefined,
    });
  }

  /** Counters since this resource server was built (cache hit ratio, upstream errors). */
  stats(): Readonly<ValidationStats> {
    return { ...this.#stats };
  }

  /**
   * What each authorization server offers MCP clients (PKCE S256, registration, Client ID
   * Metadata Documents), discovering those not yet known. Never throws.
   */
  inspectAuthorizationServers(): Promise<AuthorizationServerReport[]> {
    return this.#directory.reports(this.options.authorizationServers);
  }

  /**
   * The explicit start-up check: discovers each authorization server, loads the key sets
   * (JWT) and finds the introspection endpoint, so a broken setup fails at start-up instead
   * of on the first request. Resolves to the authorization-server reports; rejects with
   * `McpOAuthError` when tokens could not be validated.
   */
  async ready(): Promise<AuthorizationServerReport[]> {
    await Promise.all([this.#jwt?.ready(), this.#introspection?.endpoint()]);
    return this.inspectAuthorizationServers();
  }
}
