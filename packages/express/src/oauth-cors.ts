/**
 * `oauthCors()`: CORS for browser-based MCP clients, built on `cors`, plus the Streamable
 * HTTP transport's Origin rule (DNS rebinding): a present, disallowed `Origin` gets 403.
 */
import cors from "cors";
import type { IncomingMessage, ServerResponse } from "node:http";
import { MCP_ALLOWED_HEADERS, MCP_EXPOSED_HEADERS, McpOAuthError, type ResourceServer } from "@mcp-oauth/core";
import { checkCorsOptions } from "./check-options.js";
import { isPreflight, sendAnswer } from "./http.js";
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

/** The resource's own origin is always allowed; refusals are the resource server's answers. */
export function oauthCors(server: ResourceServer, options: OAuthCorsOptions = {}): Middleware {
  checkCorsOptions(options);
  const listed = options.allowedOrigins;
  // `undefined` stands for any origin (`"*"`); otherwise the listed ones and the resource's own.
  const allowed = listed === "*" ? undefined : new Set<string>(listed);
  allowed?.add(server.options.resourceUrl.origin);
  const isAllowed = (origin: string): boolean => allowed === undefined || allowed.has(origin);

  const corsMiddleware = cors({
    // Only reached for an allowed Origin or none: a disallowed one was refused with 403 below.
    origin: (origin, callback) => callback(null, origin ?? false),
    methods: ["GET", "POST", "DELETE", "OPTIONS"],
    allowedHeaders: [...MCP_ALLOWED_HEADERS],
    exposedHeaders: [...MCP_EXPOSED_HEADERS],
    maxAge: options.maxAge ?? 86400,
  });
  const refuse = (req: IncomingMessage, res: ServerResponse): void => {
    const error = new McpOAuthError("origin_not_allowed", "Origin not in the allow-list");
    sendAnswer(req, res, server.answer(error));
  };

  return function oauthCorsMiddleware(req: IncomingMessage, res: ServerResponse, next: NextFunction): void {
    const origin = req.headers.origin;
    if (origin !== undefined && !isAllowed(origin)) {
      refuse(req, res);
      return;
    }
    // cors answers a preflight itself (204): it is a library answer like any other.
    if (isPreflight(req)) setSecurityHeaders(req, res);
    corsMiddleware(req, res, next);
  };
}
