/**
 * The one code → answer table (status, `error`, challenge) and the answer built from it:
 * adapters send `answerFor`'s result as it is.
 */
import { buildChallenge, buildDpopChallenge } from "./challenge.js";
import type { McpOAuthError, McpOAuthErrorCode } from "./errors.js";

/** The `error` values a client may see (RFC 6750 section 3.1, RFC 6749 section 5.2). */
export type OAuthErrorName =
  | "invalid_request"
  | "invalid_token"
  | "insufficient_scope"
  | "temporarily_unavailable"
  | "access_denied"
  | "unauthorized"
  | "server_error"
  // RFC 9449 sections 7.1 and 9.
  | "invalid_dpop_proof"
  | "use_dpop_nonce";

export interface ErrorResponse {
  readonly status: 400 | 401 | 403 | 413 | 415 | 500 | 503;
  /** `error` in the JSON body. */
  readonly error: OAuthErrorName;
  /**
   * `error` in the `WWW-Authenticate` challenge; `undefined` means the challenge carries no
   * `error` (RFC 6750 section 3.1: a request without credentials gets no error code).
   */
  readonly challengeError: OAuthErrorName | undefined;
  /** Whether a Bearer challenge is sent at all (401 and 403 carry one; others do not). */
  readonly challenge: boolean;
  /** Generic, token-free `error_description`. */
  readonly description: string;
}

const missing = (description: string): ErrorResponse => ({
  status: 401,
  error: "unauthorized",
  challengeError: undefined,
  challenge: true,
  description,
});
const badRequest = (description: string): ErrorResponse => ({
  status: 400,
  error: "invalid_request",
  challengeError: "invalid_request",
  challenge: true,
  description,
});
const invalidToken = (description: string): ErrorResponse => ({
  status: 401,
  error: "invalid_token",
  challengeError: "invalid_token",
  challenge: true,
  description,
});

const invalidProof = (description: string): ErrorResponse => ({
  status: 401,
  error: "invalid_dpop_proof",
  challengeError: "invalid_dpop_proof",
  challenge: true,
  description,
});
const useNonce = (description: string): ErrorResponse => ({
  status: 401,
  error: "use_dpop_nonce",
  challengeError: "use_dpop_nonce",
  challenge: true,
  description,
});

/**
 * The one table from error code to HTTP answer. Descriptions are deliberately generic:
 * they name the rule that failed, never the token or any claim value from it.
 */
export const ERROR_RESPONSES: Readonly<Record<McpOAuthErrorCode, ErrorResponse>> = {
  token_missing: missing("A bearer token is required"),
  unsupported_scheme: missing("Use the Bearer authentication scheme"),

  malformed_authorization_header: badRequest("The Authorization header is malformed"),
  multiple_authorization_headers: badRequest("Send exactly one Authorization header"),
  // MCP authorization: tokens MUST NOT be in the URI query string.
  token_in_query: badRequest("Access tokens are accepted only in the Authorization header"),
  token_in_body: badRequest("Access tokens are accepted only in the Authorization header"),

  token_too_large: invalidToken("The access token is too large"),
  token_malformed: invalidToken("The access token is malformed"),
  token_inactive: invalidToken("The access token is not active"),
  algorithm_not_allowed: invalidToken("The access token is signed with an algorithm that is not allowed"),
  unsupported_critical_header: invalidToken("The access token has an unsupported critical header"),
  invalid_token_type: invalidToken("The token is not an access token"),
  key_not_found: invalidToken("The access token is signed with an unknown key"),
  signature_invalid: invalidToken("The access token signature is invalid"),
  token_expired: invalidToken("The access token expired"),
  token_not_yet_valid: invalidToken("The access token is not valid yet"),
  token_issued_in_future: invalidToken("The access token was issued in the future"),
  claim_missing: invalidToken("The access token lacks a required claim"),
  claim_invalid: invalidToken("The access token has an invalid claim"),
  issuer_not_allowed: invalidToken("The access token was issued by an untrusted issuer"),
  audience_mismatch: invalidToken("The access token was not issued for this resource"),

  insufficient_scope: {
    status: 403,
    error: "insufficient_scope",
    challengeError: "insufficient_scope",
    challenge: true,
    description: "The access token lacks the scope this request needs",
  },
  origin_not_allowed: {
    status: 403,
    error: "access_denied",
    challengeError: undefined,
    challenge: false,
    description: "The request Origin is not allowed",
  },
  // Not `invalid_token`: the token is not known to be bad, and answering so would make
  // clients discard good tokens and restart the authorization flow.
  upstream_unavailable: {
    status: 503,
    error: "temporarily_unavailable",
    challengeError: undefined,
    challenge: false,
    description: "The access token cannot be checked right now; retry later",
  },
  body_too_large: {
    status: 413,
    error: "invalid_request",
    challengeError: undefined,
    challenge: false,
    description: "The request body is too large",
  },
  body_invalid: {
    status: 400,
    error: "invalid_request",
    challengeError: undefined,
    challenge: false,
    description: "The request body is not valid JSON",
  },
  unsupported_media_type: {
    status: 415,
    error: "invalid_request",
    challengeError: undefined,
    challenge: false,
    description: "The request body's charset or content coding is not supported",
  },
  // RFC 6749 section 4.1.2.1 `server_error`: nothing about the request or its token is wrong.
  internal_error: {
    status: 500,
    error: "server_error",
    challengeError: undefined,
    challenge: false,
    description: "The request could not be processed",
  },

  dpop_scheme_required: missing("Use the DPoP authentication scheme"),
  dpop_proof_missing: invalidProof("The DPoP scheme needs a DPoP proof header"),
  dpop_multiple_proofs: invalidProof("Send exactly one DPoP header"),
  dpop_proof_malformed: invalidProof("The DPoP proof is malformed"),
  dpop_proof_type_invalid: invalidProof("The DPoP proof has the wrong type"),
  dpop_algorithm_not_allowed: invalidProof("The DPoP proof is signed with an algorithm that is not allowed"),
  dpop_key_invalid: invalidProof("The DPoP proof key is not a usable public key"),
  dpop_signature_invalid: invalidProof("The DPoP proof signature is invalid"),
  dpop_claim_missing: invalidProof("The DPoP proof lacks a required claim"),
  dpop_claim_invalid: invalidProof("The DPoP proof has an invalid claim"),
  dpop_method_mismatch: invalidProof("The DPoP proof was made for another HTTP method"),
  dpop_uri_mismatch: invalidProof("The DPoP proof was made for another URI"),
  dpop_iat_out_of_window: invalidProof("The DPoP proof was issued too long ago or in the future"),
  dpop_ath_mismatch: invalidProof("The DPoP proof was made for another access token"),
  dpop_proof_replayed: invalidProof("The DPoP proof was already used"),
  // RFC 9449 section 7.1's own example answers a key binding mismatch with `invalid_token`:
  // the proof is sound, the token is not the one bound to its key.
  dpop_key_mismatch: invalidToken("The access token is not bound to the DPoP proof key"),
  dpop_token_not_bound: invalidToken("The access token is not bound to a DPoP key"),
  dpop_bound_token_as_bearer: invalidToken("The access token is bound to a key; send it with the DPoP scheme"),
  dpop_nonce_required: useNonce("Send a DPoP proof with the nonce this server provides"),
  dpop_nonce_invalid: useNonce("The DPoP nonce is invalid or stale; use the one this server provides"),
  // As upstream_unavailable: nothing is known to be wrong with the proof, so no 401.
  dpop_replay_unavailable: {
    status: 503,
    error: "temporarily_unavailable",
    challengeError: undefined,
    challenge: false,
    description: "The DPoP proof cannot be checked right now; retry later",
  },
};

/** Everything an adapter needs to answer a refused request. */
export interface ErrorAnswer {
  status: number;
  headers: Record<string, string>;
  body: { error: string; error_description: string };
}

export interface AnswerContext {
  resourceMetadataUrl: string;
  /** Scopes every request needs: sent in `scope` of 401 challenges. */
  requiredScopes: readonly string[];
  /** `Retry-After` for 503 answers, in seconds. */
  retryAfterSeconds: number;
}

/** Turns a refusal into status, headers and JSON body, through the one table. */
export function answerFor(error: McpOAuthError, context: AnswerContext): ErrorAnswer {
  const spec: ErrorResponse = ERROR_RESPONSES[error.code];
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    // RFC 6750 section 5.3 / RFC 9700: answers about credentials are never cached.
    "Cache-Control": "no-store",
  };
  if (spec.challenge) {
    // 403 insufficient_scope: every scope the operation needs, so clients can step up
    // (MCP authorization, scope challenge handling). Otherwise: the base scopes.
    const scopes =
      error.code === "insufficient_scope" ? (error.requiredScopes ?? context.requiredScopes) : context.requiredScopes;
    headers["WWW-Authenticate"] = buildChallenge({
      resourceMetadata: context.resourceMetadataUrl,
      error: spec.challengeError,
      errorDescription: spec.description,
      scopes,
    });
  }
  if (spec.status === 503) headers["Retry-After"] = String(error.retryAfter ?? context.retryAfterSeconds);
  return { status: spec.status, headers, body: { error: spec.error, error_description: spec.description } };
}

/** What a DPoP-aware answer adds to `AnswerContext`. */
export interface DpopAnswerContext {
  /** `allowed`: Bearer and DPoP challenges side by side; `required`: the DPoP challenge only. */
  mode: "allowed" | "required";
  /** The proof algorithms accepted, for `algs`. */
  algorithms: readonly string[];
  /** The scheme the refused request used, if any: its challenge carries a token error. */
  scheme: "Bearer" | "DPoP" | undefined;
  /**
   * A nonce for `DPoP-Nonce` (RFC 9449 section 9), when nonces are on: required with the
   * `use_dpop_nonce` codes, optional with the others.
   */
  nonce?: string | undefined;
}

/**
 * What a request without usable credentials is told where DPoP is on: the schemes this server
 * takes, where the table's words name Bearer alone.
 */
const SCHEME_DESCRIPTIONS: Readonly<Record<DpopAnswerContext["mode"], Partial<Record<McpOAuthErrorCode, string>>>> = {
  allowed: {
    token_missing: "An access token is required, under the Bearer or DPoP scheme",
    unsupported_scheme: "Use the Bearer or DPoP authentication scheme",
  },
  required: {
    token_missing: "A DPoP-bound access token is required, under the DPoP scheme",
    unsupported_scheme: "Use the DPoP authentication scheme",
  },
};

/** Whether a challenge error names the proof rather than the token: it belongs to the DPoP challenge. */
const isProofError = (error: OAuthErrorName | undefined): boolean =>
  error === "invalid_dpop_proof" || error === "use_dpop_nonce";

/**
 * `answerFor` for a resource server that accepts DPoP (RFC 9449 section 7.1): the same
 * status and body, and `WWW-Authenticate` with a DPoP challenge (`algs`), after the Bearer
 * one when both schemes are accepted. The `error` goes to one challenge only: the DPoP one
 * for a proof error, otherwise the one of the scheme the client used (so a DPoP client
 * refused for its token, or for scope, reads it where it looks). `DPoP-Nonce` when given.
 */
export function dpopAnswerFor(error: McpOAuthError, context: AnswerContext, dpop: DpopAnswerContext): ErrorAnswer {
  const answer = answerFor(error, context);
  const spec = ERROR_RESPONSES[error.code];
  const description = SCHEME_DESCRIPTIONS[dpop.mode][error.code] ?? spec.description;
  answer.body.error_description = description;
  if (dpop.nonce !== undefined) answer.headers["DPoP-Nonce"] = dpop.nonce;
  if (answer.headers["WWW-Authenticate"] === undefined) return answer;
  const scopes =
    error.code === "insufficient_scope" ? (error.requiredScopes ?? context.requiredScopes) : context.requiredScopes;
  const onDpop = isProofError(spec.challengeError) || dpop.scheme === "DPoP" || dpop.mode === "required";
  const common = { resourceMetadata: context.resourceMetadataUrl, errorDescription: description, scopes };
  const challenges = [
    buildDpopChallenge({ ...common, algorithms: dpop.algorithms, error: onDpop ? spec.challengeError : undefined }),
  ];
  if (dpop.mode === "allowed") {
    challenges.unshift(buildChallenge({ ...common, error: onDpop ? undefined : spec.challengeError }));
  }
  answer.headers["WWW-Authenticate"] = challenges.join(", ");
  return answer;
}
