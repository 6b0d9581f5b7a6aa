/** The machine: what it is, and whether something else is using its CPUs right now. */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, release, totalmem } from "node:os";

export interface MachineInfo {
  node: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
}

export function machineInfo(): MachineInfo {
  let cpuinfo = "";
  try {
    cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  } catch {
    // Not Linux: the model from os.cpus() below.
  }
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? cpus()[0]?.model ?? "unknown";
  return {
    node: process.version,
    cpu: model,
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${process.platform} ${release()}`,
  };
}

export function cpuTimes(): { busy: number; total: number } | undefined {
  try {
    const fields = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = fields.reduce((a, b) => a + b, 0);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

/** Share of all CPUs busy over `ms` (0..1), or NaN where /proc/stat is missing. */
export async function cpuBusy(ms = 500): Promise<number> {
  const a = cpuTimes();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const b = cpuTimes();
  if (!a || !b || b.total === a.total) return NaN;
  return (b.busy - a.busy) / (b.total - a.total);
}

/**
 * Waits (up to `maxMs`) for the CPUs to be nearly idle before a row: on a shared machine,
 * another process's load would be measured as the row's. Returns the last busy share seen.
 */
export async function waitForQuiet(threshold = 0.1, maxMs = 10_000): Promise<number> {
  const deadline = Date.now() + maxMs;
  let busy = await cpuBusy();
  while (busy > threshold && Date.now() < deadline) busy = await cpuBusy(1000);
  return busy;
}

/** The commit measured (`abc1234`, `+dirty` when packages/ has uncommitted changes), or `unknown`. */
export function commitInfo(cwd: string): string {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], {
      cwd,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
    const dirty =
      execFileSync("git", ["status", "--porcelain", "--", "packages"], {
        cwd,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      }).trim() !== "";
    return `${head}${dirty ? "+dirty" : ""}`;
  } catch {
    return "unknown";
  }
}

/** CPU jiffies used so far by a process (user + system, itself only), or NaN. */
export function processJiffies(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name may hold spaces: fields are counted after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return NaN;
  }
}

export interface CpuSnapshot {
  busy: number;
  total: number;
  ours: number;
}

/** All CPUs' busy and total jiffies, and those of the given processes (the benchmark's own). */
export function cpuSnapshot(pids: readonly number[]): CpuSnapshot | undefined {
  const times = cpuTimes();
  if (!times) return undefined;
  return { ...times, ours: pids.reduce((sum, pid) => sum + processJiffies(pid), 0) };
}

/**
 * Share of the machine's CPU time used by processes other than `pids` between two snapshots
 * (0..1; the kernel's own network work for the benchmark's traffic counts here too, a few %).
 */
export function foreignShare(a: CpuSnapshot | undefined, b: CpuSnapshot | undefined): number {
  if (!a || !b || b.total === a.total || !Number.isFinite(a.ours) || !Number.isFinite(b.ours)) return NaN;
  return Math.max(0, (b.busy - a.busy - (b.ours - a.ours)) / (b.total - a.total));
}
