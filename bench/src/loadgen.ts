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

type TokenSource = { next: () => string; distinct: () => number; repeated: () => boolean };

function tokenSource(window: LoadWindow): TokenSource {
  const tokens = tokensOf(window.tokensFile);
  if (window.mode === "per-connection") {
    // Called once per connection (autocannon's setupClient), not per request.
    let connections = 0;
    return {
      next: () => tokens[connections++ % tokens.length]!,
      distinct: () => Math.min(connections, tokens.length),
      repeated: () => false,
    };
  }
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

const MCP_HEADERS = { "content-type": "application/json", accept: "application/json, text/event-stream" };

/**
 * Opens an MCP session (initialize, notifications/initialized) and checks that a
 * `tools/call` answers the echo: a row that answers 200 with a JSON-RPC error would
 * otherwise be measured as a success. Returns the headers every request of the window sends.
 */
async function openSession(url: string, token: string): Promise<Record<string, string>> {
  const post = async (body: object, headers: Record<string, string>): Promise<Response> => {
    const response = await fetch(url, {
      method: "POST",
      headers: { ...MCP_HEADERS, authorization: `Bearer ${token}`, ...headers },
      body: JSON.stringify(body),
    });
    if (!response.ok)
      throw new Error(
        `MCP ${(body as { method: string }).method} answered ${response.status}: ${(await response.text()).slice(0, 200)}`,
      );
    return response;
  };
  const init = await post(
    {
      jsonrpc: "2.0",
      id: 0,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "bench", version: "0" } },
    },
    {},
  );
  const sessionId = init.headers.get("mcp-session-id");
  const { result } = (await init.json()) as { result?: { protocolVersion?: string } };
  if (!sessionId || !result?.protocolVersion) throw new Error("initialize gave no session");
  const headers = { "mcp-session-id": sessionId, "mcp-protocol-version": result.protocolVersion };
  await (await post({ jsonrpc: "2.0", method: "notifications/initialized" }, headers)).arrayBuffer();
  const call = (await (await post(toolCall(-1), headers)).json()) as { result?: { content?: { text?: string }[] } };
  // mcp-framework answers a string result JSON-encoded ("\"ping\"").
  if (!call.result?.content?.[0]?.text?.includes("ping"))
    throw new Error(`tools/call did not echo: ${JSON.stringify(call).slice(0, 200)}`);
  return headers;
}

const toolCall = (id: number): object => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name: "echo", arguments: { text: "ping" } },
});

/** Sessions already opened, by row URL and token: a row's later windows reuse them, as a client would. */
const sessions = new Map<string, Record<string, string>>();

async function sessionFor(url: string, token: string): Promise<Record<string, string>> {
  const key = `${url} ${token}`;
  let headers = sessions.get(key);
  if (headers === undefined) {
    headers = await openSession(url, token);
    sessions.set(key, headers);
  }
  return headers;
}

async function run(window: LoadWindow): Promise<WindowResult> {
  const url = new URL(window.url);
  const source = tokenSource(window);
  const perConnection = window.mode === "per-connection";
  const mcp = window.request === "mcp";
  if (mcp && !perConnection) throw new Error("an MCP row sends one token per connection (its session's owner)");
  // Each connection is an MCP client: its own token and the session that token opened (a
  // server that binds sessions to their subject refuses a session used with another token).
  const connectionTokens = perConnection ? Array.from({ length: window.connections }, () => source.next()) : [];
  const connectionSessions = mcp ? await Promise.all(connectionTokens.map((t) => sessionFor(window.url, t))) : [];
  let rpcId = 0;
  /** One request of the window; `token` fixed for a connection, or taken per request. */
  const request = (token?: string, session?: Record<string, string>): autocannon.Request => ({
    method: mcp ? "POST" : "GET",
    path: url.pathname,
    setupRequest: (req) => {
      req.headers = {
        ...req.headers,
        ...session,
        ...(mcp ? MCP_HEADERS : {}),
        authorization: `Bearer ${token ?? source.next()}`,
      };
      // Each call its own JSON-RPC id: the transport maps answers to requests by id.
      if (mcp) req.body = JSON.stringify(toolCall(++rpcId));
      return req;
    },
  });
  let nextConnection = 0;
  const latencies: number[] = [];
  const settle = window.phase === "measure" ? window.settleSeconds : 0;
  // Without a callback autocannon returns its tracker (an EventEmitter) made thenable.
  const instance = autocannon({
    url: url.origin,
    connections: window.connections,
    duration: settle + window.seconds,
    // autocannon checks for the end of `duration` once per sample interval (default 1 s).
    sampleInt: 100,
    requests: [request(perConnection ? "replaced-per-connection" : undefined)],
    // One token per connection: each connection (client) gets its own request list.
    ...(perConnection
      ? {
          setupClient: (client: autocannon.Client) => {
            const i = nextConnection++ % connectionTokens.length;
            (client as unknown as { setRequests(r: autocannon.Request[]): void }).setRequests([
              request(connectionTokens[i], connectionSessions[i]),
            ]);
          },
        }
      : {}),
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
