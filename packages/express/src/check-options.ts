/**
 * Start-up validation of the options only the middlewares here read (the resource server's
 * are `@mcp-oauth/core`'s): each is checked where its middleware is built, so a wrong one
 * throws `McpOAuthConfigError` naming it and what to change, instead of a server that answers
 * every metadata request 429, refuses an origin it was told to allow, or refuses every body.
 */
import { McpOAuthConfigError } from "@mcp-oauth/core";
import { isHeaderValue } from "@mcp-oauth/core/internal";

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

// The checks every adapter shares (the Fetch adapter too) are the core's.
export { checkBodyLimit, checkCorsOptions } from "@mcp-oauth/core/internal";
