/** The results: their shape, the terminal table and bench/results.md. */
import type { MachineInfo } from "./machine.js";
import type { ColdResult, HeapResult } from "./micro.js";
import type { ProfileSummary } from "./profile.js";
import type { RedisMissResult } from "./redis.js";
import type { Group, TokenSet } from "./rows.js";
import type { LoadResult } from "./shared.js";

export interface UpstreamCount {
  jwks: number;
  introspection: number;
  discovery: number;
}

export interface RowResult extends LoadResult {
  id: string;
  label: string;
  group: Group;
  tokens: TokenSet;
  /** CPU time (user + system) the server process spent per measured request, in µs. */
  serverCpuUsPerRequest: number;
  /** Upstream calls during the measured run. */
  upstreamMeasured: UpstreamCount;
  /** Upstream calls from the server's start (start-up check, probe, warm-up, run). */
  upstreamTotal: UpstreamCount;
  /** Cores the row server could use (1: pinned to CPU 0, load on CPU 1; 2: shared with the load). */
  cores?: 1 | 2;
  /** What the row's *vs baseline* is paired with. */
  baselineId?: string;
  /** mcp-oauth's `server.stats()` at the end of the row. */
  serverStats?: Record<string, number>;
  /** Largest share of the machine's CPU other processes took during one of the row's windows. */
  foreignMax?: number;
  /** Each measured window's requests per second, in round order. */
  windowRps?: number[];
  /** Each measured window's server CPU µs per request, in round order. */
  windowCpuUsPerRequest?: number[];
  /** Which of the row's server processes served each measured window, in round order. */
  windowProcess?: number[];
  ratioToBaseline: number;
  /** Against the fastest peer on the same token set. */
  ratioToBestPeer: number;
  failure?: string;
  /** The Redis rows: CPU time of the bench's redis-server per measured request, in µs (not in *server CPU*). */
  redisCpuUsPerRequest?: number;
}

export interface Target {
  id: string;
  what: string;
  measured: string;
  status: "met" | "missed" | "unclear";
  met: boolean;
  /** Rows to profile when missed. */
  rows: string[];
}

export interface BenchResults {
  date: string;
  /** The commit measured. */
  commit: string;
  machine: MachineInfo;
  /** Share of the machine's CPUs busy (with every bench process idle) before each round: something else was running when high. */
  busyBeforeRounds: number[];
  /** Measured windows taken again because another process used the CPUs meanwhile. */
  retriedWindows: number;
  settings: {
    /** Retakes allowed of a window other processes shared (BENCH_RETRIES); absent in older results. */
    retriesPerWindow?: number;
    /** Extra rounds among the rows behind a target, each group on its own. */
    focusGroups: { target: string; rows: string[]; rounds: number }[];
    /** Rows measured on several server processes taking turns by round, and how many each. */
    instances?: { rows: string[]; processes: number };
    pinning: string | undefined;
    connections: number;
    warmupSeconds: number;
    rounds: number;
    windowSeconds: number;
    settleSeconds: number;
    coldPool: number;
    warmupTokens: number;
    cachedTokens: number;
    opaqueTokens: number;
  };
  rows: RowResult[];
  micro: { cold: ColdResult | undefined; heap: HeapResult | undefined; redisMiss?: RedisMissResult | undefined };
  targets: Target[];
  /** Scaling with cores, the mechanism choice, a rotation's cost: sentences with their figures. */
  findings: string[];
  profiles: Record<string, ProfileSummary>;
  wallSeconds: number;
}

const TOKEN_SET: Record<TokenSet, string> = {
  cached: "cached, round-robin",
  "per-connection": "cached, one per connection",
  cold: "cold",
  opaque: "opaque (introspection)",
  rotation: "new key each window",
};

const num = (value: number, digits = 0): string => (Number.isFinite(value) ? value.toFixed(digits) : "—");
const ratio = (value: number): string => (Number.isFinite(value) ? `${value.toFixed(2)}x` : "—");

function upstream(row: RowResult): string {
  const sum = (u: UpstreamCount): number => u.jwks + u.introspection + u.discovery;
  const parts = (
    [
      ["jwks", row.upstreamTotal.jwks],
      ["introspection", row.upstreamTotal.introspection],
      ["discovery", row.upstreamTotal.discovery],
    ] as const
  )
    .filter(([, n]) => n > 0)
    .map(([name, n]) => `${n} ${name}`);
  return `${sum(row.upstreamMeasured)} / ${sum(row.upstreamTotal)}${parts.length ? ` (${parts.join(", ")})` : ""}`;
}

function notes(row: RowResult): string {
  if (row.failure) return `failed: ${row.failure}`;
  const out: string[] = [];
  if (row.non2xx + row.errors + row.timeouts > 0)
    out.push(`${row.non2xx} non-2xx, ${row.errors} errors, ${row.timeouts} timeouts`);
  if (row.redisCpuUsPerRequest !== undefined)
    out.push(`redis-server ${row.redisCpuUsPerRequest.toFixed(0)} µs CPU/request besides`);
  if (row.foreignMax !== undefined && row.foreignMax > 0.1)
    out.push(`other processes took ${(row.foreignMax * 100).toFixed(0)}% of the CPUs in a window`);
  if (row.tokens === "cold")
    out.push(row.repeated ? "tokens repeated (pool too small)" : `${row.distinctTokens} distinct tokens`);
  return out.join("; ");
}

export const TABLE_HEADER = [
  "Row",
  "Tokens",
  "Cores",
  "req/s",
  "(min–max)",
  "p50 ms",
  "p99 ms",
  "vs baseline",
  "vs best peer",
  "server CPU µs/req",
  "upstream calls (run / row)",
  "notes",
];
const NUMERIC = new Set([2, 3, 5, 6, 7, 8, 9]);

export function tableRows(results: BenchResults): string[][] {
  return results.rows.map((row) => [
    row.label,
    TOKEN_SET[row.tokens],
    String(row.cores ?? 2),
    num(row.rps),
    `${num(row.rpsMin)}–${num(row.rpsMax)}`,
    num(row.p50, 2),
    num(row.p99, 2),
    row.baselineId && row.baselineId !== "baseline" && row.baselineId !== "baseline@1" && row.id !== row.baselineId
      ? `${ratio(row.ratioToBaseline)} (vs ${row.baselineId})`
      : ratio(row.ratioToBaseline),
    ratio(row.ratioToBestPeer),
    num(row.serverCpuUsPerRequest),
    upstream(row),
    notes(row),
  ]);
}

function markdownTable(header: string[], rows: string[][], numeric: ReadonlySet<number> = new Set()): string {
  const escape = (cell: string): string => cell.replace(/\|/g, "\\|");
  return [
    `| ${header.join(" | ")} |`,
    `| ${header.map((_, i) => (numeric.has(i) ? "---:" : "---")).join(" | ")} |`,
    ...rows.map((r) => `| ${r.map(escape).join(" | ")} |`),
  ].join("\n");
}

export function renderTerminal(results: BenchResults): string {
  const header = TABLE_HEADER;
  const rows = tableRows(results);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (NUMERIC.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  const out = [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line), ""];
  const { cold, heap } = results.micro;
  if (cold)
    out.push(
      `cold verification: mcp-oauth ${cold.mcpOAuthVerifyUs.toFixed(1)} µs/op, bare crypto.verify ${cold.bareVerifyUs.toFixed(1)} µs/op (${cold.ratio.toFixed(2)}x); cached verifyToken ${cold.cachedVerifyUs.toFixed(2)} µs/op`,
    );
  if (heap)
    out.push(
      `heap: ${heap.growthMB.toFixed(1)} MB for ${heap.tokens} cached tokens (${heap.bytesPerToken.toFixed(0)} bytes each)`,
    );
  const busy = results.busyBeforeRounds.filter((b) => b > 0.1);
  if (busy.length > 0)
    out.push(
      `WARNING: other processes kept the CPUs ${busy.map((b) => `${(b * 100).toFixed(0)}%`).join(", ")} busy before ${busy.length} of ${results.busyBeforeRounds.length} rounds: figures are noisier than usual`,
    );
  if (results.retriedWindows > 0)
    out.push(`${results.retriedWindows} measured windows were taken again: other processes used the CPUs meanwhile`);
  if (results.findings.length > 0) out.push("", ...results.findings);
  out.push("", "targets:");
  for (const t of results.targets)
    out.push(
      `  [${t.status === "met" ? "met" : t.status === "missed" ? "MISSED" : "UNCLEAR"}] ${t.what}: ${t.measured}`,
    );
  for (const [id, profile] of Object.entries(results.profiles)) {
    out.push("", `profile ${id} (self time, measured window):`);
    for (const p of profile.packages.slice(0, 8))
      out.push(`  ${p.percent.toFixed(1).padStart(5)}%  ${p.usPerRequest.toFixed(1).padStart(6)} µs/req  ${p.name}`);
    out.push("  top functions:");
    for (const f of profile.functions.slice(0, 10))
      out.push(
        `  ${f.percent.toFixed(1).padStart(5)}%  ${f.usPerRequest.toFixed(1).padStart(6)} µs/req  ${f.name}  ${f.where}`,
      );
  }
  return out.join("\n");
}

/** Median of the finite numbers of a list (NaN when there are none). */
export function median(values: readonly number[]): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Each process of a row that ran in several: its windows' median CPU time per request and req/s. */
function perProcessSection(rows: readonly RowResult[]): string[] {
  const cellsOf = rows.flatMap((row) => {
    const processes = row.windowProcess;
    const cpu = row.windowCpuUsPerRequest;
    const rps = row.windowRps;
    if (processes === undefined || cpu === undefined || rps === undefined || !processes.some((p) => p > 0)) return [];
    const cells = Array.from({ length: Math.max(...processes) + 1 }, (_, p) => {
      const mine = processes.flatMap((q, i) => (q === p ? [i] : []));
      return `${median(mine.map((i) => cpu[i]!)).toFixed(0)} µs, ${median(mine.map((i) => rps[i]!)).toFixed(0)} req/s (${mine.length} windows)`;
    });
    return [{ id: row.id, cells }];
  });
  if (cellsOf.length === 0) return [];
  const width = Math.max(...cellsOf.map(({ cells }) => cells.length));
  const lines = cellsOf.map(({ id, cells }) => `| ${id} | ${cells.join(" | ")} |`);
  return [
    "## Per process",
    "",
    "Each row behind a target ran in several server processes, taking turns by round. Per process, the median of its windows' server CPU time per request and of their req/s: the same code in another process of the same run can differ by more than a target's margin.",
    "",
    `| Row | ${Array.from({ length: width }, (_, p) => `process ${p + 1}`).join(" | ")} |`,
    `| --- | ${Array.from({ length: width }, () => "---").join(" | ")} |`,
    ...lines,
    "",
  ];
}

export function renderMarkdown(results: BenchResults): string {
  const { machine: m, settings: s } = results;
  const out: string[] = [
    "# Benchmark results",
    "",
    `Generated by \`npx -y pnpm@12.4.2 bench\` on ${results.date.slice(0, 10)} at commit ${results.commit} (${results.wallSeconds.toFixed(0)} s).`,
    "",
    `Machine: Node ${m.node}, ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}.`,
    "",
    ...(results.busyBeforeRounds.some((b) => b > 0.1)
      ? [
          `**Warning:** other processes kept the CPUs busy (${results.busyBeforeRounds.map((b) => `${(b * 100).toFixed(0)}%`).join(", ")} before the ${results.busyBeforeRounds.length} rounds) during this run: figures are noisier than usual.`,
          "",
        ]
      : []),
    ...(results.settings.retriesPerWindow === 0
      ? [
          "No window was taken again (`BENCH_RETRIES=0`): a window other processes shared says so in its row's notes.",
          "",
        ]
      : []),
    ...(results.retriedWindows > 0
      ? [
          `${results.retriedWindows} measured windows were taken again because other processes used more than 10% of the CPUs during them.`,
          "",
        ]
      : []),
    `Each row: a server in its own process: an Express 5 app with one protected \`GET /mcp\` returning \`{"ok":true}\`, or (the MCP rows) a whole MCP server answering \`tools/call\` (an \`echo\` tool), each connection in the session its own token opened before the window (as an MCP client does; a server binding sessions to their subject refuses any other), through the MCP SDK's Streamable HTTP transport on Express or mcp-framework's HTTP Stream transport, JSON answers; autocannon in another process, ${s.connections} connections` +
      (s.pinning
        ? `; ${s.pinning}. `
        : "; processes not pinned to CPUs (server and load generator share the cores). ") +
      (s.instances !== undefined && s.instances.processes > 1 && s.instances.rows.length > 0
        ? `Each row behind a target (${s.instances.rows.join(", ")}) runs in ${s.instances.processes} server processes taking turns by round (shifted by the row's place, so each process meets several of every other row's): in one experiment three processes of the same row stayed up to 20% apart in CPU time per request over ten rounds, a fixed error of one process that more rounds on it cannot average out (results.json has each window's process and CPU time). `
        : "") +
      `Every row server is started and warmed up (${s.warmupSeconds} s), then the rows take turns: ${s.rounds} rounds of one ${s.windowSeconds} s measured window per row (each window after ${s.settleSeconds} s of unmeasured load), so a slow moment of the machine falls on every row alike. ` +
      (s.focusGroups.length > 0
        ? `Then these groups of rows take more rounds among themselves, each group on its own (its ratios paired within its rounds; figures comparing a row of a group with a row outside it use only the rounds both took): ${s.focusGroups.map((g) => `${g.target}, ${g.rounds} rounds (${g.rows.join(", ")})`).join("; ")}. One window is too coarse for their margins on a shared VM. `
        : "") +
      `*req/s* is the median of a row's windows (min–max beside it); *vs baseline* and *vs best peer* are medians of the per-round ratios; latency percentiles are over every measured response; *server CPU* is the user + system time of the process that served each window (a cluster row: its workers too), per measured request. ` +
      `All JWT rows validate the same RS256 tokens (\`typ: at+jwt\`) against the same loopback authorization server's key set: ` +
      `**cached, round-robin** = ${s.cachedTokens} tokens, each request the next; **cached, one per connection** = each connection keeps a token of its own (what an MCP client does); **cold** = a pool of ${s.coldPool} distinct tokens, the warm-up cycling over the first ${s.warmupTokens} and the measured run sending each of the rest at most once; **new key each window** = before each measured window the key set the row reads gains a new RSA key and the window sends 64 tokens signed with it round-robin, measured from the first request (no settling time), so the refetch of the key set is inside the window. ` +
      `The Redis rows keep the cache in a redis-server started by the bench on loopback (\`@mcp-oauth/redis\`, no persistence). A row with any failed response (non-2xx, error, timeout) in a measured window is reported as failed, outside every ratio: fast refusals would pass for fast work. ` +
      `The introspection row uses ${s.opaqueTokens} opaque tokens issued by a second local authorization server (oidc-provider) through the real authorization-code flow, and its real introspection endpoint.`,
    "",
    markdownTable(TABLE_HEADER, tableRows(results), NUMERIC),
    "",
    "*vs best peer*: against the fastest peer on the same token set, with the same cores, in the same round (for the mcp-framework MCP rows: mcp-framework's own `OAuthAuthProvider` on the same server). *vs baseline*: against the unprotected row of the same kind in the same round (the GET baseline with the same cores; for the MCP rows, the same MCP server without protection). *upstream calls*: requests the authorization servers received (key set, introspection, discovery) during the measured windows / from the start of the row's server processes (start-up check, probe, warm-up, windows; every process of the row).",
    "",
    "## Targets",
    "",
    markdownTable(
      ["Target", "Measured", "Status"],
      results.targets.map((t) => [t.what, t.measured, t.status === "met" ? "met" : `**${t.status}**`]),
    ),
    "",
    ...(results.findings.length > 0
      ? ["## Scaling, mechanism, rotation", "", ...results.findings.flatMap((f) => [`- ${f}`]), ""]
      : []),
    "A throughput target is *met* when the paired throughput ratio and the server's CPU time per request both say so, *missed* when neither does, *unclear* when they disagree (throughput on a shared 2-core machine is noisy; CPU time per request is the steadier measure of cost).",
    "",
    ...perProcessSection(results.rows),
  ];
  const { cold, heap } = results.micro;
  if (cold || heap) out.push("## Micro-benchmarks", "");
  if (cold) {
    out.push(
      `Cold verification (${cold.rounds} rounds of ${cold.ops} distinct tokens, keys already loaded, cache off; within a round both sides take turns in chunks of 50 of the same tokens; medians, the ratio taken per round): ` +
        `\`ResourceServer.verifyToken\` **${cold.mcpOAuthVerifyUs.toFixed(1)} µs/op**; bare \`crypto.verify("RSA-SHA256")\` of the same signature **${cold.bareVerifyUs.toFixed(1)} µs/op**; ratio **${cold.ratio.toFixed(2)}x**.`,
      "",
      markdownTable(
        ["Part of the cold path (same tokens)", "µs/op"],
        Object.entries(cold.parts).map(([k, v]) => [k, v.toFixed(2)]),
        new Set([1]),
      ),
      "",
      `Ways to check a cold token (the same tokens, 10 in flight as under load, keys loaded; medians of 5 rounds of 2000 taking turns): CPU time per token in all threads, and on the main thread (the event loop) alone. On one core every thread shares that core, so the total is what counts; with a free core, the event loop's share is.`,
      "",
      markdownTable(
        ["Way", "CPU µs/token (all threads)", "main thread µs/token", "wall µs/token"],
        cold.mechanisms.map((m) => [
          m.name,
          m.totalCpuUs.toFixed(1),
          m.mainThreadCpuUs.toFixed(1),
          m.wallUs.toFixed(1),
        ]),
        new Set([1, 2, 3]),
      ),
      "",
      `Cached path: \`verifyToken\` of a token already in the cache **${cold.cachedVerifyUs.toFixed(2)} µs/op**.`,
      "",
      markdownTable(
        ["Part of the cached path", "µs/op"],
        Object.entries(cold.cachedParts).map(([k, v]) => [k, v.toFixed(2)]),
        new Set([1]),
      ),
      "",
    );
  }
  if (heap) {
    out.push(
      `Heap: ${heap.tokens} distinct tokens verified through a \`ResourceServer\` with \`cache: { maxEntries: ${heap.tokens} }\` (cache size ${heap.cacheSize}): heap used ${heap.heapBeforeMB.toFixed(1)} → ${heap.heapAfterMB.toFixed(1)} MB after GC, **${heap.growthMB.toFixed(1)} MB** (${heap.bytesPerToken.toFixed(0)} bytes per cached token).`,
      "",
    );
  }
  const profiles = Object.entries(results.profiles);
  if (profiles.length > 0) {
    out.push(
      "## CPU profiles",
      "",
      "Self time during the measured window of a separate, profiled run of the row (`node:inspector` CPU profiler, 250 µs sampling).",
      "",
    );
    for (const [id, profile] of profiles) {
      out.push(
        `### ${id} (${profile.requests} requests, ${((profile.totalMs / profile.requests) * 1000).toFixed(0)} µs sampled per request)`,
        "",
        markdownTable(
          ["Package", "self %", "µs/request"],
          profile.packages.slice(0, 10).map((p) => [p.name, p.percent.toFixed(1), p.usPerRequest.toFixed(1)]),
          new Set([1, 2]),
        ),
        "",
        markdownTable(
          ["Function", "Where", "self %", "µs/request"],
          profile.functions.slice(0, 15).map((f) => [f.name, f.where, f.percent.toFixed(1), f.usPerRequest.toFixed(1)]),
          new Set([2, 3]),
        ),
        "",
      );
    }
  }
  return `${out.join("\n").trimEnd()}\n`;
}
