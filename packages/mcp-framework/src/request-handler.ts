/**
 * Serving an mcp-framework `MCPServer` from your own Express (or `node:http`) app, so the
 * Express middlewares run in front of it: metadata at both RFC 9728 URLs, 403
 * `insufficient_scope` step-up from the scope policy, the library's own bodies.
 *
 * It uses the framework's public `MCPServer.handleRequest(Request)`: stateless, JSON
 * responses (no server-to-client stream, no sessions). That is the trade-off against the
 * framework's own transports; see docs/mcp-framework.md.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import type { AuthInfo } from "@mcp-oauth/core";
import { scopeServerTasks } from "./framework-internals.js";
import { ownerOfCall, tokenOwner } from "./owners.js";
import { requestScope, type RequestScope } from "./verdicts.js";

/** The part of mcp-framework's `MCPServer` this handler uses. */
export interface WebRequestHandler {
  handleRequest(request: Request, options?: { sourceIp?: string }): Promise<Response>;
}

function toWebRequest(req: IncomingMessage & { body?: unknown; originalUrl?: string }): Request {
  const host = req.headers.host ?? "localhost";
  const url = new URL(req.originalUrl ?? req.url ?? "/", `http://${host}`);
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const method = req.method ?? "GET";
  if (method === "GET" || method === "HEAD") return new Request(url, { method, headers });
  // A body parser in front (express.json(), or requireScopes reading it for the policy)
  // has consumed the stream: hand over what it parsed.
  if (req.body !== undefined) {
    headers.delete("content-length");
    return new Request(url, { method, headers, body: JSON.stringify(req.body) });
  }
  return new Request(url, {
    method,
    headers,
    body: Readable.toWeb(req) as ReadableStream,
    duplex: "half",
  } as RequestInit);
}

export function frameworkRequestHandler(
  server: WebRequestHandler,
): (req: IncomingMessage, res: ServerResponse) => void {
  // mcp-framework's one task store, limited to each caller's own tasks before any request.
  let tasksScoped: Promise<void> | undefined;
  return (req, res) => {
    // The provider finds here what mcpOAuth in front already established (`req.auth`), so a
    // token is validated once, and keeps a refusal of its own for this request only.
    const auth = (req as IncomingMessage & { auth?: AuthInfo }).auth;
    const scope: RequestScope = { auth, ...(auth !== undefined ? { owner: tokenOwner(auth) } : {}) };
    requestScope
      .run(scope, async () => {
        await (tasksScoped ??= scopeServerTasks(server, ownerOfCall));
        return server.handleRequest(
          toWebRequest(req),
          req.socket.remoteAddress ? { sourceIp: req.socket.remoteAddress } : undefined,
        );
      })
      .then(async (response) => {
        res.statusCode = response.status;
        response.headers.forEach((value, name) => res.setHeader(name, value));
        // The framework's refusal carries only the provider's challenge: the nonce a DPoP
        // client must use (RFC 9449 section 9) is the core's answer too, written here.
        const nonce = scope.refusal?.headers["DPoP-Nonce"];
        if (nonce !== undefined && response.status === scope.refusal!.status) res.setHeader("DPoP-Nonce", nonce);
        res.end(Buffer.from(await response.arrayBuffer()));
      })
      .catch(() => {
        if (!res.headersSent) {
          res.statusCode = 500;
          res.setHeader("content-type", "application/json");
        }
        res.end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32603, message: "Internal error" }, id: null }));
      });
  };
}
