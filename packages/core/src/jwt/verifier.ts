/**
 * JWT access-token verification: decode, header rules, issuer allow-list (all before any
 * network call), key from the issuer's key set, signature (node:crypto), then claims.
 */
import type { KeyObject } from "../crypto/index.js";
import { checkClaims, checkHeader, checkIssuer } from "../claims.js";
import type { AuthorizationServerDirectory } from "../discovery.js";
import { McpOAuthError } from "../errors.js";
import { endpointUrlProblem, type ResolvedOptions } from "../options.js";
import { decodeJwt, rememberHeader, type DecodedJwt } from "./decode.js";
import { verifySignature, verifySignatureInPool } from "./signature.js";
import { JwksKeySource, type KeySourceObserver } from "./key-source.js";

/** What a verifier establishes about a token; the resource server builds `AuthInfo` from it. */
export interface VerifiedToken {
  method: "jwt" | "introspection";
  claims: Record<string, unknown>;
  /** `exp`, seconds since the epoch. */
  expiresAt: number;
}

export class JwtVerifier {
  readonly #options: ResolvedOptions;
  readonly #directory: AuthorizationServerDirectory;
  readonly #observer: KeySourceObserver;
  readonly #fetch: typeof fetch | undefined;
  /** Each issuer's key source, once known (configured `jwksUri`, or discovered). */
  readonly #sources = new Map<string, JwksKeySource | Promise<JwksKeySource>>();
  /**
   * This verifier's key sources by key-set URL (issuers may share one). Owned here, not
   * shared by the process: another resource server's timeouts and cache settings for the
   * same URL must not leak into this one.
   */
  readonly #byUri = new Map<string, JwksKeySource>();
  /** Discovered `jwks_uri`s refused by the URL rule, reported once each. */
  readonly #reported = new Set<string>();

  constructor(
    options: ResolvedOptions,
    directory: AuthorizationServerDirectory,
    observer: KeySourceObserver = {},
    fetchImpl?: typeof fetch,
  ) {
    this.#options = options;
    this.#directory = directory;
    this.#observer = observer;
    this.#fetch = fetchImpl;
    if (options.tokenRules.jwksUri !== undefined) {
      const source = this.#keySource(options.tokenRules.jwksUri);
      for (const issuer of options.tokenRules.issuers) this.#sources.set(issuer, source);
    }
  }

  /**
   * Verifies signature and claims, or throws `McpOAuthError`. With
   * `signatureVerification: "event-loop"`, synchronous when the key is already held (the
   * usual case after start-up): a promise only when a key set has to be fetched. With
   * `thread-pool`, a promise for every public-key signature: decoding, header and issuer
   * checks still run (and refuse) synchronously, before the hop.
   */
  verify(token: string, nowSeconds = Math.floor(Date.now() / 1000)): VerifiedToken | Promise<VerifiedToken> {
    const jwt = this.#options.tokenRules;
    const decoded = decodeJwt(token);
    const alg = checkHeader(decoded.header, jwt);
    const iss = checkIssuer(decoded.payload, jwt);
    const kid = decoded.header["kid"] as string | undefined;

    if (alg.startsWith("HS")) {
      // RFC 8725 section 2.1: an HMAC token verifies only with the configured shared
      // secret, never with a public key from the key set.
      return this.#finish(decoded, alg, jwt.secretKey, nowSeconds);
    }
    const known = this.#sources.get(iss);
    const held = known !== undefined && !(known instanceof Promise) ? known.cachedKey(kid, alg) : undefined;
    if (held !== undefined) return this.#finish(decoded, alg, held, nowSeconds);
    return this.#sourceFor(iss)
      .then((source) => source.key(kid, alg))
      .then((key) => this.#finish(decoded, alg, key, nowSeconds));
  }

  #finish(
    decoded: DecodedJwt,
    alg: string,
    key: KeyObject | undefined,
    nowSeconds: number,
  ): VerifiedToken | Promise<VerifiedToken> {
    if (key === undefined) throw new McpOAuthError("algorithm_not_allowed", "no key for alg");
    if (this.#options.tokenRules.signatureVerification === "thread-pool" && !alg.startsWith("HS")) {
      // One promise, settled with the claims already checked: no further hop on the way back.
      return new Promise<VerifiedToken>((resolve, reject) => {
        verifySignatureInPool(alg, key, decoded.signingInput, decoded.signature, (valid) => {
          try {
            resolve(this.#checked(decoded, valid, nowSeconds));
          } catch (error) {
            reject(error);
          }
        });
      });
    }
    return this.#checked(decoded, verifySignature(alg, key, decoded.signingInput, decoded.signature), nowSeconds);
  }

  /** After the signature: claims (the same order either way, so the same error code for the same token). */
  #checked(decoded: DecodedJwt, signatureValid: boolean, nowSeconds: number): VerifiedToken {
    if (!signatureValid) throw new McpOAuthError("signature_invalid", "signature does not verify");
    rememberHeader(decoded);
    checkClaims(decoded.payload, this.#options.tokenRules, nowSeconds);
    return { method: "jwt", claims: decoded.payload, expiresAt: decoded.payload["exp"] as number };
  }

  /** Loads every issuer's key set: part of the explicit start-up check. */
  async ready(): Promise<void> {
    await Promise.all(
      this.#options.tokenRules.issuers.map(async (issuer) => {
        const source = await this.#sourceFor(issuer);
        await source.key(undefined, "RS256").catch((error: unknown) => {
          // key_not_found (several keys, no kid asked) or an alg mismatch still prove the set loads.
          if (!(error instanceof McpOAuthError) || error.code === "upstream_unavailable") throw error;
        });
      }),
    );
  }

  #keySource(jwksUri: string): JwksKeySource {
    const known = this.#byUri.get(jwksUri);
    if (known !== undefined) return known;
    const jwt = this.#options.tokenRules;
    const source = new JwksKeySource(
      {
        jwksUri,
        maxAge: jwt.jwksCacheMaxAgeMs,
        staleWindow: jwt.jwksStaleWindowMs,
        cooldown: 60_000 / jwt.jwksRequestsPerMinute,
        timeout: this.#options.timeoutMs,
        maxResponseBytes: this.#options.maxResponseBytes,
        retryAfter: this.#options.retryAfterSeconds,
        fetch: this.#fetch,
      },
      this.#observer,
    );
    this.#byUri.set(jwksUri, source);
    return source;
  }

  async #sourceFor(issuer: string): Promise<JwksKeySource> {
    const known = this.#sources.get(issuer);
    if (known !== undefined) return known;
    const pending = this.#directory.discover(issuer).then(({ metadata }) => {
      if (typeof metadata.jwks_uri !== "string") {
        throw new McpOAuthError(
          "upstream_unavailable",
          `authorization server ${issuer} publishes no jwks_uri; set validation.jwksUri`,
          { retryAfter: this.#options.retryAfterSeconds },
        );
      }
      // A discovered key-set URL gets the rule a configured one gets at start-up: keys
      // read over plain http from a public host could be anyone's.
      const problem = endpointUrlProblem(metadata.jwks_uri, this.#options.allowInsecureHttp);
      if (problem !== undefined) {
        if (!this.#reported.has(metadata.jwks_uri)) {
          this.#reported.add(metadata.jwks_uri);
          this.#observer.failed?.(metadata.jwks_uri, `discovered jwks_uri refused: ${problem}`);
        }
        throw new McpOAuthError(
          "upstream_unavailable",
          `authorization server ${issuer} publishes a jwks_uri that is refused: ${problem}; or set validation.jwksUri`,
          { retryAfter: this.#options.retryAfterSeconds },
        );
      }
      const source = this.#keySource(metadata.jwks_uri);
      this.#sources.set(issuer, source);
      return source;
    });
    this.#sources.set(issuer, pending);
    // The directory owns retries and backoff; forget a failed attempt here.
    pending.catch(() => {
      if (this.#sources.get(issuer) === pending) this.#sources.delete(issuer);
    });
    return pending;
  }
}
