/**
 * What the token cache may hold and for how long: which rejections are remembered, and
 * whether a cached verdict is still usable by this resource server.
 */
import type { McpOAuthErrorCode } from "./errors.js";
import type { CachedValidation, ResolvedOptions } from "./options.js";

// Rejections worth remembering for a few seconds: the same bad token sent again gets the
// same answer without new work. Not upstream failures (nothing is known about the token)
// and not unknown keys (a rotation may publish the key in a moment).
const NEGATIVELY_CACHED = new Set<McpOAuthErrorCode>([
  "token_malformed",
  "token_inactive",
  "algorithm_not_allowed",
  "unsupported_critical_header",
  "invalid_token_type",
  "signature_invalid",
  "token_expired",
  "token_issued_in_future",
  "claim_missing",
  "claim_invalid",
  "issuer_not_allowed",
  "audience_mismatch",
]);

type Lifetimes = NonNullable<ResolvedOptions["cache"]>;

/** Whether a rejection with this code is stored at all. */
export function isNegativelyCached(code: McpOAuthErrorCode): boolean {
  return NEGATIVELY_CACHED.has(code);
}

/**
 * A cached verdict still usable by this server: younger than this server's own lifetime
 * for it (whoever stored it, whatever the store does with `ttlMs`), and an acceptance
 * before its `exp`. Anything else in the store (another version's entry, garbage) is a
 * miss. The comparisons are written so that a missing or non-numeric field fails them.
 */
export function isFresh(
  cached: CachedValidation | undefined,
  lifetimes: Lifetimes,
  nowMs: number,
): cached is CachedValidation {
  // null: what many store clients (Redis) answer for a missing key.
  if (cached === undefined || cached === null) return false;
  if (cached.ok === true) {
    return (
      nowMs - cached.checkedAt < (cached.method === "jwt" ? lifetimes.ttlMs : lifetimes.introspectionTtlMs) &&
      nowMs < cached.expiresAt * 1000 &&
      // What every request of the token is handed: an entry without them is no verdict.
      typeof cached.claims === "object" &&
      cached.claims !== null &&
      Array.isArray(cached.scopes)
    );
  }
  return (
    cached.ok === false && nowMs - cached.checkedAt < lifetimes.negativeTtlMs && NEGATIVELY_CACHED.has(cached.code)
  );
}

/** How long an acceptance is stored: its method's lifetime, never past the token's `exp`. */
export function acceptedTtlMs(
  method: "jwt" | "introspection",
  expiresAtSeconds: number,
  checkedAtMs: number,
  lifetimes: Lifetimes,
): number {
  return Math.min(
    method === "jwt" ? lifetimes.ttlMs : lifetimes.introspectionTtlMs,
    expiresAtSeconds * 1000 - checkedAtMs,
  );
}
