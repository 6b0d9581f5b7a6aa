/**
 * `pnpm bench:sessions`: what an open session costs an mcp-framework HTTP Stream server, and
 * what a request costs as sessions pile up (issue 24, item 6). Runs on its own, not in
 * `pnpm bench`.
 *
 * One server process per variant (the packages' dist, `--expose-gc`): `protected` is the
 * framework behind `@mcp-oauth/mcp-framework` with the session bounds off (so the sessions
 * pile up; one token, one owner); `framework` is the framework alone, which offers every
 * response to every session. At each level the orchestrator opens sessions up to that many
 * (initialize, 20 at a time), then sends windows of sequential `tools/call` requests in one
 * session and reads the server's CPU time over each (per request; the median of the windows)
 * with the part spent in automatic garbage collections (a larger heap costs every request
 * some of that), and its heap after a full collection (per session: the growth since the
 * first level over the sessions added). A second process of the variant stays at the first
 * level and takes turns with it, window by window: each window's CPU is compared with that
 * reference next to it (a shared machine varies by the window far more than what is
 * measured). Then
 * `protected, default bounds` opens as many sessions from one token as the top level and
 * reports how many the framework still holds.
 *
 * Options: --levels=10,100,1000,5000 (the `framework` variant stops at 1000: every
 * initialize is offered to every open session, minutes beyond that), --requests=200 (per
 * window), --windows=5,
 * --no-build (use the packages' dist as it is), --out=DIR (default bench/). Writes
 * sessions-results.md and sessions-results.json there.
 */
import type { ChildProcess } from "node:child_process";
import { createPrivateKey, type KeyObject } from "node:crypto";
import { closeSync, mkdirSync, openSync, writeFileSync } from "node:fs";
import { Agent, request as httpRequest } from "node:http";
import { join } from "node:path";
import { generateSigningKey, startLocalAuthorizationServer } from "@mcp-oauth/local-authorization-server";
import { DEFAULT_SESSION_LIMITS } from "@mcp-oauth/mcp-framework";
import { commitInfo, machineInfo } from "./machine.js";
import { median } from "./report.js";
import type { SessionsServerConfig, SessionsServerCounters, SessionsServerStats } from "./sessions-server.js";
import {
  BENCH_DIR,
  buildPackages,
  DIST_CONDITION,
  isType,
  nextMessage,
  RESOURCE,
  ROUTE,
  spawnTs,
  waitExit,
} from "./shared.js";
import { CACHE_DIR, mintWithKey } from "./tokens.js";

const args = process.argv.slice(2);
const option = (name: string): string | undefined =>
  args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const LEVELS = (option("levels") ?? "10,100,1000,5000").split(",").map(Number);
const FRAMEWORK_MAX = 1000;
const REQUESTS = Number(option("requests") ?? 200);
/** Windows of REQUESTS requests per level: the figures are their medians (a shared VM varies by the window). */
const WINDOWS = Number(option("windows") ?? 5);
const OPEN_CONCURRENCY = 20;
const OUT_DIR = option("out") ?? BENCH_DIR;
const LOG_DIR = join(CACHE_DIR, "logs");
mkdirSync(LOG_DIR, { recursive: true });

const log = (line: string): void => console.log(line);

interface Level {
  sessions: number;
  /** Sessions the framework held when measured. */
  held: number;
  cpuUsPerRequest: number;
  /** Of which garbage collection (automatic ones). */
  gcUsPerRequest: number;
  /** Median over the windows of the CPU per request against the reference process's (at the first level) next to it. */
  vsReference: number;
  /** The event loop's busy time per request (the main thread: the request path), and the same against the reference. */
  loopUsPerRequest: number;
  loopVsReference: number;
  medianMs: number;
  heapMiB: number;
  /** Heap growth since the first level over the sessions added, in KiB; undefined at the first level. */
  heapKiBPerSession: number | undefined;
}

interface VariantResult {
  variant: string;
  levels: Level[];
}

/** One JSON-RPC POST; resolves with the status, the session header and the body. */
function post(
  agent: Agent,
  url: string,
  headers: Record<string, string>,
  body: unknown,
): Promise<{ status: number; session: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: "POST",
        agent,
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            session: res.headers["mcp-session-id"] as string | undefined,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", (error: NodeJS.ErrnoException) => {
      // A kept-alive socket the server closed while idle (its 5 s keep-alive timeout, passed
      // while the other process took its turn): the request never reached it; send it again.
      if (req.reusedSocket && error.code === "ECONNRESET") post(agent, url, headers, body).then(resolve, reject);
      else reject(error);
    });
    req.end(JSON.stringify(body));
  });
}

const INITIALIZE = {
  jsonrpc: "2.0",
  id: 0,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "bench", version: "0" } },
};

async function openSession(agent: Agent, url: string, auth: Record<string, string>): Promise<string> {
  const init = await post(agent, url, auth, INITIALIZE);
  if (init.status !== 200 || init.session === undefined) throw new Error(`initialize answered ${init.status}`);
  const headers = { ...auth, "mcp-session-id": init.session, "mcp-protocol-version": "2025-06-18" };
  const initialized = await post(agent, url, headers, { jsonrpc: "2.0", method: "notifications/initialized" });
  if (initialized.status !== 202) throw new Error(`notifications/initialized answered ${initialized.status}`);
  return init.session;
}

/** `count` sessions, 20 at a time; `flood`: `initialize` only, as the flood of the issue (a session may be closed before its next request). */
async function openSessions(
  agent: Agent,
  url: string,
  auth: Record<string, string>,
  count: number,
  flood = false,
): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      next++;
      if (!flood) await openSession(agent, url, auth);
      else if ((await post(agent, url, auth, INITIALIZE)).status !== 200) throw new Error("initialize refused");
    }
  };
  await Promise.all(Array.from({ length: Math.min(OPEN_CONCURRENCY, count) }, lane));
}

async function startServer(name: string, config: SessionsServerConfig): Promise<{ child: ChildProcess; url: string }> {
  const errFd = openSync(join(LOG_DIR, `sessions-${name}.log`), "w");
  const child = spawnTs("sessions-server.ts", [JSON.stringify(config)], {
    nodeArgs: ["--expose-gc", DIST_CONDITION],
    stdio: ["ignore", errFd, errFd, "ipc"],
    env: { ...process.env, NODE_ENV: "production" },
  });
  closeSync(errFd);
  const { port } = (await nextMessage(child, isType("listening"), 30_000)) as unknown as { port: number };
  return { child, url: `http://127.0.0.1:${port}${ROUTE}` };
}

async function stats(child: ChildProcess): Promise<SessionsServerStats> {
  child.send({ type: "stats" });
  return (await nextMessage(child, isType("stats"), 120_000)) as unknown as SessionsServerStats;
}

/** One server process with one session the requests are measured in. */
interface Measured {
  child: ChildProcess;
  url: string;
  agent: Agent;
  headers: Record<string, string>;
}

async function measuredServer(
  name: string,
  config: SessionsServerConfig,
  auth: Record<string, string>,
): Promise<Measured> {
  const { child, url } = await startServer(name, config);
  const agent = new Agent({ keepAlive: true, maxSockets: OPEN_CONCURRENCY + 1 });
  const session = await openSession(agent, url, auth);
  return { child, url, agent, headers: { ...auth, "mcp-session-id": session, "mcp-protocol-version": "2025-06-18" } };
}

/** REQUESTS sequential tools/call in the measured session: CPU and GC time per request, and each latency. */
async function window(
  server: Measured,
  latencies: number[],
): Promise<{ cpuUs: number; gcUs: number; loopUs: number; at: SessionsServerStats }> {
  const before = await stats(server.child);
  for (let i = 0; i < REQUESTS; i++) {
    const start = process.hrtime.bigint();
    const answer = await post(server.agent, server.url, server.headers, call(i));
    latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
    if (answer.status !== 200 || !answer.body.includes(`echo ${i}\\"`))
      throw new Error(`tools/call ${i} answered ${answer.status}: ${answer.body.slice(0, 200)}`);
  }
  const after = await stats(server.child);
  const per = (field: keyof SessionsServerCounters): number => (after.ended[field] - before.started[field]) / REQUESTS;
  return { cpuUs: per("cpuUs"), gcUs: per("gcUs"), loopUs: per("loopUs"), at: before };
}

/**
 * A variant's levels. A second process of the same variant stays at the first level (the
 * reference) and takes turns with the growing one, window by window: on a shared machine
 * one window can differ from the next by tens of percent, so each window of the growing
 * process is compared with the reference's next to it (the median of those ratios).
 */
async function measureVariant(
  variant: SessionsServerConfig["variant"],
  config: Omit<SessionsServerConfig, "variant">,
  auth: Record<string, string>,
  levels: readonly number[],
): Promise<VariantResult> {
  const grow = await measuredServer(variant, { ...config, variant }, auth);
  const reference = await measuredServer(`${variant}-reference`, { ...config, variant }, auth);
  try {
    await openSessions(reference.agent, reference.url, auth, levels[0]! - 1);
    let open = 1;
    let first: SessionsServerStats | undefined;
    const results: Level[] = [];
    for (const level of levels) {
      await openSessions(grow.agent, grow.url, auth, level - open);
      open = level;
      // Warm-up: the token cache, the JIT.
      for (const server of [grow, reference])
        for (let i = 0; i < 20; i++) await post(server.agent, server.url, server.headers, call(i));
      const latencies: number[] = [];
      const cpu: number[] = [];
      const gc: number[] = [];
      const ratios: number[] = [];
      const loop: number[] = [];
      const loopRatios: number[] = [];
      let atLevel: SessionsServerStats | undefined;
      for (let w = 0; w < WINDOWS; w++) {
        // Alternate which goes first.
        const ref = w % 2 === 0 ? undefined : await window(reference, []);
        const measured = await window(grow, latencies);
        const paired = ref ?? (await window(reference, []));
        atLevel ??= measured.at;
        cpu.push(measured.cpuUs);
        gc.push(measured.gcUs);
        ratios.push(measured.cpuUs / paired.cpuUs);
        loop.push(measured.loopUs);
        loopRatios.push(measured.loopUs / paired.loopUs);
      }
      first ??= atLevel!;
      const level_: Level = {
        sessions: level,
        held: atLevel!.sessions,
        cpuUsPerRequest: Math.round(median(cpu)),
        gcUsPerRequest: Math.round(median(gc)),
        vsReference: Math.round(median(ratios) * 100) / 100,
        loopUsPerRequest: Math.round(median(loop)),
        loopVsReference: Math.round(median(loopRatios) * 100) / 100,
        medianMs: Math.round(median(latencies) * 100) / 100,
        heapMiB: Math.round((atLevel!.heapUsed / 2 ** 20) * 10) / 10,
        heapKiBPerSession:
          results.length === 0
            ? undefined
            : Math.round(((atLevel!.heapUsed - first.heapUsed) / 1024 / (level - levels[0]!)) * 10) / 10,
      };
      results.push(level_);
      log(
        `${variant}: ${level} sessions (framework holds ${level_.held}), ${level_.cpuUsPerRequest} µs CPU per tools/call ` +
          `(${level_.gcUsPerRequest} µs in GC), ${level_.vsReference}x the reference at ${levels[0]}; ` +
          `event loop ${level_.loopUsPerRequest} µs, ${level_.loopVsReference}x; ` +
          `median ${level_.medianMs} ms, heap ${level_.heapMiB} MiB` +
          (level_.heapKiBPerSession === undefined ? "" : `, ${level_.heapKiBPerSession} KiB per session`),
      );
    }
    return { variant, levels: results };
  } finally {
    for (const server of [grow, reference]) {
      server.agent.destroy();
      server.child.send({ type: "exit" });
      await waitExit(server.child);
    }
  }
}

const call = (i: number): object => ({
  jsonrpc: "2.0",
  id: i + 1,
  method: "tools/call",
  params: { name: "echo", arguments: { text: `echo ${i}` } },
});

/** With the default bounds: as many sessions from one token as the top level; how many remain. */
async function measureDefaultBounds(
  config: Omit<SessionsServerConfig, "variant">,
  auth: Record<string, string>,
  count: number,
): Promise<{ opened: number; held: number; heapMiB: number }> {
  const { child, url } = await startServer("protected-defaults", { ...config, variant: "protected" });
  const agent = new Agent({ keepAlive: true, maxSockets: OPEN_CONCURRENCY });
  try {
    await openSessions(agent, url, auth, count, true);
    const after = await stats(child);
    const result = { opened: count, held: after.sessions, heapMiB: Math.round((after.heapUsed / 2 ** 20) * 10) / 10 };
    log(`protected, default bounds: ${count} sessions opened from one token, the framework holds ${result.held}`);
    return result;
  } finally {
    agent.destroy();
    child.send({ type: "exit" });
    await waitExit(child);
  }
}

function renderMarkdown(results: {
  commit: string;
  machine: ReturnType<typeof machineInfo>;
  requests: number;
  windows: number;
  variants: VariantResult[];
  defaults: { opened: number; held: number; heapMiB: number };
}): string {
  const lines = [
    "# Sessions benchmark",
    "",
    `\`pnpm bench:sessions\` (bench/src/sessions.ts) at ${results.commit}; ${results.machine.cpu}, ` +
      `${results.machine.cores} cores, Node ${results.machine.node}.`,
    "",
    `mcp-framework's HTTP Stream transport (batch answers), one process per variant. At each level, ` +
      `${results.windows} windows of ${results.requests} sequential \`tools/call\` requests in one of the open ` +
      "sessions: the server's CPU time per request (every thread, V8's concurrent collector included; median of " +
      "the windows), the pauses of automatic collections in it, the same against a second process of the variant " +
      "kept at the first level, window by window (median of the paired ratios: a shared machine varies by the " +
      "window); the event loop's busy time per request (the main thread: the request path) and its paired ratio; " +
      "the median latency; the heap after a full collection, and its growth per session since the first level.",
    "",
    `| variant | open sessions | CPU per tools/call | of which GC pauses | vs ${results.variants[0]?.levels[0]?.sessions ?? ""} sessions | event loop per tools/call | vs ${results.variants[0]?.levels[0]?.sessions ?? ""} sessions | median latency | heap | heap per session |`,
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const variant of results.variants)
    for (const level of variant.levels)
      lines.push(
        `| ${variant.variant} | ${level.sessions} | ${level.cpuUsPerRequest} µs | ${level.gcUsPerRequest} µs | ` +
          `${level.vsReference.toFixed(2)}x | ${level.loopUsPerRequest} µs | ${level.loopVsReference.toFixed(2)}x | ${level.medianMs} ms | ` +
          `${level.heapMiB} MiB | ${level.heapKiBPerSession === undefined ? "" : `${level.heapKiBPerSession} KiB`} |`,
      );
  lines.push(
    "",
    `With the default bounds (\`maxPerOwner\` ${DEFAULT_SESSION_LIMITS.maxPerOwner}), one token opening ${results.defaults.opened} sessions leaves ` +
      `the framework holding ${results.defaults.held} (heap ${results.defaults.heapMiB} MiB).`,
    "",
  );
  return lines.join("\n");
}

const jwk = generateSigningKey("RS256");
const as = await startLocalAuthorizationServer({ keys: [jwk] });
try {
  if (!args.includes("--no-build")) {
    log("building the packages' dist...");
    buildPackages();
  }
  const key: KeyObject = createPrivateKey({ key: jwk as never, format: "jwk" });
  const [token] = await mintWithKey(key, jwk.kid, as.issuer, RESOURCE, 1);
  const auth = { authorization: `Bearer ${token!}` };
  const config = { issuer: as.issuer, jwksUri: as.jwksUri, resource: RESOURCE };
  const unbounded = { ...config, sessions: { maxPerOwner: null, idleTimeoutMs: null } };
  const variants = [
    { ...(await measureVariant("protected", unbounded, auth, LEVELS)), variant: "@mcp-oauth/mcp-framework, no bounds" },
    {
      ...(await measureVariant(
        "framework",
        config,
        {},
        LEVELS.filter((level) => level <= FRAMEWORK_MAX),
      )),
      variant: "mcp-framework alone (broadcast)",
    },
  ];
  const defaults = await measureDefaultBounds(config, auth, Math.max(...LEVELS));
  const results = {
    commit: commitInfo(BENCH_DIR),
    machine: machineInfo(),
    requests: REQUESTS,
    windows: WINDOWS,
    variants,
    defaults,
  };
  writeFileSync(join(OUT_DIR, "sessions-results.json"), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(OUT_DIR, "sessions-results.md"), renderMarkdown(results));
  log(`wrote ${join(OUT_DIR, "sessions-results.md")}`);
} finally {
  await as.close();
}
