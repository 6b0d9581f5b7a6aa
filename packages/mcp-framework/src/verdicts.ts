/**
 * How a verdict reaches the framework's call to `OAuthAuthProvider.authenticate()` for the
 * request it belongs to, never another one (mcp-framework's `getAuthError()` takes no
 * request, so nothing may be shared between requests):
 * - the bridge marks each request object it hands to the framework with the caller's context;
 * - `frameworkRequestHandler()` runs each request in an AsyncLocalStorage scope, where the
 *   provider finds the authentication the middlewares in front already did, or leaves its
 *   own refusal for `getAuthError()` of that same request.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { IncomingMessage } from "node:http";
import type { AuthInfo, ErrorAnswer } from "@mcp-oauth/core";

/** What tools see through mcp-framework's `getRequestContext()`. */
export interface OAuthRequestContext extends Record<string, unknown> {
  /** The MCP SDK's AuthInfo, as Express handlers see it in `extra.authInfo`. */
  authInfo: AuthInfo;
  sub: string | undefined;
  clientId: string;
  scopes: string[];
  /** Every claim of the token (or introspection answer). */
  claims: Readonly<Record<string, unknown>>;
}

export function contextOf(authInfo: AuthInfo): OAuthRequestContext {
  const extra = authInfo.extra as { sub?: string; claims: Readonly<Record<string, unknown>> };
  return { authInfo, sub: extra.sub, clientId: authInfo.clientId, scopes: authInfo.scopes, claims: extra.claims };
}

/** Requests the bridge let through, with what the framework's tools get. */
export const bridged = new WeakMap<IncomingMessage, Record<string, unknown>>();

export interface RequestScope {
  /** Set when middlewares in front (mcpOAuth's requireBearer) authenticated the request. */
  auth?: AuthInfo | undefined;
  /** The provider's refusal of this request, for `getAuthError()`. */
  refusal?: ErrorAnswer;
  /** Who is calling (owners.ts), once known: the owner of the tasks this request creates. */
  owner?: string;
}

export const requestScope = new AsyncLocalStorage<RequestScope>();
