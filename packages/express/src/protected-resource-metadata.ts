/**
 * `protectedResourceMetadata()`: the RFC 9728 document at its path-suffixed URL and at
 * the root URL. Public by design: clients read it before they have any token.
 */
import cors from "cors";
import type { ResourceServer } from "@mcp-oauth/core";
import {
  DEFAULT_METADATA_CACHE_CONTROL,
  METADATA_ALLOW,
  METADATA_MAX_AGE_SECONDS,
  METADATA_METHOD_NOT_ALLOWED,
} from "@mcp-oauth/core/internal";
import type { IncomingMessage, ServerResponse } from "node:http";
import { checkMetadataOptions } from "./check-options.js";
import { pathOf, sendJson } from "./http.js";
import { publicEndpointRateLimit, type RateLimitOptions } from "./rate-limit.js";
import { setSecurityHeaders } from "./security-headers.js";
import type { Middleware, NextFunction } from "./types.js";

export interface ProtectedResourceMetadataOptions {
  /** Also serve the document at `/.well-known/oauth-protected-resource`. Default true. */
  serveAtRoot?: boolean;
  /** `Cache-Control` of the document. Default `public, max-age=3600`. */
  cacheControl?: string;
  /** Rate limiting per client address (express-rate-limit). Default off: the document is static and cheap. */
  rateLimit?: RateLimitOptions | false;
}

const ALLOW = METADATA_ALLOW;
/** What the rate limit adds (draft-8 `RateLimit`, `RateLimit-Policy`; `Retry-After` on its 429). */
const RATE_LIMIT_HEADERS = "Retry-After, RateLimit, RateLimit-Policy";

export function protectedResourceMetadata(
  server: ResourceServer,
  options: ProtectedResourceMetadataOptions = {},
): Middleware {
  checkMetadataOptions(options);
  const paths = new Set(options.serveAtRoot === false ? server.metadataPaths.slice(0, 1) : server.metadataPaths);
  const body = Buffer.from(server.metadataJson);
  const cacheControl = options.cacheControl ?? DEFAULT_METADATA_CACHE_CONTROL;
  // Any origin may read public metadata; browser-based MCP clients need it before login.
  const allowAnyOrigin = cors({ origin: "*", methods: ALLOW, maxAge: METADATA_MAX_AGE_SECONDS });
  const limit =
    options.rateLimit === undefined || options.rateLimit === false
      ? undefined
      : publicEndpointRateLimit(options.rateLimit);

  const middleware = function protectedResourceMetadataMiddleware(
    req: IncomingMessage,
    res: ServerResponse,
    next: NextFunction,
  ): void {
    if (!paths.has(pathOf(req))) {
      next();
      return;
    }
    // On every answer, the rate limit's 429 included: a browser-based client can read that
    // refusal, and when to come back (Retry-After is no CORS-safelisted response header).
    res.setHeader("Allow", ALLOW);
    res.setHeader("Access-Control-Allow-Origin", "*");
    if (limit) {
      res.setHeader("Access-Control-Expose-Headers", RATE_LIMIT_HEADERS);
      limit(req, res, () => serve(req, res, next));
    } else serve(req, res, next);
  };

  function serve(req: IncomingMessage, res: ServerResponse, _next: NextFunction): void {
    const method = req.method ?? "GET";
    // `Allow` is set above, for the 405 and OPTIONS's 204 above all (RFC 9110 sections 15.5.6, 9.3.7).
    if (method !== "GET" && method !== "HEAD" && method !== "OPTIONS") {
      sendJson(req, res, 405, { ...METADATA_METHOD_NOT_ALLOWED });
      return;
    }
    // Before cors, which answers every OPTIONS itself (204), a preflight or not.
    setSecurityHeaders(req, res);
    allowAnyOrigin(req, res, () => {
      res.statusCode = 200;
      res.setHeader("Content-Type", "application/json");
      res.setHeader("Content-Length", body.length);
      res.setHeader("Cache-Control", cacheControl);
      // Node sends no body in answer to HEAD (RFC 9110 section 9.3.2), only its headers.
      res.end(body);
    });
  }

  return middleware;
}
