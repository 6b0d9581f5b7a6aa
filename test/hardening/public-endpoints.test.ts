/**
 * Protection of what the library serves itself: optional rate limiting of the public
 * metadata document (express-rate-limit), helmet's security headers and `no-store` on every
 * answer the library writes, and the body size limit of the scope policy (413, never a hang).
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { connect } from "node:net";
import { ERROR_RESPONSES } from "@mcp-oauth/core";
import { startTestAuthorizationServer, type TestAuthorizationServer } from "../helpers/authorization-server.js";
import { nowSeconds } from "../helpers/jwt.js";
import { protectedApp, sleep, within, type ProtectedApp } from "./support.js";

const RESOURCE = "http://127.0.0.1:4444/mcp";
const METADATA = "/.well-known/oauth-protected-resource/mcp";
const ROOT_METADATA = "/.well-known/oauth-protected-resource";

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One request on a fresh connection, optionally from another loopback address (another client). */
function send(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer; from?: string } = {},
): Promise<Answer> {
  return within(
    new Promise((resolve, reject) => {
      const req = httpRequest(
        url,
        {
          method: options.method ?? "GET",
          headers: options.headers ?? {},
          agent: false,
          ...(options.from ? { localAddress: options.from } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString("utf8"),
            }),
          );
          res.on("error", reject);
        },
      );
      // The server may answer 413 and stop reading before a large body is fully sent.
      req.on("error", (error: NodeJS.ErrnoException) => {
        if (error.code !== "EPIPE" && error.code !== "ECONNRESET") reject(error);
      });
      req.end(options.body);
    }),
    10_000,
    `${options.method ?? "GET"} ${url}`,
  );
}

/** Sends raw bytes and resolves with the first complete response, without waiting for the connection to end. */
function socketExchange(port: number, bytes: Buffer): Promise<Answer> {
  return within(
    new Promise((resolve, reject) => {
      const socket = connect(port, "127.0.0.1");
      let received = Buffer.alloc(0);
      socket.on("error", reject);
      socket.on("data", (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        const text = received.toString("latin1");
        const split = text.indexOf("\r\n\r\n");
        if (split === -1) return;
        const [statusLine, ...lines] = text.slice(0, split).split("\r\n");
        const headers: IncomingHttpHeaders = {};
        for (const line of lines)
          headers[line.slice(0, line.indexOf(":")).toLowerCase()] = line.slice(line.indexOf(":") + 1).trim();
        const length = Number(headers["content-length"] ?? 0);
        if (received.length - split - 4 < length) return;
        socket.destroy();
        resolve({
          status: Number(statusLine!.split(" ")[1]),
          headers,
          body: text.slice(split + 4, split + 4 + length),
        });
      });
      socket.write(bytes);
    }),
    10_000,
    "raw request",
  );
}

let as: TestAuthorizationServer;
beforeAll(async () => {
  as = await startTestAuthorizationServer();
});
afterAll(() => as?.close());

describe("rate limiting of the metadata document", () => {
  let app: ProtectedApp;
  beforeAll(async () => {
    app = await protectedApp({
      resource: RESOURCE,
      authorizationServers: [as.issuer],
      protectedResourceMetadata: { rateLimit: { limit: 3, windowMs: 60_000 } },
    });
  });
  afterAll(() => app?.close());

  it("serves the limit with RateLimit headers, then answers 429 in JSON to that client only", async () => {
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await send(`${app.url}${METADATA}`);
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body).resource).toBe(RESOURCE);
      // draft-8 RateLimit and RateLimit-Policy headers (IETF httpapi-ratelimit-headers).
      expect(res.headers["ratelimit-policy"]).toMatch(/q=3\b/);
      remaining.push(/\br=(\d+)/.exec(res.headers["ratelimit"] as string)?.[1] ?? "none");
    }
    expect(remaining).toEqual(["2", "1", "0"]);

    for (const path of [METADATA, ROOT_METADATA]) {
      const limited = await send(`${app.url}${path}`);
      expect(limited.status).toBe(429);
      expect(limited.headers["content-type"]).toMatch(/^application\/json(;|$)/);
      expect(limited.headers["cache-control"]).toBe("no-store");
      expect(Number(limited.headers["retry-after"])).toBeGreaterThan(0);
      expect(limited.headers["ratelimit"]).toMatch(/\br=0\b/);
      expect(JSON.parse(limited.body)).toEqual({ error: "too_many_requests", error_description: expect.any(String) });
      expect(limited.body).not.toContain("resource");
    }

    // Another client (another loopback address) is not affected.
    const other = await send(`${app.url}${METADATA}`, { from: "127.0.0.2" });
    expect(other.status).toBe(200);
    expect(other.headers["ratelimit"]).toMatch(/\br=2\b/);
    // Nor are the other paths for the limited client: they are challenged, not limited.
    for (const path of ["/mcp", "/elsewhere"]) {
      const res = await send(`${app.url}${path}`);
      expect(res.status).toBe(401);
      expect(res.headers["ratelimit"]).toBeUndefined();
    }
  });

  it("counts per window: the client is served again once the window ends", async () => {
    const short = await protectedApp({
      resource: RESOURCE,
      authorizationServers: [as.issuer],
      protectedResourceMetadata: { rateLimit: { limit: 1, windowMs: 300 } },
    });
    try {
      expect((await send(`${short.url}${METADATA}`)).status).toBe(200);
      expect((await send(`${short.url}${METADATA}`)).status).toBe(429);
      await sleep(400);
      expect((await send(`${short.url}${METADATA}`)).status).toBe(200);
    } finally {
      await short.close();
    }
  });

  it("is off by default", async () => {
    const open = await protectedApp({ resource: RESOURCE, authorizationServers: [as.issuer] });
    try {
      const answers = await Promise.all(Array.from({ length: 80 }, () => send(`${open.url}${METADATA}`)));
      expect(answers.map((a) => a.status)).toEqual(Array(80).fill(200));
      expect(answers[0]!.headers["ratelimit"]).toBeUndefined();
    } finally {
      await open.close();
    }
  });
});

describe("security headers on every response the library writes", () => {
  let app: ProtectedApp;
  let down: ProtectedApp;
  let limited: ProtectedApp;
  const call = (name: string): string =>
    JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name, arguments: {} } });
  const json = { "content-type": "application/json" };

  beforeAll(async () => {
    const options = {
      resource: RESOURCE,
      authorizationServers: [as.issuer],
      scopes: ["mcp:read"],
      scopePolicy: { tools: { write_note: ["mcp:write"] } },
    };
    app = await protectedApp({ ...options, requireScopes: { bodyLimit: 1024 } });
    // Nothing listens on port 9: the key set cannot be read.
    down = await protectedApp({ ...options, authorizationServers: ["http://127.0.0.1:9"], timeoutMs: 300 });
    limited = await protectedApp({
      ...options,
      protectedResourceMetadata: { rateLimit: { limit: 1, windowMs: 60_000 } },
    });
  });
  afterAll(async () => {
    await Promise.all([app?.close(), down?.close(), limited?.close()]);
  });

  const bearer = (claims: Record<string, unknown> = {}): Record<string, string> => ({
    authorization: `Bearer ${as.mint(RESOURCE, claims)}`,
  });
  const cases: [string, () => Promise<Answer>, number, string | undefined][] = [
    ["401 without a token", () => send(`${app.url}/mcp`), 401, "unauthorized"],
    ["401 without a token, HEAD", () => send(`${app.url}/mcp`, { method: "HEAD" }), 401, undefined],
    [
      "401 invalid_token",
      () => send(`${app.url}/mcp`, { headers: bearer({ exp: nowSeconds() - 3600, iat: nowSeconds() - 7200 }) }),
      401,
      "invalid_token",
    ],
    [
      "403 insufficient_scope",
      () => send(`${app.url}/mcp`, { method: "POST", headers: { ...bearer(), ...json }, body: call("write_note") }),
      403,
      "insufficient_scope",
    ],
    [
      "403 for a disallowed Origin",
      () => send(`${app.url}/mcp`, { headers: { ...bearer(), origin: "https://evil.example" } }),
      403,
      "access_denied",
    ],
    [
      "400 for a malformed Authorization header",
      () => send(`${app.url}/mcp`, { headers: { authorization: "Bearer" } }),
      400,
      "invalid_request",
    ],
    [
      "400 for a body that is not JSON",
      () => send(`${app.url}/mcp`, { method: "POST", headers: { ...bearer(), ...json }, body: "{not json" }),
      400,
      "invalid_request",
    ],
    ["405 on the metadata document", () => send(`${app.url}${METADATA}`, { method: "POST" }), 405, "invalid_request"],
    [
      "413 for a body over the limit",
      () => send(`${app.url}/mcp`, { method: "POST", headers: { ...bearer(), ...json }, body: call("x".repeat(2000)) }),
      413,
      "invalid_request",
    ],
    [
      "429 from the rate limit",
      async () => {
        await send(`${limited.url}${METADATA}`);
        return send(`${limited.url}${METADATA}`);
      },
      429,
      "too_many_requests",
    ],
    [
      "503 when the key set is unreachable",
      () =>
        send(`${down.url}/mcp`, {
          headers: { authorization: `Bearer ${as.mint(RESOURCE, { iss: "http://127.0.0.1:9" })}` },
        }),
      503,
      "temporarily_unavailable",
    ],
  ];

  it.each(cases)("%s: nosniff, CSP default-src 'none', no-store, JSON", async (_name, make, status, error) => {
    const res = await make();
    expect(res.status).toBe(status);
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
    const csp = (res.headers["content-security-policy"] as string).split(";").map((d) => d.trim());
    expect(csp).toEqual(expect.arrayContaining(["default-src 'none'", "frame-ancestors 'none'"]));
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(res.headers["content-type"]).toMatch(/^application\/json(;|$)/);
    if (error !== undefined) expect(JSON.parse(res.body)).toEqual({ error, error_description: expect.any(String) });
    else expect(res.body).toBe("");
  });

  it.each([METADATA, ROOT_METADATA])(
    "the metadata document at %s: nosniff and CSP default-src 'none', cacheable",
    async (path) => {
      const res = await send(`${app.url}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers["x-content-type-options"]).toBe("nosniff");
      expect(res.headers["content-security-policy"]).toMatch(/(^|;)\s*default-src 'none'\s*(;|$)/);
      expect(res.headers["cache-control"]).toBe("public, max-age=3600");
    },
  );
});

describe("request size limits", () => {
  let app: ProtectedApp;
  let defaults: ProtectedApp;
  const LIMIT = 1024;
  const options = () => ({
    resource: RESOURCE,
    authorizationServers: [as.issuer],
    scopePolicy: { tools: { write_note: ["mcp:write"] } },
  });
  const token = (): string => as.mint(RESOURCE, { scope: "mcp:read mcp:write" });
  /** A tools/call body of exactly `size` bytes. */
  const bodyOfSize = (size: number): string => {
    const empty = JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { name: "write_note", arguments: { text: "" } },
    });
    return empty.replace('"text":""', `"text":"${"x".repeat(size - empty.length)}"`);
  };
  const tooLarge = { error: "invalid_request", error_description: ERROR_RESPONSES.body_too_large.description };

  beforeAll(async () => {
    app = await protectedApp({ ...options(), requireScopes: { bodyLimit: LIMIT } });
    defaults = await protectedApp(options());
  });
  afterAll(async () => {
    await Promise.all([app?.close(), defaults?.close()]);
  });

  it("reads a body of exactly the limit, and refuses one byte more with 413", async () => {
    const headers = { authorization: `Bearer ${token()}`, "content-type": "application/json" };
    expect(Buffer.byteLength(bodyOfSize(LIMIT))).toBe(LIMIT);
    const atLimit = await send(`${app.url}/mcp`, { method: "POST", headers, body: bodyOfSize(LIMIT) });
    expect(atLimit.status).toBe(200);
    const over = await send(`${app.url}/mcp`, { method: "POST", headers, body: bodyOfSize(LIMIT + 1) });
    expect(over.status).toBe(413);
    expect(JSON.parse(over.body)).toEqual(tooLarge);
  });

  it("refuses a chunked body (no Content-Length) once it passes the limit", async () => {
    const chunk = bodyOfSize(3000);
    const res = await socketExchange(
      app.port,
      Buffer.from(
        `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token()}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n` +
          `${chunk.length.toString(16)}\r\n${chunk}\r\n0\r\n\r\n`,
      ),
    );
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toEqual(tooLarge);
  });

  it("answers a declared 100 MB body at once, without waiting for bytes that never come", async () => {
    const res = await socketExchange(
      app.port,
      Buffer.from(
        `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token()}\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n{"jsonrpc":"2.0",`,
      ),
    );
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toEqual(tooLarge);
  });

  it("holds the default 4 MiB limit for JSON bodies (5 MiB gets 413)", async () => {
    const res = await send(`${defaults.url}/mcp`, {
      method: "POST",
      headers: { authorization: `Bearer ${token()}`, "content-type": "application/json" },
      body: bodyOfSize(5 * 1024 * 1024),
    });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toEqual(tooLarge);
  });

  it("holds the 4 MiB limit for form bodies read to look for a token (5 MiB gets 413, not a hang)", async () => {
    const res = await send(`${defaults.url}/mcp`, {
      method: "POST",
      headers: { authorization: `Bearer ${token()}`, "content-type": "application/x-www-form-urlencoded" },
      body: `a=${"x".repeat(5 * 1024 * 1024)}`,
    });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toEqual(tooLarge);
  });
});
