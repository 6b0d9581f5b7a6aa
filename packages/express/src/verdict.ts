/**
 * The verdict on a request: the `AuthInfo` requireBearer accepted for it. Recorded here, by
 * request object, and not only in `req.auth` (which any code before us may set), so the
 * final gates (the end of mcpOAuth's chain, the mcp-framework bridge before it forwards)
 * can tell a request that was authenticated from one a bug let through.
 */
import type { IncomingMessage } from "node:http";
import type { AuthInfo } from "@mcp-oauth/core";
import type { AuthenticatedRequest } from "./types.js";

const verdicts = new WeakMap<IncomingMessage, AuthInfo>();

export function recordVerdict(req: AuthenticatedRequest, auth: AuthInfo): void {
  verdicts.set(req, auth);
  req.auth = auth;
}

/**
 * The `AuthInfo` requireBearer accepted for this request, if it is still the request's
 * `req.auth`; `undefined` for a request no bearer token was accepted for. For adapters
 * that gate what they forward (the mcp-framework bridge).
 */
export function verdictOf(req: IncomingMessage): AuthInfo | undefined {
  const auth = verdicts.get(req);
  // No verdict recorded: `auth` is undefined, and so is the answer whatever `req.auth` holds.
  return (req as AuthenticatedRequest).auth === auth ? auth : undefined;
}
