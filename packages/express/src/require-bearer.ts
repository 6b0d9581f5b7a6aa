/**
 * `requireBearer()`: a valid bearer token for this resource (or, with `dpop` on, a DPoP-bound
 * token and its proof, RFC 9449: the method, the request target and every `DPoP` header go
 * to the core as they are), or an RFC 6750 answer.
 * On success `req.auth` holds the MCP SDK's `AuthInfo`. Every request is authenticated,
 * an `OPTIONS` one included: CORS preflights are answered in front of it (oauthCors).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { nextFromCallback, sendRefusal } from "./http.js";
import { readsFormBody } from "@mcp-oauth/core/internal";
import { formBody } from "./read-body.js";
import { recordVerdict } from "./verdict.js";
import type { AuthInfo, ResourceServer } from "@mcp-oauth/core";
import type { AuthenticatedRequest, Middleware, NextFunction } from "./types.js";

export function requireBearer(server: ResourceServer): Middleware {
  const baseScopes = server.options.requiredScopes;

  return function requireBearerMiddleware(req: IncomingMessage, res: ServerResponse, next: NextFunction): void {
    const request = req as AuthenticatedRequest;
    if (readsFormBody(req.headers.authorization, req.headers["content-type"])) {
      // A form body is read (up to a small bound) so that a token in it can be refused (RFC 6750
      // section 2.2), but only when there is something to authenticate: without an
      // Authorization header the answer is 401 whatever the body holds.
      settleLater(
        formBody(request).then(() => server.check(request)),
        server,
        request,
        res,
        next,
        baseScopes,
      );
      return;
    }
    // A token the cache already knows, or a JWT whose key is held, is decided here: no
    // promise, no closure, no deferred next().
    try {
      const result = server.check(request);
      if (result instanceof Promise) {
        settleLater(result, server, request, res, next, baseScopes);
        return;
      }
      accept(server, request, res, result, baseScopes);
    } catch (error) {
      sendRefusal(server, req, res, error);
      return;
    }
    next();
  };
}

function settleLater(
  pending: Promise<AuthInfo>,
  server: ResourceServer,
  request: AuthenticatedRequest,
  res: ServerResponse,
  next: NextFunction,
  baseScopes: readonly string[],
): void {
  pending
    .then((auth) => accept(server, request, res, auth, baseScopes))
    .then(
      () => nextFromCallback(request, res, next),
      (error: unknown) => sendRefusal(server, request, res, error),
    );
}

function accept(
  server: ResourceServer,
  request: AuthenticatedRequest,
  res: ServerResponse,
  auth: AuthInfo,
  baseScopes: readonly string[],
): void {
  server.checkScopes(auth, baseScopes);
  // A fresh DPoP nonce, when the core has one for this answer (RFC 9449 section 8.2).
  const headers = server.successHeaders(auth);
  if (headers !== undefined) for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  recordVerdict(request, auth);
}
