/**
 * The `cors` option of mcp-framework's transports that browser-based MCP clients need:
 * the bearer token and protocol headers allowed, the challenge and session id exposed.
 * Not needed with `OAuthAuthProvider`, whose `cors` option is `oauthCors()`'s: behind the
 * bridge the framework's CORS headers are replaced by the library's, and `allowedOrigins`
 * given here join the provider's Origin rule (`"*"`: any origin).
 */
import { MCP_ALLOWED_HEADERS, MCP_EXPOSED_HEADERS } from "@mcp-oauth/core";

export interface FrameworkCorsOptions {
  /** Origins allowed to call the server besides the resource's own; others get 403 (DNS-rebinding rule). */
  allowedOrigins?: readonly string[];
  /** Seconds browsers may cache a preflight. Default 86400. */
  maxAge?: number;
}

/** The shape of mcp-framework's `CORSConfig`. */
export interface FrameworkCorsConfig {
  allowOrigin: string;
  allowMethods: string;
  allowHeaders: string;
  exposeHeaders: string;
  maxAge: string;
  allowedOrigins?: string[];
}

export function frameworkCors(options: FrameworkCorsOptions = {}): FrameworkCorsConfig {
  const origins = options.allowedOrigins ? [...options.allowedOrigins] : undefined;
  return {
    // The framework sends one Access-Control-Allow-Origin value; with one allowed origin that
    // is it, otherwise "*" (bearer tokens are not cookies: "*" leaks no credentials).
    allowOrigin: origins?.length === 1 ? origins[0]! : "*",
    allowMethods: "GET, POST, DELETE, OPTIONS",
    allowHeaders: MCP_ALLOWED_HEADERS.join(", "),
    exposeHeaders: MCP_EXPOSED_HEADERS.join(", "),
    maxAge: String(options.maxAge ?? 86400),
    ...(origins ? { allowedOrigins: origins } : {}),
  };
}
