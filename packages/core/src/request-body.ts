/**
 * How a request body is read for the scope policy, so that what is judged is what the host
 * runs: a reader that disagrees with the host's (a charset, a content coding, a media type
 * one side takes for JSON and the other not) lets one message be judged and another run.
 *
 * - JSON is UTF-8 (RFC 8259 section 8.1). A body in any other charset (body-parser and the
 *   MCP SDK's SSE transport decode `charset=utf-7`, `utf-16le`, ... through iconv-lite), or
 *   with a Content-Encoding (body-parser inflates gzip, deflate and br), is refused with 415
 *   `unsupported_media_type` before anything is decided, never judged as other bytes.
 * - A media type that is not JSON but mentions it (`text/plain; x=application/json`) is
 *   refused too: MCP SDK versions before 1.2x took any Content-Type containing
 *   `application/json` for JSON and read the body themselves.
 * - One leading UTF-8 BOM is dropped, as every host reader does (WHATWG TextDecoder,
 *   iconv-lite, body-parser); bytes that are not UTF-8 are refused (`body_invalid`).
 * - Duplicate keys: `JSON.parse` keeps the last one, as body-parser and the MCP SDK do;
 *   adapters hand the host the parsed value (or its re-serialization), so both sides read
 *   the same message whatever the parser.
 */
import { McpOAuthError } from "./errors.js";

function header(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** The media type of a Content-Type value (`type/subtype`, lower case) and its parameters. */
function parseContentType(value: string): { essence: string; parameters: [string, string][] } {
  const [essence = "", ...rest] = value.split(";");
  const parameters = rest.map((parameter): [string, string] => {
    const eq = parameter.indexOf("=");
    const name = (eq === -1 ? parameter : parameter.slice(0, eq)).trim().toLowerCase();
    // Without "=", the value is the name itself: never a charset anybody accepts.
    let raw = parameter.slice(eq + 1).trim();
    if (raw.startsWith('"') && raw.endsWith('"')) raw = raw.slice(1, -1);
    return [name, raw.toLowerCase()];
  });
  return { essence: essence.trim().toLowerCase(), parameters };
}

const JSON_ESSENCE = /^application\/(?:[a-z0-9!#$&^_.+-]+\+)?json$/;

/**
 * Whether a body of this Content-Type is a JSON message to judge: `application/json` or
 * `application/*+json`. No Content-Type, or another media type, is no MCP message (every
 * host reader refuses it as one). Throws `unsupported_media_type` for a media type that is
 * not JSON but mentions it.
 */
export function isJsonMediaType(contentType: unknown): boolean {
  const value = header(contentType);
  // An empty or blank value has the essence "": neither JSON nor a mention of it.
  if (value === undefined) return false;
  if (JSON_ESSENCE.test(parseContentType(value).essence)) return true;
  if (/json/i.test(value)) throw new McpOAuthError("unsupported_media_type", "media type only mentions JSON");
  return false;
}

/**
 * Throws `unsupported_media_type` unless the body is plain UTF-8: no charset parameter, or
 * `utf-8` (any letter case, quoted or not, `utf8` too), and no Content-Encoding other than
 * `identity`.
 */
export function assertPlainUtf8(contentType: unknown, contentEncoding: unknown): void {
  const encoding = header(contentEncoding)?.trim().toLowerCase();
  if (contentEncoding !== undefined && encoding !== "" && encoding !== "identity")
    throw new McpOAuthError("unsupported_media_type", "content coding the library does not read");
  const value = header(contentType);
  if (value === undefined) return;
  for (const [name, charset] of parseContentType(value).parameters) {
    if (name === "charset" && charset !== "utf-8" && charset !== "utf8")
      throw new McpOAuthError("unsupported_media_type", "charset other than UTF-8");
  }
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** JSON text a body parser already decoded, read as the host would: `JSON.parse`. Throws `body_invalid`. */
export function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new McpOAuthError("body_invalid", "body is not JSON", { cause: error });
  }
}

/** A JSON body from its bytes: UTF-8, one leading BOM dropped (by the decoder). Throws `body_invalid`. */
export function parseJsonBody(raw: Uint8Array): unknown {
  let text: string;
  try {
    text = UTF8.decode(raw);
  } catch (error) {
    throw new McpOAuthError("body_invalid", "body is not UTF-8", { cause: error });
  }
  return parseJsonText(text);
}

/** Largest JSON body read for the scope policy by default: the MCP SDK's own limit for Streamable HTTP. */
export const DEFAULT_BODY_LIMIT_BYTES = 4 * 1024 * 1024;

/**
 * Largest form body read, before authentication, only to refuse a token in it (RFC 6750
 * section 2.2). MCP messages are JSON, so a form body here is no MCP request: a small bound
 * keeps an unauthenticated client from making the server buffer megabytes.
 */
export const FORM_BODY_LIMIT_BYTES = 64 * 1024;

/** Whether the media type is `application/x-www-form-urlencoded`, the only body a token may hide in. */
export function isFormMediaType(contentType: unknown): boolean {
  const value = header(contentType);
  if (value === undefined) return false;
  // Asked on every authenticated request (requireBearer): no allocation for the usual
  // `application/json`, whose length alone rules it out.
  const semicolon = value.indexOf(";");
  const essence = (semicolon === -1 ? value : value.slice(0, semicolon)).trim();
  return essence.length === FORM_ESSENCE.length && essence.toLowerCase() === FORM_ESSENCE;
}

const FORM_ESSENCE = "application/x-www-form-urlencoded";

/**
 * Whether a form body is read before authentication, so that a token in it can be refused:
 * only when there is something to authenticate (an Authorization header); without one the
 * answer is 401 whatever the body holds.
 */
export function readsFormBody(authorization: unknown, contentType: unknown): boolean {
  return authorization !== undefined && authorization !== null && isFormMediaType(contentType);
}
