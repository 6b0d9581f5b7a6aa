import { readFileSync } from "node:fs";
const p = JSON.parse(readFileSync(process.argv[2]!, "utf8"));
const name = process.argv[3]!;
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const byId = new Map<number, any>(p.nodes.map((n: any) => [n.id, n]));
const t = new Map<number, number>();
for (let i = 0; i < p.samples.length; i++) t.set(p.samples[i], (t.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
const stacks = new Map<string, number>();
for (const [id, us] of t) {
  const n = byId.get(id);
  if (n.callFrame.functionName !== name) continue;
  const chain: string[] = [];
  let cur: number | undefined = id;
  for (let d = 0; d < 6 && cur !== undefined; d++) { const f = byId.get(cur).callFrame; chain.push(`${f.functionName || "(anon)"}@${f.url.split("/").slice(-1)[0]}:${f.lineNumber}`); cur = parent.get(cur); }
  const k = chain.join(" < ");
  stacks.set(k, (stacks.get(k) ?? 0) + us);
}
for (const [k, us] of [...stacks].sort((a, b) => b[1] - a[1]).slice(0, 8)) console.log((us / 1000).toFixed(1), k);
