/**
 * The one place that validates a JWT access token's header and claims
 * (RFC 9068 section 4, RFC 8725 section 3, RFC 7519 section 4.1).
 */
import { McpOAuthError } from "./errors.js";
import type { ResolvedJwtOptions } from "./options.js";

// RFC 9068 section 2.1: `at+jwt`; `application/at+jwt` is the same media type (RFC 7515
// section 4.1.9). `JWT` is what most providers still send; other explicit types (ID tokens
// from some providers, `dpop+jwt`, `logout+jwt`) are refused (RFC 8725 section 3.11).
const ACCESS_TOKEN_TYPES = new Set(["at+jwt", "application/at+jwt"]);
const LEGACY_TYPES = new Set(["jwt", "application/jwt"]);

/**
 * Header rules, checked before any key lookup: algorithm allow-list (never `none`), no
 * unknown `crit` (we understand no extensions), explicit typing. `jku`, `x5u`, `jwk` and
 * `x5c` are never read: keys come only from the configured key set.
 */
export function checkHeader(header: Record<string, unknown>, options: ResolvedJwtOptions): string {
  const alg = header["alg"];
  if (typeof alg !== "string" || !options.algorithms.has(alg)) {
    throw new McpOAuthError("algorithm_not_allowed", "alg not in the allow-list");
  }
  if (header["crit"] !== undefined) {
    // RFC 7515 section 4.1.11: recipients MUST reject tokens whose crit names an extension
    // they do not understand; this library understands none.
    throw new McpOAuthError("unsupported_critical_header", "crit header present");
  }
  const typ = header["typ"];
  if (typ !== undefined) {
    if (typeof typ !== "string") throw new McpOAuthError("invalid_token_type", "typ is not a string");
    const lower = typ.toLowerCase();
    if (!ACCESS_TOKEN_TYPES.has(lower) && (options.strict || !LEGACY_TYPES.has(lower))) {
      throw new McpOAuthError("invalid_token_type", "typ is not at+jwt");
    }
  } else if (options.strict) {
    throw new McpOAuthError("invalid_token_type", "typ missing in strict mode");
  }
  if (header["kid"] !== undefined && typeof header["kid"] !== "string") {
    throw new McpOAuthError("token_malformed", "kid is not a string");
  }
  return alg;
}

/** The unverified `iss`, matched exactly against the allow-list before any network call. */
export function checkIssuer(payload: Record<string, unknown>, options: ResolvedJwtOptions): string {
  const iss = payload["iss"];
  if (typeof iss !== "string") throw new McpOAuthError("claim_missing", "iss missing");
  if (!options.issuers.includes(iss)) throw new McpOAuthError("issuer_not_allowed", "iss not allowed");
  return iss;
}

function numericDate(payload: Record<string, unknown>, claim: string, required: boolean): number | undefined {
  const value = payload[claim];
  if (value === undefined) {
    if (required) throw new McpOAuthError("claim_missing", `${claim} missing`);
    return undefined;
  }
  if (typeof value !== "number" || !Number.isFinite(value)) throw new McpOAuthError("claim_invalid", `${claim} is not a NumericDate`);
  return value;
}

function requireString(payload: Record<string, unknown>, claim: string): void {
  const value = payload[claim];
  if (value === undefined) throw new McpOAuthError("claim_missing", `${claim} missing`);
  if (typeof value !== "string" || value === "") throw new McpOAuthError("claim_invalid", `${claim} is not a string`);
}

/**
 * Claim rules, checked after the signature: `exp` required, `nbf` and `iat` within the
 * clock tolerance, `iss` allowed, `aud` naming this resource, and in strict mode the
 * claims RFC 9068 section 2.2 requires. `nowSeconds` is injectable for tests.
 */
export function checkClaims(payload: Record<string, unknown>, options: ResolvedJwtOptions, nowSeconds: number): void {
  const skew = options.clockTolerance;
  const exp = numericDate(payload, "exp", true)!;
  if (nowSeconds >= exp + skew) throw new McpOAuthError("token_expired", "exp in the past");
  const nbf = numericDate(payload, "nbf", false);
  if (nbf !== undefined && nowSeconds + skew < nbf) throw new McpOAuthError("token_not_yet_valid", "nbf in the future");
  const iat = numericDate(payload, "iat", options.strict);
  if (iat !== undefined && iat > nowSeconds + skew) throw new McpOAuthError("token_issued_in_future", "iat in the future");

  checkIssuer(payload, options);

  // RFC 8707 / MCP: the token MUST have been issued for this resource.
  const aud = payload["aud"];
  if (aud === undefined) throw new McpOAuthError("audience_mismatch", "aud missing");
  if (!options.audienceMatcher.matches(aud)) throw new McpOAuthError("audience_mismatch", "aud does not name this resource");

  if (options.strict) {
    requireString(payload, "sub");
    requireString(payload, "client_id");
    requireString(payload, "jti");
  }
  for (const claim of ["sub", "client_id", "azp", "scope"]) {
    const value = payload[claim];
    if (value !== undefined && typeof value !== "string") throw new McpOAuthError("claim_invalid", `${claim} is not a string`);
  }
}
