/**
 * Whether a package is on the npm registry, asked the way the user's `npm install` will ask:
 * through npm itself (`npm view`), so the user's registry, scopes, proxy and credentials apply.
 */
import { spawn } from "node:child_process";

export type RegistryAnswer =
  | { status: "published"; version: string }
  /** The registry answered: no such package, or no version in the range. */
  | { status: "missing"; detail: string }
  /** No answer (offline, registry down, npm missing): nobody knows. */
  | { status: "unknown"; detail: string };

export interface RegistryOptions {
  /** npm's environment; `npm_config_registry` points it elsewhere. Default: this process's. */
  env?: NodeJS.ProcessEnv;
  /** Give up after this long (a network that drops packets does not fail fast). Default 30000. */
  timeoutMs?: number;
}

interface NpmError {
  error?: { code?: string; summary?: string };
}

/** `npm view <name>@<range> version`: the newest version in the range, or why there is none. */
export function lookUpOnRegistry(name: string, range: string, options: RegistryOptions = {}): Promise<RegistryAnswer> {
  return new Promise((resolveAnswer) => {
    const child = spawn("npm", ["view", `${name}@${range}`, "version", "--json", "--fetch-retries=0"], {
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
      // npm is npm.cmd on Windows, which only a shell runs.
      shell: process.platform === "win32",
    });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
    });
    child.stderr.resume();
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 30_000);
    child.once("error", (error) => {
      clearTimeout(timer);
      resolveAnswer({ status: "unknown", detail: `npm could not be run: ${error.message}` });
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      if (signal !== null) {
        resolveAnswer({
          status: "unknown",
          detail: `npm view gave no answer within ${options.timeoutMs ?? 30_000} ms`,
        });
        return;
      }
      let parsed: unknown;
      try {
        parsed = stdout.trim() === "" ? undefined : JSON.parse(stdout);
      } catch {
        parsed = undefined;
      }
      if (code === 0) {
        // One matching version prints a string, several an array (newest last); none prints nothing.
        const versions = (Array.isArray(parsed) ? parsed : [parsed]).filter((v): v is string => typeof v === "string");
        const version = versions.at(-1);
        resolveAnswer(
          version !== undefined
            ? { status: "published", version }
            : { status: "missing", detail: `no version matches ${range}` },
        );
        return;
      }
      const error = (parsed as NpmError | undefined)?.error;
      if (error?.code === "E404") {
        resolveAnswer({ status: "missing", detail: error.summary ?? "E404" });
        return;
      }
      resolveAnswer({
        status: "unknown",
        detail: error?.code !== undefined ? `${error.code}: ${error.summary ?? ""}`.trim() : `npm view exited ${code}`,
      });
    });
  });
}
