/**
 * Commands run as a user runs them, for the tests that work outside the workspace (the consumer
 * test, the scaffolder's next-steps test): each in its own process group, so a timeout or the
 * end of the test kills what it started too, and with the user's environment rather than the
 * one `pnpm test` and jest built.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { delimiter, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = resolve(fileURLToPath(new URL("../..", import.meta.url)));

/**
 * The user's environment, without what `pnpm test` and jest add (npm_config_* from pnpm would
 * reconfigure npm; NODE_ENV=test would change what apps do), nor the workspace's
 * node_modules/.bin directories that pnpm puts first on PATH.
 */
export function userEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || /^(npm_|pnpm_|PNPM_|JEST_|NODE_ENV$|NODE_OPTIONS$|INIT_CWD$)/.test(key)) continue;
    env[key] = value;
  }
  env["PATH"] = (env["PATH"] ?? "")
    .split(delimiter)
    .filter((d) => !d.startsWith(REPO))
    .join(delimiter);
  return { ...env, ...extra };
}

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr as they came, interleaved. */
  output: string;
}

export interface Started {
  child: ChildProcess;
  output: () => string;
  /** SIGTERM to the group, SIGKILL 5 s later if it is still there. */
  stop: () => Promise<void>;
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals = "SIGKILL"): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

/** The children a test file started; `killAll()` in its `afterAll`. */
export class ChildProcesses {
  readonly #children = new Set<ChildProcess>();

  #spawn(
    command: string,
    args: readonly string[],
    cwd: string,
    env: Record<string, string>,
    stdin: "pipe" | "ignore",
  ): ChildProcess {
    const child = spawn(command, [...args], { cwd, env, detached: true, stdio: [stdin, "pipe", "pipe"] });
    this.#children.add(child);
    child.once("close", () => this.#children.delete(child));
    return child;
  }

  /** Runs a command to its end (never through a shell: say `sh -c` for one); killed after `timeoutMs`. */
  run(
    command: string,
    args: readonly string[],
    options: { cwd: string; env?: Record<string, string>; input?: string; timeoutMs?: number },
  ): Promise<Ran> {
    return new Promise((resolveRun, reject) => {
      const stdin = options.input === undefined ? "ignore" : "pipe";
      const child = this.#spawn(command, args, options.cwd, options.env ?? userEnv(), stdin);
      const ran: Ran = { code: null, stdout: "", stderr: "", output: "" };
      child.stdout!.on("data", (c: Buffer) => {
        ran.stdout += c.toString("utf8");
        ran.output += c.toString("utf8");
      });
      child.stderr!.on("data", (c: Buffer) => {
        ran.stderr += c.toString("utf8");
        ran.output += c.toString("utf8");
      });
      if (child.stdin !== null) {
        // A command may exit without reading its input: EPIPE then is no failure of the test.
        child.stdin.on("error", () => {});
        child.stdin.end(options.input);
      }
      const timer = setTimeout(() => killGroup(child), options.timeoutMs ?? 120_000);
      child.once("error", reject);
      child.once("close", (code) => {
        clearTimeout(timer);
        resolveRun({ ...ran, code });
      });
    });
  }

  /** Starts a long-running command (a server): resolves once its output matches `ready`, rejects if it exits first or after 60 s. */
  async start(
    command: string,
    args: readonly string[],
    options: { cwd: string; env: Record<string, string>; ready: RegExp },
  ): Promise<Started> {
    const child = this.#spawn(command, args, options.cwd, options.env, "ignore");
    let output = "";
    const closed = new Promise<void>((r) => child.once("close", () => r()));
    const described = [command, ...args].join(" ");
    await new Promise<void>((resolveStart, reject) => {
      const timer = setTimeout(() => reject(new Error(`not ready after 60 s: ${described}\n${output}`)), 60_000);
      const onData = (c: Buffer): void => {
        output += c.toString("utf8");
        if (options.ready.test(output)) {
          clearTimeout(timer);
          resolveStart();
        }
      };
      child.stdout!.on("data", onData);
      child.stderr!.on("data", onData);
      child.once("close", (code) => {
        clearTimeout(timer);
        reject(new Error(`exited (${code}) before it was ready: ${described}\n${output}`));
      });
    });
    return {
      child,
      output: () => output,
      stop: async () => {
        killGroup(child, "SIGTERM");
        const timer = setTimeout(() => killGroup(child), 5_000);
        await closed;
        clearTimeout(timer);
      },
    };
  }

  killAll(): void {
    for (const child of this.#children) killGroup(child);
  }
}
