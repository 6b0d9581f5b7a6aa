/**
 * The token cache's store over real sockets through `mcpOAuth`: two MCP servers sharing
 * one store (the deployment a shared store is for) never answer with each other's
 * verdicts, and a store that fails in any way costs caching, never a 5xx.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import { MemoryTokenCache, type CachedValidation, type McpOAuthEvent, type TokenCacheStore } from "@mcp-oauth/core";
import { startTestAuthorizationServer, type TestAuthorizationServer } from "../helpers/authorization-server.js";
import { rawRequest, type RawResponse } from "../helpers/raw-request.js";
import {
  expectReached,
  expectUnauthorized,
  protectedApp,
  watchUnhandledRejections,
  within,
  type ProtectedApp,
  type RejectionWatch,
} from "./support.js";

const RESOURCE_A = "http://127.0.0.1:4447/mcp";
const RESOURCE_B = "http://127.0.0.1:4448/mcp";

let as: TestAuthorizationServer;
let watch: RejectionWatch;
const apps: ProtectedApp[] = [];

beforeAll(async () => {
  watch = watchUnhandledRejections();
  as = await startTestAuthorizationServer();
});
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
  expect(watch.reasons.map(String)).toEqual([]);
});
afterAll(async () => {
  await as?.close();
  watch?.stop();
});

async function app(
  resource: string,
  store: TokenCacheStore<CachedValidation>,
  onEvent?: (event: McpOAuthEvent) => void,
): Promise<ProtectedApp> {
  const started = await protectedApp({
    resource,
    authorizationServers: [as.issuer],
    cache: { store },
    ...(onEvent ? { onEvent } : {}),
  });
  apps.push(started);
  return started;
}

const get = (target: ProtectedApp, token: string): Promise<RawResponse> =>
  within(rawRequest(`${target.url}/mcp`, { headers: { authorization: `Bearer ${token}` } }), 5000);

describe("two MCP servers sharing one store", () => {
  it.each([
    ["MemoryTokenCache", (): TokenCacheStore<CachedValidation> => new MemoryTokenCache<CachedValidation>()],
    [
      "asynchronous Map store",
      (): TokenCacheStore<CachedValidation> => {
        const entries = new Map<string, CachedValidation>();
        return {
          get: async (key) => entries.get(key),
          set: async (key, value) => {
            entries.set(key, value);
          },
        };
      },
    ],
  ])("answer each with its own verdict (%s)", async (_name, makeStore) => {
    const store = makeStore();
    const [a, b] = [await app(RESOURCE_A, store), await app(RESOURCE_B, store)];
    const forA = as.mint(RESOURCE_A, { sub: "alice" });
    const forB = as.mint(RESOURCE_B, { sub: "bob" });
    // A accepts its token first; B must still refuse it.
    expectReached(await get(a, forA), "alice");
    expectUnauthorized(await get(b, forA), "audience_mismatch");
    // The other way round: B's own token, refused by A first, still reaches B.
    expectUnauthorized(await get(a, forB), "audience_mismatch");
    expectReached(await get(b, forB), "bob");
    // Each still answers from the cache on a repeat.
    expectReached(await get(a, forA), "alice");
    expect(a.oauth.resourceServer.stats()).toMatchObject({ cacheHits: 1 });
  });
});

describe("a failing store", () => {
  const down = (): Error => new Error("ECONNREFUSED 127.0.0.1:6379");
  it.each([
    [
      "get throws",
      {
        get: () => {
          throw down();
        },
        set: () => {},
      },
    ],
    ["get rejects", { get: () => Promise.reject(down()), set: () => {} }],
    [
      "set throws",
      {
        get: () => undefined,
        set: () => {
          throw down();
        },
      },
    ],
    ["set rejects", { get: () => undefined, set: () => Promise.reject(down()) }],
  ] as Array<[string, TokenCacheStore<CachedValidation>]>)(
    "when %s: right answers, never a 5xx",
    async (_name, store) => {
      const events: McpOAuthEvent[] = [];
      const target = await app(RESOURCE_A, store, (event) => events.push(event));
      const good = as.mint(RESOURCE_A, { sub: "carol" });
      const bad = as.mint(RESOURCE_B);
      const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => get(target, i % 2 === 0 ? good : bad)));
      for (const [i, res] of answers.entries()) {
        if (i % 2 === 0) expectReached(res, "carol");
        else expectUnauthorized(res, "audience_mismatch");
      }
      expect(events.some((event) => event.type === "cache_error")).toBe(true);
    },
  );
});
