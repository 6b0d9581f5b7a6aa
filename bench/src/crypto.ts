/**
 * `pnpm bench:crypto`: WebCrypto against node:crypto for the core's cold path (JWK import +
 * verify, RS256 and ES256) and hot path (SHA-256 of a token), side by side, on Node and, in the
 * same run, on Bun and Deno from their registry packages where their binaries run here
 * (crypto-measure.ts in each). Writes bench/crypto-results.md and bench/crypto-results.json.
 * workerd is not measured: its clock does not advance while a request runs (a Spectre
 * mitigation), so no in-Worker timing means anything.
 */
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { commitInfo, machineInfo } from "./machine.js";
import { BENCH_DIR, SRC_DIR } from "./shared.js";

const require = createRequire(import.meta.url);
const MEASURE = join(SRC_DIR, "crypto-measure.ts");

interface Measured {
  rows: { row: string; api: string; us: number }[];
  rounds: number;
  hashFunction: string;
}

interface Runtime {
  name: string;
  command: () => { path: string; args: string[] } | { skip: string };
}

function binary(packageName: string, file: string): string | undefined {
  try {
    return join(dirname(require.resolve(`${packageName}/package.json`, { paths: [join(BENCH_DIR, "..")] })), file);
  } catch {
    return undefined;
  }
}

const RUNTIMES: Runtime[] = [
  {
    name: `Node ${process.version}`,
    command: () => ({ path: process.execPath, args: ["--import", "tsx", MEASURE] }),
  },
  {
    name: "Bun",
    command: () => {
      const path = binary("@oven/bun-linux-x64", "bin/bun");
      return path === undefined ? { skip: "@oven/bun-linux-x64 not installed" } : { path, args: [MEASURE] };
    },
  },
  {
    name: "Deno",
    command: () => {
      const path = binary("@deno/linux-x64-glibc", "deno");
      return path === undefined
        ? { skip: "@deno/linux-x64-glibc not installed" }
        : { path, args: ["run", "--allow-all", "--no-lock", "--node-modules-dir=manual", MEASURE] };
    },
  },
];

const results: { runtime: string; version: string; measured?: Measured; skipped?: string }[] = [];
for (const runtime of RUNTIMES) {
  const command = runtime.command();
  if ("skip" in command) {
    results.push({ runtime: runtime.name, version: "", skipped: command.skip });
    continue;
  }
  const version = spawnSync(command.path, ["--version"], { encoding: "utf8" }).stdout.split("\n")[0]!.trim();
  console.log(`crypto: ${runtime.name} (${version}) ...`);
  const run = spawnSync(command.path, command.args, {
    cwd: BENCH_DIR,
    encoding: "utf8",
    env: { ...process.env, DENO_DIR: join(BENCH_DIR, ".cache", "deno") },
  });
  if (run.status !== 0) {
    results.push({ runtime: runtime.name, version, skipped: `exited ${run.status}: ${run.stderr.slice(0, 300)}` });
    continue;
  }
  results.push({ runtime: runtime.name, version, measured: JSON.parse(run.stdout.trim().split("\n").pop()!) });
}

const commit = commitInfo(join(BENCH_DIR, ".."));
const machine = machineInfo();
const lines = [
  "# WebCrypto against node:crypto (`pnpm bench:crypto`)",
  "",
  `Commit ${commit}, ${new Date().toISOString().slice(0, 10)}; ${machine.cpu}, ${machine.cores} cores (shared). ` +
    "µs per operation, one after another, median of the rounds; ratio = WebCrypto / node:crypto.",
  "",
];
for (const result of results) {
  lines.push(`## ${result.runtime}${result.version ? ` (${result.version})` : ""}`, "");
  if (result.measured === undefined) {
    lines.push(`Not measured: ${result.skipped}`, "");
    continue;
  }
  lines.push("| What | node:crypto µs | WebCrypto µs | ratio |", "| --- | ---: | ---: | ---: |");
  const byRow = new Map<string, Record<string, number>>();
  for (const row of result.measured.rows) byRow.set(row.row, { ...byRow.get(row.row), [row.api]: row.us });
  for (const [row, apis] of byRow) {
    const node = apis["node:crypto"]!;
    const web = apis["WebCrypto"]!;
    lines.push(`| ${row} | ${node.toFixed(2)} | ${web.toFixed(2)} | ${(web / node).toFixed(2)} |`);
  }
  lines.push("", `${result.measured.rounds} rounds; node:crypto's hash is \`${result.measured.hashFunction}\`.`, "");
}
writeFileSync(join(BENCH_DIR, "crypto-results.md"), lines.join("\n"));
writeFileSync(join(BENCH_DIR, "crypto-results.json"), JSON.stringify({ commit, machine, results }, null, 2) + "\n");
console.log(lines.join("\n"));
