/**
 * The code blocks of the README, docs/ and the packages' READMEs stay true (code-blocks.ts
 * finds them, and says how a block is marked when it cannot be held to its check):
 * - every ```ts / ```typescript block is type-checked against the workspace's packages, each
 *   its own module (top-level await allowed), unless marked `fragment`;
 * - every ```sh block runs (bash, `-e -o pipefail`) in a directory that shows the repository
 *   through symbolic links, so what it creates stays out of the repository, unless marked
 *   `no-run`; a block that is not run still has its commands checked: the pnpm it names is the
 *   workspace's, its `pnpm <script>`s exist, the repository paths it names exist, the packages
 *   of ours it installs are ours;
 * - every ```dotenv block names only variables the code reads, and every ```json block parses.
 */
import { afterAll, describe, expect, it } from "@jest/globals";
import { execFile, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { allCodeBlocks, codeBlocks, root, type CodeBlock } from "./code-blocks.js";

const out = join(root, "test", "docs", ".snippets");
const blocks = allCodeBlocks();
const where = (block: CodeBlock): string => `${block.source}:${block.line}`;
const isTs = (block: CodeBlock): boolean => block.lang === "ts" || block.lang === "typescript";
const isSh = (block: CodeBlock): boolean => block.lang === "sh" || block.lang === "bash" || block.lang === "shell";

afterAll(() => rmSync(out, { recursive: true, force: true }));

it("has markers only where they belong, with fragments rare", () => {
  const misplaced = blocks
    .filter((b) => (b.marker?.kind === "fragment" && !isTs(b)) || (b.marker?.kind === "no-run" && !isSh(b)))
    .map(where);
  expect(misplaced).toEqual([]);
  expect(blocks.filter((b) => b.marker?.kind === "fragment").length).toBeLessThanOrEqual(2);
});

it("type-checks every TypeScript block", async () => {
  const found = blocks.filter((b) => isTs(b) && b.marker === undefined);
  expect(found.length).toBeGreaterThanOrEqual(8);
  const named = found.map((block, i) => ({ block, name: `${block.source.replace(/[^a-z0-9]+/gi, "-")}-${i}.ts` }));
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  for (const { block, name } of named) writeFileSync(join(out, name), `${block.code}\nexport {};\n`);
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
      compilerOptions: {
        noEmit: true,
        types: ["node"],
        paths,
        // Most of the time goes to the workspace's sources the blocks import: kept between
        // runs (tsc compares file contents), so a second run checks only what changed.
        incremental: true,
        tsBuildInfoFile: join(root, "node_modules", ".cache", "mcp-oauth-doc-snippets.tsbuildinfo"),
      },
      include: ["*.ts"],
    }),
  );
  const tsc = join(root, "node_modules", ".bin", "tsc");
  const result = await new Promise<{ code: number; output: string }>((resolve) => {
    execFile(tsc, ["-p", join(out, "tsconfig.json")], { cwd: root }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, output: `${stdout}${stderr}` });
    });
  });
  // Name the markdown file and line of each error, not the generated file.
  const output = result.output.replace(/\S*\.snippets\/(\S+?\.ts)\((\d+),(\d+)\)/g, (_m, name: string, l: string) => {
    const block = named.find((n) => n.name === name)?.block;
    return block ? `${block.source}:${block.line + Number(l)}` : name;
  });
  expect(output).toBe("");
  expect(result.code).toBe(0);
}, 120_000);

interface Run {
  status: number | null;
  output: string;
}

/**
 * Runs a block with bash in a fresh directory whose entries are symbolic links to the
 * repository's, so relative paths and `pnpm <script>` work and new files land in the
 * directory, not the repository. On timeout the whole process group is killed.
 */
function runInSandbox(code: string, timeoutMs = 120_000): Promise<Run> {
  const sandbox = mkdtempSync(join(tmpdir(), "mcp-oauth-doc-"));
  for (const entry of readdirSync(root)) if (entry !== ".git") symlinkSync(join(root, entry), join(sandbox, entry));
  return new Promise<Run>((resolve) => {
    const child = spawn("bash", ["-e", "-o", "pipefail", "-c", code], {
      cwd: sandbox,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    const timer = setTimeout(() => {
      output += `\n(killed after ${timeoutMs} ms)`;
      process.kill(-child.pid!, "SIGKILL");
    }, timeoutMs);
    child.on("close", (status) => {
      clearTimeout(timer);
      rmSync(sandbox, { recursive: true, force: true });
      resolve({ status, output });
    });
  });
}

const OFF_LIMITS =
  /\bgit (?:clone|push|pull|fetch)\b|\bnpm (?:install|i|publish|view|exec)\b|\bnpx (?!-y pnpm@|tsx\b)\S+|\bpnpm@\S+ (?:install|add|publish|release|test|bench|mutation|dlx)\b|\b(?:curl|wget) +\S*https?:\/\/(?!127\.|localhost|\[::1\])/;

const gitStatus = (): Promise<string> =>
  new Promise((resolve, reject) =>
    execFile("git", ["status", "--porcelain", "--untracked-files=all"], { cwd: root }, (error, stdout) =>
      error ? reject(error) : resolve(stdout),
    ),
  );

describe("sh blocks", () => {
  it("the sandbox runs a block where the repository is visible, keeps what it writes, and reports a failure", async () => {
    const made = `made-by-doc-test-${process.pid}.txt`;
    const ok = await runInSandbox(`test -f package.json && test -d node_modules\necho made > ${made}\ncat ${made}`);
    expect(ok).toEqual({ status: 0, output: "made\n" });
    expect(existsSync(join(root, made))).toBe(false);
    const failed = await runInSandbox("true | false\necho not reached");
    expect(failed.status).not.toBe(0);
    expect(failed.output).not.toContain("not reached");
  });

  it("runs every block a test can run on loopback, without touching the repository", async () => {
    const failures: string[] = [];
    for (const block of blocks.filter((b) => isSh(b) && b.marker === undefined)) {
      // Never run, marked or not: what needs the registry or the internet, publishes, or is the test suite itself.
      const offLimits = OFF_LIMITS.exec(block.code.replace(/(^|\s)#.*$/gm, ""));
      if (offLimits !== null) {
        failures.push(`${where(block)}: "${offLimits[0]}" cannot run on loopback in a test; mark the block no-run`);
        continue;
      }
      const before = await gitStatus();
      const run = await runInSandbox(block.code);
      if (run.status !== 0) failures.push(`${where(block)} exited ${String(run.status)}:\n${run.output}`);
      if ((await gitStatus()) !== before) failures.push(`${where(block)} changed files of the repository`);
    }
    expect(failures).toEqual([]);
  }, 600_000);

  it("checks the commands of every block, run or not", () => {
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
      packageManager: string;
      scripts: Record<string, string>;
    };
    const pnpm = pkg.packageManager;
    // pnpm's own commands the docs use besides the scripts.
    const builtins = new Set(["install", "add", "pack", "publish", "exec", "dlx"]);
    const ours = new Set(
      readdirSync(join(root, "packages")).map(
        (dir) =>
          (JSON.parse(readFileSync(join(root, "packages", dir, "package.json"), "utf8")) as { name: string }).name,
      ),
    );
    const bins = Object.keys(
      (
        JSON.parse(readFileSync(join(root, "packages/create-mcp-oauth/package.json"), "utf8")) as {
          bin: Record<string, string>;
        }
      ).bin,
    );
    const problems: string[] = [];
    for (const block of blocks.filter(isSh)) {
      const code = block.code.replace(/(^|\s)#.*$/gm, "");
      for (const [, version, command] of code.matchAll(/\bnpx -y (pnpm@\S+) ([\w:-]+)/g)) {
        if (version !== pnpm) problems.push(`${where(block)}: ${version}, the workspace's is ${pnpm}`);
        if (!(command! in pkg.scripts) && !builtins.has(command!))
          problems.push(`${where(block)}: pnpm ${command}: no such script in package.json`);
      }
      for (const [path] of code.matchAll(/(?<![\w/.-])(?:packages|examples|test|bench|docs|scripts)\/[\w./-]+/g)) {
        if (!existsSync(join(root, path))) problems.push(`${where(block)}: ${path} does not exist`);
      }
      for (const [, names] of code.matchAll(/\bnpm install ((?:-\S+ )*[^&;|\n]+)/g)) {
        for (const name of names!.split(/\s+/).map((n) => n.replace(/(?<=.)@[^/]*$/, ""))) {
          if ((name.startsWith("@mcp-oauth/") || name === "create-mcp-oauth") && !ours.has(name))
            problems.push(`${where(block)}: npm install ${name}: not a package of this workspace`);
        }
      }
      for (const [, bin] of code.matchAll(/\bnpx (?:-y )?((?:create-)?mcp-oauth\b[\w-]*)/g)) {
        if (!bins.includes(bin!)) problems.push(`${where(block)}: npx ${bin}: create-mcp-oauth has no such bin`);
      }
    }
    expect(problems).toEqual([]);
  });
});

it("names in every dotenv block only variables the code reads", () => {
  const names = (text: string): string[] => text.match(/\bOAUTH_[A-Z_]+[A-Z]\b/g) ?? [];
  const read = new Set(
    ["packages/core/src/env.ts", "packages/redis/src/env.ts", "examples/express-server/src/app.ts"].flatMap((file) =>
      names(readFileSync(join(root, file), "utf8")),
    ),
  );
  const dotenv = blocks.filter((b) => b.lang === "dotenv");
  expect(dotenv.length).toBeGreaterThan(0);
  const unknown = dotenv.flatMap((block) =>
    [...block.code.matchAll(/^([A-Z_]+)=/gm)]
      .filter(([, name]) => !read.has(name!))
      .map(([, n]) => `${where(block)}: ${n}`),
  );
  expect(unknown).toEqual([]);
});

it("parses every json block", () => {
  const broken = blocks
    .filter((b) => b.lang === "json")
    .flatMap((block) => {
      try {
        JSON.parse(block.code);
        return [];
      } catch (error) {
        return [`${where(block)}: ${(error as Error).message}`];
      }
    });
  expect(broken).toEqual([]);
});

it("refuses a marker it cannot read rather than ignoring it", () => {
  expect(() => codeBlocks("<!-- snippet: norun -->\n```sh\nls\n```\n", "x.md")).toThrow(/x\.md:2: unreadable marker/);
  expect(codeBlocks("<!-- snippet: no-run (the registry) -->\n\n   ```sh\n   ls\n   ```\n", "x.md")).toEqual([
    { source: "x.md", line: 3, lang: "sh", code: "ls\n", marker: { kind: "no-run", reason: "the registry" } },
  ]);
});
