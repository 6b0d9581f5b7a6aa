/**
 * `fetchJson`, the one way out to an authorization server: what it sends, and the reason it
 * gives for every way an answer can fail (the reason is what `upstream_error` events carry).
 * A stub server plays the misbehaving authorization server; the end-to-end answers (503 with
 * Retry-After) are test/hardening/faults.test.ts's.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { fetchJson, OutboundError, type OutboundRequest } from "../src/outbound.js";
import { json, startStubServer, type StubServer } from "../../../test/helpers/stub-server.js";

const LIMIT = 1024;

let stub: StubServer;
let closedPort: number;
let counter = 0;
/** A path of its own for each case, so handlers and hit counts never mix. */
const freshPath = (): string => `/case-${++counter}`;

beforeAll(async () => {
  stub = await startStubServer();
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", () => resolve()));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
});
afterAll(() => stub.close());

/** `fetchJson` against a fresh path of the stub answered by `handler`. */
function call(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  request: Partial<OutboundRequest> = {},
): Promise<unknown> {
  const path = freshPath();
  stub.handle(path, handler);
  return fetchJson(`${stub.url}${path}`, { timeoutMs: 5000, maxResponseBytes: LIMIT, ...request });
}

/** The failure's `OutboundError`; anything else (a TypeError, a success) fails the test. */
async function failureOf(pending: Promise<unknown>): Promise<OutboundError> {
  const outcome = await pending.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!("error" in outcome)) throw new Error(`expected a failure, got ${JSON.stringify(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(OutboundError);
  return outcome.error as OutboundError;
}

const reasonOf = async (pending: Promise<unknown>): Promise<string> => (await failureOf(pending)).reason;

/** A JSON document of exactly `bytes` bytes. */
const documentOf = (bytes: number): string => JSON.stringify({ pad: "x".repeat(bytes - 10) });

interface Seen {
  method: string | undefined;
  headers: IncomingMessage["headers"];
  body: string;
}

/** Records the request, then answers `{"ok":true}`. */
function recorder(): { seen: Promise<Seen>; handler: (req: IncomingMessage, res: ServerResponse) => void } {
  let resolve!: (seen: Seen) => void;
  const seen = new Promise<Seen>((r) => (resolve = r));
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      resolve({ method: req.method, headers: req.headers, body });
      json({ ok: true })(req, res);
    });
  };
  return { seen, handler };
}

describe("what is sent", () => {
  it("GETs with Accept: application/json and no body by default, and returns the parsed answer", async () => {
    const { seen, handler } = recorder();
    await expect(call(handler)).resolves.toEqual({ ok: true });
    const request = await seen;
    expect(request.method).toBe("GET");
    expect(request.headers["accept"]).toBe("application/json");
    expect(request.headers["content-length"]).toBeUndefined();
    expect(request.headers["transfer-encoding"]).toBeUndefined();
    expect(request.body).toBe("");
  });

  it("POSTs the body with the caller's headers, still asking for JSON", async () => {
    const { seen, handler } = recorder();
    await call(handler, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", authorization: "Basic Y2xpZW50OnNlY3JldA==" },
      body: "token=abc&token_type_hint=access_token",
    });
    const request = await seen;
    expect(request.method).toBe("POST");
    expect(request.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(request.headers["authorization"]).toBe("Basic Y2xpZW50OnNlY3JldA==");
    expect(request.headers["accept"]).toBe("application/json");
    expect(request.body).toBe("token=abc&token_type_hint=access_token");
  });

  it("uses the fetch it is given, never following redirects and always with a deadline", async () => {
    const calls: [string, RequestInit | undefined][] = [];
    const fake: typeof fetch = (input, init) => {
      calls.push([String(input), init]);
      return Promise.resolve(new Response('{"from":"fake"}', { status: 200 }));
    };
    // Nothing listens at closedPort: only the given fetch can answer.
    const url = `http://127.0.0.1:${closedPort}/jwks`;
    await expect(fetchJson(url, { timeoutMs: 5000, maxResponseBytes: LIMIT, fetch: fake })).resolves.toEqual({
      from: "fake",
    });
    expect(calls).toHaveLength(1);
    const [calledUrl, init] = calls[0]!;
    expect(calledUrl).toBe(url);
    expect(init?.redirect).toBe("manual");
    expect(init?.signal).toBeInstanceOf(AbortSignal);
    expect(init?.signal?.aborted).toBe(false);
  });
});

describe("the answer", () => {
  it("is any 2xx with a JSON body", async () => {
    await expect(call(json({ created: true }, 201))).resolves.toEqual({ created: true });
    await expect(call(json([1, "two"]))).resolves.toEqual([1, "two"]);
  });

  it.each([300, 301, 302, 303, 304, 307, 308, 399])(
    "%i is a failure, and the place it points to is never asked",
    async (status) => {
      const target = freshPath();
      stub.handle(target, json({ active: true }));
      const reason = await reasonOf(
        call((_req, res) => {
          res.statusCode = status;
          res.setHeader("location", `${stub.url}${target}`);
          // 304 has no body by definition: the answer's body is null, and still discarded safely.
          res.end(status === 304 ? undefined : '{"active":true}');
        }),
      );
      expect(reason).toBe(`HTTP ${status} (redirects are not followed)`);
      expect(stub.hits.get(target)).toBeUndefined();
    },
  );

  it.each([400, 401, 404, 500, 503])("%i is a failure named by its status", async (status) => {
    const error = await failureOf(call(json({ error: "server_error" }, status)));
    expect(error.reason).toBe(`HTTP ${status}`);
    // Nothing underneath to point to: no cause.
    expect("cause" in error).toBe(false);
  });

  it("204 (no body at all) is not JSON", async () => {
    const reason = await reasonOf(
      call((_req, res) => {
        res.statusCode = 204;
        res.end();
      }),
    );
    expect(reason).toBe("answer is not JSON");
  });

  it("an HTML page with 200 is not JSON, with the parser's error as the cause", async () => {
    const error = await failureOf(
      call((_req, res) => {
        res.setHeader("content-type", "text/html");
        res.end("<!doctype html><title>Sign in</title>");
      }),
    );
    expect(error.reason).toBe("answer is not JSON");
    expect(error.cause).toBeInstanceOf(SyntaxError);
  });
});

describe("the size limit", () => {
  it("accepts an answer of exactly the limit, declared or not", async () => {
    const document = documentOf(LIMIT);
    expect(Buffer.byteLength(document)).toBe(LIMIT);
    // One end(): Node declares Content-Length.
    await expect(call((_req, res) => res.end(document))).resolves.toEqual(JSON.parse(document));
    // Two writes: chunked, no Content-Length; only the count while reading applies.
    await expect(
      call((_req, res) => {
        res.write(document.slice(0, 100));
        res.end(document.slice(100));
      }),
    ).resolves.toEqual(JSON.parse(document));
  });

  it("refuses one byte more, declared or not", async () => {
    const document = documentOf(LIMIT + 1);
    expect(await reasonOf(call((_req, res) => res.end(document)))).toBe(`answer larger than ${LIMIT} bytes`);
    expect(
      await reasonOf(
        call((_req, res) => {
          res.write(document.slice(0, 100));
          res.end(document.slice(100));
        }),
      ),
    ).toBe(`answer larger than ${LIMIT} bytes`);
  });

  it("refuses a declared Content-Length over the limit at once, without waiting for the body", async () => {
    // The body never comes: only the declared length can end this call before its deadline.
    const reason = await reasonOf(
      call(
        (_req, res) => {
          res.setHeader("content-length", String(10 * 1024 * 1024));
          res.setHeader("content-type", "application/json");
          res.write('{"keys": [');
        },
        { timeoutMs: 20_000 },
      ),
    );
    expect(reason).toBe(`answer larger than ${LIMIT} bytes`);
  });

  it("cuts off an endless answer", async () => {
    const reason = await reasonOf(
      call((_req, res) => {
        res.setHeader("content-type", "application/json");
        const timer = setInterval(() => res.write("x".repeat(512)), 5);
        res.on("close", () => clearInterval(timer));
      }),
    );
    expect(reason).toBe(`answer larger than ${LIMIT} bytes`);
  });
});

describe("a refused answer's body", () => {
  /** A fetch answering with an endless body that records whether it was cancelled. */
  function endless(
    status: number,
    headers: Record<string, string> = {},
  ): { fetch: typeof fetch; cancelled: () => boolean } {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      pull: (controller) => controller.enqueue(new Uint8Array(512).fill(0x20)),
      cancel: () => {
        cancelled = true;
      },
    });
    return {
      fetch: () => Promise.resolve(new Response(body, { status, headers })),
      cancelled: () => cancelled,
    };
  }

  // Dropped, not left to the deadline: an unread body holds its connection until then.
  it.each<[string, number, Record<string, string>, string]>([
    ["a redirect", 302, { location: "https://elsewhere.example/" }, "HTTP 302 (redirects are not followed)"],
    ["an error status", 500, {}, "HTTP 500"],
    [
      "a declared length over the limit",
      200,
      { "content-length": String(LIMIT + 1) },
      `answer larger than ${LIMIT} bytes`,
    ],
    ["a body over the limit", 200, {}, `answer larger than ${LIMIT} bytes`],
  ])("is cancelled before the failure is reported: %s", async (_label, status, headers, expected) => {
    const answer = endless(status, headers);
    const reason = await reasonOf(
      fetchJson(`http://127.0.0.1:${closedPort}/jwks`, {
        timeoutMs: 120_000,
        maxResponseBytes: LIMIT,
        fetch: answer.fetch,
      }),
    );
    expect(reason).toBe(expected);
    expect(answer.cancelled()).toBe(true);
  });
});

describe("the deadline and the network", () => {
  it("times out an answer that never comes", async () => {
    const error = await failureOf(call(() => {}, { timeoutMs: 200 }));
    expect(error.reason).toBe("timed out");
    expect(error.cause).toBeDefined();
  });

  it("times out a body that drips in past the deadline", async () => {
    const reason = await reasonOf(
      call(
        (_req, res) => {
          res.setHeader("content-type", "application/json");
          res.write("[");
          const timer = setInterval(() => res.write(" "), 50);
          res.on("close", () => clearInterval(timer));
        },
        { timeoutMs: 300 },
      ),
    );
    expect(reason).toBe("timed out");
  });

  it("calls a refused connection unreachable", async () => {
    const error = await failureOf(
      fetchJson(`http://127.0.0.1:${closedPort}/jwks`, { timeoutMs: 5000, maxResponseBytes: LIMIT }),
    );
    expect(error.reason).toBe("unreachable");
    expect(error.cause).toBeDefined();
  });

  it("calls a connection reset in the middle of the body unreachable", async () => {
    const reason = await reasonOf(
      call((req, res) => {
        res.setHeader("content-type", "application/json");
        res.write('{"keys": [');
        setTimeout(() => req.socket.destroy(), 20);
      }),
    );
    expect(reason).toBe("unreachable");
  });
});
