/** Outbound requests of the doctor: every one with a timeout, none following redirects silently. */
// @ts-nocheck


export interface HttpAnswer {
  ok: true;
  status: number;
  headers: Headers;
  /** The body as text (empty when not read). */
  body: string;
}

export interface HttpFailure {
  ok: false;
  /** Why no answer came: "connection refused", "timed out after 10000 ms", ... */
  error: string;
}

export type HttpResult = HttpAnswer | HttpFailure;

export interface HttpOptions {
  timeout: number;
  fetch: typeof fetch;
  /** Read the body (metadata documents); otherwise it is discarded unread. */
  readBody?: boolean;
}

const MAX_BODY = 1_000_000;

function describe(error: unknown, timeout: number): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === "TimeoutError" || e.name === "AbortError") return `timed out after ${timeout} ms`;
  const code = e.cause?.code;
  if (code === "ECONNREFUSED") return "connection refused";
  if (code === "ENOTFOUND") return "host not found";
  if (code === "ECONNRESET") return "connection reset";
  if (code !== undefined) return code;
  return e.cause?.message ?? e.message ?? String(error);
}

export async function httpRequest(url: string, init: RequestInit, options: HttpOptions): Promise<HttpResult> {
  let response: Response;
  try {
    response = await options.fetch(url, { redirect: "manual", ...init, signal: AbortSignal.timeout(options.timeout) });
  } catch (error) {
    return { ok: false, error: describe(error, options.timeout) };
  }
  let body = "";
  if (options.readBody) {
    try {
      body = await response.text();
      if (body.length > MAX_BODY) body = body.slice(0, MAX_BODY);
    } catch (error) {
      return { ok: false, error: `reading the answer failed: ${describe(error, options.timeout)}` };
    }
  } else {
    await response.body?.cancel().catch(() => undefined);
  }
  return { ok: true, status: response.status, headers: response.headers, body };
}

/** The body as a JSON object, or why not. */
export function jsonObject(answer: HttpAnswer): { value: Record<string, unknown> } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(answer.body);
  } catch {
    return { error: "not JSON" };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return { error: "not a JSON object" };
  return { value: value as Record<string, unknown> };
}

/** `HTTP 404`, `HTTP 302 to /login`, ... */
export function statusText(answer: HttpAnswer): string {
  const location = answer.status >= 300 && answer.status < 400 ? answer.headers.get("location") : null;
  return location ? `HTTP ${answer.status} (redirect to ${location})` : `HTTP ${answer.status}`;
}

/** Whether a comma-separated header value names `wanted` (case-insensitive). */
export function headerListIncludes(value: string | null, wanted: string): boolean {
  if (value === null) return false;
  return value.split(",").some((v) => v.trim().toLowerCase() === wanted.toLowerCase());
}
