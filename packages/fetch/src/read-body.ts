/**
 * Reading a Fetch `Request` body once, up to a limit, so that the bytes judged are the bytes
 * the application gets back (`rebuilt`). The limits and what to do with the bytes are the
 * core's (request-body.ts); this is only the web-standard stream reading.
 */
import { McpOAuthError } from "@mcp-oauth/core";

/** The body's bytes; `body_too_large` past `limitBytes` (declared or counted), `body_invalid` if the stream fails. */
export async function readBytes(request: Request, limitBytes: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limitBytes) {
    await request.body?.cancel().catch(() => undefined);
    throw new McpOAuthError("body_too_large", "content-length over the limit");
  }
  const body = request.body;
  if (body === null) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limitBytes) {
        await reader.cancel().catch(() => undefined);
        throw new McpOAuthError("body_too_large", "body over the limit");
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof McpOAuthError) throw error;
    throw new McpOAuthError("body_invalid", "body could not be read", { cause: error });
  }
  if (chunks.length === 1) return chunks[0]!;
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** The same request with its body replaced by `bytes` (already read): readable once more by the application. */
export function rebuilt(request: Request, bytes: Uint8Array): Request {
  return new Request(request, { body: bytes });
}
