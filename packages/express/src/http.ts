/** Small `node:http` helpers shared by the middlewares. */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ErrorAnswer } from "@mcp-oauth/core";

/** The path of a request URL, without the query. */
export function pathOf(req: IncomingMessage): string {
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  return q === -1 ? url : url.slice(0, q);
}

/** True when `path` is `base` or below it at a segment boundary (`/mcp`, `/mcp/x`). */
export function pathMatches(path: string, base: string): boolean {
  return path === base || (path.startsWith(base) && path.charCodeAt(base.length) === 47 /* / */);
}

/** A CORS preflight: OPTIONS with `Access-Control-Request-Method` (Fetch standard). */
export function isPreflight(req: IncomingMessage): boolean {
  return req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined;
}

/** Writes a refusal: status, challenge, `no-store`, `nosniff`, and the JSON body. */
export function sendAnswer(req: IncomingMessage, res: ServerResponse, answer: ErrorAnswer): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.statusCode = answer.status;
  for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
  res.setHeader("X-Content-Type-Options", "nosniff");
  res.end(req.method === "HEAD" ? undefined : JSON.stringify(answer.body));
}
