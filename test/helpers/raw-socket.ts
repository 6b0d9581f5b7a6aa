/**
 * One HTTP/1.1 request written byte for byte over a fresh TCP connection: for request
 * targets no HTTP client sends (absolute-form `POST http://host/mcp`, dot segments,
 * percent-encoded letters). The connection is closed after the answer.
 */
import { connect } from "node:net";

export interface RawSocketResponse {
  status: number;
  /** Header names lower-cased; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: string;
}

export function rawSocketRequest(
  port: number,
  method: string,
  target: string,
  options: {
    headers?: Record<string, string>;
    /** Header lines sent after `headers`, in order: a name may repeat (`Authorization` twice). */
    extraHeaderLines?: readonly (readonly [string, string])[];
    body?: string | Uint8Array;
  } = {},
): Promise<RawSocketResponse> {
  // A string is sent as UTF-8; bytes (a compressed body, another charset) as they are.
  const body = Buffer.from(options.body ?? "");
  const headers: Record<string, string> = {
    Host: `127.0.0.1:${port}`,
    Connection: "close",
    ...((body.length > 0 || method === "POST") && options.headers?.["Transfer-Encoding"] === undefined
      ? { "Content-Length": String(body.length) }
      : {}),
    ...options.headers,
  };
  const head = `${method} ${target} HTTP/1.1\r\n${[...Object.entries(headers), ...(options.extraHeaderLines ?? [])]
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join("")}\r\n`;
  return new Promise((resolve, reject) => {
    // Not half-closed: a server may drop a request whose client ended its side early.
    const socket = connect(port, "127.0.0.1", () => socket.write(Buffer.concat([Buffer.from(head), body])));
    let raw = Buffer.alloc(0);
    let settled = false;
    const finish = (error?: Error): void => {
      if (settled) return;
      const parsed = error ? undefined : parse(raw, true, method);
      settled = true;
      socket.destroy();
      if (parsed) resolve(parsed);
      else
        reject(
          error ??
            new Error(
              `incomplete answer to ${method} ${target}: ${JSON.stringify(raw.toString("utf8").slice(0, 200))}`,
            ),
        );
    };
    socket.setTimeout(10_000, () => finish(new Error(`no answer to ${method} ${target}`)));
    socket.on("data", (chunk: Buffer) => {
      raw = Buffer.concat([raw, chunk]);
      // Answer as soon as it is complete: a stream (SSE) or a kept-alive connection would
      // otherwise hold the test until the server closes it.
      if (parse(raw, false, method) !== undefined) finish();
    });
    socket.on("error", (error) => finish(error));
    socket.on("close", () => finish());
  });
}

/** The answer in `raw`, or undefined while it is incomplete (`closed`: nothing more will come). */
function parse(raw: Buffer, closed: boolean, method: string): RawSocketResponse | undefined {
  const split = raw.indexOf("\r\n\r\n");
  if (split === -1) return undefined;
  const [statusLine, ...lines] = raw.subarray(0, split).toString("latin1").split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  const status = Number(statusLine!.split(" ")[1]);
  const rest = raw.subarray(split + 4);
  // An answer to HEAD has no body, whatever its Content-Length says (RFC 9110 section 9.3.2).
  if (method === "HEAD" || headers["content-type"]?.startsWith("text/event-stream"))
    return { status, headers, body: "" };
  if (headers["content-length"] !== undefined) {
    const length = Number(headers["content-length"]);
    return rest.length >= length ? { status, headers, body: rest.subarray(0, length).toString("utf8") } : undefined;
  }
  if (headers["transfer-encoding"]?.includes("chunked")) {
    const body = unchunk(rest);
    return body !== undefined ? { status, headers, body } : undefined;
  }
  return closed ? { status, headers, body: rest.toString("utf8") } : undefined;
}

/** A chunked body, or undefined until its last chunk arrived. */
function unchunk(data: Buffer): string | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf("\r\n", at);
    if (lineEnd === -1) return undefined;
    const size = parseInt(data.subarray(at, lineEnd).toString("latin1"), 16);
    if (!Number.isFinite(size)) return undefined;
    if (size === 0) return Buffer.concat(parts).toString("utf8");
    if (data.length < lineEnd + 2 + size + 2) return undefined;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}
