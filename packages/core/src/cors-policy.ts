/**
 * CORS for the protected resource and its metadata, decided once for every adapter: which
 * origins may call (the Streamable HTTP transport's Origin rule against DNS rebinding: a
 * present, disallowed `Origin` is refused with 403), what is allowed and exposed, and how
 * long a preflight is cached. Express writes these through `cors`; the Fetch adapter
 * writes them itself (`corsResponseHeaders`), and a differential test keeps both equal.
 */
import { MCP_ALLOWED_HEADERS, MCP_EXPOSED_HEADERS } from "./cors-headers.js";
import { McpOAuthConfigError } from "./errors.js";

/** Methods of the MCP endpoint (Streamable HTTP: POST, GET for the stream, DELETE to end a session). */
export const CORS_ALLOWED_METHODS = ["GET", "POST", "DELETE", "OPTIONS"] as const;
/** How long browsers may cache a preflight, by default. */
export const DEFAULT_CORS_MAX_AGE_SECONDS = 86400;

/**
 * Whether a present `Origin` may call the resource: any with `"*"`, else the listed ones and
 * the resource's own origin (always allowed).
 */
export function originAllowList(
  resourceOrigin: string,
  allowedOrigins: readonly string[] | "*" | undefined,
): (origin: string) => boolean {
  if (allowedOrigins === "*") return () => true;
  const allowed = new Set<string>(allowedOrigins);
  allowed.add(resourceOrigin);
  return (origin) => allowed.has(origin);
}

/**
 * The CORS headers of an answer to an allowed `origin` (as `cors` writes them): a preflight
 * gets the allowed methods and headers and its lifetime too. No `Origin`, no headers.
 */
export function corsResponseHeaders(
  origin: string | undefined | null,
  preflight: boolean,
  maxAgeSeconds: number = DEFAULT_CORS_MAX_AGE_SECONDS,
): Record<string, string> {
  if (origin === undefined || origin === null || origin === "") return {};
  const headers: Record<string, string> = {
    "Access-Control-Allow-Origin": origin,
    Vary: "Origin",
    "Access-Control-Expose-Headers": MCP_EXPOSED_HEADERS.join(","),
  };
  if (preflight) {
    headers["Access-Control-Allow-Methods"] = CORS_ALLOWED_METHODS.join(",");
    headers["Access-Control-Allow-Headers"] = MCP_ALLOWED_HEADERS.join(",");
    headers["Access-Control-Max-Age"] = String(maxAgeSeconds);
  }
  return headers;
}

function wholeNumber(option: string, value: unknown, min: 0 | 1): void {
  if (value === undefined) return;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
    throw new McpOAuthConfigError(
      option,
      `must be a ${min === 0 ? "whole number, 0 or more" : "positive whole number"}, got ${JSON.stringify(value) ?? String(value)}`,
    );
  }
}

/** What is wrong with an `allowedOrigins` entry, or `undefined`: it must be an origin exactly as browsers send it. */
function originProblem(entry: unknown): string | undefined {
  if (entry === "*") return 'to allow any origin, pass allowedOrigins: "*" itself, not inside an array';
  if (entry === "null")
    return '"null" is the Origin of sandboxed frames and local files, which any page can produce; list real origins';
  if (typeof entry !== "string" || entry === "") return `${JSON.stringify(entry)} is not an origin`;
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    return `"${entry}" is not an origin; write it as browsers send it, scheme://host[:port], such as "https://app.example.com"`;
  }
  // Non-special schemes (chrome-extension:) have an opaque origin in the URL standard; browsers send scheme://host.
  const origin = url.origin === "null" ? `${url.protocol}//${url.host}` : url.origin;
  if (origin !== entry)
    return `"${entry}" is not an origin as browsers send it (no path or trailing slash, lowercase host, no default port); use "${origin}"`;
  return undefined;
}

/** `allowedOrigins` and `maxAge` of the CORS options of every adapter (`cors.allowedOrigins`, `cors.maxAge`). */
export function checkCorsOptions(options: { allowedOrigins?: unknown; maxAge?: unknown }): void {
  const origins = options.allowedOrigins;
  if (typeof origins === "string" && origins !== "*")
    throw new McpOAuthConfigError(
      "cors.allowedOrigins",
      `must be an array of origins or "*"; for one origin write [${JSON.stringify(origins)}]`,
    );
  if (origins !== undefined && origins !== "*") {
    if (!Array.isArray(origins))
      throw new McpOAuthConfigError(
        "cors.allowedOrigins",
        'must be an array of origins, such as ["https://app.example.com"], or "*"',
      );
    for (const entry of origins as unknown[]) {
      const problem = originProblem(entry);
      if (problem !== undefined) throw new McpOAuthConfigError("cors.allowedOrigins", problem);
    }
  }
  wholeNumber("cors.maxAge", options.maxAge, 0);
}

/** `bodyLimit` (bytes) of the scope policy's body reader, in every adapter. */
export function checkBodyLimit(bodyLimit: unknown, option = "requireScopes.bodyLimit"): void {
  wholeNumber(option, bodyLimit, 1);
}
