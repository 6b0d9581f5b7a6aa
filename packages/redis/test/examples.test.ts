/**
 * OAUTH_CACHE_REDIS_URL in the mcp-framework example (the Express example runs as three
 * processes in replicas.test.ts): its tokens are shared through a real redis-server.
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

it("the mcp-framework example keeps its verdicts in the Redis of OAUTH_CACHE_REDIS_URL", async () => {
  const port = await freePort();
  const example = createFrameworkExample({
    OAUTH_AUTHORIZATION_SERVER: as.issuer,
    OAUTH_CACHE_REDIS_URL: redis.url,
    HOST: "127.0.0.1",
    PORT: String(port),
  });
  const store = example.provider.resourceServer.options.cache?.store;
  expect(store).toBeInstanceOf(RedisTokenCache);
  let failure: unknown;
  const running = example.server.start().catch((error: unknown) => {
    failure = error;
  });
  const admin = new Redis(redis.url);
  try {
    for (let attempt = 0; ; attempt++) {
      if (failure !== undefined) throw failure;
      // The protected resource metadata: public, served by the bridge once the transport listens.
      const healthy = await fetch(`http://127.0.0.1:${port}/.well-known/oauth-protected-resource/mcp`).then(
        (r) => r.ok,
        () => false,
      );
      if (healthy) break;
      if (attempt > 400) throw new Error("the example did not start");
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
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
    await example.server.stop();
    await running;
    await (store as RedisTokenCache).close();
  }
});
