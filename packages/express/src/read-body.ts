/**
 * Reading a request body for the scope policy when no body parser ran before us. The
 * parsed body is left on `req.body`, and the stream is fully consumed, so body-parser
 * (Express's `express.json()`) later sees it as already parsed and the MCP SDK's
 * transports take it as their `parsedBody`.
 */
import type { IncomingMessage } from "node:http";
import { McpOAuthError } from "@mcp-oauth/core";

/** The MCP SDK's own message size limit for Streamable HTTP. */
export const DEFAULT_BODY_LIMIT = 4 * 1024 * 1024;

/**
 * Largest form body read, before authentication, only to refuse a token in it (RFC 6750
 * section 2.2). MCP messages are JSON, so a form body here is no MCP request: a small bound
 * keeps an unauthenticated client from making the server buffer megabytes.
 */
export const FORM_BODY_LIMIT_BYTES = 64 * 1024;

function readRaw(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > limit) {
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
    req.once("error", (error) => reject(new McpOAuthError("body_invalid", "body could not be read", { cause: error })));
  });
}

function contentType(req: IncomingMessage): string {
  return (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
}

/** Whether the request has a body nobody has read yet. */
function unreadBody(req: IncomingMessage & { body?: unknown }): boolean {
  if (req.body !== undefined || (req.complete && !req.readable)) return false;
  return (
    req.headers["transfer-encoding"] !== undefined ||
    (req.headers["content-length"] !== undefined && req.headers["content-length"] !== "0")
  );
}

/** The JSON body, read and parsed if no parser ran yet; `undefined` for other bodies. */
export async function jsonBody(
  req: IncomingMessage & { body?: unknown },
  limit = DEFAULT_BODY_LIMIT,
): Promise<unknown> {
  if (!unreadBody(req)) return req.body;
  const type = contentType(req);
  if (type !== "application/json" && !type.endsWith("+json")) return undefined;
  const raw = await readRaw(req, limit);
  try {
    req.body = raw.length === 0 ? undefined : JSON.parse(raw.toString("utf8"));
  } catch (error) {
    throw new McpOAuthError("body_invalid", "body is not JSON", { cause: error });
  }
  return req.body;
}

/** A form body, read if no parser ran yet, so a token in it can be refused (RFC 6750 section 2.2). */
export async function formBody(
  req: IncomingMessage & { body?: unknown },
  limit = FORM_BODY_LIMIT_BYTES,
): Promise<void> {
  if (!unreadBody(req) || contentType(req) !== "application/x-www-form-urlencoded") return;
  const raw = await readRaw(req, limit);
  req.body = Object.fromEntries(new URLSearchParams(raw.toString("utf8")));
}
