/** Writes a generated project to disk, refusing to mix it into a directory that has content. */
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { PROVIDERS, providerInfo, type ProviderId } from "./providers.js";
import { generateFiles, TEMPLATES, VALIDATIONS, type Template, type Validation } from "./templates.js";

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
  if (!options.force && !(await isEmptyDirectory(directory))) {
    throw new ScaffoldError(
      `${directory} is not empty; choose another directory, or pass --force to write into it (generated files are overwritten)`,
    );
  }
  const name = options.name ?? packageNameFor(directory);
  const files = generateFiles({
    name,
    template: options.template,
    provider: options.provider,
    validation: options.validation,
  });
  for (const [path, content] of Object.entries(files)) {
    const target = join(directory, path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, content);
  }
  return { directory, name, files: Object.keys(files) };
}
