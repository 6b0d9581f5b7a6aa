/**
 * Bounded outbound HTTP: every call to an authorization server (metadata, key set,
 * introspection) goes through `fetchJson`, so each one has
 * - one total deadline (`AbortSignal.timeout`) over connect, headers and the whole body.
 *   A socket idle timeout is not one: a server sending a byte every 400 ms never goes idle
 *   and would hold the request, and every request joined to it, indefinitely;
 * - a limit on the answer's size, checked against `Content-Length` and counted while
 *   reading (after decompression), so an endless or huge answer is cut off, not buffered;
 * - no redirect followed (`redirect: "manual"`): a 3xx is a failure. Following one would
 *   re-send the token and our client credentials (RFC 7662 section 2.1) to whatever origin
 *   the answer names, and take that origin's `{"active": true}` as the verdict.
 *
 * Node's own `fetch` (undici) does the HTTP; it aborts the body stream on the signal.
 */

/** Why an outbound call failed, in words safe to log and to put in an event. */
export class OutboundError extends Error {
  override readonly name = "OutboundError";
  /** `timed out`, `unreachable`, `HTTP 500`, `HTTP 307 (redirects are not followed)`, ... */
  readonly reason: string;

  constructor(reason: string, cause?: unknown) {
    super(reason, cause === undefined ? undefined : { cause });
    this.reason = reason;
  }
}

export interface OutboundRequest {
  method?: "GET" | "POST";
  headers?: Readonly<Record<string, string>>;
  body?: string;
  /** Total deadline of the call, connect to last byte, in ms. */
  timeoutMs: number;
  /** Largest answer body read, in bytes. */
  maxResponseBytes: number;
  /** Replaces the global `fetch` (tests of misbehaving servers). */
  fetch?: typeof fetch | undefined;
}

/** The JSON body of a 2xx answer to `url`. Throws `OutboundError` for anything else. */
export async function fetchJson(url: string, request: OutboundRequest): Promise<unknown> {
  const signal = AbortSignal.timeout(request.timeoutMs);
  const doFetch = request.fetch ?? globalThis.fetch;
  let response: Response;
  try {
    response = await doFetch(url, {
      method: request.method ?? "GET",
      headers: { accept: "application/json", ...request.headers },
      body: request.body ?? null,
      redirect: "manual",
      signal,
    });
  } catch (error) {
    throw failure(error, signal);
  }
  if (response.status >= 300 && response.status < 400) {
    await discard(response);
    throw new OutboundError(`HTTP ${response.status} (redirects are not followed)`);
  }
  if (!response.ok) {
    await discard(response);
    throw new OutboundError(`HTTP ${response.status}`);
  }
  // No header reads as 0 and NaN is never larger: the count while reading still applies.
  const declared = Number(response.headers.get("content-length"));
  if (declared > request.maxResponseBytes) {
    await discard(response);
    throw tooLarge(request.maxResponseBytes);
  }
  const text = await readText(response, request.maxResponseBytes, signal);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new OutboundError("answer is not JSON", error);
  }
}

async function readText(response: Response, maxBytes: number, signal: AbortSignal): Promise<string> {
  if (response.body === null) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        // Stryker disable next-line ArrowFunction: `() => undefined` is the same no-op
        await reader.cancel().catch(() => {});
        throw tooLarge(maxBytes);
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof OutboundError) throw error;
    throw failure(error, signal);
  }
  return Buffer.concat(chunks, total).toString("utf8");
}

const tooLarge = (maxBytes: number): OutboundError => new OutboundError(`answer larger than ${maxBytes} bytes`);

function failure(error: unknown, signal: AbortSignal): OutboundError {
  if (signal.aborted) return new OutboundError("timed out", error);
  return new OutboundError("unreachable", error);
}

async function discard(response: Response): Promise<void> {
  // Stryker disable next-line ArrowFunction: `() => undefined` is the same no-op
  await response.body?.cancel().catch(() => {});
}
