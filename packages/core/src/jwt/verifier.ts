/**
 * JWT access-token verification: decode, header rules, issuer allow-list (all before any
 * network call), key from the issuer's key set, signature (jsonwebtoken), then claims.
 */
import type { KeyObject } from "node:crypto";
import jsonwebtoken from "jsonwebtoken";
import { clientIdFromClaims, type AuthInfo, type AuthInfoExtra } from "../auth-info.js";
import { checkClaims, checkHeader, checkIssuer } from "../claims.js";
import { discoverAuthorizationServer } from "../discovery.js";
import { McpOAuthError } from "../errors.js";
import type { ResolvedOptions } from "../options.js";
import { scopesFromClaims } from "../scopes.js";
import { decodeJwt } from "./decode.js";
import { keySourceFor, type JwksKeySource } from "./key-source.js";

interface IssuerKeys {
  source: Promise<JwksKeySource> | undefined;
  resolved: JwksKeySource | undefined;
  /** After a failed discovery: no new attempt before this time (ms), doubling up to a minute. */
  retryAt: number;
  backoff: number;
}

export class JwtVerifier {
  readonly #options: ResolvedOptions;
  readonly #issuers = new Map<string, IssuerKeys>();
  readonly #fetch: typeof fetch | undefined;

  constructor(options: ResolvedOptions, fetchImpl?: typeof fetch) {
    this.#options = options;
    this.#fetch = fetchImpl;
    for (const issuer of options.jwt.issuers) {
      const fixed = options.jwt.jwksUri === undefined ? undefined : this.#keySource(options.jwt.jwksUri);
      this.#issuers.set(issuer, { source: fixed && Promise.resolve(fixed), resolved: fixed, retryAt: 0, backoff: 1000 });
    }
  }

  /** Verifies a token and returns the request's `AuthInfo`, or throws `McpOAuthError`. */
  async verify(token: string, nowSeconds = Math.floor(Date.now() / 1000)): Promise<AuthInfo> {
    const jwt = this.#options.jwt;
    const { header, payload } = decodeJwt(token);
    const alg = checkHeader(header, jwt);
    const iss = checkIssuer(payload, jwt);
    const kid = header["kid"] as string | undefined;

    let key: KeyObject | undefined;
    if (alg.startsWith("HS")) {
      // RFC 8725 section 2.1: an HMAC token verifies only with the configured shared
      // secret, never with a public key from the key set.
      key = jwt.secretKey;
    } else {
      const issuerKeys = this.#issuers.get(iss)!;
      key = issuerKeys.resolved?.cachedKey(kid, alg) ?? await (await this.#sourceFor(iss, issuerKeys)).key(kid, alg);
    }
    if (key === undefined) throw new McpOAuthError("algorithm_not_allowed", "no key for alg");

    try {
      // Claims are checked by checkClaims below, the one place for them.
      jsonwebtoken.verify(token, key, { algorithms: [alg as jsonwebtoken.Algorithm], ignoreExpiration: true, ignoreNotBefore: true });
    } catch (error) {
      throw new McpOAuthError("signature_invalid", "signature does not verify", { cause: error });
    }
    checkClaims(payload, jwt, nowSeconds);

    const extra: AuthInfoExtra = {
      sub: payload["sub"] as string | undefined,
      iss,
      aud: payload["aud"] as string | string[] | undefined,
      claims: payload,
    };
    return {
      token,
      clientId: clientIdFromClaims(payload),
      scopes: scopesFromClaims(payload),
      expiresAt: payload["exp"] as number,
      resource: new URL(this.#options.resource),
      extra: extra as unknown as Record<string, unknown>,
    };
  }

  /** Discovers every issuer's key set and loads it: the explicit start-up check. */
  async ready(): Promise<void> {
    await Promise.all([...this.#issuers.entries()].map(async ([iss, entry]) => {
      const source = await this.#sourceFor(iss, entry);
      await source.key(undefined, "RS256").catch((error: unknown) => {
        // A key set with several keys answers "no kid" with key_not_found: it is reachable.
        if (!(error instanceof McpOAuthError) || error.code === "upstream_unavailable") throw error;
      });
    }));
  }

  #keySource(jwksUri: string): JwksKeySource {
    const jwt = this.#options.jwt;
    return keySourceFor({
      jwksUri,
      maxAge: jwt.jwksCacheMaxAge,
      staleWindow: jwt.jwksStaleWindow,
      cooldown: 60_000 / jwt.jwksRequestsPerMinute,
      timeout: this.#options.timeout,
      retryAfter: this.#options.retryAfter,
    });
  }

  #sourceFor(issuer: string, entry: IssuerKeys): Promise<JwksKeySource> {
    if (entry.source) return entry.source;
    if (Date.now() < entry.retryAt) {
      return Promise.reject(new McpOAuthError("upstream_unavailable", "authorization server discovery is backing off", {
        retryAfter: Math.max(1, Math.ceil((entry.retryAt - Date.now()) / 1000)),
      }));
    }
    entry.source = (async () => {
      const metadata = await discoverAuthorizationServer(issuer, {
        timeout: this.#options.timeout,
        retryAfter: this.#options.retryAfter,
        ...(this.#fetch ? { fetch: this.#fetch } : {}),
      });
      if (typeof metadata.jwks_uri !== "string") {
        throw new McpOAuthError("upstream_unavailable", `authorization server ${issuer} publishes no jwks_uri; set validation.jwksUri`, { retryAfter: this.#options.retryAfter });
      }
      const source = this.#keySource(metadata.jwks_uri);
      entry.resolved = source;
      entry.backoff = 1000;
      return source;
    })();
    // Failed discovery is never cached: forget it, and retry after a growing pause.
    entry.source.catch(() => {
      entry.source = undefined;
      entry.retryAt = Date.now() + entry.backoff;
      entry.backoff = Math.min(entry.backoff * 2, 60_000);
    });
    return entry.source;
  }
}
