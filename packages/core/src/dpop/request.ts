/**
 * What the DPoP check needs from a request and a token, read the one way every adapter
 * shares: the `DPoP` header values, and the key the token is bound to.
 */
import type { TokenRequest } from "../authorization-header.js";
import { McpOAuthError } from "../errors.js";

/**
 * Whether a header name is `DPoP`, compared without case (RFC 9110 section 5.1) and without
 * a lowercased copy: every request scans its raw header names (`Host` too is four letters).
 * `c | 32` is a letter's lower case; it equals `d`, `p` or `o` only for that letter's two cases.
 */
function isDpopName(name: string): boolean {
  return (
    name.length === 4 &&
    (name.charCodeAt(0) | 32) === 100 &&
    (name.charCodeAt(1) | 32) === 112 &&
    (name.charCodeAt(2) | 32) === 111 &&
    (name.charCodeAt(3) | 32) === 112
  );
}

/**
 * Every `DPoP` header value of a request. From `rawHeaders` when the adapter has them: Node
 * joins repeated headers it does not know into one value (`a, b`), which the proof check
 * also refuses, but a count is plainer. Otherwise, and when `rawHeaders` hold none,
 * `headers.dpop` as it is: a request shim sets `headers` alone (mcp-framework's
 * `handleRequest` hands its provider an `IncomingMessage` whose `rawHeaders` stay empty).
 */
export function dpopProofsOf(request: TokenRequest): readonly string[] | string | undefined {
  const raw = request.rawHeaders;
  if (raw === undefined) return request.headers["dpop"];
  let values: string[] | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (!isDpopName(raw[i]!)) continue;
    // A one-element literal for the usual one header: a push onto `[]` reserves 17 slots.
    if (values === undefined) values = [raw[i + 1]!];
    else values.push(raw[i + 1]!);
  }
  return values ?? request.headers["dpop"];
}

/** base64url SHA-256 (RFC 7638 thumbprints): 43 characters. */
const THUMBPRINT = /^[A-Za-z0-9_-]{43}$/;

/**
 * The JWK thumbprint a token is bound to (RFC 9449 section 6: `cnf.jkt`, in the JWT claims or
 * the introspection answer), or undefined for a token not bound by `jkt`. A `cnf.jkt` that is
 * not a SHA-256 thumbprint makes the token invalid (`claim_invalid`), never unbound.
 */
export function boundThumbprintOf(claims: Readonly<Record<string, unknown>>): string | undefined {
  const cnf = claims["cnf"];
  if (cnf === undefined) return undefined;
  if (cnf === null || typeof cnf !== "object" || Array.isArray(cnf)) {
    throw new McpOAuthError("claim_invalid", "cnf is not a JSON object");
  }
  const jkt = (cnf as Record<string, unknown>)["jkt"];
  if (jkt === undefined) return undefined;
  if (typeof jkt !== "string" || !THUMBPRINT.test(jkt)) {
    throw new McpOAuthError("claim_invalid", "cnf.jkt is not a base64url SHA-256 thumbprint");
  }
  return jkt;
}
