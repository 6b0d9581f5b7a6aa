/**
 * Summarises a V8 CPU profile (`.cpuprofile`, as `node --cpu-prof` writes it): self time
 * per function and per package, so the report can say what the time went to.
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileEntry {
  name: string;
  where: string;
  selfMs: number;
  percent: number;
  /** Self time per measured request, µs (when the request count is known). */
  usPerRequest: number;
}

export interface ProfileSummary {
  totalMs: number;
  requests: number;
  functions: ProfileEntry[];
  packages: ProfileEntry[];
}

/** Where a frame lives: a package (`express`, `router`, `@mcp-oauth/core`), Node's internals, or V8. */
export function packageOf(url: string, functionName: string): string {
  if (url === "") return functionName.startsWith("(") ? functionName : "(native)";
  if (url.startsWith("node:")) return "node (internal)";
  const ours = /\/packages\/([^/]+)\/src\//.exec(url);
  if (ours && !url.includes("node_modules")) return `@mcp-oauth/${ours[1]}`;
  const modules = url.lastIndexOf("node_modules/");
  if (modules !== -1) {
    const rest = url.slice(modules + "node_modules/".length).split("/");
    return rest[0]!.startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.includes("/bench/src/")) return "bench (route handler)";
  return url;
}

function shortWhere(url: string, line: number): string {
  if (url === "") return "";
  const tail = url
    .replace(/^file:\/\//, "")
    .replace(/^.*node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?/, "")
    .replace(/^.*\/packages\//, "packages/")
    .replace(/^.*\/bench\//, "bench/");
  return `${tail}:${line + 1}`;
}

export function summariseProfile(file: string, top = 15, requests = NaN): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const functions = new Map<string, { name: string; where: string; us: number }>();
  const packages = new Map<string, number>();
  let total = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    // Waiting for the next request is not a cost.
    if (frame.functionName === "(idle)") continue;
    total += us;
    const name = frame.functionName || "(anonymous)";
    const key = `${name}@${frame.url}:${frame.lineNumber}`;
    const entry = functions.get(key) ?? { name, where: shortWhere(frame.url, frame.lineNumber), us: 0 };
    entry.us += us;
    functions.set(key, entry);
    const pkg = packageOf(frame.url, name);
    packages.set(pkg, (packages.get(pkg) ?? 0) + us);
  }
  const toEntry = (name: string, where: string, us: number): ProfileEntry => ({
    name,
    where,
    selfMs: us / 1000,
    percent: (100 * us) / Math.max(1, total),
    usPerRequest: us / requests,
  });
  return {
    totalMs: total / 1000,
    requests,
    functions: [...functions.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((f) => toEntry(f.name, f.where, f.us)),
    packages: [...packages.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => toEntry(name, "", us)),
  };
}
