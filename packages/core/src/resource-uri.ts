/**
 * Resource identifiers (RFC 8707 section 2, RFC 9728 section 1.2) and audience comparison.
 */

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

/** True for `localhost`, `127.0.0.0/8` and `::1`: the only hosts where plain http is tolerated. */
export function isLoopbackHost(hostname: string): boolean {
  if (LOOPBACK_HOSTS.has(hostname) || hostname.endsWith(".localhost")) return true;
  return /^127(?:\.\d{1,3}){3}$/.test(hostname);
}

/**
 * The comparable form of a resource or audience URI: lowercase scheme and host (URL
 * parsing does that), default port dropped, fragment dropped, and at most one trailing
 * slash removed. MCP clients and authorization servers disagree on whether
 * `https://host/mcp` and `https://HOST/mcp/` are the same resource; the MCP resource
 * server rules treat them as one. Strings that are not http(s) URLs (Entra's app GUIDs,
 * `api://default`) are compared as they are.
 */
export function normalizeResourceUri(value: string): string {
  if (!/^https?:\/\//i.test(value)) return value;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return value;
  }
  let path = url.pathname;
  if (path.endsWith("/")) path = path.slice(0, -1);
  return `${url.protocol}//${url.host}${path}${url.search}`;
}

/**
 * Audience matching precomputed once from the configured audiences, so the hot path
 * is a set lookup; only an inexact string falls back to URL normalisation.
 */
export class AudienceMatcher {
  readonly #exact: ReadonlySet<string>;
  readonly #normalized: ReadonlySet<string>;

  constructor(audiences: readonly string[]) {
    this.#exact = new Set(audiences);
    this.#normalized = new Set(audiences.map(normalizeResourceUri));
  }

  /** True when `aud` (a string or an array, RFC 7519 section 4.1.3) names one of ours. */
  matches(aud: unknown): boolean {
    if (typeof aud === "string") return this.#matchesOne(aud);
    if (Array.isArray(aud)) return aud.some((entry) => typeof entry === "string" && this.#matchesOne(entry));
    return false;
  }

  #matchesOne(entry: string): boolean {
    return this.#exact.has(entry) || this.#normalized.has(normalizeResourceUri(entry));
  }
}
