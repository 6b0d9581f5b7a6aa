/**
 * Errors with stable codes, in the style of jose: callers switch on `code`, never on
 * the message. How each code is answered over HTTP lives in one table,
 * `error-responses.ts`, so every adapter answers the same way.
 */

/** Why a request was refused. Each code maps to exactly one HTTP answer. */
export type McpOAuthErrorCode =
  // RFC 6750 section 3.1: no credentials at all, or credentials of another scheme.
  | "token_missing"
  | "unsupported_scheme"
  // RFC 6750 section 3.1 `invalid_request`: malformed or ambiguous requests.
  | "malformed_authorization_header"
  | "multiple_authorization_headers"
  | "token_in_query"
  | "token_in_body"
  // RFC 6750 section 3.1 `invalid_token`.
  | "token_too_large"
  | "token_malformed"
  | "token_inactive"
  | "algorithm_not_allowed"
  | "unsupported_critical_header"
  | "invalid_token_type"
  | "key_not_found"
  | "signature_invalid"
  | "token_expired"
  | "token_not_yet_valid"
  | "token_issued_in_future"
  | "claim_missing"
  | "claim_invalid"
  | "issuer_not_allowed"
  | "audience_mismatch"
  // RFC 6750 section 3.1 `insufficient_scope`.
  | "insufficient_scope"
  // Streamable HTTP transport: a present, disallowed Origin (DNS rebinding).
  | "origin_not_allowed"
  // The token could not be checked: the key set or another upstream is unreachable.
  | "upstream_unavailable"
  // The request body could not be read for the scope policy.
  | "body_too_large"
  | "body_invalid"
  // A body in a charset other than UTF-8, or with a Content-Encoding: the library would judge
  // other bytes than the host reads (RFC 8259 section 8.1: JSON exchanged between systems is UTF-8).
  | "unsupported_media_type"
  // No verdict where one must be (a bug caught by a final gate), or a part that threw: 500.
  | "internal_error"
  // RFC 9449 section 7.1: DPoP required (`dpop_bound_access_tokens_required`), a Bearer
  // request is one without credentials of an accepted scheme.
  | "dpop_scheme_required"
  // RFC 9449 section 7.1 `invalid_dpop_proof`: the `DPoP` proof fails a check of section 4.3.
  | "dpop_proof_missing"
  | "dpop_multiple_proofs"
  | "dpop_proof_malformed"
  | "dpop_proof_type_invalid"
  | "dpop_algorithm_not_allowed"
  | "dpop_key_invalid"
  | "dpop_signature_invalid"
  | "dpop_claim_missing"
  | "dpop_claim_invalid"
  | "dpop_method_mismatch"
  | "dpop_uri_mismatch"
  | "dpop_iat_out_of_window"
  | "dpop_ath_mismatch"
  | "dpop_proof_replayed"
  // RFC 9449 section 7.1 `invalid_token`: the token is not bound to the proof's key (sections
  // 6 and 7.1), or a bound token came under the Bearer scheme (section 7.2, a downgrade).
  | "dpop_key_mismatch"
  | "dpop_token_not_bound"
  | "dpop_bound_token_as_bearer"
  // RFC 9449 section 9 `use_dpop_nonce`: the proof lacks the server's nonce, or it is stale.
  | "dpop_nonce_required"
  | "dpop_nonce_invalid"
  // The replay store cannot tell whether a proof was seen (full, or down with `refuse`).
  | "dpop_replay_unavailable";

export interface McpOAuthErrorDetails {
  /** Scopes the operation needs, for `insufficient_scope` challenges. */
  requiredScopes?: readonly string[];
  /** Seconds a client should wait before retrying, for `upstream_unavailable`. */
  retryAfter?: number;
  /** The underlying error. Never sent to the client. */
  cause?: unknown;
}

/** A refused request. `message` is safe to log: it never holds a token or secret. */
export class McpOAuthError extends Error {
  override readonly name = "McpOAuthError";
  readonly code: McpOAuthErrorCode;
  readonly requiredScopes: readonly string[] | undefined;
  readonly retryAfter: number | undefined;

  constructor(code: McpOAuthErrorCode, message: string, details: McpOAuthErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.requiredScopes = details.requiredScopes;
    this.retryAfter = details.retryAfter;
  }
}

/** Bad configuration, thrown when a middleware or provider is built (start-up). */
export class McpOAuthConfigError extends Error {
  override readonly name = "McpOAuthConfigError";
  readonly code = "ERR_MCP_OAUTH_CONFIG" as const;
  /** The option that is wrong, as a dotted path (`validation.jwksUri`). */
  readonly option: string;

  constructor(option: string, message: string) {
    super(`mcp-oauth: invalid option \`${option}\`: ${message}`);
    this.option = option;
  }
}

export function isMcpOAuthError(value: unknown): value is McpOAuthError {
  return value instanceof McpOAuthError;
}
