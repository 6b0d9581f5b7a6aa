/** Writes a generated project to disk, refusing to mix it into a directory that has content. */
import { copyFile, mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { PROVIDERS, providerInfo, type ProviderId } from "./providers.js";
import {
  generateFiles,
  mcpOAuthPackages,
  TEMPLATES,
  VALIDATIONS,
  type Template,
  type Validation,
} from "./templates.js";
import { findWorkspace, packWorkspacePackages, withWorkspaceDependencies } from "./workspace.js";

/**
 * Where the project's mcp-oauth packages come from: `registry` (the `VERSIONS` ranges), or
 * `workspace` (packed from the mcp-oauth clone this scaffolder runs from into `vendor/`).
 */
export const PACKAGE_SOURCES = ["registry", "workspace"] as const;
export type PackageSource = (typeof PACKAGE_SOURCES)[number];

export interface ScaffoldOptions {
  /** Target directory, created when missing. */
  directory: string;
  template: Template;
  provider: ProviderId;
  validation: Validation;
  /** Package name; default: derived from the directory name. */
  name?: string;
  /** Write into a non-empty directory (generated files are overwritten, others left alone). */
  force?: boolean;
  /** Default `registry`. `workspace` only when running from a clone of mcp-oauth. */
  packages?: PackageSource;
}

export interface ScaffoldResult {
  directory: string;
  name: string;
  /** Paths written, relative to the directory. */
  files: string[];
}

/** A refusal the user can act on (non-empty directory, unsupported combination). */
export class ScaffoldError extends Error {
  override readonly name = "ScaffoldError";
}

/** An npm package name from a directory name: lowercase, URL-safe, not starting with . or _. */
export function packageNameFor(directory: string): string {
  const name = basename(resolve(directory))
    .toLowerCase()
    .replace(/[^a-z0-9._~-]+/g, "-")
    .replace(/^[._-]+/, "")
    .replace(/-+$/, "");
  return name === "" ? "mcp-server" : name.slice(0, 214);
}

/** Files that do not make a directory "non-empty". */
const IGNORABLE = new Set([".git", ".DS_Store", "Thumbs.db"]);

export async function isEmptyDirectory(directory: string): Promise<boolean> {
  try {
    return (await readdir(directory)).every((entry) => IGNORABLE.has(entry));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return true;
    throw error;
  }
}

/** Refuses a non-empty directory unless `force`. */
export async function assertWritable(directory: string, force = false): Promise<void> {
  if (!force && !(await isEmptyDirectory(directory))) {
    throw new ScaffoldError(
      `${resolve(directory)} is not empty; choose another directory, or pass --force to write into it (generated files are overwritten)`,
    );
  }
}

export function validateChoices(options: Pick<ScaffoldOptions, "template" | "provider" | "validation">): void {
  if (!(TEMPLATES as readonly string[]).includes(options.template)) {
    throw new ScaffoldError(`unknown template "${options.template}" (one of ${TEMPLATES.join(", ")})`);
  }
  if (!(PROVIDERS as readonly string[]).includes(options.provider)) {
    throw new ScaffoldError(`unknown provider "${options.provider}" (one of ${PROVIDERS.join(", ")})`);
  }
  if (!(VALIDATIONS as readonly string[]).includes(options.validation)) {
    throw new ScaffoldError(`unknown validation "${options.validation}" (one of ${VALIDATIONS.join(", ")})`);
  }
  const introspection = providerInfo(options.provider).introspection;
  if (options.validation === "introspection" && "unsupported" in introspection)
    throw new ScaffoldError(introspection.unsupported);
}

export async function scaffold(options: ScaffoldOptions): Promise<ScaffoldResult> {
  validateChoices(options);
  const directory = resolve(options.directory);
  await assertWritable(directory, options.force);
  const name = options.name ?? packageNameFor(directory);
  const vendored = options.packages === "workspace" ? await packIntoVendor(options, directory) : undefined;
  const files = generateFiles({
    name,
    template: options.template,
    provider: options.provider,
    validation: options.validation,
    ...(vendored !== undefined ? { vendored } : {}),
  });
  for (const [path, content] of Object.entries(files)) {
    const target = join(directory, path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, content);
  }
  return { directory, name, files: [...Object.keys(files), ...Object.values(vendored ?? {})] };
}

const VENDOR = "vendor";

/**
 * Packs the mcp-oauth packages the project needs (and those they depend on) from the
 * workspace into `<directory>/vendor/`. Returns their paths relative to the project.
 */
async function packIntoVendor(
  options: Pick<ScaffoldOptions, "template" | "provider">,
  directory: string,
): Promise<Record<string, string>> {
  const workspace = findWorkspace();
  if (workspace === undefined) {
    throw new ScaffoldError(
      "--packages workspace packs the mcp-oauth packages from the repository, and this create-mcp-oauth does not run from one (clone https://github.com/mcp-oauth/mcp-oauth and run `npx -y pnpm@12.4.2 scaffold` there)",
    );
  }
  const packages = withWorkspaceDependencies(workspace, mcpOAuthPackages(options));
  let packed;
  try {
    packed = await packWorkspacePackages(workspace, packages);
  } catch (error) {
    throw new ScaffoldError(`packing the mcp-oauth packages failed; nothing was written.\n${(error as Error).message}`);
  }
  try {
    await mkdir(join(directory, VENDOR), { recursive: true });
    const vendored: Record<string, string> = {};
    for (const [name, tarball] of [...packed.tarballs].sort(([a], [b]) => a.localeCompare(b))) {
      const file = `${VENDOR}/${basename(tarball)}`;
      await copyFile(tarball, join(directory, file));
      vendored[name] = file;
    }
    return vendored;
  } finally {
    await rm(packed.directory, { recursive: true, force: true });
  }
}
