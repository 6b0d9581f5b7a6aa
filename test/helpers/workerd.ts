/**
 * Bundling for workerd, the Workers runtime (run here through miniflare): as wrangler does,
 * ESM with the "workerd" export condition, `node:*` left to the runtime (`nodejs_compat`).
 */
import { build } from "esbuild";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");

/** The workspace file `entry` (a path from the repository root) and its imports, as one module. */
export async function bundleForWorkerd(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [join(ROOT, entry)],
    bundle: true,
    format: "esm",
    platform: "neutral",
    conditions: ["workerd", "worker", "import"],
    mainFields: ["module", "main"],
    external: ["node:*"],
    target: "es2022",
    write: false,
    logLevel: "silent",
  });
  return result.outputFiles[0]!.text;
}

/** The compatibility settings every workerd test uses. */
export const WORKERD_COMPATIBILITY = { compatibilityDate: "2025-09-01", compatibilityFlags: ["nodejs_compat"] };
