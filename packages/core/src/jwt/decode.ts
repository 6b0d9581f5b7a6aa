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

const BASE64URL = /^[A-Za-z0-9_-]*$/;

// Every token an authorization server signs with one key carries the same header segment
// (alg, typ, kid), so its decoded form is kept once a signature under it has verified:
// decoding was a sixth of a cold verification's cost beyond the signature itself. Only
// verified headers are kept (a stranger cannot fill it), and only a few: one per key.
const MAX_KNOWN_HEADERS = 32;
const knownHeaders = new Map<string, Readonly<Record<string, unknown>>>();

/** Keeps the decoded header of a token whose signature verified (see `knownHeaders`). */
export function rememberHeader(decoded: DecodedJwt): void {
  if (knownHeaders.size < MAX_KNOWN_HEADERS && !knownHeaders.has(decoded.headerSegment)) {
    knownHeaders.set(decoded.headerSegment, Object.freeze(decoded.header));
  }
}

function decodePart(part: string, what: string): Record<string, unknown> {
  if (part === "" || !BASE64URL.test(part)) throw new McpOAuthError("token_malformed", `${what} is not base64url`);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
  } catch {
    throw new McpOAuthError("token_malformed", `${what} is not JSON`);
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
  const second = first === -1 ? -1 : token.indexOf(".", first + 1);
  if (first === -1 || second === -1 || token.indexOf(".", second + 1) !== -1) {
    throw new McpOAuthError("token_malformed", "not a three-part JWS");
  }
  const signature = token.slice(second + 1);
  if (signature === "" || !BASE64URL.test(signature))
    throw new McpOAuthError("token_malformed", "signature missing or not base64url");
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
