/**
 * Helpers for the create-mcp-oauth tests: "installing" a generated project offline (its
 * dependencies linked from this workspace), child processes that are always killed, free
 * ports, and the real MCP SDK client.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, realpath, symlink } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { freePort } from "../../../test/helpers/listen.js";

export const PACKAGE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const REPO = resolve(PACKAGE_DIR, "../..");
/** Where generated projects go: inside the repository, one directory per run (runs may overlap). */
export const SCAFFOLD_PARENT = join(PACKAGE_DIR, ".scaffold-test");
export const SCAFFOLD_ROOT = join(SCAFFOLD_PARENT, `run-${process.pid}-${Date.now().toString(36)}`);
export const BIN = join(REPO, "node_modules/.bin");

/**
 * Links every dependency of the generated package.json into its node_modules, from this
 * workspace: `@mcp-oauth/*` and `create-mcp-oauth` are the packages themselves (TypeScript
 * sources), the rest come from the matching example's or the root's node_modules, so the
 * project resolves exactly the versions this repository is tested with. Throws when a
 * dependency is not available: the generated package.json must ask only for what exists.
 */
export async function installWorkspaceDependencies(
  dir: string,
  template: "express" | "mcp-framework",
): Promise<string[]> {
  const pkg = JSON.parse(await readFile(join(dir, "package.json"), "utf8")) as {
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
  const names = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})];
  const sources = [join(REPO, "examples", `${template}-server`, "node_modules"), join(REPO, "node_modules")];
  const linked: string[] = [];
  for (const name of names) {
    let source: string | undefined;
    if (name.startsWith("@mcp-oauth/")) source = join(REPO, "packages", name.slice("@mcp-oauth/".length));
    else if (name === "create-mcp-oauth") source = PACKAGE_DIR;
    else source = sources.map((s) => join(s, name)).find((candidate) => existsSync(candidate));
    if (source === undefined || !existsSync(source)) throw new Error(`${name} is not available in this workspace`);
    const target = join(dir, "node_modules", name);
    await mkdir(dirname(target), { recursive: true });
    await symlink(await realpath(source), target, "dir");
    linked.push(name);
  }
  return linked;
}

export interface Child {
  process: ChildProcess;
  output(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  kill(): Promise<void>;
}

/** Starts a child process (never through a shell); its output is collected. */
export function startChild(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string>; stdin?: string } = {},
): Child {
  const child = spawn(command, [...args], {
    cwd: options.cwd ?? REPO,
    env: { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "", ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    output += chunk.toString("utf8");
  });
  child.stderr!.on("data", (chunk: Buffer) => {
    output += chunk.toString("utf8");
  });
  if (options.stdin !== undefined) child.stdin!.end(options.stdin);
  else child.stdin!.end();
  const exited = new Promise<number | null>((resolveExit) => {
    child.once("exit", (code) => resolveExit(code));
  });
  return {
    process: child,
    output: () => output,
    exited,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/** Runs a command to the end (killed after `timeout` ms, so nothing outlives the test): exit code and output. */
export async function run(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string>; stdin?: string; timeout?: number } = {},
): Promise<{ code: number | null; output: string }> {
  const child = startChild(command, args, options);
  const timer = setTimeout(() => void child.kill(), options.timeout ?? 60_000);
  const code = await child.exited;
  clearTimeout(timer);
  return { code, output: child.output() };
}

/** Polls `url` until it answers at all (any status), or the child exits, or time runs out. */
export async function waitForServer(url: string, child: Child, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.process.exitCode !== null)
      throw new Error(`the server exited (${child.process.exitCode}):\n${child.output()}`);
    const up = await fetch(url).then(
      async (r) => {
        await r.body?.cancel();
        return true;
      },
      () => false,
    );
    if (up) return;
    if (Date.now() > deadline) throw new Error(`no answer from ${url}:\n${child.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Calls `whoami` with the real MCP SDK client (v1), the token in the Authorization header. */
export async function callWhoami(
  url: string,
  token: string,
): Promise<{ sub?: string; clientId?: string; scopes: string[] }> {
  const client = new Client({ name: "create-mcp-oauth-test", version: "0.0.0" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }),
  );
  try {
    const tools = await client.listTools();
    if (!tools.tools.some((t) => t.name === "whoami"))
      throw new Error(`no whoami tool: ${tools.tools.map((t) => t.name).join(", ")}`);
    const result = await client.callTool({ name: "whoami", arguments: {} });
    const text = (result as { content: { type: string; text: string }[] }).content[0]?.text ?? "";
    return JSON.parse(text) as { sub?: string; clientId?: string; scopes: string[] };
  } finally {
    await client.close();
  }
}

export { freePort };
