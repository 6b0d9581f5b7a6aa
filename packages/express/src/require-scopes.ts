/**
 * `requireScopes()`: scopes for the operation, checked after `requireBearer`. Fixed
 * scopes, an MCP-aware policy over the JSON-RPC body (batches included), or both.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { McpOAuthError, type McpScopePolicy } from "@mcp-oauth/core";
import type { ResourceServer } from "@mcp-oauth/core";
import { checkRequirableScopes, checkScopePolicy, policyIsEmpty, scopesForJsonRpc } from "@mcp-oauth/core/internal";
import { checkBodyLimit } from "./check-options.js";
import { nextFromCallback, sendFailure } from "./http.js";
import { DEFAULT_BODY_LIMIT, hasUnreadBody, jsonBody, parsedBody } from "./read-body.js";
import type { AuthenticatedRequest, Middleware, NextFunction } from "./types.js";

export interface RequireScopesOptions {
  /** Scopes every request through this middleware needs. */
  scopes?: readonly string[];
  /** Scopes by JSON-RPC method and tool, prompt or resource name. Default: the resource server's `scopePolicy`. */
  policy?: McpScopePolicy;
  /** Largest JSON body read for the policy, in bytes. Default 4 MiB (the MCP SDK's limit). */
  bodyLimit?: number;
}

/**
 * Refusals are the table's; anything else that throws here (a `custom` policy hook, a bug)
 * is 500 `server_error`, not the 503 of a token that could not be checked.
 */
export function requireScopes(server: ResourceServer, options: RequireScopesOptions = {}): Middleware {
  checkBodyLimit(options.bodyLimit);
  const fixed = [
    ...new Set([...server.options.requiredScopes, ...checkRequirableScopes("requireScopes.scopes", options.scopes)]),
  ];
  if (options.policy !== undefined) checkScopePolicy("requireScopes.policy", options.policy);
  const policy = options.policy ?? server.options.scopePolicy;
  const usesBody = !policyIsEmpty(policy);
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;

  // A missing body (a GET) needs nothing beyond the fixed scopes: scopesForJsonRpc says so.
  const required = (body: unknown): string[] =>
    usesBody ? [...new Set([...fixed, ...scopesForJsonRpc(policy!, body)])] : fixed;

  return function requireScopesMiddleware(req: IncomingMessage, res: ServerResponse, next: NextFunction): void {
    const request = req as AuthenticatedRequest;
    const auth = request.auth;
    if (auth === undefined) {
      // Validity comes before scope: without requireBearer in front there is nothing to check.
      sendFailure(
        server,
        req,
        res,
        new McpOAuthError("token_missing", "requireScopes without an authenticated request"),
      );
      return;
    }
    // Synchronous when nothing has to be read: no policy, no POST (the only method whose
    // body an MCP transport runs), or a body a parser in front already read.
    if (!usesBody || req.method !== "POST" || !hasUnreadBody(req)) {
      try {
        // A body a parser in front left is judged the same way on every method (no MCP
        // transport runs a GET or DELETE body, but a host's own handler may).
        const body = usesBody ? parsedBody(request) : undefined;
        server.checkScopes(auth, required(body));
      } catch (error) {
        sendFailure(server, req, res, error);
        return;
      }
      next();
      return;
    }
    jsonBody(request, bodyLimit)
      .then((body) => server.checkScopes(auth, required(body)))
      .then(
        () => nextFromCallback(req, res, next),
        (error: unknown) => sendFailure(server, req, res, error),
      );
  };
}
