/**
 * The one place that finds the access token in a request (RFC 6750 section 2).
 * Only the `Authorization` header is a token source: MCP forbids the query string,
 * and a form-body token is refused rather than silently ignored.
 */
import { McpOAuthError } from "./errors.js";

/** What token extraction reads from a request: a subset of `node:http`'s `IncomingMessage`. */
export interface TokenRequest {
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Raw header list, used to notice duplicated `Authorization` headers that Node merges away. */
  rawHeaders?: readonly string[];
  url?: string;
  /**
   * The request target before a router cut a mount path off `url` (Express's
   * `req.originalUrl`): the path of a DPoP proof's `htu` (RFC 9449 section 4.3).
   */
  originalUrl?: string;
  /** The request method: a DPoP proof's `htm`. */
  method?: string;
  /** A body parsed by earlier middleware, if any. */
  body?: unknown;
}

// RFC 7235 section 2.1 token (the scheme), then RFC 6750 section 2.1 b64token.
const SCHEME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const QUERY_TOKEN = /(?:^|&)access_token=/;

function countAuthorizationHeaders(rawHeaders: readonly string[]): number {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    // The usual spellings first: no lower-cased copy per header on every request.
    if (
      name.length === 13 &&
      (name === "Authorization" || name === "authorization" || name.toLowerCase() === "authorization")
    )
      count++;
  }
  return count;
}

function hasQueryToken(url: string | undefined): boolean {
  if (url === undefined) return false;
  const q = url.indexOf("?");
  if (q === -1) return false;
  const query = url.slice(q + 1);
  // Decoded, so `access%5Ftoken` is caught too.
  return QUERY_TOKEN.test(query) || new URLSearchParams(query).has("access_token");
}

function hasFormBodyToken(request: TokenRequest): boolean {
  const contentType = request.headers["content-type"];
  if (typeof contentType !== "string" || !contentType.toLowerCase().startsWith("application/x-www-form-urlencoded"))
    return false;
  const body = request.body;
  if (typeof body === "string") return new URLSearchParams(body).has("access_token");
  // Object.hasOwn answers false for numbers and booleans, and throws only for null and undefined.
  return body !== undefined && body !== null && Object.hasOwn(body as object, "access_token");
}

/**
 * Returns the bearer token of a request, or throws an `McpOAuthError`:
 * `token_missing` / `unsupported_scheme` (401, no error code), `multiple_authorization_headers`,
 * `token_in_query`, `token_in_body`, `malformed_authorization_header` (400 invalid_request),
 * `token_too_large` (401 invalid_token, checked before any other work on the value).
 */
export function extractBearerToken(request: TokenRequest, maxTokenLength: number): string {
  const token = readBearerToken(request, maxTokenLength);
  assertB64Token(token);
  return token;
}

/** The authentication schemes of RFC 6750 and RFC 9449 section 7.1. */
export type AccessTokenScheme = "Bearer" | "DPoP";

/** The access token of a request and the scheme it came under. */
export interface AccessTokenCredentials {
  scheme: AccessTokenScheme;
  token: string;
}

/**
 * `readBearerToken` for a resource server that accepts DPoP (RFC 9449 section 7.1):
 * `Authorization: DPoP <token>` as well as `Bearer`, or, when `bearer` is false (DPoP
 * required), `DPoP` only: a Bearer request is refused with `dpop_scheme_required`.
 * Without the b64token syntax check, as `readBearerToken`.
 */
export function readAccessToken(
  request: TokenRequest,
  maxTokenLength: number,
  bearer: boolean,
): AccessTokenCredentials {
  const token = readToken(request, maxTokenLength, true);
  const scheme: AccessTokenScheme = isDpopScheme(request.headers["authorization"] as string) ? "DPoP" : "Bearer";
  if (scheme === "Bearer" && !bearer) {
    throw new McpOAuthError("dpop_scheme_required", "Bearer scheme where DPoP is required");
  }
  return { scheme, token };
}

/** Whether a (single, string) Authorization value uses the DPoP scheme, compared without case (RFC 9110 section 11.1). */
export function isDpopScheme(header: string | string[] | undefined): boolean {
  // The space at index 4 also rules out a value of four characters or fewer. `c | 32` is a
  // letter's lower case, equal to `d`, `p` or `o` only for that letter's two cases: no
  // lowercased copy of the header's start per request.
  return (
    typeof header === "string" &&
    header.charCodeAt(4) === 32 &&
    (header.charCodeAt(0) | 32) === 100 &&
    (header.charCodeAt(1) | 32) === 112 &&
    (header.charCodeAt(2) | 32) === 111 &&
    (header.charCodeAt(3) | 32) === 112
  );
}

/**
 * `extractBearerToken` without the b64token syntax check, for callers that look the token
 * up first: a token the cache knows passed that check when it was first seen, and the
 * check reads every character of a value of up to 8 KiB. Call `assertB64Token` before
 * doing anything else with a token the cache does not know.
 */
export function readBearerToken(request: TokenRequest, maxTokenLength: number): string {
  return readToken(request, maxTokenLength, false);
}

/** The token of the Authorization header, under Bearer or also, with `dpop`, under DPoP. */
function readToken(request: TokenRequest, maxTokenLength: number, dpop: boolean): string {
  if (request.rawHeaders !== undefined && countAuthorizationHeaders(request.rawHeaders) > 1) {
    throw new McpOAuthError("multiple_authorization_headers", "more than one Authorization header");
  }
  // RFC 6750 section 3.1: more than one method of sending a token is invalid_request, and a
  // query or body token on its own is refused too, never used.
  if (hasQueryToken(request.url)) throw new McpOAuthError("token_in_query", "access_token in the query string");
  if (hasFormBodyToken(request)) throw new McpOAuthError("token_in_body", "access_token in a form body");

  const header = request.headers["authorization"];
  if (header === undefined || header === "") throw new McpOAuthError("token_missing", "no Authorization header");
  if (typeof header !== "string")
    throw new McpOAuthError("multiple_authorization_headers", "more than one Authorization header");
  if (header.length > maxTokenLength + 64) throw new McpOAuthError("token_too_large", "Authorization header too long");

  // `credentials = auth-scheme [ 1*SP token68 ]`, read without a regex over the whole
  // (possibly 8 KiB) value: this runs on every request.
  const space = header.indexOf(" ");
  const scheme = space === -1 ? header : header.slice(0, space);
  if (!SCHEME.test(scheme))
    throw new McpOAuthError("malformed_authorization_header", "unparseable Authorization header");
  if (
    scheme !== "Bearer" &&
    (scheme.length !== 6 || scheme.toLowerCase() !== "bearer") &&
    !(dpop && (scheme === "DPoP" || scheme.toLowerCase() === "dpop"))
  )
    throw new McpOAuthError(
      "unsupported_scheme",
      dpop ? "Authorization scheme is neither Bearer nor DPoP" : "Authorization scheme is not Bearer",
    );
  let start = space === -1 ? header.length : space;
  while (header.charCodeAt(start) === 32) start++;
  // Not trimmed: Node already strips the header's surrounding whitespace, and anything else
  // around the token (tabs, NBSP) makes it a malformed b64token.
  const token = header.slice(start);
  if (token === "") throw new McpOAuthError("malformed_authorization_header", "scheme without a token");
  if (token.length > maxTokenLength) throw new McpOAuthError("token_too_large", "access token too long");
  return token;
}

/** Throws `malformed_authorization_header` unless `token` is an RFC 6750 section 2.1 b64token. */
export function assertB64Token(token: string): void {
  if (!B64TOKEN.test(token))
    throw new McpOAuthError("malformed_authorization_header", "token is not an RFC 6750 b64token");
}
