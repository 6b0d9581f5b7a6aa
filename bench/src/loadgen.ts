/**
 * The load generator, in its own process so that it never shares a server's event loop.
 * It stays up for the whole benchmark and runs autocannon windows on request (warm-up or
 * measured) against whichever row server the orchestrator names. Latencies are recorded
 * here from each response's own timing (autocannon's histogram rounds to whole ms).
 * Prints nothing; answers over IPC.
 */
import autocannon from "autocannon";
import type { LoadCommand, LoadWindow, WindowResult } from "./shared.js";
import { readTokens } from "./tokens.js";

const files = new Map<string, string[]>();
/** Per row: where its cold pool stands (the next unused token), and whether it ran out. */
const pools = new Map<string, { next: number; repeated: boolean }>();

function tokensOf(file: string): string[] {
  let tokens = files.get(file);
  if (tokens === undefined) {
    tokens = readTokens(file);
    files.set(file, tokens);
  }
  return tokens;
}

function tokenSource(window: LoadWindow): { next: () => string; distinct: () => number; repeated: () => boolean } {
  const tokens = tokensOf(window.tokensFile);
  if (window.mode === "cycle") {
    let i = 0;
    return {
      next: () => tokens[i++ % tokens.length]!,
      distinct: () => Math.min(i, tokens.length),
      repeated: () => false,
    };
  }
  if (window.phase === "warmup") {
    // The warm-up cycles over the first tokens of the pool; measured windows never use them.
    let i = 0;
    return {
      next: () => tokens[i++ % window.warmupTokens]!,
      distinct: () => Math.min(i, window.warmupTokens),
      repeated: () => false,
    };
  }
  const pool = pools.get(window.row) ?? { next: window.warmupTokens, repeated: false };
  pools.set(window.row, pool);
  let sent = 0;
  return {
    next: () => {
      // Each measured request of a row takes a token that row has never been sent.
      if (pool.next >= tokens.length) {
        pool.next = window.warmupTokens;
        pool.repeated = true;
      }
      sent++;
      return tokens[pool.next++]!;
    },
    distinct: () => sent,
    repeated: () => pool.repeated,
  };
}

async function run(window: LoadWindow): Promise<WindowResult> {
  const url = new URL(window.url);
  const source = tokenSource(window);
  const latencies: number[] = [];
  const settle = window.phase === "measure" ? window.settleSeconds : 0;
  // Without a callback autocannon returns its tracker (an EventEmitter) made thenable.
  const instance = autocannon({
    url: url.origin,
    connections: window.connections,
    duration: settle + window.seconds,
    // autocannon checks for the end of `duration` once per sample interval (default 1 s).
    sampleInt: 100,
    requests: [
      {
        method: "GET",
        path: url.pathname,
        setupRequest: (request) => {
          request.headers = { ...request.headers, authorization: `Bearer ${source.next()}` };
          return request;
        },
      },
    ],
  }) as unknown as autocannon.Instance & PromiseLike<autocannon.Result>;
  // The first `settle` seconds are load, not measurement: the server has just been woken
  // from idle (its code and data not in the CPU caches any more).
  const started = performance.now();
  const measureFrom = started + settle * 1000;
  let counted = 0;
  let lastAt = measureFrom;
  instance.on("response", (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
    const now = performance.now();
    if (now < measureFrom) return;
    counted++;
    lastAt = now;
    if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
  });
  const result = await instance;
  return {
    requests: settle > 0 ? counted : result.requests.total,
    seconds: settle > 0 ? (lastAt - measureFrom) / 1000 : result.duration,
    allRequests: result.requests.total,
    latencies: window.phase === "measure" ? latencies : [],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    distinctTokens: source.distinct(),
    repeated: source.repeated(),
  };
}

process.on("message", (command: LoadCommand) => {
  if (command.type === "exit") {
    process.disconnect();
    process.exit(0);
  }
  void run(command.window).then(
    (result) => process.send!({ type: "done", result }),
    (error: unknown) =>
      process.send!({ type: "failed", message: error instanceof Error ? error.message : String(error) }),
  );
});
process.on("disconnect", () => process.exit(0));
process.send!({ type: "ready" });
