/**
 * `oauthCors()`: CORS for browser-based MCP clients, built on `cors`, plus the Streamable
 * HTTP transport's Origin rule (DNS rebinding): a present, disallowed `Origin` gets 403.
 * A CORS preflight (core's `isCorsPreflight`) is answered here, 204 or 403, and never
 * passed on; every other request goes on to authentication, an `OPTIONS` one included.
 */
import cors from "cors";
import type { IncomingMessage, ServerResponse } from "node:http";
import { MCP_ALLOWED_HEADERS, MCP_EXPOSED_HEADERS, McpOAuthError, type ResourceServer } from "@mcp-oauth/core";
import { CORS_ALLOWED_METHODS, DEFAULT_CORS_MAX_AGE_SECONDS, originAllowList } from "@mcp-oauth/core/internal";
import { checkCorsOptions } from "./check-options.js";
import { isPreflight, sendInternalError, sendRefusal } from "./http.js";
import { setSecurityHeaders } from "./security-headers.js";
import type { Middleware, NextFunction } from "./types.js";

export interface OAuthCorsOptions {
  /**
   * Origins allowed to call the MCP endpoint, exactly as browsers send them
   * (`https://app.example.com`), or `"*"` for any. Default: only the resource's own origin.
   * Env: `OAUTH_ALLOWED_ORIGINS`.
   */
  allowedOrigins?: readonly string[] | "*";
  /** Seconds browsers may cache a preflight. Default 86400. */
  maxAge?: number;
}

/** What cors reads of a request (its method and headers), as an actual request. */
function asActualRequest(req: IncomingMessage): IncomingMessage {
  return { method: "GET", headers: req.headers } as IncomingMessage;
}

/** The resource's own origin is always allowed; refusals are the resource server's answers. */
export function oauthCors(server: ResourceServer, options: OAuthCorsOptions = {}): Middleware {
  checkCorsOptions(options);
  const isAllowed = originAllowList(server.options.resourceUrl.origin, options.allowedOrigins);

  const corsMiddleware = cors({
    // Only reached for an allowed Origin or none: a disallowed one was refused with 403 below.
    origin: (origin, callback) => callback(null, origin ?? false),
    methods: [...CORS_ALLOWED_METHODS],
    allowedHeaders: [...MCP_ALLOWED_HEADERS],
    exposedHeaders: [...MCP_EXPOSED_HEADERS],
    maxAge: options.maxAge ?? DEFAULT_CORS_MAX_AGE_SECONDS,
  });
  const refuse = (req: IncomingMessage, res: ServerResponse): void => {
    sendRefusal(server, req, res, new McpOAuthError("origin_not_allowed", "Origin not in the allow-list"));
  };

  return function oauthCorsMiddleware(req: IncomingMessage, res: ServerResponse, next: NextFunction): void {
    const origin = req.headers.origin;
    if (origin !== undefined && !isAllowed(origin)) {
      refuse(req, res);
      return;
    }
    if (isPreflight(req)) {
      // cors answers it (204), a library answer like any other. It is never passed on: were
      // cors to call next, the request would reach the application unauthenticated.
      setSecurityHeaders(req, res);
      // Stryker disable next-line ArrowFunction: cors (preflightContinue false) never calls next on a preflight; were a cors version to, this answers instead of passing it on
      corsMiddleware(req, res, () => sendInternalError(req, res));
      return;
    }
    // cors takes every OPTIONS for a preflight and answers it; what reaches here is an actual
    // request (Fetch standard), an OPTIONS one included. cors reads the method only to tell a
    // preflight, so every request is shown to it as an actual one and goes on.
    corsMiddleware(asActualRequest(req), res, next);
  };
}
