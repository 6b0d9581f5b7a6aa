/**
 * Next.js route handlers (App Router) and Vercel's `mcp-handler`: `withMcpOAuth(handler, ...)`
 * wraps any `(request: Request) => Response` handler, such as `createMcpHandler(...)`'s, in
 * the Fetch protection. The library's answers are returned as they are; a request with a
 * verdict reaches the handler as the request whose body is the bytes judged, with the verdict
 * on `request.auth` (where `mcp-handler` reads it and hands it to tools as
 * `ctx.http.authInfo`), and the handler's response gets the CORS headers.
 * `metadataRoute(...)` serves the RFC 9728 documents from their own route
 * (`app/.well-known/oauth-protected-resource/[[...path]]/route.ts`).
 *
 * No decision here: every answer is `createFetchProtection`'s.
 */
import type { AuthInfo } from "@mcp-oauth/core";
import { createFetchProtection, type FetchProtection, type FetchProtectionOptions } from "./fetch-protection.js";

/** The request a wrapped handler gets: `auth` is the verdict (the MCP SDK's `AuthInfo`). */
export type RequestWithAuth = Request & { auth: AuthInfo };

/** A Next.js route handler: the request, and whatever Next.js passes after it (`{ params }`). */
export type McpOAuthRouteHandler<Rest extends unknown[] = unknown[]> = ((
  request: Request,
  ...rest: Rest
) => Promise<Response>) & {
  /** The protection behind the handler (its `resourceServer` for `ready()`). */
  readonly protection: FetchProtection;
};

const protectionOf = (options: FetchProtectionOptions | FetchProtection): FetchProtection =>
  "handle" in options ? options : createFetchProtection(options);

export function withMcpOAuth<Rest extends unknown[] = unknown[]>(
  handler: (request: RequestWithAuth, ...rest: Rest) => Response | Promise<Response>,
  options: FetchProtectionOptions | FetchProtection,
): McpOAuthRouteHandler<Rest> {
  const protection = protectionOf(options);
  const wrapped = async (request: Request, ...rest: Rest): Promise<Response> => {
    const outcome = await protection.handle(request);
    if (outcome instanceof Response) return outcome;
    // Set on the request that goes on (ours when the body was read): whatever `auth` a caller
    // put on the incoming object is replaced by the verdict, never trusted.
    const authorized = Object.defineProperty(outcome.request, "auth", {
      value: outcome.authInfo,
      writable: false,
      configurable: true,
      enumerable: true,
    }) as RequestWithAuth;
    return protection.finish(outcome.request, await handler(authorized, ...rest));
  };
  return Object.assign(wrapped, { protection });
}

/**
 * A route handler serving only the metadata documents (GET, HEAD, any OPTIONS; 405 to other
 * methods): export it as `GET`, `HEAD`, `OPTIONS` (and `POST` for its 405) of the
 * `/.well-known/oauth-protected-resource` route. Another path under that route does not exist:
 * 404, as Next.js answers a route that is not there.
 */
export function metadataRoute(
  options: FetchProtectionOptions | FetchProtection,
): ((request: Request) => Response) & { readonly protection: FetchProtection } {
  const protection = protectionOf(options);
  const route = (request: Request): Response => protection.metadata(request) ?? new Response(null, { status: 404 });
  return Object.assign(route, { protection });
}
