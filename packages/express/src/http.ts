/** Small `node:http` helpers shared by the middlewares. */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ErrorAnswer } from "@mcp-oauth/core";
import { setSecurityHeaders } from "./security-headers.js";

/**
 * The path of a request target, without the query: for origin-form (`/x?y`) and for the
 * absolute-form (`http://host/x`, RFC 9112 section 3.2.2) that Node accepts from any client.
 * Used only to find the metadata documents, which are answered, never passed on.
 */
export function pathOf(req: IncomingMessage): string {
  const url = req.url ?? "/";
  if (url.charCodeAt(0) !== 47 /* / */) {
    try {
      return new URL(url).pathname;
    } catch {
      return url;
    }
  }
  const q = url.indexOf("?");
  return q === -1 ? url : url.slice(0, q);
}

/** A CORS preflight: OPTIONS with `Access-Control-Request-Method` (Fetch standard). */
export function isPreflight(req: IncomingMessage): boolean {
  return req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined;
}

/** Writes a refusal: status, challenge, `no-store`, security headers, and the JSON body. */
export function sendAnswer(req: IncomingMessage, res: ServerResponse, answer: ErrorAnswer): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  try {
    res.statusCode = answer.status;
    for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
    setSecurityHeaders(req, res);
  } catch {
    // A header Node refuses must not leave the request hanging or the rejection unhandled.
    res.destroy();
    return;
  }
  res.end(req.method === "HEAD" ? undefined : JSON.stringify(answer.body));
}

/** A JSON error that is not an OAuth refusal (405, 429): same headers, no challenge. */
export function sendJson(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  body: { error: string; error_description: string },
): void {
  sendAnswer(req, res, { status, headers: { "Content-Type": "application/json", "Cache-Control": "no-store" }, body });
}
