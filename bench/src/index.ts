/**
 * `pnpm bench`: what protection costs. Every row is a server in its own process (an
 * Express app with one protected GET route, or a whole MCP server answering `tools/call`);
 * autocannon loads it from another process; every library validates the same RS256 tokens
 * against the same loopback authorization server.
 * Writes bench/results.md and bench/results.json. Never part of `pnpm test`.
 *
 * Options: --no-profile (skip the CPU profile of the rows behind a missed target, taken in
 * a separate window after the measured ones), --profile-rows=id,id (profile these rows
 * instead), --rows=id,id (a subset, in that order), --no-micro, --out=DIR (write the
 * results there instead of bench/: smoke runs). Environment:
 * BENCH_CONNECTIONS (10), BENCH_WARMUP (1.5 s), BENCH_ROUNDS (5), BENCH_WINDOW (1 s),
 * BENCH_COLD_TOKENS (cold pool size), BENCH_FOCUS_ROUNDS (20 for the cached path and the
 * tools/call rows, half for the cold rows, unpinned and on one core; 0 skips them),
 * BENCH_RETRIES (3: retakes of a window other processes shared), BENCH_PIN=1 (every row server on CPU 0 and the load generator on CPU 1; by default only
 * the rows marked `cores: 1` are pinned), BENCH_INSTANCES (3: server processes of each row
 * behind a target, taking turns by round).
 */
import type { ChildProcess } from "node:child_process";
import { generateKeyPairSync, randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { closeSync, mkdirSync, openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  generateSigningKey,
  obtainAccessToken,
  startLocalAuthorizationServer,
  type LocalAuthorizationServer,
} from "@mcp-oauth/local-authorization-server";
import { DEFAULTS } from "@mcp-oauth/core/internal";
import { commitInfo, cpuSnapshot, foreignShare, machineInfo, processJiffies, waitForQuiet } from "./machine.js";
import type { ColdResult, HeapResult, MicroConfig } from "./micro.js";
import { summariseProfile, type ProfileSummary } from "./profile.js";
import { measureRedisMiss, startBenchRedis, type BenchRedis, type RedisMissResult } from "./redis.js";
import { median, renderMarkdown, renderTerminal, type BenchResults, type RowResult, type Target } from "./report.js";
import { baselineOf, PEERS, ROWS, type RowSpec } from "./rows.js";
import {
  BENCH_DIR,
  buildPackages,
  DIST_CONDITION,
  isType,
  nextMessage,
  PIN_ALL,
  PINNING,
  RESOURCE,
  ROUTE,
  spawnTs,
  waitExit,
  type LoadCommand,
  type LoadWindow,
  type ServerConfig,
  type WindowResult,
} from "./shared.js";
import { CACHE_DIR, CACHED_FILE, COLD_FILE, loadMinted, mintAll, mintWithKey, type MintedTokens } from "./tokens.js";

const args = process.argv.slice(2);
const flag = (name: string): boolean =>
  args.includes(`--${name}`) || process.env[`BENCH_${name.toUpperCase().replace(/-/g, "_")}`] === "1";
const option = (name: string): string | undefined =>
  args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const envNumber = (name: string, fallback: number): number => {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
};

const CONNECTIONS = envNumber("BENCH_CONNECTIONS", 10);
const WARMUP = envNumber("BENCH_WARMUP", 1.5);
/** Measured windows per row, one per round; the rows take turns within a round. */
const ROUNDS = envNumber("BENCH_ROUNDS", 5);
const WINDOW = envNumber("BENCH_WINDOW", 1);
/**
 * Extra rounds among the rows behind each target whose margin is a few percent: on a shared
 * VM one window of a row can differ from the next by 30% (the no-op reference rows show how
 * far off a paired ratio still is). Each group takes its rounds among its own rows only, so
 * every ratio stays paired within one round.
 */
const FOCUS_ROUNDS = Math.max(0, Math.floor(Number(process.env["BENCH_FOCUS_ROUNDS"] ?? 20)) || 0);
const FOCUS_GROUPS: readonly { target: string; rows: readonly string[]; rounds: number }[] = [
  // The cached path's 2% asks for the finest resolution.
  {
    target: "the cached path",
    rows: ["baseline", "sync-noop", "sets-auth", "least-check", "mcp-oauth:cached"],
    rounds: FOCUS_ROUNDS,
  },
  {
    target: "a whole tools/call",
    rows: [
      "mcp-sdk",
      "mcp-sdk:protected",
      "mcp-framework-server",
      "mcp-framework-server:own-provider",
      "mcp-framework-server:any-auth",
      "mcp-framework-server:protected",
    ],
    // As many as the cached path: a 3% margin, and a whole MCP request varies more per window.
    rounds: FOCUS_ROUNDS,
  },
  // Fewer: each window of a cold row spends a few thousand tokens of its pool.
  {
    target: "the cold path, not pinned",
    rows: ["mcp-oauth:cold", ...PEERS.map((peer) => `${peer.impl}:cold`)],
    rounds: Math.floor(FOCUS_ROUNDS / 2),
  },
  {
    target: "the cold path, one core",
    rows: ["baseline@1", "mcp-oauth:cold@1", ...PEERS.map((peer) => `${peer.impl}:cold@1`)],
    rounds: Math.floor(FOCUS_ROUNDS / 2),
  },
];
/**
 * Server processes of each row behind a target, taking turns by round. In one experiment
 * three processes of the same row (same code, same run) stayed up to 20% apart in CPU time
 * per request over ten rounds (docs/architecture.md, "Performance history"): with one
 * process per row such a difference is a fixed error of every ratio, which more rounds on
 * that process cannot average out.
 */
const INSTANCES = Math.max(1, Math.floor(envNumber("BENCH_INSTANCES", 3)));
const TARGET_ROWS = new Set(FOCUS_GROUPS.flatMap((group) => group.rows));
/** Unmeasured load at the start of each window: the row's server has been idle meanwhile. */
const SETTLE = 0.25;
const PROFILE_SECONDS = 3;
/** Share of the machine's CPU other processes may take during a window before it is taken again. */
const FOREIGN_LIMIT = 0.1;
/**
 * Times a window is taken again when another process took more than FOREIGN_LIMIT of the CPUs
 * during it (BENCH_RETRIES, 3; 0 on a machine that is never quiet: each retake first waits up
 * to 10 s for a quiet moment, and the rows' notes still say which windows were shared).
 */
const MAX_RETRIES = Math.max(0, Math.floor(Number(process.env["BENCH_RETRIES"] ?? 3)) || 0);
/** Tokens the cold warm-up cycles over; the measured run takes distinct tokens after them. */
const WARMUP_TOKENS = 5_000;
const COLD_TOKENS = envNumber("BENCH_COLD_TOKENS", 100_000);
const PROFILE = !flag("no-profile");
const MICRO = !flag("no-micro");
const ONLY = option("rows")?.split(",");
const PROFILE_ROWS = option("profile-rows")?.split(",");
const OUT_DIR = option("out") ?? BENCH_DIR;
/** Tokens signed with each new key of the rotation row (sent round-robin in its window). */
const ROTATION_TOKENS = 64;

const LOG_DIR = join(CACHE_DIR, "logs");
const PROFILE_DIR = join(CACHE_DIR, "profiles");
const OPAQUE_FILE = join(CACHE_DIR, "opaque-tokens.txt");
mkdirSync(LOG_DIR, { recursive: true });
mkdirSync(PROFILE_DIR, { recursive: true });

const log = (line: string): void => console.log(line);
const children = new Set<ChildProcess>();
const servers: LocalAuthorizationServer[] = [];
/** The Redis rows' redis-server, stopped with everything else. */
let redis: BenchRedis | undefined;

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

async function cleanup(): Promise<void> {
  for (const child of children) child.kill("SIGKILL");
  await Promise.all(servers.map((server) => server.close().catch(() => {})));
  await redis?.stop();
}

process.once("SIGINT", () => void cleanup().then(() => process.exit(130)));
process.once("SIGTERM", () => void cleanup().then(() => process.exit(143)));

/** The authorization server issuing the JWTs, and the tokens minted with its key. */
async function jwtAuthorizationServer(): Promise<{ as: LocalAuthorizationServer; tokens: MintedTokens }> {
  const stored = loadMinted(COLD_TOKENS, RESOURCE);
  if (stored) {
    try {
      // Same key and same port: the stored tokens' `iss` and `kid` stay valid.
      const as = await startLocalAuthorizationServer({ keys: [stored.jwk], port: stored.issuerPort });
      if (as.issuer === stored.issuer) return { as, tokens: stored };
      await as.close();
    } catch {
      // Port taken: mint afresh below.
    }
  }
  const jwk = generateSigningKey("RS256");
  const as = await startLocalAuthorizationServer({ keys: [jwk] });
  const port = Number(new URL(as.issuer).port);
  log(`minting tokens (kept in bench/.cache/ for later runs)...`);
  const tokens = await mintAll(jwk, as.issuer, port, RESOURCE, COLD_TOKENS, log);
  return { as, tokens };
}

interface Upstream {
  jwks: number;
  introspection: number;
  discovery: number;
}

function upstreamCounts(): Upstream {
  // The rotation row's key set is served by the orchestrator itself.
  const counts: Upstream = { jwks: rotation.fetches, introspection: 0, discovery: 0 };
  for (const as of servers) {
    for (const [path, n] of as.requestCounts) {
      if (path === "/jwks") counts.jwks += n;
      else if (path === "/token/introspection") counts.introspection += n;
      else if (path.startsWith("/.well-known/")) counts.discovery += n;
    }
  }
  return counts;
}

const diff = (a: Upstream, b: Upstream): Upstream => ({
  jwks: b.jwks - a.jwks,
  introspection: b.introspection - a.introspection,
  discovery: b.discovery - a.discovery,
});

interface Context {
  serverConfig: Omit<ServerConfig, "impl">;
  tokens: MintedTokens;
  opaque: { valid: string; wrongAudience: string };
}

/** Rows that check no token: the 401 probes do not apply. */
const UNPROTECTED = new Set([
  "baseline",
  "hono",
  "sync-noop",
  "sets-auth",
  "async-noop",
  "mcp-sdk",
  "mcp-framework-server",
  // Accepts every request: the floor of any provider, not a protection.
  "mcp-framework-server-any-auth",
]);

/**
 * Before loading a row: a valid token passes, none and a wrong-audience one are refused.
 * (MCP rows: the load generator checks a whole session before each window; here, the refusals.)
 */
async function probe(url: string, row: RowSpec, ctx: Context): Promise<string | undefined> {
  const valid = row.tokens === "opaque" ? ctx.opaque.valid : ctx.tokens.cached[0]!;
  const wrong = row.tokens === "opaque" ? ctx.opaque.wrongAudience : ctx.tokens.wrongAudience;
  const mcp = row.request === "mcp";
  const status = async (token: string | undefined): Promise<number> => {
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    const response = await fetch(
      url,
      mcp
        ? {
            method: "POST",
            headers: { ...headers, "content-type": "application/json", accept: "application/json, text/event-stream" },
            body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
          }
        : { headers },
    );
    await response.arrayBuffer();
    return response.status;
  };
  if (!mcp) {
    const ok = await status(valid);
    if (ok !== 200) return `valid token answered ${ok}`;
  }
  if (UNPROTECTED.has(row.impl)) return undefined;
  const none = await status(undefined);
  if (none !== 401) return `no token answered ${none}`;
  const wrongStatus = await status(wrong);
  if (wrongStatus !== 401) return `wrong-audience token answered ${wrongStatus}`;
  return undefined;
}

/** One server process of a row. */
interface Instance {
  server: ChildProcess;
  /** The cluster row's worker processes (their CPU time is the row's, not another process's). */
  workerPids: number[];
  url: string;
  logFile: string;
  atSpawn: Upstream;
  /** Upstream calls from spawn to the end of the warm-up (start-up check, probe, warm-up). */
  startup: Upstream;
}

interface LiveRow {
  /** Unique per run (a row may be listed twice with --rows). */
  key: string;
  spec: RowSpec;
  /** The row's server processes (see instanceFor). */
  instances: Instance[];
  /** The row's place in the run: shifts which of its processes each round uses. */
  index: number;
  windows: Measured[];
}

/**
 * The process a measured window of `round` runs on: round r uses process (r + the row's
 * index) mod n, so that over n rounds each process of a row is paired with several
 * processes of the others, not always with the one of the same number. Profile windows
 * (round -1) use the first.
 */
const instanceFor = (row: LiveRow, round: number): Instance =>
  row.instances[round < 0 ? 0 : (round + row.index) % row.instances.length]!;

interface Measured {
  round: number;
  /** Which of the row's processes served the window (0 for a row with one). */
  process: number;
  requests: number;
  seconds: number;
  rps: number;
  latencies: number[];
  cpuUs: number;
  /** CPU time of the row's redis-server during the window (the Redis rows), in µs. */
  redisCpuUs: number;
  allRequests: number;
  upstream: Upstream;
  non2xx: number;
  errors: number;
  timeouts: number;
  distinctTokens: number;
  repeated: boolean;
  /** Share of the machine's CPU used by other processes during the window. */
  foreign: number;
}

const sumUpstream = (list: Upstream[]): Upstream =>
  list.reduce(
    (a, b) => ({
      jwks: a.jwks + b.jwks,
      introspection: a.introspection + b.introspection,
      discovery: a.discovery + b.discovery,
    }),
    { jwks: 0, introspection: 0, discovery: 0 },
  );

async function startInstance(spec: RowSpec, instance: number, ctx: Context): Promise<Instance> {
  const logFile = join(
    LOG_DIR,
    `${spec.id.replace(/[^a-z0-9-]+/gi, "_")}${instance === 0 ? "" : `.${instance + 1}`}.log`,
  );
  const errFd = openSync(logFile, "w");
  const atSpawn = upstreamCounts();
  const server = track(
    spawnTs("server.ts", [JSON.stringify({ ...ctx.serverConfig, impl: spec.impl } satisfies ServerConfig)], {
      nodeArgs: [DIST_CONDITION],
      stdio: ["ignore", errFd, errFd, "ipc"],
      env: { ...process.env, NODE_ENV: "production" },
      ...(PINNING && pinned(spec) ? { cpus: PINNING.server } : {}),
    }),
  );
  closeSync(errFd);
  try {
    const { port, pids } = (await nextMessage(server, isType("listening"), 30_000)) as unknown as {
      port: number;
      pids?: number[];
    };
    const url = `http://127.0.0.1:${port}${ROUTE}`;
    const refused = await probe(url, spec, ctx);
    if (refused) throw new Error(`probe failed: ${refused} (server log: ${logFile})`);
    return {
      server,
      workerPids: pids ?? [],
      url,
      logFile,
      atSpawn,
      startup: { jwks: 0, introspection: 0, discovery: 0 },
    };
  } catch (error) {
    await stopServer(server);
    throw error;
  }
}

async function stopServer(server: ChildProcess): Promise<void> {
  if (server.connected) server.send({ type: "exit" });
  await waitExit(server);
}

async function serverAsk<K extends string>(
  server: ChildProcess,
  command: object,
  answer: K,
): Promise<Record<string, unknown>> {
  server.send(command);
  return (await nextMessage(server, isType(answer))) as unknown as Record<string, unknown>;
}

/** Whether a row's server is pinned to CPU 0 (and its load to CPU 1). */
const pinned = (spec: RowSpec): boolean => PIN_ALL || spec.cores === 1;

/** The load generators: one free to run on any core, one pinned to CPU 1 (for pinned rows). */
const loads: { free?: ChildProcess; pinned?: ChildProcess } = {};
const loadFor = (spec: RowSpec): ChildProcess => (pinned(spec) && PINNING ? loads.pinned! : loads.free!);

/**
 * The rotation row's key set, served by the orchestrator: the authorization server's key,
 * plus one new key per measured window of that row, published just before the window.
 */
const rotation = {
  keys: [] as object[],
  round: 0,
  fetches: 0,
  /** When the last new key was published (ms since epoch). */
  lastAt: 0,
  file: join(CACHE_DIR, "rotation-tokens.txt"),
};

/** The library's refetch cooldown for an unknown kid (the default jwksRequestsPerMinute), plus a margin. */
const ROTATION_GAP_MS = 60_000 / DEFAULTS.validation.jwksRequestsPerMinute + 500;

/** Rows whose cache lives in the bench's redis-server. */
const usesRedis = (spec: RowSpec): boolean => spec.impl === "mcp-oauth-redis" || spec.impl === "mcp-oauth-redis-only";

async function rotateKey(ctx: Context): Promise<void> {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const kid = `rotated-${++rotation.round}-${randomUUID().slice(0, 8)}`;
  const tokens = await mintWithKey(privateKey, kid, ctx.serverConfig.issuer, RESOURCE, ROTATION_TOKENS);
  // A file per window: the load generator keeps every token file it has read.
  rotation.file = join(CACHE_DIR, `rotation-tokens-${rotation.round}.txt`);
  writeFileSync(rotation.file, tokens.join("\n"));
  rotation.keys.push({ ...publicKey.export({ format: "jwk" }), kid, alg: "RS256", use: "sig" });
}

async function runWindow(
  load: ChildProcess,
  row: LiveRow,
  phase: "warmup" | "measure",
  seconds: number,
  round: number,
  profileFile?: string,
  ctx?: Context,
  instance: Instance = instanceFor(row, round),
): Promise<Measured> {
  const others = [loads.free?.pid, loads.pinned?.pid].filter((pid): pid is number => pid !== undefined);
  // The Redis rows' redis-server works for the row: its CPU time is the row's, not another process's.
  const redisPid = usesRedis(row.spec) ? redis?.pid : undefined;
  const pids = [process.pid, ...others, instance.server.pid!, ...instance.workerPids, ...(redisPid ? [redisPid] : [])];
  const rotating = row.spec.tokens === "rotation" && phase === "measure" && ctx !== undefined;
  if (rotating) {
    // A new kid is fetched at most once per cooldown (jwksRequestsPerMinute): a window taken
    // again soon after the last one would measure the 503s of that rule, not a rotation.
    const wait = rotation.lastAt + ROTATION_GAP_MS - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    await rotateKey(ctx);
    rotation.lastAt = Date.now();
  }
  const tokens = row.spec.tokens;
  const window: LoadWindow = {
    row: row.key,
    url: instance.url,
    connections: CONNECTIONS,
    seconds,
    phase,
    // The rotation row is measured from its first request: that is the one that waits for the key set.
    settleSeconds: rotating ? 0 : SETTLE,
    tokensFile: rotating
      ? rotation.file
      : tokens === "cold" || tokens === "per-connection"
        ? COLD_FILE
        : tokens === "opaque"
          ? OPAQUE_FILE
          : CACHED_FILE,
    mode: tokens === "cold" ? "pool" : tokens === "per-connection" ? "per-connection" : "cycle",
    warmupTokens: WARMUP_TOKENS,
    request: row.spec.request ?? "get",
  };
  if (profileFile) await serverAsk(instance.server, { type: "profile-start" }, "profile");
  const before = upstreamCounts();
  const cpuBefore = await serverAsk(instance.server, { type: "cpu" }, "cpu");
  const redisBefore = redisPid ? processJiffies(redisPid) : 0;
  const machineBefore = cpuSnapshot(pids);
  load.send({ type: "run", window } satisfies LoadCommand);
  const answer = (await nextMessage(
    load,
    (m: unknown): m is { type: string } => isType("done")(m) || isType("failed")(m),
    (seconds + 60) * 1000,
  )) as unknown as { type: string; result?: WindowResult; message?: string };
  const machineAfter = cpuSnapshot(pids);
  const redisAfter = redisPid ? processJiffies(redisPid) : 0;
  if (answer.type === "failed") throw new Error(`load generator: ${answer.message}`);
  const cpuAfter = await serverAsk(instance.server, { type: "cpu" }, "cpu");
  const after = upstreamCounts();
  if (profileFile) await serverAsk(instance.server, { type: "profile-stop", file: profileFile }, "profile");
  const r = answer.result!;
  const cpu = (m: Record<string, unknown>): number => (m["user"] as number) + (m["system"] as number);
  return {
    round,
    process: row.instances.indexOf(instance),
    requests: r.requests,
    seconds: r.seconds,
    rps: r.requests / r.seconds,
    latencies: r.latencies,
    cpuUs: cpu(cpuAfter) - cpu(cpuBefore),
    // Jiffies: 10 ms each on Linux (USER_HZ 100).
    redisCpuUs: (redisAfter - redisBefore) * 10_000,
    allRequests: r.allRequests,
    upstream: diff(before, after),
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    distinctTokens: r.distinctTokens,
    repeated: r.repeated,
    foreign: foreignShare(machineBefore, machineAfter),
  };
}

const percentile = (sorted: number[], p: number): number =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;

function summarise(row: LiveRow): RowResult {
  const w = row.windows;
  const latencies = w.flatMap((m) => m.latencies).sort((a, b) => a - b);
  const requests = w.reduce((a, m) => a + m.requests, 0);
  const rpsList = w.map((m) => m.rps);
  return {
    id: row.spec.id,
    label: row.spec.label,
    cores: pinned(row.spec) && PINNING ? 1 : 2,
    baselineId: baselineOf(row.spec),
    foreignMax: Math.max(...w.map((m) => m.foreign)),
    windowRps: w.map((m) => Math.round(m.rps)),
    windowCpuUsPerRequest: w.map((m) => Math.round(m.cpuUs / Math.max(1, m.allRequests))),
    windowProcess: w.map((m) => m.process),
    group: row.spec.group,
    tokens: row.spec.tokens,
    requests,
    seconds: w.reduce((a, m) => a + m.seconds, 0),
    rps: median(rpsList),
    rpsMin: Math.min(...rpsList),
    rpsMax: Math.max(...rpsList),
    p50: percentile(latencies, 0.5),
    p90: percentile(latencies, 0.9),
    p99: percentile(latencies, 0.99),
    mean: latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length),
    non2xx: w.reduce((a, m) => a + m.non2xx, 0),
    errors: w.reduce((a, m) => a + m.errors, 0),
    timeouts: w.reduce((a, m) => a + m.timeouts, 0),
    distinctTokens:
      row.spec.tokens === "cold" ? w.reduce((a, m) => a + m.distinctTokens, 0) : (w[0]?.distinctTokens ?? 0),
    repeated: w.some((m) => m.repeated),
    serverCpuUsPerRequest:
      w.reduce((a, m) => a + m.cpuUs, 0) /
      Math.max(
        1,
        w.reduce((a, m) => a + m.allRequests, 0),
      ),
    ...(usesRedis(row.spec)
      ? {
          redisCpuUsPerRequest:
            w.reduce((a, m) => a + m.redisCpuUs, 0) /
            Math.max(
              1,
              w.reduce((a, m) => a + m.allRequests, 0),
            ),
        }
      : {}),
    upstreamMeasured: sumUpstream(w.map((m) => m.upstream)),
    upstreamTotal: sumUpstream([...row.instances.map((instance) => instance.startup), ...w.map((m) => m.upstream)]),
    ratioToBaseline: NaN,
    ratioToBestPeer: NaN,
  };
}

function failedRow(spec: RowSpec, failure: string): RowResult {
  const none = { jwks: 0, introspection: 0, discovery: 0 };
  return {
    id: spec.id,
    label: spec.label,
    group: spec.group,
    tokens: spec.tokens,
    requests: 0,
    seconds: 0,
    rps: NaN,
    rpsMin: NaN,
    rpsMax: NaN,
    p50: NaN,
    p90: NaN,
    p99: NaN,
    mean: NaN,
    non2xx: 0,
    errors: 0,
    timeouts: 0,
    distinctTokens: 0,
    repeated: false,
    serverCpuUsPerRequest: NaN,
    upstreamMeasured: none,
    upstreamTotal: none,
    ratioToBaseline: NaN,
    ratioToBestPeer: NaN,
    failure,
  };
}

function runMicro<T>(mode: "cold" | "heap", config: MicroConfig): Promise<T> {
  const child = track(
    spawnTs("micro.ts", [mode, JSON.stringify(config)], { nodeArgs: ["--expose-gc", DIST_CONDITION] }),
  );
  return nextMessage(child, isType("result"), 300_000).then(async (message) => {
    await waitExit(child);
    return (message as unknown as { result: T }).result;
  });
}

/**
 * Ratios paired by round: each row against the baseline (and the best peer) measured in
 * the same round, then the median over rounds, so that the machine's drift cancels out.
 */
function computeRatios(results: RowResult[], live: (LiveRow | undefined)[]): void {
  for (let i = 0; i < results.length; i++) {
    const row = live[i];
    const result = results[i]!;
    if (row === undefined) continue;
    const baseline = live.find((r) => r?.spec.id === baselineOf(row.spec));
    // Peers: the same token set on the same number of cores, the same request to the same
    // kind of server (an MCP row's peer protects the same MCP server).
    const cores = row.spec.cores ?? 2;
    const peers = live.filter(
      (r): r is LiveRow =>
        r !== undefined &&
        r.spec.group === "peer" &&
        r.spec.tokens === row.spec.tokens &&
        (r.spec.cores ?? 2) === cores &&
        baselineOf(r.spec) === baselineOf(row.spec),
    );
    const perRoundBaseline: number[] = [];
    const perRoundPeer: number[] = [];
    for (const w of row.windows) {
      const b = baseline?.windows.find((m) => m.round === w.round);
      if (b) perRoundBaseline.push(w.rps / b.rps);
      const best = Math.max(
        ...peers.map((p) => p.windows.find((m) => m.round === w.round)?.rps ?? NaN).filter(Number.isFinite),
      );
      if ((row.spec.group === "ours" || row.spec.group === "peer") && Number.isFinite(best))
        perRoundPeer.push(w.rps / best);
    }
    result.ratioToBaseline = median(perRoundBaseline);
    result.ratioToBestPeer = median(perRoundPeer);
  }
}

/**
 * Two rows over the rounds both were measured in: the paired ratio, and each row's median
 * req/s, CPU per request and p50 over those windows only. A row of a focus group has more
 * windows than a row outside it; figures quoted side by side must come from the same rounds.
 */
function pairedFigures(live: (LiveRow | undefined)[], a: string, b: string) {
  const rowA = live.find((r) => r?.spec.id === a);
  const rowB = live.find((r) => r?.spec.id === b);
  const pairs = (rowA?.windows ?? []).flatMap((w) => {
    const other = rowB?.windows.find((m) => m.round === w.round);
    return other ? [[w, other] as const] : [];
  });
  const side = (windows: Measured[]) => ({
    rps: median(windows.map((m) => m.rps)),
    cpuUs:
      windows.reduce((sum, m) => sum + m.cpuUs, 0) /
      Math.max(
        1,
        windows.reduce((sum, m) => sum + m.allRequests, 0),
      ),
    p50: percentile(
      windows.flatMap((m) => m.latencies),
      0.5,
    ),
    p99: percentile(
      windows.flatMap((m) => m.latencies),
      0.99,
    ),
  });
  return {
    ratio: median(pairs.map(([x, y]) => x.rps / y.rps)),
    rounds: pairs.length,
    a: side(pairs.map(([x]) => x)),
    b: side(pairs.map(([, y]) => y)),
  };
}

/**
 * The targets, judged on the paired throughput ratio and cross-checked against the server's
 * CPU time per request (the cost itself, less sensitive to how the processes share the
 * CPUs): when the two disagree about a throughput target, it is `unclear`, not met.
 */
function targets(
  rows: RowResult[],
  live: (LiveRow | undefined)[],
  cold: ColdResult | undefined,
  heap: HeapResult | undefined,
): Target[] {
  const out: Target[] = [];
  const judge = (byThroughput: boolean, byCpu: boolean): Target["status"] =>
    byThroughput && byCpu ? "met" : !byThroughput && !byCpu ? "missed" : "unclear";
  const pct = (value: number, digits = 0): string => `${(value * 100).toFixed(digits)}%`;
  const row = (id: string): RowResult | undefined => rows.find((r) => r.id === id && Number.isFinite(r.rps));
  const baseline = row("baseline");
  const cached = row("mcp-oauth:cached");
  const floor = row("sets-auth");
  if (cached && baseline && floor) {
    // Overhead above the floor (a middleware that only sets req.auth), as a share of the baseline.
    const byThroughput = floor.ratioToBaseline - cached.ratioToBaseline;
    const byCpu = (cached.serverCpuUsPerRequest - floor.serverCpuUsPerRequest) / baseline.serverCpuUsPerRequest;
    const status = judge(byThroughput <= 0.02, byCpu <= 0.02);
    out.push({
      id: "cached",
      what: 'cached path: overhead above the "sets req.auth" floor ≤ 2% of the baseline',
      status,
      met: status === "met",
      rows: ["mcp-oauth:cached", "sets-auth"],
      measured: `throughput ${pct(cached.ratioToBaseline, 1)} of baseline vs the floor's ${pct(floor.ratioToBaseline, 1)}: ${pct(byThroughput, 1)} of the baseline above the floor; server CPU ${cached.serverCpuUsPerRequest.toFixed(1)} vs ${floor.serverCpuUsPerRequest.toFixed(1)} µs/request (floor), ${pct(byCpu, 1)} of the baseline's ${baseline.serverCpuUsPerRequest.toFixed(1)}${leastCheckNote(cached, floor, baseline)}`,
    });
  }
  // Where the floor itself stands against a check that reads the token at all: the least
  // any cached check does (a reference row, no signature and none of our rules).
  function leastCheckNote(ours: RowResult, floorRow: RowResult, base: RowResult): string {
    const least = row("least-check");
    if (!least) return "";
    // A share of the baseline, said as above or below (noise can put a row under the floor).
    const gap = (share: number): string => `${pct(Math.abs(share), 1)} ${share < 0 ? "below" : "above"}`;
    const cpuShare = (a: RowResult, b: RowResult): number =>
      (a.serverCpuUsPerRequest - b.serverCpuUsPerRequest) / base.serverCpuUsPerRequest;
    return `. The least a cached check does (header, Map lookup, exp, its own AuthInfo; the reference row least-check, ${least.serverCpuUsPerRequest.toFixed(1)} µs/request) is itself ${gap(floorRow.ratioToBaseline - least.ratioToBaseline)} the floor by throughput and ${gap(cpuShare(least, floorRow))} by CPU; ours is ${gap(least.ratioToBaseline - ours.ratioToBaseline)} it by throughput and ${gap(cpuShare(ours, least))} by CPU`;
  }
  const coldTarget = (id: string, cores: 1 | 2, minimum: number, what: string): void => {
    const ours = row(id);
    const peers = rows.filter(
      (r) =>
        r.group === "peer" &&
        r.tokens === "cold" &&
        (live.find((l) => l?.spec.id === r.id)?.spec.cores ?? 2) === cores &&
        Number.isFinite(r.rps),
    );
    if (!ours || peers.length === 0) return;
    const best = peers.reduce((a, b) => (b.rps > a.rps ? b : a));
    const cheapest = peers.reduce((a, b) => (b.serverCpuUsPerRequest < a.serverCpuUsPerRequest ? b : a));
    const status = judge(ours.ratioToBestPeer >= minimum, ours.serverCpuUsPerRequest < cheapest.serverCpuUsPerRequest);
    out.push({
      id: `cold@${cores}`,
      what,
      status,
      met: status === "met",
      rows: [id, best.id],
      measured: `${ours.ratioToBestPeer.toFixed(2)}x the best peer of each round (median req/s ${ours.rps.toFixed(0)} vs ${best.label} ${best.rps.toFixed(0)}); server CPU ${ours.serverCpuUsPerRequest.toFixed(0)} µs/request vs ${cheapest.serverCpuUsPerRequest.toFixed(0)} for the cheapest peer (${cheapest.label})`,
    });
  };
  coldTarget("mcp-oauth:cold", 2, 1.1, "cold path, not pinned (2 cores shared with the load): ≥ 1.10x the best peer");
  coldTarget("mcp-oauth:cold@1", 1, 1.0, "cold path, server pinned to one core: not behind any peer");
  for (const [id, label] of [
    ["mcp-sdk:protected", "MCP SDK Streamable HTTP"],
    ["mcp-framework-server:protected", "mcp-framework HTTP Stream"],
  ] as const) {
    const protectedRow = row(id);
    const base = protectedRow && row(baselineOf(live.find((l) => l?.spec.id === id)!.spec));
    if (!protectedRow || !base) continue;
    const cpuRatio = base.serverCpuUsPerRequest / protectedRow.serverCpuUsPerRequest;
    // Protection adds work: a protected server far faster than the same server without it
    // measured something else (refusals, a different path), whatever the ratio says.
    const implausible = protectedRow.ratioToBaseline > 1.25 || cpuRatio > 1.25;
    const status = implausible ? "unclear" : judge(protectedRow.ratioToBaseline >= 0.97, cpuRatio >= 0.97);
    out.push({
      id,
      what: `full MCP request (${label}, tools/call, one token per connection): protected ≥ 0.97x unprotected`,
      status,
      met: status === "met",
      rows: [id, base.id],
      measured: `${protectedRow.ratioToBaseline.toFixed(3)}x (median req/s ${protectedRow.rps.toFixed(0)} vs ${base.rps.toFixed(0)}); server CPU ${protectedRow.serverCpuUsPerRequest.toFixed(0)} vs ${base.serverCpuUsPerRequest.toFixed(0)} µs/request (${cpuRatio.toFixed(3)}x)`,
    });
  }
  if (cold) {
    const met = cold.ratio <= 1.5;
    out.push({
      id: "verify",
      what: "cold verification ≤ 1.5x a bare signature check (event loop, one at a time)",
      status: met ? "met" : "missed",
      met,
      rows: ["mcp-oauth:cold"],
      measured: `${cold.mcpOAuthVerifyUs.toFixed(1)} µs vs ${cold.bareVerifyUs.toFixed(1)} µs (${cold.ratio.toFixed(2)}x, median of per-round ratios)`,
    });
  }
  if (heap) {
    const met = heap.growthMB < 50;
    out.push({
      id: "heap",
      what: "100k cached tokens < 50 MB of heap",
      status: met ? "met" : "missed",
      met,
      rows: [],
      measured: `${heap.growthMB.toFixed(1)} MB (${heap.bytesPerToken.toFixed(0)} bytes per token)`,
    });
  }
  return out;
}

/** Figures reported beside the targets: scaling with cores, the mechanism choice, a rotation's cost. */
function findings(rows: RowResult[], live: (LiveRow | undefined)[], redisMiss: RedisMissResult | undefined): string[] {
  const out: string[] = [];
  const row = (id: string): RowResult | undefined => rows.find((r) => r.id === id && Number.isFinite(r.rps));
  const one = row("mcp-oauth:cold@1");
  const two = row("mcp-oauth:cold");
  if (one && two) {
    const scaling = pairedFigures(live, "mcp-oauth:cold", "mcp-oauth:cold@1");
    const baseScaling = pairedFigures(live, "baseline", "baseline@1");
    const base1 = row("baseline@1");
    const base2 = row("baseline");
    out.push(
      `Cold path, 1 core → 2 cores, over the ${scaling.rounds} rounds both took: ${scaling.b.rps.toFixed(0)} → ${scaling.a.rps.toFixed(0)} req/s (${scaling.ratio.toFixed(2)}x, paired by round)` +
        (base1 && base2
          ? `; the unprotected baseline ${baseScaling.b.rps.toFixed(0)} → ${baseScaling.a.rps.toFixed(0)} req/s (${baseScaling.ratio.toFixed(2)}x). With 2 cores the server shares them with the load generator.`
          : "."),
    );
  }
  const clustered = row("mcp-oauth-cluster:cold");
  if (clustered && two) {
    const p = pairedFigures(live, "mcp-oauth-cluster:cold", "mcp-oauth:cold");
    out.push(
      `One process per core (node:cluster, one worker per core), cold path, 2 cores, over the ${p.rounds} rounds both took: ${p.a.rps.toFixed(0)} req/s vs ${p.b.rps.toFixed(0)} for one process (${p.ratio.toFixed(2)}x, paired by round), ${p.a.cpuUs.toFixed(0)} vs ${p.b.cpuUs.toFixed(0)} µs CPU/request.`,
    );
  }
  const pool2 = row("mcp-oauth-thread-pool:cold");
  if (pool2 && two) {
    const p = pairedFigures(live, "mcp-oauth-thread-pool:cold", "mcp-oauth:cold");
    out.push(
      `Signatures on 2 cores, over the ${p.rounds} rounds both took: event loop (the default) ${p.b.rps.toFixed(0)} req/s, ${p.b.cpuUs.toFixed(0)} µs CPU/request; thread pool ${p.a.rps.toFixed(0)} req/s, ${p.a.cpuUs.toFixed(0)} µs; thread pool / event loop ${p.ratio.toFixed(2)}x (paired by round).`,
    );
  }
  const pool1 = row("mcp-oauth-thread-pool:cold@1");
  if (pool1 && one) {
    const p = pairedFigures(live, "mcp-oauth-thread-pool:cold@1", "mcp-oauth:cold@1");
    out.push(
      `Signatures on 1 core, over the ${p.rounds} rounds both took: event loop (the default) ${p.b.rps.toFixed(0)} req/s, ${p.b.cpuUs.toFixed(0)} µs CPU/request; thread pool ${p.a.rps.toFixed(0)} req/s, ${p.a.cpuUs.toFixed(0)} µs; thread pool / event loop ${p.ratio.toFixed(2)}x (paired by round).`,
    );
  }
  const perConnection = row("mcp-oauth:per-connection");
  const cached = row("mcp-oauth:cached");
  if (perConnection && cached)
    out.push(
      `Cached path, one token per connection: ${perConnection.ratioToBaseline.toFixed(2)}x the baseline (round-robin tokens: ${cached.ratioToBaseline.toFixed(2)}x).`,
    );
  const frameworkBare = row("mcp-framework-server");
  const frameworkOwn = row("mcp-framework-server:own-provider");
  const frameworkOurs = row("mcp-framework-server:protected");
  if (frameworkBare && frameworkOwn && frameworkOurs)
    out.push(
      `mcp-framework HTTP Stream, the same tools/call with the same tokens: no auth ${frameworkBare.rps.toFixed(0)} req/s (${frameworkBare.serverCpuUsPerRequest.toFixed(0)} µs CPU/request); its own OAuthAuthProvider ${frameworkOwn.rps.toFixed(0)} req/s, ${frameworkOwn.ratioToBaseline.toFixed(2)}x (${frameworkOwn.serverCpuUsPerRequest.toFixed(0)} µs); @mcp-oauth/mcp-framework ${frameworkOurs.rps.toFixed(0)} req/s, ${frameworkOurs.ratioToBaseline.toFixed(2)}x (${frameworkOurs.serverCpuUsPerRequest.toFixed(0)} µs), ${frameworkOurs.ratioToBestPeer.toFixed(2)}x its own provider (paired by round).`,
    );
  const redisCached = row("mcp-oauth-redis:cached");
  const redisOnly = row("mcp-oauth-redis-only:cached");
  const redisCold = row("mcp-oauth-redis:cold");
  const memoryCold = row("mcp-oauth-default-cache:cold");
  if (redisCached && cached) {
    const p = pairedFigures(live, "mcp-oauth-redis:cached", "mcp-oauth:cached");
    out.push(
      `Redis layer, token in the in-memory layer (every replica after its first request), over the ${p.rounds} rounds both took: ${p.a.rps.toFixed(0)} req/s, ${p.ratio.toFixed(2)}x the in-memory cache alone (paired by round), p50 ${p.a.p50.toFixed(2)} vs ${p.b.p50.toFixed(2)} ms, ${p.a.cpuUs.toFixed(0)} vs ${p.b.cpuUs.toFixed(0)} µs CPU/request.`,
    );
  }
  if (redisOnly && cached) {
    const p = pairedFigures(live, "mcp-oauth-redis-only:cached", "mcp-oauth:cached");
    out.push(
      `A Redis hit on every request (in-memory layer off: what a replica pays for a token another replica verified, once), over the ${p.rounds} rounds both took: ${p.a.rps.toFixed(0)} req/s, ${p.ratio.toFixed(2)}x the in-memory cache, p50 ${p.a.p50.toFixed(2)} vs ${p.b.p50.toFixed(2)} ms, ${p.a.cpuUs.toFixed(0)} vs ${p.b.cpuUs.toFixed(0)} µs CPU/request.`,
    );
  }
  if (redisCold && memoryCold) {
    const p = pairedFigures(live, "mcp-oauth-redis:cold", "mcp-oauth-default-cache:cold");
    out.push(
      `Cold tokens with the Redis layer (a miss in both layers, then the verdict stored in both): ${p.a.rps.toFixed(0)} req/s, ${p.ratio.toFixed(2)}x the in-memory cache alone, p50 ${p.a.p50.toFixed(2)} vs ${p.b.p50.toFixed(2)} ms (+${(p.a.p50 - p.b.p50).toFixed(2)} ms under load), ${p.a.cpuUs.toFixed(0)} vs ${p.b.cpuUs.toFixed(0)} µs CPU/request.`,
    );
  }
  if (redisMiss)
    out.push(
      `A Redis miss on its own (\`RedisTokenCache.get\` of an absent key, one at a time, loopback, machine otherwise idle): p50 ${redisMiss.p50Us.toFixed(0)} µs, p99 ${redisMiss.p99Us.toFixed(0)} µs over ${redisMiss.samples} calls: the latency a cold token gains on a replica using Redis.`,
    );
  const rotated = row("mcp-oauth:rotation");
  if (rotated && cached) {
    const p = pairedFigures(live, "mcp-oauth:rotation", "mcp-oauth:cached");
    out.push(
      `Key rotation under load (a new key published before each window, the window's tokens signed with it: the first request waits for the key set, the others for the same fetch or not at all): p99 ${rotated.p99.toFixed(2)} ms, p50 ${rotated.p50.toFixed(2)} ms, ${rotated.upstreamMeasured.jwks} key-set fetches in ${live.find((l) => l?.spec.id === "mcp-oauth:rotation")?.windows.length ?? 0} windows; cached path without a rotation in the same rounds: p99 ${p.b.p99.toFixed(2)} ms, p50 ${p.b.p50.toFixed(2)} ms.`,
    );
  }
  return out;
}

async function main(): Promise<void> {
  const started = performance.now();
  const info = machineInfo();
  log(
    `mcp-oauth bench: node ${info.node}, ${info.cpu}, ${info.cores} cores; ${PIN_ALL && PINNING ? `every row server on CPU ${PINNING.server}, load on CPU ${PINNING.load}` : PINNING ? "not pinned, except the one-core rows" : "not pinned (no taskset)"}; ${CONNECTIONS} connections; per row ${WARMUP} s warm-up, then ${ROUNDS} measured windows of ${WINDOW} s taken in turns`,
  );

  log("build: dist of the measured packages, from the current sources (what the row servers load)");
  buildPackages();

  const { as, tokens } = await jwtAuthorizationServer();
  servers.push(as);
  log(
    `authorization server ${as.issuer} (${tokens.reused ? "stored" : "new"} tokens: ${tokens.cached.length} cached, ${tokens.coldCount} cold)`,
  );

  // Introspection needs tokens the authorization server issued itself: a second one issues
  // opaque tokens through the real flow (registration, authorization code + PKCE).
  const opaqueAs = await startLocalAuthorizationServer({ accessTokenFormat: "opaque" });
  servers.push(opaqueAs);
  const opaqueTokens: string[] = [];
  for (let i = 0; i < 4; i++)
    opaqueTokens.push(
      (
        await obtainAccessToken(opaqueAs.issuer, {
          resource: RESOURCE,
          scope: "mcp:read mcp:write",
          login: `user-${i}`,
        })
      ).access_token,
    );
  const wrongOpaque = (
    await obtainAccessToken(opaqueAs.issuer, { resource: "http://127.0.0.1/other", scope: "mcp:read" })
  ).access_token;
  writeFileSync(OPAQUE_FILE, opaqueTokens.join("\n"));

  // The rotation row's key set: the authorization server's own key, then one more per window.
  rotation.keys.push(...((await (await fetch(as.jwksUri)).json()) as { keys: object[] }).keys);
  const jwksServer = createServer((req, res) => {
    rotation.fetches++;
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ keys: rotation.keys }));
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, "127.0.0.1", resolve));
  const closeJwks = (): void => {
    jwksServer.closeAllConnections();
    jwksServer.close();
  };
  process.once("exit", closeJwks);

  const ctx: Context = {
    serverConfig: {
      resource: RESOURCE,
      issuer: as.issuer,
      jwksUri: as.jwksUri,
      introspection: { issuer: opaqueAs.issuer, ...opaqueAs.introspection },
      rotationJwksUri: `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks`,
    },
    tokens,
    opaque: { valid: opaqueTokens[0]!, wrongAudience: wrongOpaque },
  };

  // The Redis rows' server (redis-server from Debian's package; without it those rows fail and say why).
  const redisStarted = await startBenchRedis();
  if (typeof redisStarted === "string") log(`redis: ${redisStarted}`);
  else {
    redis = redisStarted;
    ctx.serverConfig.redisUrl = redis.url;
  }

  let cold: ColdResult | undefined;
  let heap: HeapResult | undefined;
  let redisMiss: RedisMissResult | undefined;
  if (MICRO) {
    // First, while no row server is up.
    const microConfig: MicroConfig = {
      issuer: as.issuer,
      jwksUri: as.jwksUri,
      resource: RESOURCE,
      coldFile: COLD_FILE,
      cachedFile: CACHED_FILE,
    };
    await waitForQuiet();
    log("micro: cold verification vs bare crypto.verify ...");
    cold = await runMicro<ColdResult>("cold", microConfig);
    log(
      `  ${cold.mcpOAuthVerifyUs.toFixed(1)} µs vs ${cold.bareVerifyUs.toFixed(1)} µs (${cold.ratio.toFixed(2)}x); cached verifyToken ${cold.cachedVerifyUs.toFixed(2)} µs`,
    );
    await waitForQuiet();
    log("micro: heap growth for 100k cached tokens ...");
    heap = await runMicro<HeapResult>("heap", microConfig);
    log(`  ${heap.growthMB.toFixed(1)} MB (${heap.bytesPerToken.toFixed(0)} bytes per token)`);
    if (redis) {
      await waitForQuiet();
      redisMiss = await measureRedisMiss(redis.url).catch((error: unknown) => {
        log(`micro: the Redis miss was not measured: ${error instanceof Error ? error.message : String(error)}`);
        return undefined;
      });
      if (redisMiss) log(`micro: a Redis miss ${redisMiss.p50Us.toFixed(0)} µs (p99 ${redisMiss.p99Us.toFixed(0)} µs)`);
    }
  }

  // --rows keeps the order given and may repeat a row (A/B runs when checking noise).
  const specs = ONLY === undefined ? [...ROWS] : ONLY.flatMap((id) => ROWS.filter((row) => row.id === id));
  if (specs.some((spec) => !pinned(spec)) || !PINNING) {
    loads.free = track(spawnTs("loadgen.ts", []));
    await nextMessage(loads.free, isType("ready"));
  }
  if (PINNING && specs.some(pinned)) {
    loads.pinned = track(spawnTs("loadgen.ts", [], { cpus: PINNING.load }));
    await nextMessage(loads.pinned, isType("ready"));
  }

  // Every row server is started, checked and warmed up, then stays up (idle) while the
  // measured windows go round the rows: a slow moment of a shared machine then hits every
  // row alike instead of one row's whole run.
  const live: (LiveRow | undefined)[] = [];
  const failures = new Map<number, string>();
  log(`rows: start, probe (valid 200; missing and wrong-audience 401), ${WARMUP} s warm-up`);
  for (const [i, spec] of specs.entries()) {
    try {
      const row: LiveRow = { key: `${i}:${spec.id}`, spec, instances: [], index: i, windows: [] };
      live[i] = row;
      for (let n = 0; n < (TARGET_ROWS.has(spec.id) ? INSTANCES : 1); n++) {
        const instance = await startInstance(spec, n, ctx);
        row.instances.push(instance);
        const warm = await runWindow(loadFor(spec), row, "warmup", WARMUP, -1, undefined, undefined, instance);
        // A row that refuses or drops requests measures its refusals, not the work.
        if (warm.non2xx + warm.errors + warm.timeouts > 0)
          throw new Error(`warm-up: ${warm.non2xx} non-2xx, ${warm.errors} errors, ${warm.timeouts} timeouts`);
        instance.startup = diff(instance.atSpawn, upstreamCounts());
      }
    } catch (error) {
      failures.set(i, (error as Error).message);
      await Promise.all((live[i]?.instances ?? []).map((instance) => stopServer(instance.server)));
      live[i] = undefined;
      log(`  ${spec.label} [${spec.tokens}] FAILED: ${(error as Error).message}`);
    }
  }
  const busyBefore: number[] = [];
  let retried = 0;
  // A window during which another process took a real share of the CPUs measured that
  // process as much as the row: it is taken again (a few times at most).
  const measureWindow = async (row: LiveRow, round: number): Promise<Measured> => {
    let measured = await runWindow(loadFor(row.spec), row, "measure", WINDOW, round, undefined, ctx);
    for (let retry = 0; retry < MAX_RETRIES && measured.foreign > FOREIGN_LIMIT; retry++) {
      retried++;
      await waitForQuiet();
      measured = await runWindow(loadFor(row.spec), row, "measure", WINDOW, round, undefined, ctx);
    }
    return measured;
  };
  for (let round = 0; round < ROUNDS; round++) {
    busyBefore.push(await waitForQuiet());
    const order = live.map((_, i) => i);
    // Each round starts one row further on: no row is always first after the pause.
    const rotated = [...order.slice(round % order.length), ...order.slice(0, round % order.length)];
    for (const i of rotated) {
      const row = live[i];
      if (row === undefined) continue;
      row.windows.push(await measureWindow(row, round));
    }
    log(`  round ${round + 1}/${ROUNDS} done`);
  }
  // Each group's rounds get numbers of their own: a row is paired only with rows measured beside it.
  const focused: { target: string; rows: string[]; rounds: number }[] = [];
  let nextRound = ROUNDS;
  for (const group of FOCUS_GROUPS) {
    const focus = live.filter((row): row is LiveRow => row !== undefined && group.rows.includes(row.spec.id));
    if (focus.length < 2 || group.rounds === 0) continue;
    focused.push({ target: group.target, rows: focus.map((row) => row.spec.id), rounds: group.rounds });
    for (let k = 0; k < group.rounds; k++) {
      const round = nextRound++;
      busyBefore.push(await waitForQuiet());
      const rotated = [...focus.slice(k % focus.length), ...focus.slice(0, k % focus.length)];
      for (const row of rotated) row.windows.push(await measureWindow(row, round));
      if ((k + 1) % 5 === 0 || k + 1 === group.rounds)
        log(
          `  focus round ${k + 1}/${group.rounds} done (${group.target}: ${focus.map((row) => row.spec.id).join(", ")})`,
        );
    }
  }

  const rows: RowResult[] = specs.map((spec, i) =>
    live[i] === undefined ? failedRow(spec, failures.get(i) ?? "failed") : summarise(live[i]!),
  );
  for (const [i, row] of live.entries()) {
    if (row === undefined) continue;
    // Counters of every process of the row, added up.
    for (const instance of row.instances) {
      const { stats } = (await serverAsk(instance.server, { type: "stats" }, "stats")) as {
        stats?: Record<string, number>;
      };
      if (stats === undefined) continue;
      const sum = (rows[i]!.serverStats ??= {});
      for (const [name, value] of Object.entries(stats)) sum[name] = (sum[name] ?? 0) + value;
    }
  }
  // Excluded from every ratio and target (as a row, a baseline or a peer): fast refusals
  // would pass for fast work, and a Redis row that lost Redis measured the in-memory cache.
  for (const row of rows) {
    if (row.failure !== undefined) continue;
    const failed = row.non2xx + row.errors + row.timeouts;
    const redisOutages = row.serverStats?.["redisUnavailable"] ?? 0;
    if (failed > 0)
      row.failure = `${failed} of ${row.requests} measured responses failed (${row.non2xx} non-2xx, ${row.errors} errors, ${row.timeouts} timeouts)`;
    else if (redisOutages > 0)
      row.failure = `Redis was unavailable ${redisOutages} times (lookups answered as misses meanwhile)`;
    else continue;
    row.rps = NaN;
  }
  computeRatios(
    rows,
    live.map((row, i) => (rows[i]!.failure === undefined ? row : undefined)),
  );

  const targetList = targets(rows, live, cold, heap);
  const notes = findings(rows, live, redisMiss);
  const profiles: Record<string, ProfileSummary> = {};
  if (PROFILE) {
    // A separate window with the profiler on: its own cost must not touch the figures above.
    const wanted = new Set(PROFILE_ROWS ?? targetList.filter((t) => !t.met).flatMap((t) => t.rows));
    if (wanted.size > 0 && PROFILE_ROWS === undefined) wanted.add("baseline");
    for (const id of wanted) {
      const row = live.find((r) => r?.spec.id === id);
      if (row === undefined) continue;
      const file = join(PROFILE_DIR, `${id.replace(/[^a-z0-9-]+/gi, "_")}.cpuprofile`);
      await waitForQuiet();
      const profiled = await runWindow(loadFor(row.spec), row, "measure", PROFILE_SECONDS, -1, file);
      profiles[id] = summariseProfile(file, 15, profiled.requests);
      log(`profiled ${row.spec.label} [${row.spec.tokens}]: bench/.cache/profiles/${file.split("/").pop()}`);
    }
  }
  await Promise.all(live.flatMap((row) => (row?.instances ?? []).map((instance) => stopServer(instance.server))));
  for (const load of [loads.free, loads.pinned]) {
    if (load === undefined) continue;
    load.send({ type: "exit" } satisfies LoadCommand);
    await waitExit(load);
  }
  closeJwks();

  const results: BenchResults = {
    date: new Date().toISOString(),
    commit: commitInfo(BENCH_DIR),
    machine: info,
    busyBeforeRounds: busyBefore,
    retriedWindows: retried,
    settings: {
      retriesPerWindow: MAX_RETRIES,
      focusGroups: focused,
      instances: {
        rows: live.filter((row) => row !== undefined && row.instances.length > 1).map((row) => row!.spec.id),
        processes: INSTANCES,
      },
      pinning:
        PIN_ALL && PINNING
          ? `every row server pinned to CPU ${PINNING.server} and the load generator to CPU ${PINNING.load} (taskset, BENCH_PIN=1), so each row is measured on one core of its own`
          : PINNING
            ? `row servers not pinned (they share the ${info.cores} cores with the load generator, as a real server would share its machine), except the rows marked "1 core": server pinned to CPU ${PINNING.server}, load generator to CPU ${PINNING.load} (taskset)`
            : undefined,
      connections: CONNECTIONS,
      warmupSeconds: WARMUP,
      rounds: ROUNDS,
      windowSeconds: WINDOW,
      settleSeconds: SETTLE,
      coldPool: tokens.coldCount,
      warmupTokens: WARMUP_TOKENS,
      cachedTokens: tokens.cached.length,
      opaqueTokens: opaqueTokens.length,
    },
    rows,
    micro: { cold, heap, redisMiss },
    targets: targetList,
    findings: notes,
    profiles,
    wallSeconds: (performance.now() - started) / 1000,
  };
  log("");
  log(renderTerminal(results));
  mkdirSync(OUT_DIR, { recursive: true });
  writeFileSync(join(OUT_DIR, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(OUT_DIR, "results.md"), renderMarkdown(results));
  log(`\nwrote ${join(OUT_DIR, "results.md")} and results.json (${results.wallSeconds.toFixed(0)} s)`);
}

try {
  await main();
} finally {
  await cleanup();
}
