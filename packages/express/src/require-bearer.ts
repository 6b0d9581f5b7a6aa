/**
 * `requireBearer()`: a valid bearer token for this resource, or an RFC 6750 answer.
 * On success `req.auth` holds the MCP SDK's `AuthInfo`.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { isPreflight, sendAnswer } from "./http.js";
import { formBody } from "./read-body.js";
import { resourceServerFrom, type ResourceServerSource } from "./resource-server-from.js";
import type { AuthenticatedRequest, Middleware, NextFunction } from "./types.js";

export function requireBearer(source: ResourceServerSource): Middleware {
  const server = resourceServerFrom(source);
  const baseScopes = server.options.requiredScopes;

  return function requireBearerMiddleware(req: IncomingMessage, res: ServerResponse, next: NextFunction): void {
    // CORS preflights carry no credentials by definition (Fetch standard): never challenge them.
    if (isPreflight(req)) {
      next();
      return;
    }
    const request = req as AuthenticatedRequest;
    const contentType = req.headers["content-type"];
    const bodyRead = contentType !== undefined && contentType.toLowerCase().includes("x-www-form-urlencoded") ? formBody(request) : undefined;
    if (bodyRead === undefined) {
      // A token the cache already knows is decided synchronously: no promise, no deferred next().
      let known;
      try {
        known = server.authenticateCached(request);
        if (known !== undefined) server.checkScopes(known, baseScopes);
      } catch (error) {
        sendAnswer(req, res, server.answer(error));
        return;
      }
      if (known !== undefined) {
        request.auth = known;
        next();
        return;
      }
    }
    (bodyRead ?? Promise.resolve())
      .then(() => server.authenticate(request))
      .then((auth) => {
        server.checkScopes(auth, baseScopes);
        request.auth = auth;
      })
      .then(() => next(), (error: unknown) => sendAnswer(req, res, server.answer(error)));
  };
}
