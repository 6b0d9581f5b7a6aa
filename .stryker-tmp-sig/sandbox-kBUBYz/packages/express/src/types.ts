// @ts-nocheck
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AuthInfo } from "@mcp-oauth/core";

export type NextFunction = (error?: unknown) => void;

/** A request after `requireBearer`: `auth` is what the MCP SDK's transports read. */
export type AuthenticatedRequest = IncomingMessage & { auth?: AuthInfo; body?: unknown };

/**
 * A Connect-style middleware using only the `node:http` request and response API, so it
 * runs in Express, Connect and a plain `http` server alike.
 */
export type Middleware = (req: IncomingMessage, res: ServerResponse, next: NextFunction) => void;

declare global {
  // Express's own request type (when @types/express is installed) gains `auth`, as the
  // MCP SDK's transports read it.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      auth?: AuthInfo;
    }
  }
}
