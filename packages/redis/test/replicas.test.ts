/**
 * Replicas: three processes of the Express example (started as `pnpm example:express`
 * does, with tsx, configured only by OAUTH_*, PORT and HOST) sharing one real
 * redis-server, validating opaque tokens by introspection at the real authorization
 * server, which counts the calls it gets.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { obtainAccessToken } from "@mcp-oauth/local-authorization-server";
import { decodeCachedValidation } from "../src/index.js";
import {
  startTestAuthorizationServer,
  type TestAuthorizationServer,
} from "../../../test/helpers/authorization-server.js";
import { freePort } from "../../../test/helpers/listen.js";
import { startTestRedisServer, type TestRedisServer } from "../../../test/helpers/redis-server.js";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const TSX = fileURLToPath(new URL("../../../node_modules/tsx/dist/cli.mjs", import.meta.url));
// Three tsx processes compile and start on two shared cores.
const STARTUP_MS = 120_000;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Replica {
  url: string;
  origin: string;
  stop(): Promise<void>;
}

/** One example process; resolves once it listens. Its output is kept for the error message only. */
async function startReplica(env: Record<string, string>): Promise<Replica> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [TSX, "examples/express-server/src/index.ts"], {
    cwd: ROOT,
    env: { PATH: process.env["PATH"] ?? "", ...env, PORT: String(port), HOST: "127.0.0.1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const collect = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes("MCP server (Express) at")) resolve();
    };
    child.stdout!.on("data", collect);
    child.stderr!.on("data", collect);
    child.once("exit", (code) => reject(new Error(`example exited (${code}): ${output}`)));
  });
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/mcp`,
    origin,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

/** An MCP initialize request: 200 once the token is accepted. */
async function initialize(replica: Replica, token: string): Promise<{ status: number; challenge: string | null }> {
  const response = await fetch(replica.url, {
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
    },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "replicas", version: "0.0.0" } },
    }),
  });
  await response.text();
  return { status: response.status, challenge: response.headers.get("www-authenticate") };
}

async function waitFor(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    if (await condition()) return;
    await sleep(25);
  }
  throw new Error(`timed out waiting for ${what}`);
}

let as: TestAuthorizationServer;
let redis: TestRedisServer;
let admin: Redis;
// What every replica serves: the public URL a load balancer would give them all.
let resource: string;

const introspectionCalls = (): number => as.requestCounts.get("/token/introspection") ?? 0;
const token = async (login = "alice"): Promise<string> =>
  (await obtainAccessToken(as.issuer, { resource, login })).access_token;

function replicaEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    OAUTH_AUTHORIZATION_SERVER: as.issuer,
    OAUTH_RESOURCE: resource,
    OAUTH_VALIDATION: "introspection",
    OAUTH_CLIENT_ID: as.introspection.clientId,
    OAUTH_CLIENT_SECRET: as.introspection.clientSecret,
    OAUTH_CACHE_REDIS_URL: redis.url,
    // A loaded test machine must not turn a slow Redis answer into a second introspection.
    OAUTH_CACHE_REDIS_TIMEOUT_MS: "3000",
    ...extra,
  };
}

beforeAll(async () => {
  [as, redis] = await Promise.all([
    startTestAuthorizationServer({ accessTokenFormat: "opaque" }),
    startTestRedisServer(),
  ]);
  resource = `http://127.0.0.1:${await freePort()}/mcp`;
  admin = new Redis(redis.url, { maxRetriesPerRequest: null });
  admin.on("error", () => {});
});

afterAll(async () => {
  admin?.disconnect();
  await Promise.all([as?.close(), redis?.stop()]);
});

describe("three replicas sharing one Redis, with leases (the default)", () => {
  let replicas: Replica[] = [];
  beforeAll(async () => {
    replicas = await Promise.all(
      [0, 1, 2].map(() => startReplica(replicaEnv({ OAUTH_CACHE_INTROSPECTION_TTL: "2", OAUTH_RATE_LIMIT: "2" }))),
    );
  }, STARTUP_MS);
  afterAll(async () => {
    await Promise.all(replicas.map((replica) => replica.stop()));
  });

  it("makes one introspection call for a new token used on every replica at once", async () => {
    const fresh = await token();
    const before = introspectionCalls();
    const answers = await Promise.all(
      replicas.flatMap((replica) => [initialize(replica, fresh), initialize(replica, fresh)]),
    );
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(introspectionCalls() - before).toBe(1);
  });

  it("refuses a token revoked at the authorization server on every replica once its cached lifetime ends", async () => {
    const revoked = await obtainAccessToken(as.issuer, { resource, login: "revoked-user" });
    for (const replica of replicas) expect((await initialize(replica, revoked.access_token)).status).toBe(200);
    const revocation = await fetch(`${as.issuer}/token/revocation`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        token: revoked.access_token,
        token_type_hint: "access_token",
        client_id: revoked.client_id,
      }).toString(),
    });
    expect(revocation.status).toBe(200);
    // The shared entry ends with the cache lifetime (OAUTH_CACHE_INTROSPECTION_TTL=2); an
    // entry in a replica's memory never outlives the one in Redis it came from.
    await waitFor(async () => {
      const values = await Promise.all((await admin.keys("mcp-oauth:v1:t:*")).map((key) => admin.get(key)));
      return !values.some(
        (value) => value !== null && decodeCachedValidation(value)?.ok === true && value.includes('"revoked-user"'),
      );
    }, "the end of the cached acceptance");
    await sleep(20);
    for (const replica of replicas) {
      const answer = await initialize(replica, revoked.access_token);
      expect(answer.status).toBe(401);
      expect(answer.challenge).toMatch(/error="invalid_token"/);
    }
  });

  it("counts the public endpoints' rate limit in the same Redis, across replicas", async () => {
    const metadata = (replica: Replica): Promise<number> =>
      fetch(`${replica.origin}/.well-known/oauth-protected-resource/mcp`).then(async (r) => {
        await r.text();
        return r.status;
      });
    expect(await metadata(replicas[0]!)).toBe(200);
    expect(await metadata(replicas[1]!)).toBe(200);
    expect(await metadata(replicas[2]!)).toBe(429);
    expect(await admin.keys("mcp-oauth:rl:*")).toHaveLength(1);
  });

  it("serves every request while Redis is killed and restarted under load", async () => {
    const known = await Promise.all([1, 2, 3].map(() => token()));
    const duringOutage = await Promise.all([1, 2, 3].map(() => token("outage")));
    const afterRestart = await token("after-restart");
    const statuses: number[] = [];
    let pool = [...known];
    let stop = false;
    const worker = async (offset: number): Promise<void> => {
      for (let i = offset; !stop; i++) {
        const answer = await initialize(replicas[i % replicas.length]!, pool[i % pool.length]!);
        statuses.push(answer.status);
      }
    };
    const load = Promise.all([0, 1, 2, 3].map(worker));
    try {
      await waitFor(() => statuses.length >= 30, "load before the outage");
      await redis.kill();
      // New tokens while Redis is down: validated by each replica on its own.
      pool = [...known, ...duringOutage];
      const outageStart = statuses.length;
      await waitFor(() => statuses.length >= outageStart + 40, "load during the outage");
      await redis.start();
      await waitFor(async () => {
        const clients = (await admin.client("LIST").catch(() => "")) as string;
        return clients.split("\n").filter((line) => line.includes("name=mcp-oauth")).length >= replicas.length;
      }, "every replica reconnected");
      pool = [...known, afterRestart];
      const restarted = statuses.length;
      await waitFor(() => statuses.length >= restarted + 30, "load after the restart");
    } finally {
      stop = true;
      await load;
    }
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
    // The store works again: the token first used after the restart is shared through Redis.
    const values = await Promise.all((await admin.keys("mcp-oauth:v1:t:*")).map((key) => admin.get(key)));
    expect(values.some((value) => value?.includes('"after-restart"'))).toBe(true);
  });
});

describe("three replicas sharing one Redis, without leases (OAUTH_CACHE_REDIS_LEASE=off)", () => {
  let replicas: Replica[] = [];
  beforeAll(async () => {
    replicas = await Promise.all([0, 1, 2].map(() => startReplica(replicaEnv({ OAUTH_CACHE_REDIS_LEASE: "off" }))));
  }, STARTUP_MS);
  afterAll(async () => {
    await Promise.all(replicas.map((replica) => replica.stop()));
  });

  it("makes at most one introspection call per replica for a new token, and shares the verdict after", async () => {
    const fresh = await token();
    const before = introspectionCalls();
    const answers = await Promise.all(replicas.map((replica) => initialize(replica, fresh)));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200]);
    const calls = introspectionCalls() - before;
    expect(calls).toBeGreaterThanOrEqual(1);
    expect(calls).toBeLessThanOrEqual(3);
    // Later uses anywhere are served from the shared cache.
    await Promise.all(replicas.map((replica) => initialize(replica, fresh)));
    expect(introspectionCalls() - before).toBe(calls);
  });
});
