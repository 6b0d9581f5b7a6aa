import { readFileSync } from "node:fs";
const file = process.argv[2]!;
const p = JSON.parse(readFileSync(file, "utf8"));
const self = new Map<string, number>();
const dt: number[] = p.timeDeltas; const samples: number[] = p.samples;
const byId = new Map<number, any>(p.nodes.map((n: any) => [n.id, n]));
const t = new Map<number, number>();
for (let i = 0; i < samples.length; i++) t.set(samples[i]!, (t.get(samples[i]!) ?? 0) + (dt[i] ?? 0));
let total = 0;
for (const [id, us] of t) { const n = byId.get(id); const f = n.callFrame; const k = `${f.functionName || "(anon)"} ${f.url.replace(/.*\/(packages|node_modules)\//, "$1/")}:${f.lineNumber}`; self.set(k, (self.get(k) ?? 0) + us); total += us; }
const filter = process.argv[3] ?? "";
console.log("total ms", (total / 1000).toFixed(0));
for (const [k, us] of [...self].filter(([k]) => k.includes(filter)).sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log((us / 1000).toFixed(1).padStart(8), (100 * us / total).toFixed(1).padStart(5) + "%", k);
