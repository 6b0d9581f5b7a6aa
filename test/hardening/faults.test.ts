/**
 * Fault injection through the Express middleware, with a stub authorization server whose
 * key set, introspection and metadata endpoints misbehave on demand. What the HTTP layer
 * must add to the core's outage handling: every request answered (503 + Retry-After + JSON
 * when the token could not be checked, 401 when it is provably bad), under concurrency, with
 * no unhandled rejection and a bounded number of upstream calls; and full service again
 * once the outage ends, for the very tokens that got 503.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import { createPublicKey, randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { generateSigningKey, type PrivateJwk } from "@mcp-oauth/local-authorization-server";
import { nowSeconds, signJwt, unsignedJwt } from "../helpers/jwt.js";
import { rawRequest, type RawResponse } from "../helpers/raw-request.js";
import { json, startStubServer, type StubHandler, type StubServer } from "../helpers/stub-server.js";
import {
  expectReached,
  expectUnauthorized,
  expectUnavailable,
  protectedApp,
  sleep,
  watchUnhandledRejections,
  within,
  type ProtectedApp,
  type RejectionWatch,
} from "./support.js";

const RESOURCE = "http://127.0.0.1:4444/mcp";
/** Many times the 300 ms upstream timeout: a request still unanswered by then is stuck. */
const DEADLINE = 5000;

let stub: StubServer;
let watch: RejectionWatch;
let closedPort: number;
let key: PrivateJwk;
let stranger: PrivateJwk;
let counter = 0;
/** A path of its own for each test, so key sources and hit counts never mix. */
const freshPath = (name: string): string => `/${name}-${++counter}`;

const publicJwk = (k: PrivateJwk): Record<string, unknown> => ({
  ...createPublicKey({ key: k, format: "jwk" }).export({ format: "jwk" }),
  kid: k.kid,
  alg: k.alg,
  use: "sig",
});
const publish = (path: string, keys: PrivateJwk[]): void => stub.handle(path, json({ keys: keys.map(publicJwk) }));

/** A JWT for RESOURCE from the stub issuer, signed by `signer` under `kid`. */
function jwt(
  signer: PrivateJwk,
  claims: Record<string, unknown> = {},
  kid: string = signer.kid,
  issuer = stub.url,
): string {
  return signJwt(
    { alg: signer.alg, typ: "at+jwt", kid },
    {
      iss: issuer,
      aud: RESOURCE,
      sub: "s",
      client_id: "c",
      exp: nowSeconds() + 600,
      jti: randomBytes(6).toString("hex"),
      ...claims,
    },
    signer,
  );
}

function get(app: ProtectedApp, token?: string): Promise<RawResponse> {
  return within(
    rawRequest(`${app.url}/mcp`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } }),
    DEADLINE,
  );
}

const hits = (path: string): number => stub.hits.get(path) ?? 0;

/** Ways an upstream endpoint fails. */
const FAILURES: [string, () => StubHandler][] = [
  [
    "resets the connection",
    () => (req) => {
      req.socket.destroy();
    },
  ],
  ["never answers (past the timeout)", () => () => {}],
  [
    "answers only after the timeout",
    () => (req, res) => {
      setTimeout(() => json({ keys: [], active: true })(req, res), 1500).unref();
    },
  ],
  ["answers 500", () => json({ error: "server_error" }, 500)],
  [
    "answers 503 with an HTML page",
    () => (_req, res) => {
      res.statusCode = 503;
      res.setHeader("content-type", "text/html");
      res.end("<html><body>Maintenance</body></html>");
    },
  ],
  [
    "answers 200 with an HTML page",
    () => (_req, res) => {
      res.setHeader("content-type", "text/html");
      res.end("<!doctype html><html><body>Sign in</body></html>");
    },
  ],
  [
    "answers truncated JSON",
    () => (_req, res) => {
      res.setHeader("content-type", "application/json");
      res.end('{"keys": [{"kty": "RSA", "n": "xyz');
    },
  ],
  ["answers a JSON array", () => json([])],
];

/** Sends `body` one byte every `everyMs`: each gap is under the timeout, the whole is not. */
const drip =
  (body: string, everyMs: number): StubHandler =>
  (_req, res) => {
    res.setHeader("content-type", "application/json");
    let sent = 0;
    const timer = setInterval(() => {
      if (sent < body.length) res.write(body[sent++]!);
      else {
        clearInterval(timer);
        res.end();
      }
    }, everyMs);
    res.on("close", () => clearInterval(timer));
  };
/** More than the 1 MiB default limit of an answer. */
const PADDING = "x".repeat(1024 * 1024 + 1);

beforeAll(async () => {
  watch = watchUnhandledRejections();
  stub = await startStubServer();
  // A port where nothing listens: connection refused.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", () => resolve()));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  key = generateSigningKey("ES256");
  stranger = generateSigningKey("ES256");
});

afterEach(() => {
  expect(watch.reasons.map(String)).toEqual([]);
});

afterAll(async () => {
  await stub?.close();
  // Late answers of the stub land after their requests timed out: give them a moment to surface.
  await sleep(50);
  watch?.stop();
  expect(watch.reasons.map(String)).toEqual([]);
});

describe("the key set (JWKS) failing", () => {
  const cases: [string, () => { uri: string; handler?: StubHandler }][] = [
    ["is down (connection refused)", () => ({ uri: `http://127.0.0.1:${closedPort}/jwks` })],
    ...FAILURES.map(([name, handler]): [string, () => { uri: string; handler?: StubHandler }] => [
      name,
      () => ({ uri: "", handler: handler() }),
    ]),
    ["answers an empty key set", () => ({ uri: "", handler: json({ keys: [] }) })],
    [
      "answers only unusable keys",
      () => ({ uri: "", handler: json({ keys: [{ kty: "RSA", kid: "broken", use: "sig" }] }) }),
    ],
  ];

  it.each(cases)(
    "%s: 20 concurrent requests all get 503 with Retry-After; provably bad tokens still get 401",
    async (_name, setup) => {
      const path = freshPath("jwks");
      const { uri, handler } = setup();
      if (handler) stub.handle(path, handler);
      const app = await protectedApp({
        resource: RESOURCE,
        authorizationServers: [stub.url],
        validation: { jwksUri: uri || `${stub.url}${path}` },
        timeoutMs: 300,
        retryAfterSeconds: 7,
      });
      try {
        const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => get(app, jwt(key, { sub: `u${i}` }))));
        for (const res of answers) expectUnavailable(res, "7");
        // Single flight: one fetch for the whole burst (and none on a refused connection).
        expect(hits(path)).toBeLessThanOrEqual(1);
        // What needs no key set is still decided: no token, alg none, an untrusted issuer.
        expectUnauthorized(await get(app), "token_missing");
        expectUnauthorized(
          await get(app, unsignedJwt({ iss: stub.url, aud: RESOURCE, exp: nowSeconds() + 600 })),
          "token_malformed",
        );
        expectUnauthorized(
          await get(app, jwt(key, {}, key.kid, "https://untrusted.example.com")),
          "issuer_not_allowed",
        );
      } finally {
        await app.close();
      }
    },
  );

  it("an outage then recovery: 200 concurrent requests all get 503, then the same tokens all get 200", async () => {
    const path = freshPath("jwks");
    stub.handle(path, json({ error: "down" }, 500));
    // One retry per second (60 per minute) while the key set fails.
    const app = await protectedApp({
      resource: RESOURCE,
      authorizationServers: [stub.url],
      validation: { jwksUri: `${stub.url}${path}`, jwksRequestsPerMinute: 60 },
      timeoutMs: 300,
      retryAfterSeconds: 7,
    });
    try {
      const tokens = Array.from({ length: 200 }, (_, i) => jwt(key, { sub: `user-${i}` }));
      const started = Date.now();
      const during = await Promise.all(tokens.map((t) => get(app, t)));
      const seconds = Math.ceil((Date.now() - started) / 1000);
      for (const res of during) expectUnavailable(res, "7");
      // Not one fetch per request: one, plus at most one per second the burst lasted.
      expect(hits(path)).toBeLessThanOrEqual(1 + seconds);

      publish(path, [key]);
      await sleep(1100);
      const after = await Promise.all(tokens.map((t) => get(app, t)));
      after.forEach((res, i) => expectReached(res, `user-${i}`));
      // A 503 is never remembered as a verdict on the token.
      expect(app.oauth.resourceServer.stats()).toMatchObject({ accepted: 200, rejected: 0 });
    } finally {
      await app.close();
    }
  });

  it("keys rotated: the new key works at once, the withdrawn one and forgeries get 401, a new kid during an outage gets 503", async () => {
    const path = freshPath("jwks");
    const [k1, k2, k3] = [key, generateSigningKey("ES256"), generateSigningKey("ES256")];
    publish(path, [k1]);
    const app = await protectedApp({
      resource: RESOURCE,
      authorizationServers: [stub.url],
      validation: { jwksUri: `${stub.url}${path}`, jwksRequestsPerMinute: 600 },
      timeoutMs: 300,
      retryAfterSeconds: 7,
    });
    try {
      expectReached(await get(app, jwt(k1, { sub: "before" })), "before");
      publish(path, [k2]);
      await sleep(150);
      expectReached(await get(app, jwt(k2, { sub: "rotated" })), "rotated");
      expect(hits(path)).toBe(2);
      // Past the 100 ms cooldown, so the next unknown kid may read the key set again.
      await sleep(150);
      // Truly bad tokens: the withdrawn key, and the new kid signed by someone else.
      expectUnauthorized(await get(app, jwt(k1)), "key_not_found");
      expectUnauthorized(await get(app, jwt(stranger, {}, k2.kid)), "signature_invalid");

      // The next rotation happens while the key set is down: not provably bad, so 503.
      stub.handle(path, json({ error: "down" }, 500));
      await sleep(150);
      expectUnavailable(await get(app, jwt(k3)), "7");
      // Keys already held keep working meanwhile.
      expectReached(await get(app, jwt(k2, { sub: "held" })), "held");
      publish(path, [k2, k3]);
      await sleep(150);
      expectReached(await get(app, jwt(k3, { sub: "recovered" })), "recovered");
    } finally {
      await app.close();
    }
  });

  it("a flood of unknown kids (600 concurrent requests) costs at most two key-set fetches, is never accepted, and valid tokens still pass", async () => {
    const path = freshPath("jwks");
    publish(path, [key]);
    // Two per minute: a 30 s cooldown, far longer than the waves take on a busy machine.
    const app = await protectedApp({
      resource: RESOURCE,
      authorizationServers: [stub.url],
      validation: { jwksUri: `${stub.url}${path}`, jwksRequestsPerMinute: 2 },
      timeoutMs: 300,
    });
    /** 401 when the request waited on a read of the key set; 503 with the rest of the cooldown when no read was allowed. */
    const expectRefused = (res: RawResponse): void => {
      if (res.status === 401) return expectUnauthorized(res, "key_not_found");
      expect(Number(res.headers["retry-after"])).toBeGreaterThanOrEqual(1);
      expect(Number(res.headers["retry-after"])).toBeLessThanOrEqual(30);
      expectUnavailable(res, res.headers["retry-after"] as string);
    };
    try {
      const waves: RawResponse[][] = [];
      for (let wave = 0; wave < 3; wave++) {
        waves.push(
          await Promise.all(
            Array.from({ length: 200 }, (_, i) =>
              get(app, jwt(key, {}, `forged-${wave}-${i}-${randomBytes(4).toString("hex")}`)),
            ),
          ),
        );
      }
      for (const res of waves.flat()) expectRefused(res);
      // The first request of the first wave waited on the first load and the set lacked its kid.
      expectUnauthorized(waves[0]![0]!, "key_not_found");
      // The last wave came inside the cooldown of the refetch: no verdict is known, so 503 for all
      // (a kid rotated in a moment ago looks the same).
      for (const res of waves[2]!) expect(res.status).toBe(503);
      // The first load, then at most one refetch in the cooldown.
      expect(hits(path)).toBeLessThanOrEqual(2);
      expectReached(await get(app, jwt(key, { sub: "legit" })), "legit");
    } finally {
      await app.close();
    }
  });

  it("a flood of unknown kids while the key set is down gets 503 for all and no fetch storm", async () => {
    const path = freshPath("jwks");
    stub.handle(path, json({ error: "down" }, 500));
    const app = await protectedApp({
      resource: RESOURCE,
      authorizationServers: [stub.url],
      validation: { jwksUri: `${stub.url}${path}` },
      timeoutMs: 300,
      retryAfterSeconds: 3,
    });
    try {
      const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => get(app, jwt(key, {}, `unknown-${i}`))));
      for (const res of answers) expectUnavailable(res, "3");
      expect(hits(path)).toBeLessThanOrEqual(2);
    } finally {
      await app.close();
    }
  });
});

describe("authorization server discovery failing", () => {
  it("answers 503 with a Retry-After while metadata is unavailable, then serves once it is back", async () => {
    const issuer = `${stub.url}${freshPath("tenant")}`;
    const tenant = new URL(issuer).pathname;
    const metadataPaths = [
      `/.well-known/oauth-authorization-server${tenant}`,
      `/.well-known/openid-configuration${tenant}`,
      `${tenant}/.well-known/openid-configuration`,
    ];
    for (const path of metadataPaths) stub.handle(path, json({ error: "down" }, 500));
    const app = await protectedApp({ resource: RESOURCE, authorizationServers: [issuer], timeoutMs: 300 });
    try {
      const tokens = Array.from({ length: 50 }, (_, i) => jwt(key, { sub: `d${i}` }, key.kid, issuer));
      const started = Date.now();
      const during = await Promise.all(tokens.map((t) => get(app, t)));
      const seconds = Math.ceil((Date.now() - started) / 1000);
      for (const res of during) {
        expect(res.status).toBe(503);
        expect(Number(res.headers["retry-after"])).toBeGreaterThanOrEqual(1);
        expect(JSON.parse(res.body).error).toBe("temporarily_unavailable");
      }
      // One discovery attempt (three URLs) shared by the burst, then a backoff of at least a second.
      expect(hits(metadataPaths[0]!)).toBeLessThanOrEqual(seconds);
      expect(hits(metadataPaths[2]!)).toBe(hits(metadataPaths[0]!));

      stub.handle(metadataPaths[0]!, json({ issuer, jwks_uri: `${issuer}/jwks` }));
      publish(`${tenant}/jwks`, [key]);
      // The first retry is allowed after one second of backoff.
      await sleep(1100);
      const after = await Promise.all(tokens.map((t) => get(app, t)));
      after.forEach((res, i) => expectReached(res, `d${i}`));
    } finally {
      await app.close();
    }
  });
});

describe("introspection failing", () => {
  /** An introspection endpoint that knows tokens starting with `good-` and says inactive to others. */
  const healthy: StubHandler = (req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on("end", () => {
      const token = new URLSearchParams(body).get("token") ?? "";
      json(
        token.startsWith("good-")
          ? {
              active: true,
              aud: RESOURCE,
              sub: token.slice(5).split("-")[0],
              client_id: "c",
              scope: "mcp:read",
              exp: nowSeconds() + 600,
              token_type: "Bearer",
            }
          : { active: false },
      )(req, res);
    });
  };
  const appFor = (endpoint: string, cache = true): Promise<ProtectedApp> =>
    protectedApp({
      resource: RESOURCE,
      authorizationServers: [stub.url],
      validation: { type: "introspection" },
      introspection: { endpoint, clientId: "rs", clientSecret: "s3cret" },
      timeoutMs: 300,
      retryAfterSeconds: 9,
      ...(cache ? {} : { cache: false }),
    });

  const cases: [string, () => StubHandler | undefined][] = [
    ["is down (connection refused)", () => undefined],
    ...FAILURES,
    ["refuses our own credentials (401)", () => json({ error: "invalid_client" }, 401)],
    ["answers JSON without active", () => json({ sub: "x" })],
  ];

  it.each(cases)("%s: 20 concurrent requests all get 503 with Retry-After", async (_name, handler) => {
    const path = freshPath("introspect");
    const made = handler();
    if (made) stub.handle(path, made);
    const app = await appFor(made ? `${stub.url}${path}` : `http://127.0.0.1:${closedPort}/introspect`);
    try {
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) => get(app, `good-u${i}-${randomBytes(8).toString("hex")}`)),
      );
      for (const res of answers) expectUnavailable(res, "9");
      // One call per distinct token, no retries piling up.
      expect(hits(path)).toBeLessThanOrEqual(20);
      expectUnauthorized(await get(app), "token_missing");
    } finally {
      await app.close();
    }
  });

  it("answers 401 invalid_token when the endpoint says the token is inactive", async () => {
    const path = freshPath("introspect");
    stub.handle(path, healthy);
    const app = await appFor(`${stub.url}${path}`);
    try {
      expectUnauthorized(await get(app, "revoked-or-unknown-token"), "token_inactive");
      expectReached(await get(app, "good-alice"), "alice");
    } finally {
      await app.close();
    }
  });

  it("an outage then recovery: the same 100 tokens (each sent twice) get 503, then 200, with one call per token per phase", async () => {
    const path = freshPath("introspect");
    stub.handle(path, json({ error: "server_error" }, 500));
    const app = await appFor(`${stub.url}${path}`);
    try {
      const tokens = Array.from({ length: 100 }, (_, i) => `good-user${i}-${randomBytes(8).toString("hex")}`);
      const twice = [...tokens, ...tokens];
      const during = await Promise.all(twice.map((t) => get(app, t)));
      for (const res of during) expectUnavailable(res, "9");
      expect(hits(path)).toBeLessThanOrEqual(200);

      stub.handle(path, healthy);
      stub.hits.delete(path);
      const after = await Promise.all(twice.map((t) => get(app, t)));
      after.forEach((res, i) => expectReached(res, tokens[i % 100]!.split("-")[1]));
      // Concurrent requests with one token share one call (single flight), and the cache then answers.
      expect(hits(path)).toBe(100);
    } finally {
      await app.close();
    }
  });
});

describe("every outbound call is bounded: a total deadline, a size limit, no redirects", () => {
  const active = (sub: string): Record<string, unknown> => ({
    active: true,
    aud: RESOURCE,
    sub,
    client_id: "c",
    scope: "mcp:read",
    exp: nowSeconds() + 600,
    token_type: "Bearer",
  });

  // Each answer below is otherwise valid: only its pace or its size is wrong.
  const shapes: [string, (body: Record<string, unknown>) => StubHandler][] = [
    [
      "drips its answer one byte every 400 ms (never idle for the 1 s timeout)",
      (body) => drip(JSON.stringify(body), 400),
    ],
    ["answers more than 1 MiB", (body) => json({ ...body, padding: PADDING })],
    [
      "streams more than 1 MiB without a Content-Length",
      (body) => (_req, res) => {
        const text = JSON.stringify({ ...body, padding: PADDING });
        res.setHeader("content-type", "application/json");
        // Written in pieces: chunked transfer coding, so only counting the bytes read can tell.
        for (let at = 0; at < text.length; at += 65_536) res.write(text.slice(at, at + 65_536));
        res.end();
      },
    ],
  ];

  it.each(shapes)("the key set %s: 503 with Retry-After, not a hang", async (_name, shape) => {
    const path = freshPath("jwks");
    stub.handle(path, shape({ keys: [publicJwk(key)] }));
    const app = await protectedApp({
      resource: RESOURCE,
      authorizationServers: [stub.url],
      validation: { jwksUri: `${stub.url}${path}` },
      timeoutMs: 1000,
      retryAfterSeconds: 7,
    });
    try {
      expectUnavailable(await get(app, jwt(key)), "7");
    } finally {
      await app.close();
    }
  });

  it("maxResponseBytes is the limit: an ordinary key set over a 64-byte limit gets 503", async () => {
    const path = freshPath("jwks");
    publish(path, [key]);
    const app = await protectedApp({
      resource: RESOURCE,
      authorizationServers: [stub.url],
      validation: { jwksUri: `${stub.url}${path}` },
      maxResponseBytes: 64,
      timeoutMs: 1000,
      retryAfterSeconds: 7,
    });
    try {
      expectUnavailable(await get(app, jwt(key)), "7");
    } finally {
      await app.close();
    }
  });

  it.each(shapes)("the introspection endpoint %s: 503 with Retry-After, not a hang", async (_name, shape) => {
    const path = freshPath("introspect");
    stub.handle(path, shape(active("bounded")));
    const app = await protectedApp({
      resource: RESOURCE,
      authorizationServers: [stub.url],
      validation: { type: "introspection" },
      introspection: { endpoint: `${stub.url}${path}`, clientId: "rs", clientSecret: "s3cret" },
      timeoutMs: 1000,
      retryAfterSeconds: 9,
    });
    try {
      expectUnavailable(await get(app, "opaque-token-value"), "9");
    } finally {
      await app.close();
    }
  });

  it.each(shapes)("the authorization server metadata %s: 503 with Retry-After, not a hang", async (_name, shape) => {
    const issuer = `${stub.url}${freshPath("tenant")}`;
    const tenant = new URL(issuer).pathname;
    stub.handle(`/.well-known/oauth-authorization-server${tenant}`, shape({ issuer, jwks_uri: `${issuer}/jwks` }));
    publish(`${tenant}/jwks`, [key]);
    const app = await protectedApp({
      resource: RESOURCE,
      authorizationServers: [issuer],
      timeoutMs: 1000,
      retryAfterSeconds: 7,
    });
    try {
      expectUnavailable(await get(app, jwt(key, {}, key.kid, issuer)), "7");
    } finally {
      await app.close();
    }
  });

  it.each([302, 307])(
    "introspection answering %i to another origin: 503, and that origin never sees the token or the credentials",
    async (status) => {
      const thief = await startStubServer();
      const path = freshPath("introspect");
      thief.handle("/steal", json(active("thief")));
      stub.handle(path, (_req, res) => {
        res.statusCode = status;
        res.setHeader("location", `${thief.url}/steal`);
        res.end();
      });
      // client_secret_post: a followed 307 would carry the secret in the re-sent body.
      const app = await protectedApp({
        resource: RESOURCE,
        authorizationServers: [stub.url],
        validation: { type: "introspection" },
        introspection: {
          endpoint: `${stub.url}${path}`,
          clientId: "rs",
          clientSecret: "s3cret",
          authMethod: "client_secret_post",
        },
        timeoutMs: 1000,
        retryAfterSeconds: 9,
      });
      try {
        expectUnavailable(await get(app, "opaque-token-value"), "9");
        expect(hits(path)).toBe(1);
        expect(thief.hits.size).toBe(0);
      } finally {
        await app.close();
        await thief.close();
      }
    },
  );

  it("a key set answering 302 to another origin: 503, the other origin is never asked", async () => {
    const other = await startStubServer();
    const path = freshPath("jwks");
    other.handle("/jwks", json({ keys: [publicJwk(key)] }));
    stub.handle(path, (_req, res) => {
      res.statusCode = 302;
      res.setHeader("location", `${other.url}/jwks`);
      res.end();
    });
    const app = await protectedApp({
      resource: RESOURCE,
      authorizationServers: [stub.url],
      validation: { jwksUri: `${stub.url}${path}` },
      timeoutMs: 1000,
      retryAfterSeconds: 7,
    });
    try {
      expectUnavailable(await get(app, jwt(key)), "7");
      expect(other.hits.size).toBe(0);
    } finally {
      await app.close();
      await other.close();
    }
  });

  it("authorization server metadata answering 302 to another origin: 503, the other origin is never asked", async () => {
    const other = await startStubServer();
    const issuer = `${stub.url}${freshPath("tenant")}`;
    const tenant = new URL(issuer).pathname;
    // The other origin would serve metadata naming our issuer and a key set it controls.
    other.handle("/metadata", json({ issuer, jwks_uri: `${other.url}/jwks` }));
    other.handle("/jwks", json({ keys: [publicJwk(stranger)] }));
    for (const path of [
      `/.well-known/oauth-authorization-server${tenant}`,
      `/.well-known/openid-configuration${tenant}`,
      `${tenant}/.well-known/openid-configuration`,
    ]) {
      stub.handle(path, (_req, res) => {
        res.statusCode = 302;
        res.setHeader("location", `${other.url}/metadata`);
        res.end();
      });
    }
    const app = await protectedApp({
      resource: RESOURCE,
      authorizationServers: [issuer],
      timeoutMs: 1000,
      retryAfterSeconds: 7,
    });
    try {
      expectUnavailable(await get(app, jwt(stranger, {}, stranger.kid, issuer)), "7");
      expect(other.hits.size).toBe(0);
    } finally {
      await app.close();
      await other.close();
    }
  });

  it("a held key is accepted past jwksCacheMaxAgeMs while the refetch hangs (revalidated in the background)", async () => {
    const path = freshPath("jwks");
    publish(path, [key]);
    // A 60 s deadline: only an answer that does not wait on the refetch comes back in time.
    const app = await protectedApp({
      resource: RESOURCE,
      authorizationServers: [stub.url],
      validation: { jwksUri: `${stub.url}${path}`, jwksCacheMaxAgeMs: 100 },
      timeoutMs: 60_000,
    });
    let release: (() => void) | undefined;
    let arrived: () => void = () => {};
    const refetchArrived = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    try {
      expectReached(await get(app, jwt(key, { sub: "first" })), "first");
      await sleep(150);
      // From now on the key set answers only when this test ends.
      stub.handle(path, (req, res) => {
        release = () => json({ keys: [publicJwk(key)] })(req, res);
        arrived();
      });
      expectReached(await get(app, jwt(key, { sub: "held" })), "held");
      await within(refetchArrived, DEADLINE, "the background refetch");
      expectReached(await get(app, jwt(key, { sub: "held-again" })), "held-again");
      // One background refetch, shared by both requests, still unanswered.
      expect(hits(path)).toBe(2);
    } finally {
      release?.();
      await app.close();
    }
  });
});
