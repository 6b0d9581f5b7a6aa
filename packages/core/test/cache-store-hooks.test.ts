/**
 * The optional hooks of a shared `TokenCacheStore`: `lease` (single flight across
 * processes, around introspection only) and `listen` (store events reach `onEvent`).
 * A store that breaks the contract never turns a verdict into a failure.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { obtainAccessToken } from "@mcp-oauth/local-authorization-server";
import {
  MemoryTokenCache,
  ResourceServer,
  type CachedValidation,
  type McpOAuthEvent,
  type McpOAuthEventListener,
  type TokenCacheLease,
  type TokenCacheStore,
} from "../src/index.js";
import {
  startTestAuthorizationServer,
  type TestAuthorizationServer,
} from "../../../test/helpers/authorization-server.js";

const RESOURCE = "http://127.0.0.1:4888/mcp";

/** An in-memory store with hooks whose behaviour each test sets. */
class HookedStore implements TokenCacheStore<CachedValidation> {
  readonly memory = new MemoryTokenCache<CachedValidation>(100);
  readonly leased: string[] = [];
  released = 0;
  listener: McpOAuthEventListener | undefined;
  constructor(readonly answer: (key: string) => Promise<TokenCacheLease<CachedValidation> | undefined>) {}
  get(key: string): CachedValidation | undefined {
    return this.memory.get(key);
  }
  set(key: string, value: CachedValidation, ttlMs: number): void {
    this.memory.set(key, value, ttlMs);
  }
  lease(key: string): Promise<TokenCacheLease<CachedValidation> | undefined> {
    this.leased.push(key);
    return this.answer(key);
  }
  listen(listener: McpOAuthEventListener): void {
    this.listener = listener;
  }
}

let as: TestAuthorizationServer;
let opaque: TestAuthorizationServer;
beforeAll(async () => {
  [as, opaque] = await Promise.all([
    startTestAuthorizationServer(),
    startTestAuthorizationServer({ accessTokenFormat: "opaque" }),
  ]);
});
afterAll(async () => {
  await Promise.all([as.close(), opaque.close()]);
});

function build(
  store: HookedStore,
  type: "jwt" | "introspection" | "auto",
  onEvent?: McpOAuthEventListener,
): ResourceServer {
  // Introspection at the opaque-token server (the first one); JWTs from the other.
  const issuers = type === "jwt" ? [as.issuer] : type === "auto" ? [opaque.issuer, as.issuer] : [opaque.issuer];
  return new ResourceServer({
    resource: RESOURCE,
    authorizationServers: issuers,
    validation: { type },
    ...(type === "jwt"
      ? {}
      : {
          introspection: { clientId: opaque.introspection.clientId, clientSecret: opaque.introspection.clientSecret },
        }),
    cache: { store },
    ...(onEvent ? { onEvent } : {}),
  });
}
const opaqueToken = async (): Promise<string> =>
  (await obtainAccessToken(opaque.issuer, { resource: RESOURCE })).access_token;

describe("lease", () => {
  it("is asked only before an introspection call, released after the verdict is stored", async () => {
    let stored: CachedValidation | undefined;
    const store: HookedStore = new HookedStore(async (key) => ({
      release: () => {
        stored = store.get(key);
        store.released++;
      },
    }));
    const server = build(store, "auto");
    await server.verifyToken(as.mint(RESOURCE));
    expect(store.leased).toEqual([]);
    await server.verifyToken(await opaqueToken());
    expect(store.leased).toHaveLength(1);
    expect(store.released).toBe(1);
    expect(stored).toMatchObject({ ok: true, method: "introspection" });
  });

  it("uses the verdict another process stored instead of calling the authorization server", async () => {
    const elsewhere: CachedValidation = {
      ok: true,
      method: "introspection",
      claims: { sub: "from-elsewhere" },
      scopes: ["mcp:read"],
      clientId: "other",
      expiresAt: Math.floor(Date.now() / 1000) + 60,
      checkedAt: Date.now(),
    };
    const store = new HookedStore(async () => ({ value: elsewhere, release: () => {} }));
    const server = build(store, "introspection");
    const before = opaque.requestCounts.get("/token/introspection") ?? 0;
    const info = await server.verifyToken(await opaqueToken());
    expect(info.clientId).toBe("other");
    expect(opaque.requestCounts.get("/token/introspection") ?? 0).toBe(before);
  });

  it("never turns a store that rejects or throws into a refused request", async () => {
    const rejecting = build(new HookedStore(() => Promise.reject(new Error("store down"))), "introspection");
    expect((await rejecting.verifyToken(await opaqueToken())).clientId).toEqual(expect.any(String));
    const throwing = build(
      new HookedStore(async () => ({
        release: () => {
          throw new Error("broken release");
        },
      })),
      "introspection",
    );
    expect((await throwing.verifyToken(await opaqueToken())).clientId).toEqual(expect.any(String));
  });
});

describe("listen", () => {
  it("hands the resource server's onEvent to the store", () => {
    const events: McpOAuthEvent[] = [];
    const store = new HookedStore(async () => undefined);
    build(store, "jwt", (event) => events.push(event));
    store.listener?.({ type: "cache_store_unavailable", store: "test", reason: "down" });
    expect(events).toEqual([{ type: "cache_store_unavailable", store: "test", reason: "down" }]);
  });
});
