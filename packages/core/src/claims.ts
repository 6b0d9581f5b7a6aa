/**
 * The one place that validates a JWT access token's header and claims
 * (RFC 9068 section 4, RFC 8725 section 3, RFC 7519 section 4.1).
 */
import { McpOAuthError } from "./errors.js";
import type { ResolvedTokenRules } from "./options.js";

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
export function checkHeader(header: Record<string, unknown>, options: ResolvedTokenRules): string {
  // A set of strings: a missing or non-string `alg` is never in it.
  const alg = header["alg"] as string;
  if (!options.algorithms.has(alg)) {
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
export function checkIssuer(payload: Record<string, unknown>, options: ResolvedTokenRules): string {
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
  // Number.isFinite is false for anything but a finite number (no coercion).
  if (!Number.isFinite(value)) throw new McpOAuthError("claim_invalid", `${claim} is not a NumericDate`);
  return value as number;
}

function requireString(payload: Record<string, unknown>, claim: string): void {
  const value = payload[claim];
  if (value === undefined) throw new McpOAuthError("claim_missing", `${claim} missing`);
  if (typeof value !== "string" || value === "") throw new McpOAuthError("claim_invalid", `${claim} is not a string`);
}

/** `exp` required, `nbf` and `iat` within the clock tolerance (RFC 7519 section 4.1, RFC 7662 section 2.2). */
function checkTimes(claims: Record<string, unknown>, options: ResolvedTokenRules, nowSeconds: number): void {
  const skew = options.clockToleranceSeconds;
  const exp = numericDate(claims, "exp", true)!;
  if (nowSeconds >= exp + skew) throw new McpOAuthError("token_expired", "exp in the past");
  const nbf = numericDate(claims, "nbf", false);
  // Stryker disable next-line ConditionalExpression: equivalent, a comparison with undefined is false; the check is for the type checker.
  if (nbf !== undefined && nowSeconds + skew < nbf) throw new McpOAuthError("token_not_yet_valid", "nbf in the future");
  const iat = numericDate(claims, "iat", options.strict);
  // Stryker disable next-line ConditionalExpression: equivalent, a comparison with undefined is false; the check is for the type checker.
  if (iat !== undefined && iat > nowSeconds + skew)
    throw new McpOAuthError("token_issued_in_future", "iat in the future");
}

/**
 * RFC 8707 / MCP: the token MUST have been issued for this resource. The first of
 * `audienceClaims` present decides (introspection answers may name the resource in
 * `resource` instead of `aud`): an explicit `aud` naming someone else is never overridden by
 * a `resource` naming us. Without any audience, a `client_id` listed in
 * `clientIdAsAudience` is accepted instead (Cognito, explicit opt-in only).
 */
function checkAudience(
  claims: Record<string, unknown>,
  options: ResolvedTokenRules,
  audienceClaims: readonly string[],
): void {
  const claim = audienceClaims.find((name) => claims[name] !== undefined);
  if (claim !== undefined) {
    if (options.audienceMatcher.matches(claims[claim])) return;
    throw new McpOAuthError("audience_mismatch", `${claim} does not name this resource`);
  }
  // A set of strings: a missing or non-string `client_id` is never in it.
  if (options.clientIdAsAudience.has(claims["client_id"] as string)) return;
  throw new McpOAuthError("audience_mismatch", "aud missing");
}

function checkRequiredClaims(claims: Record<string, unknown>, options: ResolvedTokenRules): void {
  for (const [claim, allowed] of options.requiredClaims) {
    const value = claims[claim];
    if (value === undefined) throw new McpOAuthError("claim_missing", `${claim} missing`);
    // A set of strings: an array or a number is never in it.
    if (!allowed.has(value as string))
      throw new McpOAuthError("claim_invalid", `${claim} has a value that is not accepted`);
  }
}

function checkStringClaims(claims: Record<string, unknown>): void {
  for (const claim of ["sub", "client_id", "azp", "scope"]) {
    const value = claims[claim];
    if (value !== undefined && typeof value !== "string")
      throw new McpOAuthError("claim_invalid", `${claim} is not a string`);
  }
}

/**
 * RFC 6749 section 3.3: a scope token contains no space, and a `scope` string is split on
 * whitespace. An array element with whitespace (`scp: ["mcp:read mcp:write"]`) is neither
 * one scope nor a list of them: the token is refused rather than read one way or the other.
 */
function checkScopeClaims(claims: Record<string, unknown>, options: ResolvedTokenRules): void {
  for (const claim of options.scopeClaims) {
    const value = claims[claim];
    if (Array.isArray(value) && value.some((scope) => typeof scope === "string" && /\s/.test(scope)))
      throw new McpOAuthError("claim_invalid", `${claim} holds an entry with whitespace`);
  }
}

/**
 * Claim rules for a JWT, checked after the signature: times, `iss` allowed, `aud` naming
 * this resource, required claims, and in strict mode the claims RFC 9068 section 2.2
 * requires. `nowSeconds` is injectable for tests.
 */
export function checkClaims(payload: Record<string, unknown>, options: ResolvedTokenRules, nowSeconds: number): void {
  checkTimes(payload, options, nowSeconds);
  checkIssuer(payload, options);
  checkAudience(payload, options, JWT_AUDIENCE);
  if (options.strict) {
    requireString(payload, "sub");
    requireString(payload, "client_id");
    requireString(payload, "jti");
  }
  checkStringClaims(payload);
  checkScopeClaims(payload, options);
  checkRequiredClaims(payload, options);
}

const JWT_AUDIENCE = ["aud"] as const;
const INTROSPECTION_AUDIENCE = ["aud", "resource"] as const;
// RFC 7662 section 2.2 `token_type` (RFC 6749 section 7.1 values), and RFC 8693's URI.
const ACCESS_TOKEN_TYPE_NAMES = new Set(["bearer", "access_token", "urn:ietf:params:oauth:token-type:access_token"]);

/**
 * Rules for an introspection answer (RFC 7662 section 2.2): `active` true, a bearer
 * access token (a refresh token is active too, but is no access token), `exp` in the
 * future, `iss` (when present) allowed, and an audience (`aud` or `resource`) naming us.
 */
export function checkIntrospection(
  answer: Record<string, unknown>,
  options: ResolvedTokenRules,
  nowSeconds: number,
): void {
  if (answer["active"] !== true) throw new McpOAuthError("token_inactive", "introspection says inactive");
  const tokenType = answer["token_type"];
  if (
    tokenType !== undefined &&
    (typeof tokenType !== "string" || !ACCESS_TOKEN_TYPE_NAMES.has(tokenType.toLowerCase()))
  ) {
    throw new McpOAuthError("invalid_token_type", "introspected token is not a bearer access token");
  }
  checkTimes(answer, options, nowSeconds);
  if (answer["iss"] !== undefined) checkIssuer(answer, options);
  checkAudience(answer, options, INTROSPECTION_AUDIENCE);
  checkStringClaims(answer);
  checkScopeClaims(answer, options);
  checkRequiredClaims(answer, options);
}
