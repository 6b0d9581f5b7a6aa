/**
 * What the orchestrator, the row servers, the load generator and the micro-benchmarks
 * share: paths, the child-process launcher and the messages they exchange.
 */
import { execFileSync, spawn, type ChildProcess, type StdioOptions } from "node:child_process";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";

export const BENCH_DIR = fileURLToPath(new URL("..", import.meta.url));
export const SRC_DIR = fileURLToPath(new URL(".", import.meta.url));

/** The resource every token names in `aud`: an identifier, not where a row server listens. */
export const RESOURCE = "http://127.0.0.1/mcp";
export const ROUTE = "/mcp";

/** Everything a row server needs to build its middleware. */
export interface ServerConfig {
  impl: Impl;
  resource: string;
  issuer: string;
  jwksUri: string;
  introspection: { issuer: string; endpoint: string; clientId: string; clientSecret: string };
  /** The key set the rotation row reads (the orchestrator publishes a new key before each of its windows). */
  rotationJwksUri: string;
  /** The bench's own redis-server (`redis://127.0.0.1:PORT`), when `redis-server` is installed. */
  redisUrl?: string;
}

export type Impl =
  | "baseline"
  | "sync-noop"
  | "sets-auth"
  | "least-cached-check"
  | "async-noop"
  | "mcp-oauth"
  | "mcp-oauth-nocache"
  | "mcp-oauth-nocache-thread-pool"
  | "mcp-oauth-nocache-cluster"
  | "mcp-oauth-rotation"
  | "mcp-oauth-redis"
  | "mcp-oauth-redis-only"
  | "mcp-sdk"
  | "mcp-sdk-protected"
  | "mcp-framework-server"
  | "mcp-framework-server-protected"
  | "mcp-framework-server-own-provider"
  | "mcp-framework-server-any-auth"
  | "mcp-oauth-introspection"
  | "express-oauth2-jwt-bearer"
  | "express-jwt"
  | "sdk-jose"
  | "mcp-auth"
  | "mcp-framework"
  | "hono"
  | "mcp-oauth-hono"
  | "mcp-oauth-hono-nocache";

/** One autocannon run against one row's server. */
export interface LoadWindow {
  row: string;
  url: string;
  connections: number;
  seconds: number;
  phase: "warmup" | "measure";
  /** Load before a measured window's own `seconds` begin, not counted. */
  settleSeconds: number;
  /** Newline-separated tokens. */
  tokensFile: string;
  /**
   * `cycle`: every request takes the next token of the file, round and round (cached set).
   * `pool`: the warm-up cycles over the first `warmupTokens`; measured windows take the
   * rest in order, each token at most once per row (cold set).
   * `per-connection`: each connection keeps one token of its own, the first tokens of the file.
   */
  mode: "cycle" | "pool" | "per-connection";
  warmupTokens: number;
  /**
   * `get`: `GET` the URL. `mcp`: an MCP session is opened first (initialize, then
   * notifications/initialized, not measured), then every request is a `tools/call` POST
   * in it with its own JSON-RPC id.
   */
  request: "get" | "mcp";
}

export interface WindowResult {
  /** Responses within the measured part of the window, and its length. */
  requests: number;
  seconds: number;
  /** Every response, settling part included (the server's CPU time covers them all). */
  allRequests: number;
  /** Latency of every 2xx response of a measured window, in ms. */
  latencies: number[];
  non2xx: number;
  errors: number;
  timeouts: number;
  /** Distinct tokens sent (cold pool: in this window), and whether a row's pool ran out. */
  distinctTokens: number;
  repeated: boolean;
}

export type LoadCommand = { type: "run"; window: LoadWindow } | { type: "exit" };

/** A row's figures over all its measured windows. */
export interface LoadResult {
  requests: number;
  seconds: number;
  /** Median of the measured windows' requests per second. */
  rps: number;
  rpsMin: number;
  rpsMax: number;
  /** Latency percentiles over every measured response, in ms. */
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  distinctTokens: number;
  repeated: boolean;
}

export type ServerMessage =
  | { type: "listening"; port: number; pids?: number[] }
  | { type: "stats"; stats: Record<string, number> | undefined }
  | { type: "profile"; file: string }
  | { type: "cpu"; user: number; system: number };
export type ServerCommand =
  | { type: "stats" }
  | { type: "cpu" }
  | { type: "profile-start" }
  | { type: "profile-stop"; file: string }
  | { type: "exit" };

const TSX = import.meta.resolve("tsx");

/**
 * CPU pinning (BENCH_PIN=1): row servers on CPU 0 and the load generator on CPU 1, so each
 * row is what one core of server can do. Off by default: real servers are not pinned, and
 * on a machine with a free core a server can overlap work with its event loop (libuv's
 * thread pool). The default run still measures the cold rows pinned as well (their own
 * rows, `cores: 1`) so the two can be compared in one run.
 */
export const PIN_ALL = process.env["BENCH_PIN"] === "1";
export const PINNING: { server: string; load: string } | undefined = (() => {
  if (process.platform !== "linux" || availableParallelism() < 2) return undefined;
  try {
    execFileSync("taskset", ["-c", "0", "true"], { stdio: "ignore" });
  } catch {
    return undefined;
  }
  return { server: "0", load: "1" };
})();

/** Starts `src/<file>` under tsx in its own process with an IPC channel, on `cpus` when given and pinning is available. */
export function spawnTs(
  file: string,
  args: readonly string[],
  options: { nodeArgs?: readonly string[]; stdio?: StdioOptions; env?: NodeJS.ProcessEnv; cpus?: string } = {},
): ChildProcess {
  const command = [process.execPath, ...(options.nodeArgs ?? []), "--import", TSX, `${SRC_DIR}${file}`, ...args];
  const env = options.env ?? process.env;
  const [program, ...rest] =
    options.cpus !== undefined && PINNING !== undefined ? ["taskset", "-c", options.cpus, ...command] : command;
  return spawn(program!, rest, {
    stdio: options.stdio ?? ["ignore", "inherit", "inherit", "ipc"],
    // tsx follows tsconfig.json's `paths` before any export condition: with the dist
    // condition, a tsconfig without them, or the rows would run the sources after all.
    env: options.nodeArgs?.includes(DIST_CONDITION) ? { ...env, TSX_TSCONFIG_PATH: DIST_TSCONFIG } : env,
    cwd: BENCH_DIR,
  });
}

/** The next message from a child matching `accept`, or a rejection when it exits first. */
export function nextMessage<T>(
  child: ChildProcess,
  accept: (message: unknown) => message is T,
  timeoutMs = 60_000,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer);
      child.off("message", onMessage);
      child.off("exit", onExit);
    };
    const onMessage = (message: unknown): void => {
      if (!accept(message)) return;
      cleanup();
      resolve(message);
    };
    const onExit = (code: number | null, signal: string | null): void => {
      cleanup();
      reject(new Error(`child exited (code ${code}, signal ${signal}) before answering`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error("child did not answer in time"));
    }, timeoutMs);
    child.on("message", onMessage);
    child.once("exit", onExit);
  });
}

export const isType =
  <K extends string>(type: K) =>
  (message: unknown): message is { type: K } & Record<string, unknown> =>
    typeof message === "object" && message !== null && (message as { type?: unknown }).type === type;

/** Waits for a child to exit, killing it (by its own pid) after `graceMs`. */
export function waitExit(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** The packages a row server or a micro-benchmark loads (local-authorization-server runs in the orchestrator). */
const MEASURED_PACKAGES = ["core", "express", "fetch", "mcp-framework", "redis"];

/**
 * Row servers and micro-benchmarks load the packages' built JavaScript (`dist`, what npm
 * users run) through this export condition, not the TypeScript sources: tsx compiles those
 * with esbuild's keepNames, which wraps every closure created per request in a `__name()`
 * call that no published build makes.
 */
export const DIST_CONDITION = "--conditions=mcp-oauth-dist";
const DIST_TSCONFIG = fileURLToPath(new URL("../tsconfig.dist.json", import.meta.url));

/** Fails unless this process, started with the dist condition, really loads the packages' dist. */
export function assertDistLoaded(): void {
  if (!process.execArgv.includes(DIST_CONDITION)) return;
  for (const specifier of [...MEASURED_PACKAGES.map((name) => `@mcp-oauth/${name}`), "@mcp-oauth/core/internal"]) {
    const resolved = import.meta.resolve(specifier);
    if (!/\/packages\/[a-z-]+\/dist\//.test(resolved)) {
      throw new Error(`bench: ${specifier} resolved to ${resolved}, not its package's dist (see DIST_TSCONFIG)`);
    }
  }
}

/** Builds `dist` of the measured packages from the current sources (their own build script's steps). */
export function buildPackages(): void {
  const require = createRequire(import.meta.url);
  const tsc = require.resolve("typescript/bin/tsc");
  const clean = fileURLToPath(new URL("../../scripts/clean-dist.mjs", import.meta.url));
  for (const name of MEASURED_PACKAGES) {
    const cwd = fileURLToPath(new URL(`../../packages/${name}/`, import.meta.url));
    execFileSync(process.execPath, [clean], { cwd, stdio: "inherit" });
    execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd, stdio: "inherit" });
  }
}
