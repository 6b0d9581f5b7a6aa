/**
 * Reading a request body for the scope policy, by the core's rules (request-body.ts) so
 * that the body judged is the body the host runs:
 * - a body still in the stream is read here, whatever `req.body` holds (body-parser 1.x
 *   leaves `{}` on requests it does not parse, and a host without a parser hands the stream
 *   to the MCP SDK, which reads it itself): the parsed body is left on `req.body` and the
 *   stream is consumed, so body-parser (`express.json()`) after us sees it as parsed and
 *   the MCP SDK's transports take it as their `parsedBody`;
 * - a body a parser in front already read is judged as that parser left it (a string or
 *   bytes from `express.text()` or `express.raw()` as JSON text).
 */
import type { IncomingMessage } from "node:http";
import { McpOAuthError } from "@mcp-oauth/core";
import {
  assertPlainUtf8,
  DEFAULT_BODY_LIMIT_BYTES,
  FORM_BODY_LIMIT_BYTES,
  isFormMediaType,
  isJsonMediaType,
  parseJsonBody,
  parseJsonText,
} from "@mcp-oauth/core/internal";

/** The MCP SDK's own message size limit for Streamable HTTP (the core's default). */
export const DEFAULT_BODY_LIMIT = DEFAULT_BODY_LIMIT_BYTES;
export { FORM_BODY_LIMIT_BYTES };

function readRaw(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // No Content-Length (chunked) is NaN, and a comparison with NaN is false.
    const declared = Number(req.headers["content-length"]);
    if (declared > limit) {
      req.resume();
      reject(new McpOAuthError("body_too_large", "content-length over the limit"));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        req.off("data", onData);
        req.resume();
        reject(new McpOAuthError("body_too_large", "body over the limit"));
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.once("end", () => resolve(Buffer.concat(chunks)));
    // Stryker disable next-line ObjectLiteral: the cause is for a debugger; no answer or event carries it
    req.once("error", (error) => reject(new McpOAuthError("body_invalid", "body could not be read", { cause: error })));
  });
}

/** Whether the request has a body still in its stream (nobody has read it), whatever `req.body` says. */
export function hasUnreadBody(req: IncomingMessage): boolean {
  if (req.readableEnded || (req.complete && !req.readable)) return false;
  return (
    req.headers["transfer-encoding"] !== undefined ||
    (req.headers["content-length"] !== undefined && req.headers["content-length"] !== "0")
  );
}

/** The body a parser in front left on `req.body`, as the policy judges it. */
export function parsedBody(req: IncomingMessage & { body?: unknown }): unknown {
  const body = req.body;
  if (typeof body !== "string" && !(body instanceof Uint8Array)) return body;
  // express.text() or express.raw(): a JSON message only if it says so, and read as JSON.
  if (!isJsonMediaType(req.headers["content-type"])) return undefined;
  if (typeof body === "string") return parseJsonText(body);
  assertPlainUtf8(req.headers["content-type"], undefined);
  return parseJsonBody(body);
}

/**
 * The JSON body still in the stream (`hasUnreadBody`; a body a parser in front left is
 * `parsedBody`'s), read and parsed; `undefined` for bodies that are no JSON message. Throws
 * `unsupported_media_type` (another charset, a Content-Encoding, a media type that only
 * mentions JSON).
 */
export async function jsonBody(
  req: IncomingMessage & { body?: unknown },
  limit = DEFAULT_BODY_LIMIT,
): Promise<unknown> {
  if (!isJsonMediaType(req.headers["content-type"])) return undefined;
  assertPlainUtf8(req.headers["content-type"], req.headers["content-encoding"]);
  const raw = await readRaw(req, limit);
  req.body = raw.length === 0 ? undefined : parseJsonBody(raw);
  return req.body;
}

/** A form body, read if no parser ran yet, so a token in it can be refused (RFC 6750 section 2.2). */
export async function formBody(
  req: IncomingMessage & { body?: unknown },
  limit = FORM_BODY_LIMIT_BYTES,
): Promise<void> {
  if (!hasUnreadBody(req) || !isFormMediaType(req.headers["content-type"])) return;
  const raw = await readRaw(req, limit);
  req.body = Object.fromEntries(new URLSearchParams(raw.toString("utf8")));
}
