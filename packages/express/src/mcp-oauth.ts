/**
 * `mcpOAuth()`: the whole resource server in one middleware, composed like `helmet()`
 * from the parts, each configurable or switched off by name. Metadata stays public; only
 * the MCP endpoint paths are protected.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { McpOAuthConfigError, ResourceServer, type McpOAuthOptions } from "@mcp-oauth/core";
import { pathMatches, pathOf } from "./http.js";
import { oauthCors, type OAuthCorsOptions } from "./oauth-cors.js";
import { protectedResourceMetadata, type ProtectedResourceMetadataOptions } from "./protected-resource-metadata.js";
import { requireBearer } from "./require-bearer.js";
import { requireScopes, type RequireScopesOptions } from "./require-scopes.js";
import type { Middleware, NextFunction } from "./types.js";

export interface McpOAuthMiddlewareOptions extends McpOAuthOptions {
  /**
   * MCP endpoint paths to protect, relative to where the middleware is mounted; each also
   * covers the paths below it. Default: the path of `resource` and `/mcp` (so a proxy that
   * strips a path prefix does not leave the usual endpoint open). Set it when the MCP
   * endpoint lives elsewhere.
   */
  paths?: readonly string[];
  /** Also protect the legacy HTTP+SSE transport's `/sse` and `/messages`. Default false. */
  sse?: boolean;
  /** The metadata endpoints; `false` to serve them yourself. */
  protectedResourceMetadata?: ProtectedResourceMetadataOptions | false;
  /** CORS and the Origin rule on MCP paths; `false` when something else handles CORS. */
  cors?: Omit<OAuthCorsOptions, "server"> | false;
  /** Per-operation scopes; `false` to check only the base `scopes`. */
  requireScopes?: Omit<RequireScopesOptions, "scopes"> | false;
}

function runChain(chain: readonly Middleware[], req: IncomingMessage, res: ServerResponse, done: NextFunction): void {
  let index = 0;
  const step = (error?: unknown): void => {
    // Connect semantics: only a truthy value is an error (cors calls `next(null)`).
    if (error !== undefined && error !== null) {
      done(error);
      return;
    }
    const middleware = chain[index++];
    if (middleware === undefined) done();
    else middleware(req, res, step);
  };
  step();
}

export interface McpOAuthMiddleware extends Middleware {
  /** The resource server behind the middleware: for `ready()`, or to build more middlewares. */
  readonly resourceServer: ResourceServer;
}

export function mcpOAuth(options: McpOAuthMiddlewareOptions): McpOAuthMiddleware {
  const server = new ResourceServer(options);
  const resourcePath = server.options.resourceUrl.pathname.replace(/\/$/, "");
  const paths = [...new Set([...(options.paths ?? [resourcePath === "" ? "/mcp" : resourcePath, "/mcp"]), ...(options.sse ? ["/sse", "/messages"] : [])])];
  for (const path of paths) {
    if (!path.startsWith("/")) throw new McpOAuthConfigError("paths", `"${path}" must start with /`);
  }

  const metadata = options.protectedResourceMetadata === false ? undefined : protectedResourceMetadata(server, options.protectedResourceMetadata);
  const protect: Middleware[] = [];
  if (options.cors !== false) protect.push(oauthCors({ ...options.cors, server }));
  protect.push(requireBearer(server));
  if (options.requireScopes !== false && (server.needsBody || options.requireScopes?.policy !== undefined)) {
    protect.push(requireScopes(server, options.requireScopes || {}));
  }

  const middleware = function mcpOAuthMiddleware(req: IncomingMessage, res: ServerResponse, next: NextFunction): void {
    const path = pathOf(req);
    if (metadata !== undefined && server.metadataPaths.includes(path)) {
      metadata(req, res, next);
      return;
    }
    if (paths.some((base) => pathMatches(path, base))) {
      runChain(protect, req, res, next);
      return;
    }
    next();
  };
  return Object.assign(middleware, { resourceServer: server });
}
