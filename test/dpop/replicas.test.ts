/**
 * RFC 9449 section 11.1 across replicas: two replicas of an example behind one resource URL,
 * sharing the Redis of `OAUTH_CACHE_REDIS_URL` (a real redis-server), accept a proof once
 * between them: the replay store is `RedisReplayStore`, built from the same variable as the
 * token cache.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { RedisReplayStore } from "@mcp-oauth/redis";
import { startTestAuthorizationServer, type TestAuthorizationServer } from "../helpers/authorization-server.js";
import { dpopKey, type DpopKey } from "../helpers/dpop.js";
import { freePort } from "../helpers/listen.js";
import { startTestRedisServer, type TestRedisServer } from "../helpers/redis-server.js";
import { challengesOf, open, proofFor, startHost, type HostName, type RunningHost } from "./hosts.js";

let as: TestAuthorizationServer;
let redis: TestRedisServer;
let key: DpopKey;

beforeAll(async () => {
  [as, redis, key] = await Promise.all([startTestAuthorizationServer(), startTestRedisServer(), dpopKey("ES256")]);
});
afterAll(() => Promise.all([as?.close(), redis?.stop()]));

describe.each<HostName>(["express", "mcp-framework http-stream"])("two replicas of %s over one Redis", (name) => {
  let replicas: RunningHost[] = [];
  let resource: string;

  beforeAll(async () => {
    // One public resource URL for both: the htu of every proof, whichever replica answers.
    resource = `http://127.0.0.1:${await freePort()}/mcp`;
    const env = {
      OAUTH_AUTHORIZATION_SERVER: as.issuer,
      OAUTH_RESOURCE: resource,
      OAUTH_DPOP: "allowed",
      OAUTH_CACHE_REDIS_URL: redis.url,
    };
    replicas = await Promise.all([startHost(name, env), startHost(name, env)]);
  });
  afterAll(() => Promise.all(replicas.map((replica) => replica.stop())));

  it("use the Redis replay store", () => {
    for (const replica of replicas)
      expect(replica.resourceServer.options.dpop.replayStore).toBeInstanceOf(RedisReplayStore);
  });

  it("accept a proof once: the same proof sent to the other replica is refused", async () => {
    const [a, b] = replicas as [RunningHost, RunningHost];
    const token = as.mint(resource, { cnf: { jkt: key.thumbprint } });
    const proof = await proofFor(a, key, token);
    const headers = { authorization: `DPoP ${token}`, dpop: proof };
    // Each replica listens on its own port; the request target is the resource's path.
    const on = (replica: RunningHost): string => replica.listening + new URL(resource).pathname;
    expect((await open(a, headers, on(a))).status).toBe(200);
    const replayed = await open(b, headers, on(b));
    expect(replayed.status).toBe(401);
    expect(challengesOf(replayed)["DPoP"]).toMatchObject({ error: "invalid_dpop_proof" });
    // A fresh proof is accepted by the other replica: it is the proof that was refused.
    expect((await open(b, { ...headers, dpop: await proofFor(a, key, token) }, on(b))).status).toBe(200);
  });
});
