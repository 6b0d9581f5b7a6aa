/**
 * `mcpOAuthHono()`: the Fetch protection as Hono middleware. The library's answers are
 * returned as they are; a request with a verdict goes on with `c.get("authInfo")` set and
 * `c.req.raw` replaced by the request whose body is the bytes judged, and the application's
 * response gets the CORS headers. Hand both to the MCP SDK's transport:
 * `transport.handleRequest(c.req.raw, { authInfo: c.get("authInfo") })`.
 */
import type { MiddlewareHandler } from "hono";
import type { AuthInfo } from "@mcp-oauth/core";
import { createFetchProtection, type FetchProtection, type FetchProtectionOptions } from "./fetch-protection.js";

/** What the middleware sets on the Hono context. */
export interface McpOAuthHonoVariables {
  authInfo: AuthInfo;
}

export type McpOAuthHonoMiddleware = MiddlewareHandler<{ Variables: McpOAuthHonoVariables }> & {
  /** The protection behind the middleware (its `resourceServer` for `ready()`). */
  readonly protection: FetchProtection;
};

export function mcpOAuthHono(options: FetchProtectionOptions | FetchProtection): McpOAuthHonoMiddleware {
  const protection = "handle" in options ? options : createFetchProtection(options);
  const middleware: MiddlewareHandler<{ Variables: McpOAuthHonoVariables }> = async (c, next) => {
    const outcome = await protection.handle(c.req.raw);
    if (outcome instanceof Response) return outcome;
    c.req.raw = outcome.request;
    c.set("authInfo", outcome.authInfo);
    await next();
    const response = protection.finish(outcome.request, c.res);
    if (response !== c.res) c.res = response;
    return undefined;
  };
  return Object.assign(middleware, { protection });
}
