/**
 * The mcp-oauth workspace this scaffolder runs from, when it runs from a clone (`pnpm
 * scaffold`, or tsx on its source): its packages, and packing them into a generated project
 * for as long as they are not on the npm registry. Installed from npm, there is no workspace.
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export interface WorkspacePackage {
  name: string;
  version: string;
  /** Absolute directory. */
  dir: string;
  /** The workspace packages it depends on (`workspace:` ranges). */
  dependsOn: string[];
}

export interface Workspace {
  root: string;
  /** By package name. */
  packages: ReadonlyMap<string, WorkspacePackage>;
  /** The root's `packageManager` (`pnpm@12.4.2`). */
  packageManager: string;
}

interface PackageJson {
  name?: string;
  version?: string;
  packageManager?: string;
  dependencies?: Record<string, string>;
}

const readJson = (file: string): PackageJson => JSON.parse(readFileSync(file, "utf8")) as PackageJson;

/**
 * The workspace around this module: this package must be `packages/create-mcp-oauth` of a
 * directory with `pnpm-workspace.yaml` and the root package `mcp-oauth` (an installed copy in
 * someone's node_modules never is).
 */
export function findWorkspace(moduleUrl: string = import.meta.url): Workspace | undefined {
  // src/scaffold/workspace.ts and dist/scaffold/workspace.js alike: two levels below the package.
  const packageDir = resolve(dirname(fileURLToPath(moduleUrl)), "../..");
  const root = resolve(packageDir, "../..");
  if (basename(dirname(packageDir)) !== "packages" || !existsSync(join(root, "pnpm-workspace.yaml"))) return undefined;
  let rootPackage: PackageJson;
  try {
    rootPackage = readJson(join(root, "package.json"));
  } catch {
    return undefined;
  }
  if (rootPackage.name !== "mcp-oauth" || rootPackage.packageManager === undefined) return undefined;
  const packages = new Map<string, WorkspacePackage>();
  for (const entry of readdirSync(join(root, "packages"))) {
    const file = join(root, "packages", entry, "package.json");
    if (!existsSync(file)) continue;
    const pkg = readJson(file);
    if (pkg.name === undefined || pkg.version === undefined) continue;
    packages.set(pkg.name, {
      name: pkg.name,
      version: pkg.version,
      dir: dirname(file),
      dependsOn: Object.entries(pkg.dependencies ?? {})
        .filter(([, range]) => range.startsWith("workspace:"))
        .map(([name]) => name),
    });
  }
  return { root, packages, packageManager: rootPackage.packageManager };
}

/** `names` and every workspace package they depend on, directly or not. */
export function withWorkspaceDependencies(workspace: Workspace, names: readonly string[]): WorkspacePackage[] {
  const found = new Map<string, WorkspacePackage>();
  const visit = (name: string): void => {
    if (found.has(name)) return;
    const pkg = workspace.packages.get(name);
    if (pkg === undefined) throw new Error(`${name} is not a package of the workspace at ${workspace.root}`);
    found.set(name, pkg);
    pkg.dependsOn.forEach(visit);
  };
  names.forEach(visit);
  return [...found.values()];
}

/**
 * How to run pnpm: the one running us (`pnpm scaffold`: a script or a single executable),
 * else the version the workspace pins, through npx.
 */
function pnpmCommand(workspace: Workspace): [string, string[]] {
  const execPath = process.env["npm_execpath"] ?? "";
  if (/pnpm/.test(basename(dirname(execPath))) || /pnpm(\.c?js)?$/.test(basename(execPath))) {
    return /\.[cm]?js$/.test(execPath) ? [process.execPath, [execPath]] : [execPath, []];
  }
  return ["npx", ["-y", workspace.packageManager]];
}

/** The environment for pnpm: not the npm_* / pnpm_* settings of whatever script started us. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(npm_|pnpm_|PNPM_)/.test(key)) env[key] = value;
  }
  return env;
}

function runQuietly(
  command: string,
  args: readonly string[],
  cwd: string,
  timeoutMs: number,
): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(command, [...args], {
      cwd,
      env: cleanEnv(),
      stdio: ["ignore", "pipe", "pipe"],
      shell: process.platform === "win32",
    });
    let output = "";
    const collect = (chunk: Buffer): void => {
      output += chunk.toString("utf8");
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      resolveRun({ ok: false, output: `${command} could not be run: ${error.message}` });
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolveRun({ ok: code === 0, output });
    });
  });
}

/**
 * Packs each package with `pnpm pack` (its prepack builds dist; `workspace:` ranges become
 * versions, publishConfig applies: the tarball npm would get from the registry) into a
 * temporary directory; nothing is written into the workspace but each package's dist.
 * Returns the tarballs by package name (absolute paths) and the directory to remove.
 */
export async function packWorkspacePackages(
  workspace: Workspace,
  packages: readonly WorkspacePackage[],
): Promise<{ tarballs: Map<string, string>; directory: string }> {
  const directory = await mkdtemp(join(tmpdir(), "create-mcp-oauth-pack-"));
  const [command, prefix] = pnpmCommand(workspace);
  const tarballs = new Map<string, string>();
  const failures: string[] = [];
  let next = 0;
  // Two at a time: each pack runs tsc.
  await Promise.all(
    Array.from({ length: 2 }, async () => {
      while (next < packages.length) {
        const pkg = packages[next++]!;
        const destination = join(directory, basename(pkg.dir));
        const ran = await runQuietly(command, [...prefix, "pack", "--pack-destination", destination], pkg.dir, 300_000);
        const file = ran.ok ? (await readdir(destination).catch(() => [])).find((f) => f.endsWith(".tgz")) : undefined;
        if (file === undefined) {
          const tail = ran.output.trim().split("\n").slice(-15).join("\n");
          failures.push(`pnpm pack of ${pkg.name} failed:\n${tail}`);
        } else {
          tarballs.set(pkg.name, join(destination, file));
        }
      }
    }),
  );
  if (failures.length > 0) {
    await rm(directory, { recursive: true, force: true });
    throw new Error(failures.join("\n"));
  }
  return { tarballs, directory };
}
