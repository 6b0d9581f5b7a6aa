/**
 * Every ```ts block of the README, docs/ and the packages' READMEs is type-checked against the workspace's
 * packages, so the documentation cannot drift from the API.
 */
import { afterAll, expect, it } from "@jest/globals";
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const out = join(root, "test", "docs", ".snippets");

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return markdownFiles(path);
    return entry.name.endsWith(".md") ? [path] : [];
  });
}

function snippets(): { name: string; source: string; code: string }[] {
  const found: { name: string; source: string; code: string }[] = [];
  const packageReadmes = readdirSync(join(root, "packages"))
    .map((dir) => join(root, "packages", dir, "README.md"))
    .filter((file) => existsSync(file));
  for (const file of [join(root, "README.md"), ...markdownFiles(join(root, "docs")), ...packageReadmes]) {
    const text = readFileSync(file, "utf8");
    let index = 0;
    for (const match of text.matchAll(/^```ts\n([\s\S]*?)^```$/gm)) {
      const source = relative(root, file);
      found.push({ name: `${source.replace(/[^a-z0-9]+/gi, "-")}-${index++}.ts`, source, code: match[1]! });
    }
  }
  return found;
}

afterAll(() => rmSync(out, { recursive: true, force: true }));

it("type-checks every TypeScript snippet in the README and docs", async () => {
  const found = snippets();
  expect(found.length).toBeGreaterThanOrEqual(8);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  // Each snippet is its own module (top-level await allowed), checked with the workspace's settings.
  for (const snippet of found) writeFileSync(join(out, snippet.name), `${snippet.code}\nexport {};\n`);
  const rootConfig = JSON.parse(readFileSync(join(root, "tsconfig.json"), "utf8")) as {
    compilerOptions: { paths: Record<string, string[]> };
  };
  const paths = Object.fromEntries(
    Object.entries(rootConfig.compilerOptions.paths).map(([name, [target]]) => [name, [join(root, target!)]]),
  );
  writeFileSync(
    join(out, "tsconfig.json"),
    JSON.stringify({
      extends: join(root, "tsconfig.base.json"),
      compilerOptions: { noEmit: true, types: ["node"], paths },
      include: ["*.ts"],
    }),
  );
  const tsc = join(root, "node_modules", ".bin", "tsc");
  const result = await new Promise<{ code: number; output: string }>((resolve) => {
    execFile(tsc, ["-p", join(out, "tsconfig.json")], { cwd: root }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, output: `${stdout}${stderr}` });
    });
  });
  // Name the markdown file of each error, not the generated one.
  const output = result.output.replace(/\S+\.snippets\/(\S+?)-(\d+)\.ts/g, (_m, name: string, n: string) => {
    const snippet = found.find((s) => s.name === `${name}-${n}.ts`);
    return snippet ? `${snippet.source} (snippet ${n})` : `${name}-${n}`;
  });
  expect(output).toBe("");
  expect(result.code).toBe(0);
}, 60_000);
