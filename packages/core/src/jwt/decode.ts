/**
 * Splitting and decoding a compact JWS (RFC 7515 section 7.1) before any signature work,
 * so that the header and the unverified `iss` can be checked without network calls.
 */
import { McpOAuthError } from "../errors.js";

export interface DecodedJwt {
  header: Readonly<Record<string, unknown>>;
  /** The header's base64url segment as sent. */
  headerSegment: string;
  payload: Record<string, unknown>;
  /** `BASE64URL(header) "." BASE64URL(payload)`: what the signature covers. */
  signingInput: string;
  signature: Buffer;
}

/**
 * Canonical base64url without padding (RFC 7515 section 2, RFC 4648 sections 3.5 and 5), at
 * least one character: no part of a JWS may be empty here. The length is never one past a
 * multiple of 4, and the last character's unused low bits are zero (`[AQgw]` when it carries
 * 2 bits, `[AEIMQUYcgkosw048]` when it carries 4). A lenient decoder reads `...Q` and
 * `...R` as the same bytes: one signature would have many token strings, each its own
 * cache entry and its own full verification.
 */
const BASE64URL = /^(?!$)(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2}[AEIMQUYcgkosw048]|[A-Za-z0-9_-][AQgw])?$/;

// Every token an authorization server signs with one key carries the same header segment
// (alg, typ, kid), so its decoded form is kept once a signature under it has verified:
// decoding was a sixth of a cold verification's cost beyond the signature itself. Only
// verified headers are kept (a stranger cannot fill it), and only a few: one per key.
const MAX_KNOWN_HEADERS = 32;
const knownHeaders = new Map<string, Readonly<Record<string, unknown>>>();

/** Keeps the decoded header of a token whose signature verified (see `knownHeaders`). */
export function rememberHeader(decoded: DecodedJwt): void {
  // A header already kept is set again with an equal value (two requests under a new key
  // decoded it before either verified): harmless, so no `has` check.
  if (knownHeaders.size < MAX_KNOWN_HEADERS) knownHeaders.set(decoded.headerSegment, Object.freeze(decoded.header));
}

function decodePart(part: string, what: string): Record<string, unknown> {
  if (!BASE64URL.test(part)) throw new McpOAuthError("token_malformed", `${what} is not canonical base64url`);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
  } catch {
    // Not JSON: `value` stays undefined and is refused below like any other non-object.
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new McpOAuthError("token_malformed", `${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/**
 * Decodes without verifying. Five-part tokens (JWE) and anything but three parts are
 * refused: access tokens here are signed, not encrypted.
 */
export function decodeJwt(token: string): DecodedJwt {
  const first = token.indexOf(".");
  // -1 also when there is no dot at all: the search then starts at 0.
  const second = token.indexOf(".", first + 1);
  if (second === -1) throw new McpOAuthError("token_malformed", "not a three-part JWS");
  const signature = token.slice(second + 1);
  // A fourth part (a JWE has five) leaves a dot in the signature, which is not base64url.
  if (!BASE64URL.test(signature)) {
    throw new McpOAuthError("token_malformed", "not a three-part JWS, or the signature is not base64url");
  }
  const headerSegment = token.slice(0, first);
  return {
    header: knownHeaders.get(headerSegment) ?? decodePart(headerSegment, "header"),
    headerSegment,
    payload: decodePart(token.slice(first + 1, second), "payload"),
    signingInput: token.slice(0, second),
    signature: Buffer.from(signature, "base64url"),
  };
}

/** Whether a token has the shape of a JWS; opaque tokens do not. */
export function looksLikeJwt(token: string): boolean {
  return token.split(".").length === 3;
}
