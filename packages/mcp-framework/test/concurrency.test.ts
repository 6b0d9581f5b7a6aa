/**
 * Thousands of requests in flight at once on the framework's own transports, mixing valid,
 * expired, forged, wrong-audience, under-scoped (base scope and per-tool), outage-bound,
 * tokenless and malformed ones: every request gets its own answer. The bridge writes each
 * refusal on the response of the request it belongs to; nothing is queued between requests
 * (the provider once handed refusals to the framework through a shared FIFO, and past its
 * cap requests got each other's status).
 *
 * The key set is held back (a stub in front of the real one) until the server has received
 * every request of the round, so on a cold server the JWT requests (over 1024 refusals among
 * them, past the old queue's cap; checked by when the server received them) all wait for the
 * same key-set load and then settle in one burst. Opaque tokens go to an introspection endpoint that answers 500: those requests are outage-bound
 * (503) while the JWTs next to them are decided normally. Later rounds run with the key
 * set warm.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Agent, request as httpRequest, type IncomingMessage } from "node:http";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { connect, type Socket } from "node:net";
import { setImmediate as nextTurn } from "node:timers/promises";
import { isDeepStrictEqual } from "node:util";
import {
  startTestAuthorizationServer,
  type TestAuthorizationServer,
} from "../../../test/helpers/authorization-server.js";
import { json, startStubServer, type StubServer } from "../../../test/helpers/stub-server.js";
import {
  bearerChallenge,
  DESCRIPTIONS,
  errorBody,
  INITIALIZE,
  nowSeconds,
  startExample,
  type RawResponse,
  type RunningExample,
} from "./support.js";

/**
 * The key set is held back until the server has received every request of the round (or
 * this long): a cold round's JWTs then all wait together. The server's deadline for the
 * fetch (`SERVER_TIMEOUT_MS`) runs from the first request, and the answer still has to cross
 * an event loop busy with thousands of requests: on a loaded machine the default 5 s passed
 * (every JWT then 503), so the example gets a deadline far beyond the hold.
 */
const JWKS_HOLD_MAX_MS = 3500;
const SERVER_TIMEOUT_MS = 30_000;
/** Requests per round, all issued at once. */
const IN_FLIGHT = 3000;
/**
 * The warm round's connections open to the server at once, one request each: below Node's
 * listen backlog of 511 (the server shares this process's event loop, so it accepts only
 * when the test yields; past the backlog the kernel drops and, under load, resets).
 */
const WARM_SOCKETS = 400;
/**
 * The cold round needs every request on the wire together (the key set is held until all are
 * received), so its connections are opened beforehand, this many at a time, each wave accepted
 * before the next: the burst of requests then crosses established connections only.
 */
const CONNECT_WAVE = 50;
/**
 * The shared FIFO this test was written against broke past 1024 refusals waiting at once: a
 * cold round must hold more than that many JWT refusals waiting on the key set together.
 */
const MIN_WAITING_REFUSALS = 1100;
/** When the stub answered each key-set request (by its `for` query): the end of a cold round's wait. */
const jwksAnsweredAt = new Map<string, number>();
/** Names each request of a round, so the server side can say when it received it. */
const CASE_HEADER = "x-test-case";
/**
 * When the server received each request (its headers parsed), by case name: the example
 * runs in this process, so Node's `http.server.request.start` channel sees its requests.
 */
const receivedAt = new Map<string, number>();
/** The current round's case names, and what to call once the server has received them all. */
let awaited = new Set<string>();
let markAllReceived = (): void => {};
/** Resolved when the server has received every request of the current round. */
let allReceived: Promise<void> = Promise.resolve();
const onRequestStart = (message: unknown): void => {
  const name = (message as { request: IncomingMessage }).request.headers[CASE_HEADER];
  if (typeof name !== "string" || !awaited.has(name)) return;
  receivedAt.set(name, Date.now());
  awaited.delete(name);
  if (awaited.size === 0) markAllReceived();
};

let as: TestAuthorizationServer;
let stub: StubServer;

beforeAll(async () => {
  [as, stub] = await Promise.all([startTestAuthorizationServer(), startStubServer()]);
  subscribe("http.server.request.start", onRequestStart);
  // Read once here: fetched at release time, the key set took one more round trip through
  // the loaded event loop, and once ran past the server's deadline (every JWT then 503).
  const jwks = await (await fetch(as.jwksUri)).text();
  stub.handle("/jwks", (_req, res) => {
    void Promise.race([allReceived, new Promise((resolve) => setTimeout(resolve, JWKS_HOLD_MAX_MS).unref())]).then(
      () => {
        res.setHeader("content-type", "application/json");
        res.end(jwks);
        jwksAnsweredAt.set(new URL(_req.url ?? "/", "http://x").searchParams.get("for") ?? "", Date.now());
      },
    );
  });
  stub.handle("/introspect", json({ error: "server_error" }, 500));
});
afterAll(async () => {
  unsubscribe("http.server.request.start", onRequestStart);
  await Promise.all([as.close(), stub.close()]);
});

interface Case {
  kind: string;
  authorization: string | undefined;
  query?: string;
  body: unknown;
  status: number;
  /** The challenge's error and error_description; undefined: no error parameter. */
  error: [string, string] | undefined;
  /** The challenge's scope; default the base scope. */
  scope?: string;
}

/** A deterministic shuffle, so every run interleaves kinds the same way. */
function shuffle<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const WRITE_NOTE = {
  jsonrpc: "2.0",
  id: 7,
  method: "tools/call",
  params: { name: "write_note", arguments: { text: "x" } },
};

function cases(resource: string, round: number, valid: { status: number; body: unknown }, count: number): Case[] {
  const now = nowSeconds();
  const kinds: Array<(n: string) => Case> = [
    (n) => ({ kind: `missing-${n}`, authorization: undefined, body: INITIALIZE, status: 401, error: undefined }),
    (n) => ({
      kind: `malformed-${n}`,
      authorization: `Bearer garbage.${n}.x`,
      body: INITIALIZE,
      status: 401,
      error: ["invalid_token", DESCRIPTIONS.malformed],
    }),
    (n) => ({
      kind: `expired-${n}`,
      authorization: mint(n, { iat: now - 7200, exp: now - 60 }),
      body: INITIALIZE,
      status: 401,
      error: ["invalid_token", DESCRIPTIONS.expired],
    }),
    (n) => ({
      kind: `not-yet-valid-${n}`,
      authorization: mint(n, { nbf: now + 3600 }),
      body: INITIALIZE,
      status: 401,
      error: ["invalid_token", DESCRIPTIONS.notYetValid],
    }),
    (n) => ({
      kind: `wrong-audience-${n}`,
      authorization: mint(n, { aud: `${resource}/other` }),
      body: INITIALIZE,
      status: 401,
      error: ["invalid_token", DESCRIPTIONS.audience],
    }),
    (n) => ({
      kind: `forged-${n}`,
      authorization: `${mint(n, {}).slice(0, -8)}AAAAAAAA`,
      body: INITIALIZE,
      status: 401,
      error: ["invalid_token", DESCRIPTIONS.signature],
    }),
    (n) => ({
      kind: `under-scoped-base-${n}`,
      authorization: mint(n, { scope: "mcp:write" }),
      body: INITIALIZE,
      status: 403,
      error: ["insufficient_scope", DESCRIPTIONS.scope],
    }),
    (n) => ({
      kind: `under-scoped-tool-${n}`,
      authorization: mint(n, { scope: "mcp:read" }),
      body: WRITE_NOTE,
      status: 403,
      error: ["insufficient_scope", DESCRIPTIONS.scope],
      scope: "mcp:read mcp:write",
    }),
    (n) => ({
      kind: `outage-bound-${n}`,
      authorization: `Bearer opaque-token-${n}-0123456789abcdef`,
      body: INITIALIZE,
      status: 503,
      error: undefined,
    }),
    (n) => ({
      kind: `valid-${n}`,
      authorization: mint(n, {}),
      body: valid.body,
      status: valid.status,
      error: undefined,
    }),
    (n) => ({
      kind: `query-token-${n}`,
      authorization: undefined,
      query: "?access_token=abc",
      body: INITIALIZE,
      status: 400,
      error: ["invalid_request", DESCRIPTIONS.queryToken],
    }),
    (n) => ({
      kind: `basic-scheme-${n}`,
      authorization: "Basic dXNlcjpwYXNz",
      body: INITIALIZE,
      status: 401,
      error: undefined,
    }),
  ];
  function mint(n: string, claims: Record<string, unknown>): string {
    return `Bearer ${as.mint(resource, { jti: `${n}-${Math.random()}`, sub: `user-${n}`, ...claims })}`;
  }
  const list: Case[] = [];
  for (let i = 0; list.length < count; i++) list.push(kinds[i % kinds.length]!(`${round}-${i}`));
  return shuffle(list, round + 7);
}

function post(
  via: Agent | Socket,
  url: string,
  body: unknown,
  authorization: string | undefined,
  caseName: string,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      [CASE_HEADER]: caseName,
    };
    if (authorization !== undefined) headers["authorization"] = authorization;
    const connection = via instanceof Agent ? { agent: via } : { createConnection: () => via };
    const req = httpRequest(url, { method: "POST", headers, ...connection }, (res) => {
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
    });
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}

/**
 * Opens `count` connections to `url`'s origin into `sockets`, CONNECT_WAVE at a time. A
 * connection that fails before carrying any request is opened again: that is the kernel's
 * listen queue, not an answer to a request. The caller destroys `sockets` whatever happens.
 */
async function openConnections(url: string, count: number, sockets: Socket[]): Promise<void> {
  const { hostname, port } = new URL(url);
  const open = (attemptsLeft: number): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const socket = connect({ host: hostname, port: Number(port) });
      const onError = (error: Error): void => {
        socket.destroy();
        if (attemptsLeft > 1) resolve(open(attemptsLeft - 1));
        else reject(error);
      };
      socket.once("error", onError);
      socket.once("connect", () => {
        // Idle until its request: an error meanwhile surfaces as that request's failure.
        socket.off("error", onError).on("error", () => {});
        sockets.push(socket);
        resolve();
      });
    });
  while (sockets.length < count) {
    await Promise.all(Array.from({ length: Math.min(CONNECT_WAVE, count - sockets.length) }, () => open(3)));
    // The server shares this event loop: a turn lets it accept the wave.
    await nextTurn();
  }
}

function ownAnswer(
  c: Case,
  res: RawResponse,
  _metadataUrl: string,
): { kind: string; status: number; challenge: unknown; body: unknown } {
  const refusal = res.status >= 400 && res.status !== 404;
  return {
    kind: c.kind,
    status: res.status,
    challenge:
      refusal && res.status !== 503
        ? bearerChallenge(res.headers["www-authenticate"])
        : res.headers["www-authenticate"],
    body: refusal ? (JSON.parse(res.body) as unknown) : undefined,
  };
}

function expectedAnswer(
  c: Case,
  metadataUrl: string,
): { kind: string; status: number; challenge: unknown; body: unknown } {
  const refusal = c.status >= 400 && c.status !== 404;
  const description =
    c.error?.[1] ??
    (c.status === 503
      ? DESCRIPTIONS.outage
      : c.authorization?.startsWith("Basic")
        ? DESCRIPTIONS.scheme
        : DESCRIPTIONS.missing);
  return {
    kind: c.kind,
    status: c.status,
    challenge:
      refusal && c.status !== 503
        ? {
            ...(c.error ? { error: c.error[0], error_description: c.error[1] } : {}),
            resource_metadata: metadataUrl,
            scope: c.scope ?? "mcp:read",
          }
        : undefined,
    body: refusal ? errorBody(c.status, description) : undefined,
  };
}

// Key sources are shared per jwks URI across providers; a query per server keeps each one cold.
const env = (transport: string): Record<string, string> => ({
  MCP_TRANSPORT: transport,
  MCP_RESPONSE_MODE: "batch",
  OAUTH_SCOPES: "mcp:read",
  OAUTH_AUTHORIZATION_SERVER: as.issuer,
  OAUTH_JWKS_URI: `${stub.url}/jwks?for=${transport}`,
  OAUTH_VALIDATION: "auto",
  OAUTH_INTROSPECTION_ENDPOINT: `${stub.url}/introspect`,
  OAUTH_CLIENT_ID: "rs",
  OAUTH_CLIENT_SECRET: "secret",
  OAUTH_TIMEOUT_MS: String(SERVER_TIMEOUT_MS),
});

describe.each([
  // A valid initialize opens a session: 200 from the framework.
  ["http-stream", (ex: RunningExample) => ex.url, { status: 200, body: INITIALIZE }],
  // A valid message for a session nobody holds reaches the framework, which answers 404.
  [
    "sse",
    (ex: RunningExample) => `${ex.origin}/messages?sessionId=00000000-0000-4000-8000-000000000000`,
    { status: 404, body: INITIALIZE },
  ],
] as const)("%s: thousands of requests of mixed kinds in flight", (transport, target, valid) => {
  let ex: RunningExample;
  const warmAgent = new Agent({ keepAlive: false, maxSockets: WARM_SOCKETS });
  /** The cold round's connections: destroyed here too, so a failed round leaves none open to block the server's close. */
  const coldConnections: Socket[] = [];
  beforeAll(async () => {
    ex = await startExample(env(transport));
  });
  afterAll(async () => {
    for (const socket of coldConnections) socket.destroy();
    warmAgent.destroy();
    await ex.stop();
  });

  it.each([
    [1, "cold key set"],
    [2, "warm key set"],
  ])(
    "round %i (%s): every response matches its own request",
    async (round) => {
      const list = cases(ex.url, round, valid, IN_FLIGHT);
      const url = target(ex);
      const metadataUrl = `${ex.origin}/.well-known/oauth-protected-resource${new URL(ex.url).pathname}`;
      if (round === 1) await openConnections(url, list.length, coldConnections);
      const caseName = (c: Case): string => `${transport}:${c.kind}`;
      awaited = new Set(list.map(caseName));
      allReceived = new Promise((resolve) => (markAllReceived = resolve));
      const responses = await Promise.all(
        list.map((c, i) =>
          post(
            round === 1 ? coldConnections[i]! : warmAgent,
            `${url}${c.query === undefined ? "" : `${url.includes("?") ? "&" : "?"}${c.query.slice(1)}`}`,
            c.body,
            c.authorization,
            caseName(c),
          ),
        ),
      );
      // One comparison for the whole round, so a failure lists every request that got a wrong answer.
      const wrong = list
        .map((c, i) => [ownAnswer(c, responses[i]!, metadataUrl), expectedAnswer(c, metadataUrl)] as const)
        .filter(([got, expected]) => !isDeepStrictEqual(got, expected));
      expect(wrong.slice(0, 5)).toEqual([]);
      expect(new Set(list.map((c) => c.kind.replace(/-\d+-\d+$/, ""))).size).toBe(12);
      if (round === 1) {
        // The claim of the cold round, checked on the server's side: refusals of signed tokens
        // it received before the key set arrived all waited for it together, then settled in
        // one burst.
        const keysAt = jwksAnsweredAt.get(transport);
        expect(keysAt).toBeDefined();
        const waiting = list.filter(
          (c) =>
            c.authorization?.startsWith("Bearer ey") === true &&
            (c.status === 401 || c.status === 403) &&
            (receivedAt.get(caseName(c)) ?? Infinity) < keysAt!,
        ).length;
        expect({ waiting, enough: waiting > MIN_WAITING_REFUSALS }).toEqual({ waiting, enough: true });
      }
    },
    120_000,
  );
});
