/**
 * `mcpOAuth()`: the whole resource server in one middleware, composed like `helmet()`
 * from the parts, each configurable or switched off by name. The metadata documents are
 * answered here and stay public; every other request that reaches the middleware is
 * protected. Which requests reach it is the host's routing decision (where it is mounted,
 * what is registered before it), never a path comparison of ours: a matcher of our own
 * that disagrees with the router (letter case, trailing slash, absolute-form targets,
 * mount prefixes) leaves the MCP endpoint open under another spelling.
 *
 * Fail closed, in one place: the chain ends in a gate that calls `next()` only for a
 * request with a verdict (`verdictOf`: a bearer token requireBearer accepted). A CORS
 * preflight is answered by oauthCors and never reaches it; with `cors: false` a preflight
 * is a request like any other (401 without a token). Whatever throws inside the chain, or
 * reaches it through `next(error)`, is answered (the table, or 500), never passed on.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { McpOAuthConfigError, ResourceServer, type McpOAuthOptions } from "@mcp-oauth/core";
import { sendFailure, sendInternalError } from "./http.js";
import { oauthCors, type OAuthCorsOptions } from "./oauth-cors.js";
import { protectedResourceMetadata, type ProtectedResourceMetadataOptions } from "./protected-resource-metadata.js";
import { requireBearer } from "./require-bearer.js";
import { requireScopes, type RequireScopesOptions } from "./require-scopes.js";
import type { Middleware, NextFunction } from "./types.js";
import { verdictOf } from "./verdict.js";

export interface McpOAuthMiddlewareOptions extends McpOAuthOptions {
  /** The metadata endpoints; `false` to serve them yourself. */
  protectedResourceMetadata?: ProtectedResourceMetadataOptions | false;
  /** CORS and the Origin rule on MCP paths; `false` when something else handles CORS. */
  cors?: OAuthCorsOptions | false;
  /** Per-operation scopes; `false` to check only the base `scopes`. */
  requireScopes?: Omit<RequireScopesOptions, "scopes"> | false;
}

/**
 * Runs `chain`, then `done`. Connect semantics for `next(error)` (only a truthy value is an
 * error: cors calls `next(null)`), but an error, passed or thrown, goes to `fail`: never on
 * to the application. A throw from the application's own handler, called synchronously
 * through `done`, is the application's (Express routes it to its error handlers).
 */
function runChain(
  chain: readonly Middleware[],
  req: IncomingMessage,
  res: ServerResponse,
  done: () => void,
  fail: (error: unknown) => void,
): void {
  let index = 0;
  let passedOn = false;
  const step = (error?: unknown): void => {
    if (error !== undefined && error !== null) {
      fail(error);
      return;
    }
    const middleware = chain[index++];
    if (middleware === undefined) {
      passedOn = true;
      done();
      return;
    }
    try {
      middleware(req, res, step);
    } catch (thrown) {
      if (passedOn) throw thrown;
      fail(thrown);
    }
  };
  step();
}

export interface McpOAuthMiddleware extends Middleware {
  /** The resource server behind the middleware: for `ready()`, or to build more middlewares. */
  readonly resourceServer: ResourceServer;
}

// Options of earlier builds that chose protected paths by comparing strings; refused so
// that nobody believes a path outside them is left public (or that one inside is safe).
const REMOVED_OPTIONS = ["paths", "sse"] as const;

export function mcpOAuth(options: McpOAuthMiddlewareOptions): McpOAuthMiddleware {
  for (const name of REMOVED_OPTIONS) {
    if (Object.hasOwn(options, name)) {
      throw new McpOAuthConfigError(
        name,
        "is no longer supported: mcpOAuth protects every request that reaches it except the metadata documents. " +
          'Register public routes before app.use(mcpOAuth(...)), or mount it on the MCP routes only (app.use("/mcp", mcpOAuth(...)) plus protectedResourceMetadata() at the root)',
      );
    }
  }
  const server = new ResourceServer(options);

  const metadata =
    options.protectedResourceMetadata === false
      ? undefined
      : protectedResourceMetadata(server, options.protectedResourceMetadata);
  const protect: Middleware[] = [];
  if (options.cors !== false) protect.push(oauthCors(server, options.cors));
  protect.push(requireBearer(server));
  if (options.requireScopes !== false && (server.needsBody || options.requireScopes?.policy !== undefined)) {
    protect.push(requireScopes(server, options.requireScopes || {}));
  }

  // The metadata middleware answers the requests it serves itself (200, 405) and passes on
  // every other one (a path it is configured not to serve included), which is then protected.
  const chain = metadata === undefined ? protect : [metadata, ...protect];

  const middleware = function mcpOAuthMiddleware(req: IncomingMessage, res: ServerResponse, next: NextFunction): void {
    runChain(
      chain,
      req,
      res,
      () => {
        // The gate: nothing leaves mcpOAuth without a verdict, whatever a part above did.
        if (verdictOf(req) === undefined) sendInternalError(req, res);
        else next();
      },
      (error) => sendFailure(server, req, res, error),
    );
  };
  return Object.assign(middleware, { resourceServer: server });
}
