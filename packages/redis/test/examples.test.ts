/**
 * OAUTH_CACHE_REDIS_URL and OAUTH_RATE_LIMIT in the mcp-framework example (the Express
 * example runs as three processes in replicas.test.ts): its tokens and its metadata rate
 * limit are shared through a real redis-server.
 */
import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { Redis } from "ioredis";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { RedisTokenCache } from "../src/index.js";
import { createFrameworkExample } from "../../../examples/mcp-framework-server/src/server.js";
import {
  startTestAuthorizationServer,
  type TestAuthorizationServer,
} from "../../../test/helpers/authorization-server.js";
import { freePort } from "../../../test/helpers/listen.js";
import { startTestRedisServer, type TestRedisServer } from "../../../test/helpers/redis-server.js";

let as: TestAuthorizationServer;
let redis: TestRedisServer;
const write = process.stderr.write;

// mcp-framework writes an INFO line to stderr for every request; keep a passing test quiet.
beforeAll(() => {
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) =>
    /^\[[^\]]+\] \[INFO\]/.test(String(chunk))
      ? true
      : write.call(process.stderr, chunk, ...rest)) as typeof process.stderr.write;
});
afterAll(() => {
  process.stderr.write = write;
});

beforeAll(async () => {
  [as, redis] = await Promise.all([startTestAuthorizationServer(), startTestRedisServer()]);
});

afterAll(async () => {
  await Promise.all([as?.close(), redis?.stop()]);
});

/** The mcp-framework example started in this process on a free port, once its metadata answers. */
async function startExample(
  env: Record<string, string>,
): Promise<{ example: ReturnType<typeof createFrameworkExample>; origin: string; stop(): Promise<void> }> {
  const port = await freePort();
  const example = createFrameworkExample({ ...env, HOST: "127.0.0.1", PORT: String(port) });
  let failure: unknown;
  const running = example.server.start().catch((error: unknown) => {
    failure = error;
  });
  const stop = async (): Promise<void> => {
    await example.server.stop();
    await running;
    const store = example.provider.resourceServer.options.cache?.store;
    if (store instanceof RedisTokenCache) await store.close();
  };
  try {
    for (let attempt = 0; ; attempt++) {
      if (failure !== undefined) throw failure;
      // Any answer means the transport listens (a path outside the metadata: no rate limit counts it).
      const up = await fetch(`http://127.0.0.1:${port}/health-of-the-listener`).then(
        (r) => r.arrayBuffer().then(() => true),
        () => false,
      );
      if (up) break;
      if (attempt > 400) throw new Error("the example did not start");
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { example, origin: `http://127.0.0.1:${port}`, stop };
}

it("the mcp-framework example keeps its verdicts in the Redis of OAUTH_CACHE_REDIS_URL", async () => {
  const { example, stop } = await startExample({
    OAUTH_AUTHORIZATION_SERVER: as.issuer,
    OAUTH_CACHE_REDIS_URL: redis.url,
  });
  expect(example.provider.resourceServer.options.cache?.store).toBeInstanceOf(RedisTokenCache);
  const admin = new Redis(redis.url);
  try {
    const client = new Client({ name: "redis-example", version: "0.0.0" });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(example.url), {
        requestInit: { headers: { Authorization: `Bearer ${as.mint(example.url)}` } },
      }),
    );
    const who = await client.callTool({ name: "whoami", arguments: {} });
    expect(JSON.stringify(who)).toContain("alice");
    await client.close();
    expect(await admin.keys("mcp-oauth:v1:t:*")).toHaveLength(1);
  } finally {
    admin.disconnect();
    await stop();
  }
});

it("the mcp-framework example's OAUTH_RATE_LIMIT is counted in the same Redis, across two replicas", async () => {
  const env = { OAUTH_AUTHORIZATION_SERVER: as.issuer, OAUTH_CACHE_REDIS_URL: redis.url, OAUTH_RATE_LIMIT: "2" };
  const replicas = await Promise.all([startExample(env), startExample(env)]);
  const admin = new Redis(redis.url);
  const metadata = async (origin: string): Promise<number> => {
    const response = await fetch(`${origin}/.well-known/oauth-protected-resource/mcp`);
    await response.arrayBuffer();
    return response.status;
  };
  try {
    expect(await metadata(replicas[0].origin)).toBe(200);
    expect(await metadata(replicas[1].origin)).toBe(200);
    expect(await metadata(replicas[0].origin)).toBe(429);
    expect(await admin.keys("mcp-oauth:rl:*")).toHaveLength(1);
  } finally {
    admin.disconnect();
    await Promise.all(replicas.map((replica) => replica.stop()));
  }
});

it("the mcp-framework example refuses an OAUTH_RATE_LIMIT that is not a positive whole number", () => {
  expect(() => createFrameworkExample({ OAUTH_AUTHORIZATION_SERVER: as.issuer, OAUTH_RATE_LIMIT: "lots" })).toThrow(
    /OAUTH_RATE_LIMIT/,
  );
});
