/**
 * The server of the sessions benchmark (sessions.ts): mcp-framework's HTTP Stream transport
 * (batch answers) with an `echo` tool, either behind `@mcp-oauth/mcp-framework` (`protected`,
 * with the given session bounds) or alone (`framework`: its own broadcast to every session).
 * Answers the orchestrator's `stats` with its CPU time and its heap after a full collection.
 */
import type { AddressInfo } from "node:net";
import { createServer } from "node:net";
import { constants, performance, PerformanceObserver } from "node:perf_hooks";
import { assertDistLoaded, ROUTE } from "./shared.js";

export interface SessionsServerConfig {
  variant: "protected" | "framework";
  issuer: string;
  jwksUri: string;
  resource: string;
  /** `Infinity` does not survive JSON: null stands for it. */
  sessions?: { maxPerOwner: number | null; idleTimeoutMs: number | null };
}

/** What the process has spent so far. */
export interface SessionsServerCounters {
  /** User + system CPU time, every thread of the process (V8's collector threads too). */
  cpuUs: number;
  /** Time in automatic garbage collections (the forced ones of `stats` excepted). */
  gcUs: number;
  /** Time the event loop (the main thread) was busy: the request path, without V8's helper threads. */
  loopUs: number;
}

export interface SessionsServerStats {
  type: "stats";
  /** Read before the full collection `stats` forces: where a window ends. */
  ended: SessionsServerCounters;
  /** Read after it: where the next window starts (the forced collection is in no window). */
  started: SessionsServerCounters;
  heapUsed: number;
  rss: number;
  /** Sessions the framework holds (its own session map). */
  sessions: number;
}

assertDistLoaded();
const config = JSON.parse(process.argv[2]!) as SessionsServerConfig;
const send = (message: object): void => void process.send?.(message);

const { MCPServer, MCPTool } = await import("mcp-framework");
const { z } = await import("zod");
class EchoTool extends MCPTool {
  name = "echo";
  description = "Echoes its text.";
  schema = z.object({ text: z.string().describe("The text") });
  async execute(input: { text: string }): Promise<string> {
    return input.text;
  }
}

const port = await new Promise<number>((resolve) => {
  const probe = createServer().listen(0, "127.0.0.1", () => {
    const { port: free } = probe.address() as AddressInfo;
    probe.close(() => resolve(free));
  });
});

let auth: { provider: never } | undefined;
if (config.variant === "protected") {
  const { OAuthAuthProvider } = await import("@mcp-oauth/mcp-framework");
  const limits = config.sessions;
  const provider = new OAuthAuthProvider({
    resource: config.resource,
    authorizationServers: [config.issuer],
    validation: { jwksUri: config.jwksUri },
    ...(limits
      ? {
          sessions: {
            maxPerOwner: limits.maxPerOwner ?? Infinity,
            idleTimeoutMs: limits.idleTimeoutMs ?? Infinity,
          },
        }
      : {}),
  });
  await provider.resourceServer.ready();
  auth = { provider: provider as never };
}
const server = new MCPServer({
  name: "bench-sessions",
  version: "0.0.0",
  transport: {
    type: "http-stream",
    options: { port, host: "127.0.0.1", endpoint: ROUTE, responseMode: "batch", ...(auth ? { auth } : {}) },
  },
});
server.addTool(EchoTool as never);
server.start().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
for (let attempt = 0; ; attempt++) {
  const up = await fetch(`http://127.0.0.1:${port}${ROUTE}`).then(
    (r) => r.arrayBuffer().then(() => true),
    () => false,
  );
  if (up) break;
  if (attempt > 200) throw new Error("mcp-framework server did not start");
  await new Promise((resolve) => setTimeout(resolve, 50));
}

let gcUs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const flags = (entry as { detail?: { flags?: number } }).detail?.flags ?? 0;
    if ((flags & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED) === 0) gcUs += entry.duration * 1000;
  }
}).observe({ entryTypes: ["gc"] });

function counters(): SessionsServerCounters {
  const { user, system } = process.cpuUsage();
  return { cpuUs: user + system, gcUs, loopUs: performance.eventLoopUtilization().active * 1000 };
}

const transportOf = (): Record<string, unknown> =>
  (server as unknown as { bindings: Array<{ transport: Record<string, unknown> }> }).bindings[0]!.transport;

process.on("message", (command: { type: string }) => {
  if (command.type === "stats") {
    const ended = counters();
    // Twice: what one collection frees can leave more for the next (weak maps, finalizers).
    globalThis.gc?.();
    globalThis.gc?.();
    const memory = process.memoryUsage();
    const stats: SessionsServerStats = {
      type: "stats",
      ended,
      started: counters(),
      heapUsed: memory.heapUsed,
      rss: memory.rss,
      sessions: Object.keys(transportOf()["_transports"] as object).length,
    };
    send(stats);
  } else if (command.type === "exit") {
    process.exit(0);
  }
});
process.on("disconnect", () => process.exit(0));
send({ type: "listening", port });
