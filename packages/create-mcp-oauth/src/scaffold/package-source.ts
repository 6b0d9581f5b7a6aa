/**
 * Where a new project's mcp-oauth packages come from when nobody said: the npm registry, unless
 * the scaffolder runs from an mcp-oauth clone and the registry does not have them (not published
 * yet, or it cannot be asked): then they are packed from the clone, so `npm install` works
 * either way, and the same command uses the registry once they are published.
 */
import { lookUpOnRegistry, type RegistryOptions } from "./registry.js";
import type { PackageSource } from "./scaffold.js";
import { VERSIONS } from "./templates.js";

/** The range a generated package.json asks for. */
export const registryRange = (name: string): string =>
  name === "create-mcp-oauth" ? VERSIONS.createMcpOAuth : VERSIONS.mcpOAuth;

export async function choosePackageSource(
  names: readonly string[],
  options: RegistryOptions & { inWorkspace: boolean },
): Promise<{ source: PackageSource; message?: string }> {
  if (!options.inWorkspace) return { source: "registry" };
  const answers = await Promise.all(
    names.map(async (name) => ({ name, ...(await lookUpOnRegistry(name, registryRange(name), options)) })),
  );
  const absent = answers.filter((a) => a.status !== "published");
  if (absent.length === 0) {
    return {
      source: "registry",
      message: `mcp-oauth packages: from the npm registry (${names.map((n) => `${n}@${registryRange(n)}`).join(", ")})`,
    };
  }
  const why = absent
    .map(
      (a) =>
        `${a.name}@${registryRange(a.name)} ${a.status === "missing" ? "is not on the npm registry" : `could not be looked up (${a.detail})`}`,
    )
    .join("; ");
  return {
    source: "workspace",
    message: `mcp-oauth packages: ${why}.`,
  };
}
