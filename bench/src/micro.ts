/**
 * Micro-benchmarks, each in its own process (`node --expose-gc --import tsx micro.ts MODE CONFIG`):
 * - `cold`: one cold verification through mcp-oauth (`ResourceServer.verifyToken`, cache off,
 *   keys already loaded) against one bare `crypto.verify` of the same signature, plus the
 *   parts of our path (where the difference goes);
 * - `heap`: heap growth for 100k distinct tokens held in the validation cache.
 */
import { createPublicKey, verify, type JsonWebKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { importJWK, jwtVerify } from "jose";
import { ResourceServer } from "@mcp-oauth/core";
import {
  AuthorizationServerDirectory,
  checkClaims,
  checkHeader,
  decodeJwt,
  JwtVerifier,
  readBearerToken,
  resolveOptions,
  tokenCacheKey,
} from "@mcp-oauth/core/internal";
import { assertDistLoaded } from "./shared.js";
import { claimsFor, mintHs256, readTokens } from "./tokens.js";

assertDistLoaded();

export interface MicroConfig {
  issuer: string;
  jwksUri: string;
  resource: string;
  coldFile: string;
  cachedFile: string;
}

export interface ColdResult {
  ops: number;
  rounds: number;
  /** µs per operation, median of the rounds; `ratio` is the median of the per-round ratios. */
  bareVerifyUs: number;
  mcpOAuthVerifyUs: number;
  ratio: number;
  /** Where mcp-oauth's cold verification spends its time beyond the signature, µs per op. */
  parts: Record<string, number>;
  /** mcp-oauth's cached path (`verifyToken` of a token already in the cache), µs per op. */
  cachedVerifyUs: number;
  cachedParts: Record<string, number>;
  /**
   * Ways to check a cold token, 10 in flight (as under load): CPU µs per token in all
   * threads, and on the main thread (the event loop) alone. What chose the mechanism.
   */
  mechanisms: { name: string; totalCpuUs: number; mainThreadCpuUs: number; wallUs: number }[];
}

export interface HeapResult {
  tokens: number;
  heapBeforeMB: number;
  heapAfterMB: number;
  growthMB: number;
  bytesPerToken: number;
  cacheSize: number;
}

const [mode, raw] = [process.argv[2], process.argv[3]];
const config = JSON.parse(raw!) as MicroConfig;
const gc = (globalThis as { gc?: () => void }).gc;

/**
 * A start-up check tried again once: on a busy machine the authorization server has closed
 * a kept-alive connection just as it was reused ("other side closed"), a failure of the
 * setting, not of what is measured.
 */
async function retried<T>(start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    return await start();
  }
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** µs per call of `fn` over `items`, sync. */
function timeSync<T>(items: readonly T[], fn: (item: T) => unknown): number {
  const started = performance.now();
  for (const item of items) fn(item);
  return ((performance.now() - started) * 1000) / items.length;
}

async function timeAsync<T>(items: readonly T[], fn: (item: T) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  for (const item of items) await fn(item);
  return ((performance.now() - started) * 1000) / items.length;
}

function bareVerify(key: KeyObject): (token: string) => boolean {
  return (token) => {
    const dot = token.lastIndexOf(".");
    return verify("RSA-SHA256", Buffer.from(token.slice(0, dot)), key, Buffer.from(token.slice(dot + 1), "base64url"));
  };
}

async function cold(): Promise<ColdResult> {
  const pool = readTokens(config.coldFile);
  const cachedTokens = readTokens(config.cachedFile);
  const options = {
    resource: config.resource,
    authorizationServers: [config.issuer],
    validation: { jwksUri: config.jwksUri },
  };
  // One token at a time on the event loop: the verifier's own cost next to a bare
  // crypto.verify (the thread pool is compared under concurrency in compareMechanisms).
  const eventLoopOptions = {
    ...options,
    validation: { ...options.validation, signatureVerification: "event-loop" as const },
  };
  const server = new ResourceServer({ ...eventLoopOptions, cache: false });
  await retried(() => server.ready());
  const jwks = (await (await fetch(config.jwksUri)).json()) as { keys: JsonWebKey[] };
  const key = createPublicKey({ key: jwks.keys[0]!, format: "jwk" });
  const bare = bareVerify(key);
  for (const token of pool.slice(0, 1000)) {
    if (!bare(token)) throw new Error("bare verify refused a valid token");
  }

  const resolved = resolveOptions(eventLoopOptions);
  const jwtOptions = resolved.tokenRules;
  // The verifier alone (what ResourceServer.verifyToken calls once the cache is off), to
  // tell the verification's cost from the resource server's own around it.
  const verifier = new JwtVerifier(
    resolved,
    new AuthorizationServerDirectory({ timeout: 5000, retryAfter: 5 }, () => {}),
  );
  await retried(() => verifier.ready());

  const warm = pool.slice(0, 2000);
  await timeAsync(warm, (t) => server.verifyToken(t));
  timeSync(warm, (t) => verifier.verify(t));
  timeSync(warm, bare);

  // Rounds of the same tokens through both, in chunks of 50 taking turns (the order
  // alternating): the machine's speed drifts within milliseconds on a shared VM, and a drift
  // then hits both sides of each ratio alike. With the cache off a token verified once is
  // verified again in full, so both sides see the very same tokens.
  const rounds = 7;
  const perRound = Math.min(2500, Math.floor((pool.length - 2000) / rounds));
  const bareUs: number[] = [];
  const oursUs: number[] = [];
  const ratios: number[] = [];
  const parts: Record<string, number[]> = {
    "sha256 cache key": [],
    "decodeJwt (split, base64url, JSON.parse)": [],
    "checkHeader + checkClaims": [],
    "decode + checks + bare crypto.verify (the least a verifier must do)": [],
    "JwtVerifier.verify (what verifyToken wraps)": [],
  };
  const now = Math.floor(Date.now() / 1000);
  const CHUNK = 50;
  for (let r = 0; r < rounds; r++) {
    const slice = pool.slice(2000 + r * perRound, 2000 + (r + 1) * perRound);
    let b = 0;
    let o = 0;
    for (let c = 0; c < slice.length; c += CHUNK) {
      const chunk = slice.slice(c, c + CHUNK);
      if ((c / CHUNK) % 2 === 0) {
        b += timeSync(chunk, bare) * chunk.length;
        o += (await timeAsync(chunk, (t) => server.verifyToken(t))) * chunk.length;
      } else {
        o += (await timeAsync(chunk, (t) => server.verifyToken(t))) * chunk.length;
        b += timeSync(chunk, bare) * chunk.length;
      }
    }
    bareUs.push(b / slice.length);
    oursUs.push(o / slice.length);
    ratios.push(o / b);
    parts["sha256 cache key"]!.push(timeSync(slice, tokenCacheKey));
    parts["decodeJwt (split, base64url, JSON.parse)"]!.push(timeSync(slice, decodeJwt));
    const decoded = slice.map(decodeJwt);
    parts["checkHeader + checkClaims"]!.push(
      timeSync(decoded, (d) => {
        checkHeader(d.header, jwtOptions);
        checkClaims(d.payload, jwtOptions, now);
      }),
    );
    parts["decode + checks + bare crypto.verify (the least a verifier must do)"]!.push(
      timeSync(slice, (t) => {
        const d = decodeJwt(t);
        checkHeader(d.header, jwtOptions);
        if (!bare(t)) throw new Error("refused");
        checkClaims(d.payload, jwtOptions, now);
      }),
    );
    parts["JwtVerifier.verify (what verifyToken wraps)"]!.push(timeSync(slice, (t) => verifier.verify(t)));
  }

  // The cached path: the same few tokens again and again, cache on (defaults).
  const cachedServer = new ResourceServer(options);
  await retried(() => cachedServer.ready());
  const repeated = Array.from({ length: 50_000 }, (_, i) => cachedTokens[i % cachedTokens.length]!);
  await timeAsync(repeated, (t) => cachedServer.verifyToken(t));
  const cachedRuns: number[] = [];
  for (let r = 0; r < 3; r++) cachedRuns.push(await timeAsync(repeated, (t) => cachedServer.verifyToken(t)));
  const cachedVerifyUs = median(cachedRuns);
  const requests = repeated.slice(0, 20_000).map((t) => ({
    headers: { host: "127.0.0.1:3000", authorization: `Bearer ${t}`, connection: "keep-alive" },
    rawHeaders: ["Host", "127.0.0.1:3000", "authorization", `Bearer ${t}`, "Connection", "keep-alive"],
    url: "/mcp",
  }));
  const cachedParts: Record<string, number> = {
    "readBearerToken (header parsing, no syntax pass: the token is known)": median(
      [0, 1, 2].map(() => timeSync(requests, (q) => readBearerToken(q, 8192))),
    ),
    "sha256 cache key": median([0, 1, 2].map(() => timeSync(repeated.slice(0, 20_000), tokenCacheKey))),
    "check (what requireBearer calls), cached": median(
      [0, 1, 2].map(() => timeSync(requests, (q) => cachedServer.check(q))),
    ),
  };

  const mechanisms = await compareMechanisms(pool, key, jwks.keys[0]!, options);

  return {
    ops: perRound,
    rounds,
    mechanisms,
    bareVerifyUs: median(bareUs),
    mcpOAuthVerifyUs: median(oursUs),
    ratio: median(ratios),
    parts: Object.fromEntries(Object.entries(parts).map(([name, values]) => [name, median(values)])),
    cachedVerifyUs,
    cachedParts,
  };
}

/** CPU time of the main thread so far, in µs (Linux: /proc/self/task/<pid>/schedstat, ns on CPU). */
function mainThreadCpuUs(): number {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, "utf8").split(" ")[0]) / 1000;
  } catch {
    return NaN;
  }
}

async function compareMechanisms(
  pool: string[],
  key: KeyObject,
  jwk: JsonWebKey,
  options: { resource: string; authorizationServers: string[]; validation: { jwksUri: string } },
): Promise<ColdResult["mechanisms"]> {
  const eventLoop = new ResourceServer({
    ...options,
    cache: false,
    validation: { ...options.validation, signatureVerification: "event-loop" },
  });
  const threadPool = new ResourceServer({
    ...options,
    cache: false,
    validation: { ...options.validation, signatureVerification: "thread-pool" },
  });
  await retried(() => Promise.all([eventLoop.ready(), threadPool.ready()]));
  const joseKey = await importJWK(jwk as Parameters<typeof importJWK>[0], "RS256");
  const parts = (t: string): [Buffer, Buffer] => {
    const dot = t.lastIndexOf(".");
    return [Buffer.from(t.slice(0, dot)), Buffer.from(t.slice(dot + 1), "base64url")];
  };
  const ways: Record<string, (token: string) => unknown> = {
    "mcp-oauth verifyToken, signature on the event loop": (t) => eventLoop.verifyToken(t),
    "mcp-oauth verifyToken, signature on the thread pool": (t) => threadPool.verifyToken(t),
    "jose jwtVerify (WebCrypto, thread pool), issuer + audience": (t) =>
      jwtVerify(t, joseKey, {
        issuer: options.authorizationServers[0]!,
        audience: options.resource,
        algorithms: ["RS256"],
      }),
    "bare crypto.verify, synchronous": (t) => {
      const [data, signature] = parts(t);
      if (!verify("sha256", data, key, signature)) throw new Error("refused");
    },
    "bare crypto.verify with a callback (thread pool)": (t) =>
      new Promise<void>((resolve, reject) => {
        const [data, signature] = parts(t);
        verify("sha256", data, key, signature, (error, ok) => (ok ? resolve() : reject(error ?? new Error("refused"))));
      }),
  };
  const IN_FLIGHT = 10;
  let offset = 2000;
  const runOnce = async (
    fn: (token: string) => unknown,
    n: number,
  ): Promise<{ total: number; main: number; wall: number }> => {
    const list = pool.slice(offset, offset + n);
    offset = offset + n >= pool.length - n ? 2000 : offset + n;
    let i = 0;
    const cpu = process.cpuUsage();
    const main = mainThreadCpuUs();
    const started = performance.now();
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (i < list.length) await fn(list[i++]!);
      }),
    );
    const wall = ((performance.now() - started) * 1000) / list.length;
    const used = process.cpuUsage(cpu);
    return { total: (used.user + used.system) / list.length, main: (mainThreadCpuUs() - main) / list.length, wall };
  };
  const results = new Map<string, { total: number[]; main: number[]; wall: number[] }>();
  for (const [name, fn] of Object.entries(ways)) {
    await runOnce(fn, 1000);
    results.set(name, { total: [], main: [], wall: [] });
  }
  // Rounds taking turns, so a drift of the machine hits every way alike.
  for (let round = 0; round < 5; round++) {
    for (const [name, fn] of Object.entries(ways)) {
      const r = await runOnce(fn, 2000);
      const into = results.get(name)!;
      into.total.push(r.total);
      into.main.push(r.main);
      into.wall.push(r.wall);
    }
  }
  return [...results].map(([name, r]) => ({
    name,
    totalCpuUs: median(r.total),
    mainThreadCpuUs: median(r.main),
    wallUs: median(r.wall),
  }));
}

async function heap(): Promise<HeapResult> {
  if (!gc) throw new Error("run with --expose-gc");
  const secret = Buffer.alloc(32, 7);
  const count = 100_000;
  const options = {
    resource: config.resource,
    authorizationServers: [config.issuer],
    // HS256 with the same claims as the RS256 tokens: the cache holds the claims, never
    // the token or its signature, so an entry's size does not depend on the algorithm,
    // and 100k HMAC signatures take a second instead of 100k RSA ones taking minutes.
    validation: { algorithms: ["HS256" as const], secret },
    cache: { maxEntries: count },
  };
  const now = Math.floor(Date.now() / 1000);
  // Warm the code paths on a throw-away server, so the measured one starts empty.
  const warm = new ResourceServer(options);
  for (let i = 0; i < 2000; i++)
    await warm.verifyToken(mintHs256(secret, claimsFor(config.issuer, config.resource, i, now)));

  const server = new ResourceServer(options);
  await server.verifyToken(mintHs256(secret, claimsFor(config.issuer, config.resource, -1, now)));
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < count - 1; i++) {
    // Minted one at a time and dropped: only what the cache keeps stays on the heap.
    await server.verifyToken(mintHs256(secret, claimsFor(config.issuer, config.resource, i, now)));
  }
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  gc();
  const after = process.memoryUsage().heapUsed;
  const stats = server.stats();
  const store = server.options.cache!.store as { size?: number };
  if (stats.accepted !== count) throw new Error(`expected ${count} accepted tokens, got ${stats.accepted}`);
  return {
    tokens: count,
    heapBeforeMB: before / 2 ** 20,
    heapAfterMB: after / 2 ** 20,
    growthMB: (after - before) / 2 ** 20,
    bytesPerToken: (after - before) / count,
    cacheSize: store.size ?? NaN,
  };
}

const result = mode === "heap" ? await heap() : await cold();
process.send!({ type: "result", result }, () => {
  process.disconnect();
  process.exit(0);
});
