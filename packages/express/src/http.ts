/** Small `node:http` helpers shared by the middlewares. */
import type { IncomingMessage, ServerResponse } from "node:http";
import { McpOAuthError, type ErrorAnswer, type ResourceServer } from "@mcp-oauth/core";
import { answerFor, isCorsPreflight } from "@mcp-oauth/core/internal";
import { setSecurityHeaders } from "./security-headers.js";
import type { NextFunction } from "./types.js";

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

/** A CORS preflight, as the core defines it (`isCorsPreflight`). */
export function isPreflight(req: IncomingMessage): boolean {
  return isCorsPreflight(req.method, req.headers.origin, req.headers["access-control-request-method"]);
}

/**
 * Writes a refusal: status, challenge, `no-store`, security headers, and the JSON body.
 * Never throws: once headers are out, the connection is closed instead (an answer already
 * complete is left alone).
 */
export function sendAnswer(req: IncomingMessage, res: ServerResponse, answer: ErrorAnswer): void {
  if (res.writableEnded) return;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  try {
    res.statusCode = answer.status;
    for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
    setSecurityHeaders(req, res);
    res.end(req.method === "HEAD" ? undefined : JSON.stringify(answer.body));
  } catch {
    // A header Node refuses must not leave the request hanging or the rejection unhandled.
    res.destroy();
  }
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

// Built once: the answer of last resort must not depend on anything that could throw.
const INTERNAL_ERROR: ErrorAnswer = answerFor(new McpOAuthError("internal_error", "internal error"), {
  resourceMetadataUrl: "",
  requiredScopes: [],
  retryAfterSeconds: 0,
});

/** 500 `server_error` with the library's body: a bug, a part that threw, a request without a verdict. */
export function sendInternalError(req: IncomingMessage, res: ServerResponse): void {
  sendAnswer(req, res, INTERNAL_ERROR);
}

/**
 * A refusal from a check: the resource server's answer to `error` (the table; an
 * unforeseen error while checking a token is 503). If building that answer throws, 500.
 */
export function sendRefusal(server: ResourceServer, req: IncomingMessage, res: ServerResponse, error: unknown): void {
  let answer: ErrorAnswer;
  try {
    // The request tells which scheme's challenge carries the error when DPoP is on.
    answer = server.answer(error, req);
  } catch {
    answer = INTERNAL_ERROR;
  }
  sendAnswer(req, res, answer);
}

/**
 * Any failure, for adapters (the mcp-framework bridge): an `McpOAuthError` answered as the
 * table says, anything else (a bug, a throwing hook or listener) 500 `server_error`.
 * Never throws.
 */
export function sendFailure(server: ResourceServer, req: IncomingMessage, res: ServerResponse, error: unknown): void {
  if (error instanceof McpOAuthError) sendRefusal(server, req, res, error);
  else sendInternalError(req, res);
}

/**
 * Calls `next` from a callback of ours (a settled promise): a throw there would otherwise be
 * an unhandled rejection, so it is answered (500, or the connection closed once headers are out).
 */
export function nextFromCallback(req: IncomingMessage, res: ServerResponse, next: NextFunction): void {
  try {
    next();
  } catch {
    sendInternalError(req, res);
  }
}
