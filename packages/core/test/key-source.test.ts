/**
 * JwksKeySource rule by rule (issue 24, item 9), against a fake key-set server (the `fetch`
 * option) and a fake clock (the source reads `Date.now()`): the fresh, stale and expired ages of
 * a set and their exact boundaries, single flight, the cooldown after a failure and after an
 * unknown `kid`, tokens without `kid`, the JWK's `kid`, `alg`, `key_ops` and `use`, the shapes
 * of an answer that is no usable JWK Set, the observer's calls and the `accept` header sent.
 */
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it, jest } from "@jest/globals";
import { McpOAuthError } from "@mcp-oauth/core";
import { JwksKeySource, type KeySourceObserver } from "../src/internal.js";
import { OutboundError } from "../src/outbound.js";
import { codeOf } from "../../../test/helpers/error-code.js";

const JWKS_URI = "https://as.example.com/jwks";
const START = 1_750_000_000_000;
const MAX_AGE_MS = 60_000;
const STALE_WINDOW_MS = 120_000;
const COOLDOWN_MS = 6_000;
const RETRY_AFTER_SECONDS = 30;

/** A signing key pair's public half, and its JWK with `extra` members. */
interface PublishedKey {
  publicKey: KeyObject;
  jwk(extra?: Record<string, unknown>): Record<string, unknown>;
}

function signingKey(): PublishedKey {
  const { publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const exported = publicKey.export({ format: "jwk" }) as Record<string, unknown>;
  return { publicKey, jwk: (extra = {}) => ({ ...exported, ...extra }) };
}

const keyA = signingKey();
const keyB = signingKey();
const keyC = signingKey();

/**
 * The authorization server's key-set endpoint: answers `body` with `status`, counts requests,
 * records the `accept` header of each, throws when `unreachable`, and holds answers while held.
 */
class KeySetServer {
  body: unknown = { keys: [] };
  status = 200;
  unreachable = false;
  calls = 0;
  readonly acceptHeaders: (string | null)[] = [];
  #gate: Promise<void> | undefined;

  readonly fetch = (async (_url: string | URL | Request, init?: RequestInit) => {
    this.calls++;
    this.acceptHeaders.push(new Headers(init?.headers).get("accept"));
    if (this.#gate !== undefined) await this.#gate;
    if (this.unreachable) throw new TypeError("fetch failed");
    return new Response(JSON.stringify(this.body), {
      status: this.status,
      headers: { "content-type": "application/jwk-set+json" },
    });
  }) as typeof fetch;

  publish(...keys: Record<string, unknown>[]): void {
    this.body = { keys };
  }

  /** Requests from now on wait until the returned function is called (then answer `body`). */
  hold(): () => void {
    let release!: () => void;
    this.#gate = new Promise<void>((resolve) => (release = resolve));
    return () => {
      this.#gate = undefined;
      release();
    };
  }
}

/** An observer recording each call. */
class Events implements KeySourceObserver {
  readonly seen: [string, string, string | number][] = [];
  refreshed(jwksUri: string, keyCount: number): void {
    this.seen.push(["refreshed", jwksUri, keyCount]);
  }
  failed(jwksUri: string, reason: string): void {
    this.seen.push(["failed", jwksUri, reason]);
  }
}

function keySource(server: KeySetServer, observer?: KeySourceObserver): JwksKeySource {
  return new JwksKeySource(
    {
      jwksUri: JWKS_URI,
      maxAge: MAX_AGE_MS,
      staleWindow: STALE_WINDOW_MS,
      cooldown: COOLDOWN_MS,
      timeout: 60_000,
      maxResponseBytes: 100_000,
      retryAfter: RETRY_AFTER_SECONDS,
      fetch: server.fetch,
    },
    observer,
  );
}

/** The fake clock, `ms` after START. */
const at = (ms: number): void => jest.setSystemTime(START + ms);

/** Lets a background read run to its end (the fake server answers from memory). */
async function settled(): Promise<void> {
  for (let turn = 0; turn < 10; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** The `McpOAuthError` a promise rejects with (fails the test when it resolves or throws another). */
async function refusal(promise: Promise<unknown>): Promise<McpOAuthError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof McpOAuthError)) throw new Error(`expected an McpOAuthError, got ${String(error)}`);
  return error;
}

/** The `McpOAuthError` a synchronous call throws. */
function thrown(run: () => unknown): McpOAuthError {
  try {
    run();
  } catch (error) {
    if (error instanceof McpOAuthError) return error;
    throw error;
  }
  throw new Error("expected an McpOAuthError, nothing was thrown");
}

beforeEach(() => {
  // Only Date is faked: the fake server's answers are read through real promises and streams.
  jest.useFakeTimers({
    doNotFake: [
      "hrtime",
      "nextTick",
      "performance",
      "queueMicrotask",
      "requestAnimationFrame",
      "cancelAnimationFrame",
      "requestIdleCallback",
      "cancelIdleCallback",
      "setImmediate",
      "clearImmediate",
      "setInterval",
      "clearInterval",
      "setTimeout",
      "clearTimeout",
    ],
    now: START,
  });
});

afterEach(() => {
  jest.useRealTimers();
});

describe("JwksKeySource: the age of the set", () => {
  it("reads the set once, then returns a held key without reading while it is younger than maxAge", async () => {
    const server = new KeySetServer();
    server.publish(keyA.jwk({ kid: "a" }));
    const source = keySource(server);
    expect(source.cachedKey("a", "ES256")).toBeUndefined();
    expect((await source.key("a", "ES256")).equals(keyA.publicKey)).toBe(true);
    expect(source.fetchCount).toBe(1);

    at(MAX_AGE_MS - 1);
    expect(source.cachedKey("a", "ES256")?.equals(keyA.publicKey)).toBe(true);
    expect((await source.key("a", "ES256")).equals(keyA.publicKey)).toBe(true);
    await settled();
    expect(server.calls).toBe(1);
    expect(source.fetchCount).toBe(1);
  });

  it("at maxAge returns the held key and reads the set again in the background", async () => {
    const server = new KeySetServer();
    server.publish(keyA.jwk({ kid: "a" }));
    const source = keySource(server);
    await source.key("a", "ES256");

    server.publish(keyB.jwk({ kid: "b" }));
    at(MAX_AGE_MS);
    expect(source.cachedKey("a", "ES256")?.equals(keyA.publicKey)).toBe(true);
    expect(server.calls).toBe(2);
    expect(source.fetchCount).toBe(2);
    await settled();
    // The set read in the background replaced the held one, and is fresh from now.
    expect(source.cachedKey("a", "ES256")).toBeUndefined();
    expect(source.cachedKey("b", "ES256")?.equals(keyB.publicKey)).toBe(true);
    at(2 * MAX_AGE_MS - 1);
    expect(source.cachedKey("b", "ES256")?.equals(keyB.publicKey)).toBe(true);
    await settled();
    expect(server.calls).toBe(2);
  });

  it("starts one background read while one runs", async () => {
    const server = new KeySetServer();
    server.publish(keyA.jwk({ kid: "a" }));
    const source = keySource(server);
    await source.key("a", "ES256");

    const release = server.hold();
    at(MAX_AGE_MS);
    expect(source.cachedKey("a", "ES256")?.equals(keyA.publicKey)).toBe(true);
    at(MAX_AGE_MS + 1);
    expect(source.cachedKey("a", "ES256")?.equals(keyA.publicKey)).toBe(true);
    expect((await source.key("a", "ES256")).equals(keyA.publicKey)).toBe(true);
    expect(server.calls).toBe(2);
    release();
    await settled();
    expect(source.fetchCount).toBe(2);
  });

  it("serves a held key until maxAge + staleWindow - 1, not at maxAge + staleWindow", async () => {
    const server = new KeySetServer();
    server.publish(keyA.jwk({ kid: "a" }));
    const source = keySource(server);
    await source.key("a", "ES256");

    const release = server.hold();
    at(MAX_AGE_MS + STALE_WINDOW_MS - 1);
    expect(source.cachedKey("a", "ES256")?.equals(keyA.publicKey)).toBe(true);
    expect(server.calls).toBe(2);
    at(MAX_AGE_MS + STALE_WINDOW_MS);
    expect(source.cachedKey("a", "ES256")).toBeUndefined();
    // The token waits on the read already running.
    const waiting = source.key("a", "ES256");
    release();
    expect((await waiting).equals(keyA.publicKey)).toBe(true);
    expect(server.calls).toBe(2);
    expect(source.cachedKey("a", "ES256")?.equals(keyA.publicKey)).toBe(true);
  });

  it("past the stale window a token waits on the read, and its failure is 503", async () => {
    const server = new KeySetServer();
    server.publish(keyA.jwk({ kid: "a" }));
    const source = keySource(server);
    await source.key("a", "ES256");

    at(MAX_AGE_MS + STALE_WINDOW_MS);
    server.status = 500;
    const error = await refusal(source.key("a", "ES256"));
    expect(error.code).toBe("upstream_unavailable");
    expect(error.retryAfter).toBe(RETRY_AFTER_SECONDS);
    expect(server.calls).toBe(2);
    server.status = 200;
    at(MAX_AGE_MS + STALE_WINDOW_MS + COOLDOWN_MS);
    expect((await source.key("a", "ES256")).equals(keyA.publicKey)).toBe(true);
    expect(server.calls).toBe(3);
  });
});

describe("JwksKeySource: failures and the cooldown", () => {
  it("does not cache a failure: 503 with retryAfter, cooling down until cooldown - 1, read again at cooldown", async () => {
    const server = new KeySetServer();
    server.publish(keyA.jwk({ kid: "a" }));
    server.status = 500;
    const events = new Events();
    const source = keySource(server, events);

    const failure = await refusal(source.key("a", "ES256"));
    expect(failure.code).toBe("upstream_unavailable");
    expect(failure.retryAfter).toBe(RETRY_AFTER_SECONDS);
    expect(failure.cause).toBeInstanceOf(OutboundError);
    expect((failure.cause as OutboundError).reason).toBe("HTTP 500");
    expect(events.seen).toEqual([["failed", JWKS_URI, "HTTP 500"]]);

    server.status = 200;
    at(COOLDOWN_MS - 1);
    const cooling = await refusal(source.key("a", "ES256"));
    expect(cooling.code).toBe("upstream_unavailable");
    expect(cooling.message).toBe("key set unreachable (cooling down before the next attempt)");
    expect(cooling.retryAfter).toBe(RETRY_AFTER_SECONDS);
    expect(server.calls).toBe(1);

    at(COOLDOWN_MS);
    expect((await source.key("a", "ES256")).equals(keyA.publicKey)).toBe(true);
    expect(server.calls).toBe(2);
    expect(events.seen).toEqual([
      ["failed", JWKS_URI, "HTTP 500"],
      ["refreshed", JWKS_URI, 1],
    ]);
  });

  it("after a failed background read keeps serving held keys and reads again no sooner than cooldown later", async () => {
    const server = new KeySetServer();
    server.publish(keyA.jwk({ kid: "a" }));
    const events = new Events();
    const source = keySource(server, events);
    await source.key("a", "ES256");

    server.unreachable = true;
    at(MAX_AGE_MS);
    expect(source.cachedKey("a", "ES256")?.equals(keyA.publicKey)).toBe(true);
    await settled();
    expect(server.calls).toBe(2);
    expect(events.seen.at(-1)).toEqual(["failed", JWKS_URI, "unreachable"]);

    at(MAX_AGE_MS + COOLDOWN_MS - 1);
    expect(source.cachedKey("a", "ES256")?.equals(keyA.publicKey)).toBe(true);
    await settled();
    expect(server.calls).toBe(2);

    server.unreachable = false;
    at(MAX_AGE_MS + COOLDOWN_MS);
    expect(source.cachedKey("a", "ES256")?.equals(keyA.publicKey)).toBe(true);
    expect(server.calls).toBe(3);
    await settled();
    expect(events.seen.at(-1)).toEqual(["refreshed", JWKS_URI, 1]);
  });

  it("works with an observer that has neither refreshed nor failed", async () => {
    const server = new KeySetServer();
    server.publish(keyA.jwk({ kid: "a" }));
    const source = keySource(server, {});
    expect((await source.key("a", "ES256")).equals(keyA.publicKey)).toBe(true);

    server.status = 503;
    at(MAX_AGE_MS + STALE_WINDOW_MS);
    expect(await codeOf(source.key("a", "ES256"))).toBe("upstream_unavailable");

    server.status = 200;
    server.publish(keyA.jwk({ use: "enc" }));
    at(MAX_AGE_MS + STALE_WINDOW_MS + COOLDOWN_MS);
    expect(await codeOf(source.key("a", "ES256"))).toBe("upstream_unavailable");
    expect(server.calls).toBe(3);
  });
});

describe("JwksKeySource: an unknown kid", () => {
  it("reads a fresh set of several keys again and finds a key published since (rotation)", async () => {
    const server = new KeySetServer();
    server.publish(keyA.jwk({ kid: "a" }), keyB.jwk({ kid: "b" }));
    const source = keySource(server);
    await source.key("a", "ES256");

    server.publish(keyA.jwk({ kid: "a" }), keyB.jwk({ kid: "b" }), keyC.jwk({ kid: "c" }));
    at(1_000);
    expect((await source.key("c", "ES256")).equals(keyC.publicKey)).toBe(true);
    expect(server.calls).toBe(2);
  });

  it("is key_not_found from the read it waited on, then 503 with the rest of the cooldown until it ends exactly", async () => {
    const server = new KeySetServer();
    server.publish(keyA.jwk({ kid: "a" }));
    const source = keySource(server);
    await source.key("a", "ES256");

    at(1_000);
    const notFound = await refusal(source.key("x", "ES256"));
    expect(notFound.code).toBe("key_not_found");
    expect(notFound.message).toBe("kid not in the key set");
    expect(server.calls).toBe(2);

    at(1_001);
    const early = await refusal(source.key("y", "ES256"));
    expect(early.code).toBe("upstream_unavailable");
    expect(early.retryAfter).toBe(Math.ceil((COOLDOWN_MS - 1) / 1000));
    at(1_000 + COOLDOWN_MS - 1);
    const last = await refusal(source.key("y", "ES256"));
    expect(last.code).toBe("upstream_unavailable");
    expect(last.retryAfter).toBe(1);
    expect(server.calls).toBe(2);

    at(1_000 + COOLDOWN_MS);
    expect(await codeOf(source.key("y", "ES256"))).toBe("key_not_found");
    expect(server.calls).toBe(3);
  });

  it("shares one read among concurrent misses, on an empty source and on a fresh set", async () => {
    const server = new KeySetServer();
    server.publish(keyA.jwk({ kid: "a" }));
    const source = keySource(server);
    let release = server.hold();
    const first = [source.key("a", "ES256"), source.key("a", "ES256")];
    release();
    for (const key of await Promise.all(first)) expect(key.equals(keyA.publicKey)).toBe(true);
    expect(server.calls).toBe(1);

    at(1_000);
    release = server.hold();
    const misses = Promise.all([source.key("b", "ES256"), source.key("c", "ES256")]);
    server.publish(keyA.jwk({ kid: "a" }), keyB.jwk({ kid: "b" }), keyC.jwk({ kid: "c" }));
    release();
    const [b, c] = await misses;
    expect(b.equals(keyB.publicKey)).toBe(true);
    expect(c.equals(keyC.publicKey)).toBe(true);
    expect(server.calls).toBe(2);
    expect(source.fetchCount).toBe(2);
  });
});

describe("JwksKeySource: a token without kid (RFC 7515 section 4.1.4)", () => {
  it("uses the only key of the set, whatever its kid", async () => {
    const server = new KeySetServer();
    server.publish(keyA.jwk({ kid: "a" }));
    const source = keySource(server);
    expect((await source.key(undefined, "ES256")).equals(keyA.publicKey)).toBe(true);
    expect(source.cachedKey(undefined, "ES256")?.equals(keyA.publicKey)).toBe(true);
    expect(server.calls).toBe(1);
  });

  it("is key_not_found with several keys, without another read while the set is fresh; at maxAge the due read comes first", async () => {
    const server = new KeySetServer();
    server.publish(keyA.jwk({ kid: "a" }), keyB.jwk({ kid: "b" }));
    const source = keySource(server);
    const first = await refusal(source.key(undefined, "ES256"));
    expect(first.code).toBe("key_not_found");
    expect(first.message).toBe("no kid and several keys");
    expect(server.calls).toBe(1);
    expect(source.cachedKey(undefined, "ES256")).toBeUndefined();

    at(MAX_AGE_MS - 1);
    const fresh = await refusal(source.key(undefined, "ES256"));
    expect(fresh.code).toBe("key_not_found");
    expect(fresh.message).toBe("no kid and several keys");
    expect(server.calls).toBe(1);

    at(MAX_AGE_MS);
    expect(await codeOf(source.key(undefined, "ES256"))).toBe("key_not_found");
    expect(server.calls).toBe(2);
  });
});

describe("JwksKeySource: the JWK's kid, alg, key_ops and use", () => {
  it("holds a JWK without kid, or with a kid that is no string, under the empty kid", async () => {
    const server = new KeySetServer();
    server.publish(keyA.jwk({ kid: "a" }), keyB.jwk());
    const source = keySource(server);
    expect((await source.key("", "ES256")).equals(keyB.publicKey)).toBe(true);

    const numbered = new KeySetServer();
    numbered.publish(keyA.jwk({ kid: "a" }), keyC.jwk({ kid: 7 }));
    const other = keySource(numbered);
    expect((await other.key("", "ES256")).equals(keyC.publicKey)).toBe(true);
    expect(await codeOf(other.key("7", "ES256"))).toBe("key_not_found");
  });

  it("refuses a token whose alg differs from the one the JWK names (RFC 8725 section 3.1)", async () => {
    const server = new KeySetServer();
    server.publish(keyA.jwk({ kid: "a", alg: "ES256" }));
    const source = keySource(server);
    const afterRead = await refusal(source.key("a", "ES384"));
    expect(afterRead.code).toBe("algorithm_not_allowed");
    expect(thrown(() => source.cachedKey("a", "ES384")).code).toBe("algorithm_not_allowed");
    expect(source.cachedKey("a", "ES256")?.equals(keyA.publicKey)).toBe(true);
    expect(server.calls).toBe(1);
  });

  it("takes an alg that is empty or no string as naming no algorithm", async () => {
    const server = new KeySetServer();
    server.publish(keyA.jwk({ kid: "a", alg: "" }), keyB.jwk({ kid: "b", alg: 256 }), keyC.jwk({ kid: "c" }));
    const source = keySource(server);
    expect((await source.key("a", "ES256")).equals(keyA.publicKey)).toBe(true);
    expect((await source.key("b", "ES256")).equals(keyB.publicKey)).toBe(true);
    expect((await source.key("c", "RS256")).equals(keyC.publicKey)).toBe(true);
  });

  it("holds only keys for verifying signatures: key_ops listing verify, use sig or absent (RFC 7517 sections 4.2, 4.3)", async () => {
    const server = new KeySetServer();
    server.publish(
      keyA.jwk({ kid: "ops", key_ops: ["verify"] }),
      keyA.jwk({ kid: "sig", use: "sig" }),
      keyB.jwk({ kid: "sign-only", key_ops: ["sign"] }),
      keyB.jwk({ kid: "ops-string", key_ops: "verify" }),
      keyC.jwk({ kid: "enc", use: "enc" }),
    );
    const events = new Events();
    const source = keySource(server, events);
    expect((await source.key("ops", "ES256")).equals(keyA.publicKey)).toBe(true);
    expect(source.cachedKey("sig", "ES256")?.equals(keyA.publicKey)).toBe(true);
    expect(events.seen).toEqual([["refreshed", JWKS_URI, 2]]);
    for (const [offset, kid] of ["sign-only", "ops-string", "enc"].entries()) {
      at((offset + 1) * COOLDOWN_MS);
      expect(await codeOf(source.key(kid, "ES256"))).toBe("key_not_found");
    }
  });
});

describe("JwksKeySource: an answer that is no usable JWK Set (RFC 7517 section 5)", () => {
  async function failureOf(body: unknown): Promise<{ error: McpOAuthError; events: Events }> {
    const server = new KeySetServer();
    server.body = body;
    const events = new Events();
    const error = await refusal(keySource(server, events).key("a", "ES256"));
    return { error, events };
  }

  it.each([
    ["null", null],
    ["an object without keys", {}],
    ["keys that are no array", { keys: "a" }],
    ["an array", [keyA.jwk({ kid: "a" })]],
  ])("is not a JWK Set: %s", async (_name, body) => {
    const { error, events } = await failureOf(body);
    expect(error.code).toBe("upstream_unavailable");
    expect(error.retryAfter).toBe(RETRY_AFTER_SECONDS);
    expect(events.seen).toEqual([["failed", JWKS_URI, "answer is not a JWK Set"]]);
  });

  it("has no keys", async () => {
    const { error, events } = await failureOf({ keys: [] });
    expect(error.code).toBe("upstream_unavailable");
    expect(events.seen).toEqual([["failed", JWKS_URI, "the JWK Set has no keys"]]);
  });

  it("has no usable signing key", async () => {
    const { error, events } = await failureOf({
      keys: [keyA.jwk({ kid: "a", use: "enc" }), { kty: "oct", k: "c2VjcmV0", kid: "b" }, { kid: "c" }],
    });
    expect(error.code).toBe("upstream_unavailable");
    expect(error.retryAfter).toBe(RETRY_AFTER_SECONDS);
    expect(events.seen).toEqual([["failed", JWKS_URI, "no usable signing key"]]);
  });

  it("has a null entry: unusable, and the reason is the error's message", async () => {
    const { error, events } = await failureOf({ keys: [keyA.jwk({ kid: "a" }), null] });
    expect(error.code).toBe("upstream_unavailable");
    expect(error.retryAfter).toBe(RETRY_AFTER_SECONDS);
    const message = (() => {
      try {
        return String((null as unknown as { key_ops: unknown }).key_ops);
      } catch (caught) {
        return (caught as Error).message;
      }
    })();
    expect(events.seen).toEqual([["failed", JWKS_URI, message]]);
  });
});

describe("JwksKeySource: the request and the events", () => {
  it("asks for a JWK Set (RFC 7517 section 8.5.1), counts its reads and reports each set's key count", async () => {
    const server = new KeySetServer();
    server.publish(keyA.jwk({ kid: "a" }), keyB.jwk({ kid: "b" }));
    const events = new Events();
    const source = keySource(server, events);
    expect(source.fetchCount).toBe(0);
    await source.key("a", "ES256");
    expect(server.acceptHeaders).toEqual(["application/jwk-set+json, application/json"]);
    expect(source.fetchCount).toBe(1);

    server.publish(keyA.jwk({ kid: "a" }), keyB.jwk({ kid: "b" }), keyC.jwk({ kid: "c" }));
    at(1_000);
    await source.key("c", "ES256");
    expect(source.fetchCount).toBe(2);
    expect(events.seen).toEqual([
      ["refreshed", JWKS_URI, 2],
      ["refreshed", JWKS_URI, 3],
    ]);
  });
});

describe("JwksKeySource: a wall clock that steps back (an NTP step, a resumed VM)", () => {
  const STEP_MS = 3_600_000;

  it("reads the set again maxAge after the step, not maxAge plus the step later", async () => {
    const server = new KeySetServer();
    server.publish(keyA.jwk({ kid: "a" }));
    const source = keySource(server);
    await source.key("a", "ES256");

    at(-STEP_MS);
    expect(source.cachedKey("a", "ES256")?.equals(keyA.publicKey)).toBe(true);
    at(-STEP_MS + MAX_AGE_MS - 1);
    expect(source.cachedKey("a", "ES256")?.equals(keyA.publicKey)).toBe(true);
    expect(server.calls).toBe(1);
    at(-STEP_MS + MAX_AGE_MS);
    expect(source.cachedKey("a", "ES256")?.equals(keyA.publicKey)).toBe(true);
    expect(server.calls).toBe(2);
    await settled();
  });

  it("cools down one cooldown after a failure, not the step longer", async () => {
    const server = new KeySetServer();
    server.publish(keyA.jwk({ kid: "a" }));
    server.status = 500;
    const source = keySource(server);
    expect(await codeOf(source.key("a", "ES256"))).toBe("upstream_unavailable");

    server.status = 200;
    at(-STEP_MS);
    const cooling = await refusal(source.key("a", "ES256"));
    expect(cooling.code).toBe("upstream_unavailable");
    expect(server.calls).toBe(1);
    at(-STEP_MS + COOLDOWN_MS);
    expect((await source.key("a", "ES256")).equals(keyA.publicKey)).toBe(true);
    expect(server.calls).toBe(2);
  });

  it("cools down one cooldown after an unknown kid, with a retryAfter no longer than it", async () => {
    const server = new KeySetServer();
    server.publish(keyA.jwk({ kid: "a" }));
    const source = keySource(server);
    await source.key("a", "ES256");
    at(1_000);
    expect(await codeOf(source.key("x", "ES256"))).toBe("key_not_found");

    at(1_000 - STEP_MS);
    const early = await refusal(source.key("y", "ES256"));
    expect(early.code).toBe("upstream_unavailable");
    expect(early.retryAfter).toBe(COOLDOWN_MS / 1000);
    at(1_000 - STEP_MS + COOLDOWN_MS);
    expect(await codeOf(source.key("y", "ES256"))).toBe("key_not_found");
    expect(server.calls).toBe(3);
  });
});
