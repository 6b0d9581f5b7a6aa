/**
 * Resource identifiers (RFC 8707 section 2, RFC 9728 section 1.2) and audience comparison.
 */

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

/**
 * True for `localhost`, `127.0.0.0/8` and `::1`: the only hosts where plain http is tolerated.
 * Not `*.localhost`: RFC 6761 section 6.3 only asks resolvers to answer those with loopback,
 * and a resolver that does not sends the name to DNS, where anyone may answer it.
 */
export function isLoopbackHost(hostname: string): boolean {
  if (LOOPBACK_HOSTS.has(hostname)) return true;
  return /^127(?:\.\d{1,3}){3}$/.test(hostname);
}

/**
 * An http(s) URI as it must be written to take part in the equivalences below: a plain
 * ASCII host name, IPv4 or bracketed IPv6 address, an optional decimal port, a path and a
 * query, and nothing the WHATWG URL parser would silently rewrite. No userinfo and no
 * fragment (RFC 8707 section 2: a resource "MUST NOT include a fragment component"; a
 * userinfo `http://evil@host/mcp` names another resource that merely resolves to ours).
 */
const PLAIN_HTTP_URI = /^(https?):\/\/(\[[0-9a-f:.]+\]|[a-z0-9._~-]+)(?::([1-9][0-9]*))?(\/[^?#\\]*)?(\?[^#]*)?$/i;

/** `http(s)://` strings with a userinfo (any `@` before the path) or a fragment (any `#`). */
const USERINFO_OR_FRAGMENT = /^https?:\/\/(?:[^/\\?#]*@|[\s\S]*#)/i;

/**
 * The comparable form of a resource or audience URI: lowercase scheme and host, default
 * port dropped, and at most one trailing slash removed. MCP clients and authorization
 * servers disagree on whether `https://host/mcp` and `https://HOST/mcp/` are the same
 * resource; the MCP resource server rules treat them as one, and nothing else: a URI that
 * only the WHATWG parser makes equal (userinfo, fragment, dot segments, `127.1`,
 * percent-encoded or IDNA-mapped hosts, stripped tabs and spaces) keeps its own form and
 * so never equals ours. Strings that are not http(s) URLs (Entra's app GUIDs,
 * `api://default`) are compared as they are.
 */
export function normalizeResourceUri(value: string): string {
  const parts = PLAIN_HTTP_URI.exec(value);
  if (parts === null) return value;
  // Built from the string's own parts, never from what the WHATWG parser makes of them: no
  // rewrite of that parser (dot segments, `127.1`, encodings) can make two strings equal.
  const [, scheme, host, port, path = "", query = ""] = parts;
  const lowerScheme = scheme!.toLowerCase();
  const defaultPort = lowerScheme === "https" ? "443" : "80";
  const portPart = port === undefined || port === defaultPort ? "" : `:${port}`;
  const comparable = path.endsWith("/") ? path.slice(0, -1) : path;
  return `${lowerScheme}://${host!.toLowerCase()}${portPart}${comparable}${query}`;
}

/** True when `value` is an http(s) URI with a userinfo or a fragment: never our resource. */
export function hasUserinfoOrFragment(value: string): boolean {
  return USERINFO_OR_FRAGMENT.test(value);
}

/**
 * Audience matching precomputed once from the configured audiences, so the hot path
 * is a set lookup; only an inexact string falls back to URL normalisation.
 */
export class AudienceMatcher {
  readonly #exact: ReadonlySet<string>;
  readonly #normalized: ReadonlySet<string>;

  constructor(audiences: readonly string[]) {
    // An audience with a userinfo or a fragment is never ours (resolveOptions refuses it;
    // other callers may pass anything): leaving it out keeps the exact hit a plain lookup.
    const ours = audiences.filter((audience) => !hasUserinfoOrFragment(audience));
    this.#exact = new Set(ours);
    this.#normalized = new Set(ours.map(normalizeResourceUri));
  }

  /** True when `aud` (a string or an array, RFC 7519 section 4.1.3) names one of ours. */
  matches(aud: unknown): boolean {
    if (typeof aud === "string") return this.#matchesOne(aud);
    if (Array.isArray(aud)) return aud.some((entry) => typeof entry === "string" && this.#matchesOne(entry));
    return false;
  }

  #matchesOne(entry: string): boolean {
    return (
      this.#exact.has(entry) || (!hasUserinfoOrFragment(entry) && this.#normalized.has(normalizeResourceUri(entry)))
    );
  }
}
