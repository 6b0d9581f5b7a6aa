/**
 * What every adapter puts on the answers the library writes itself (refusals, preflights,
 * the metadata document), decided once. Express writes the security headers through helmet
 * with the policy below; the Fetch adapter writes this table, and a differential test
 * (packages/fetch/test/same-as-express.test.ts) keeps the two equal.
 */

/**
 * helmet's headers for a JSON API: nothing to load, nothing to frame, `nosniff`; CORP
 * `cross-origin` because browser-based MCP clients read the metadata cross-origin. No HSTS:
 * whether the deployment is HTTPS-only is the application's decision.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "Content-Security-Policy": "default-src 'none';frame-ancestors 'none'",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "cross-origin",
  "Origin-Agent-Cluster": "?1",
  "Referrer-Policy": "no-referrer",
  "X-Content-Type-Options": "nosniff",
  "X-DNS-Prefetch-Control": "off",
  "X-Download-Options": "noopen",
  "X-Frame-Options": "SAMEORIGIN",
  "X-Permitted-Cross-Domain-Policies": "none",
  "X-XSS-Protection": "0",
});

/** Methods the metadata documents answer (RFC 9110 `Allow`, on every answer at their paths). */
export const METADATA_ALLOW = "GET, HEAD, OPTIONS";
/** `Cache-Control` of the metadata document by default: it changes only with the configuration. */
export const DEFAULT_METADATA_CACHE_CONTROL = "public, max-age=3600";
/** The metadata documents are public: any origin may read them, before any login. */
export const METADATA_MAX_AGE_SECONDS = 86400;

/** The 405 body at a metadata path. */
export const METADATA_METHOD_NOT_ALLOWED = Object.freeze({
  error: "invalid_request",
  error_description: `Method not allowed; use ${METADATA_ALLOW}`,
});

/** Whether a value can be sent as a header value (what Node's `validateHeaderValue` accepts: no CR, LF, NUL, controls). */
export function isHeaderValue(value: string): boolean {
  return /^[\t\x20-\x7e\x80-\xff]*$/.test(value);
}
