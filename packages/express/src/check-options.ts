/**
 * Start-up validation of the options only the middlewares here read (the resource server's
 * are `@mcp-oauth/core`'s): each is checked where its middleware is built, so a wrong one
 * throws `McpOAuthConfigError` naming it and what to change, instead of a server that answers
 * every metadata request 429, refuses an origin it was told to allow, or refuses every body.
 */
import { validateHeaderValue } from "node:http";
import { McpOAuthConfigError } from "@mcp-oauth/core";

/** Node's longest timer, in ms: a longer `setInterval` fires after 1 ms (express-rate-limit's memory store resets on one). */
const TIMER_MAX_MS = 2 ** 31 - 1;

function wholeNumber(option: string, value: unknown, min: 0 | 1, max = Number.MAX_SAFE_INTEGER): void {
  if (value === undefined) return;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? "" : ` up to ${max}`;
    throw new McpOAuthConfigError(
      option,
      `must be a ${min === 0 ? "whole number, 0 or more" : "positive whole number"}${range}, got ${JSON.stringify(value) ?? String(value)}`,
    );
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `rateLimit` of `protectedResourceMetadata()` (and `publicEndpointRateLimit()`). */
export function checkRateLimitOptions(options: unknown): void {
  if (!isObject(options))
    throw new McpOAuthConfigError("rateLimit", "pass { limit, windowMs } (both optional), or false for no rate limit");
  // express-rate-limit 7+ refuses every request with limit 0.
  wholeNumber("rateLimit.limit", options["limit"], 1);
  wholeNumber("rateLimit.windowMs", options["windowMs"], 1, TIMER_MAX_MS);
  if (options["keyGenerator"] !== undefined && typeof options["keyGenerator"] !== "function")
    throw new McpOAuthConfigError(
      "rateLimit.keyGenerator",
      "must be a function (req) => string; behind a proxy, return the client address your trusted proxy header gives",
    );
  const store = options["store"];
  if (
    store !== undefined &&
    (!isObject(store) || !["increment", "decrement", "resetKey"].every((name) => typeof store[name] === "function"))
  )
    throw new McpOAuthConfigError(
      "rateLimit.store",
      "must be an express-rate-limit store with increment, decrement and resetKey (such as @mcp-oauth/redis's redisRateLimitStore)",
    );
}

/** `serveAtRoot` and `cacheControl` of `protectedResourceMetadata()`. */
export function checkMetadataOptions(options: { serveAtRoot?: unknown; cacheControl?: unknown }): void {
  if (options.serveAtRoot !== undefined && typeof options.serveAtRoot !== "boolean")
    throw new McpOAuthConfigError("protectedResourceMetadata.serveAtRoot", "must be true or false");
  const cacheControl = options.cacheControl;
  if (cacheControl === undefined) return;
  if (typeof cacheControl !== "string" || cacheControl.trim() === "" || !isHeaderValue(cacheControl))
    throw new McpOAuthConfigError(
      "protectedResourceMetadata.cacheControl",
      'must be a Cache-Control header value, such as "public, max-age=3600" (no line breaks)',
    );
}

function isHeaderValue(value: string): boolean {
  try {
    validateHeaderValue("Cache-Control", value);
    return true;
  } catch {
    return false;
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

/** `allowedOrigins` and `maxAge` of `oauthCors()` (`cors` of `mcpOAuth()` and `OAuthAuthProvider`). */
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

/** `bodyLimit` of `requireScopes()` (`requireScopes` of `mcpOAuth()`), in bytes. */
export function checkBodyLimit(bodyLimit: unknown): void {
  wholeNumber("requireScopes.bodyLimit", bodyLimit, 1);
}
