/** `mcp-oauth doctor ...`: argument parsing, output and exit code around `runDoctor`. */
import { existsSync, readFileSync } from "node:fs";
import { parseArgs, parseEnv } from "node:util";
import type { CliIo } from "../io.js";
import { DoctorUsageError, runDoctor } from "./doctor.js";
import { formatReport } from "./report.js";

export const DOCTOR_USAGE = `Usage: mcp-oauth doctor --resource <MCP endpoint URL> [options]

Checks a live MCP OAuth setup from the outside, as an MCP client would: the 401 challenge,
the protected resource metadata, each authorization server's metadata and keys, and
optionally a real token (which is never printed).

Options:
  --resource <url>              the MCP endpoint URL clients are given (required, unless --dotenv)
  --dotenv <file>               check the server configured by this file and the environment
                                (which wins), as a project made by create-mcp-oauth reads them:
                                --resource defaults to OAUTH_RESOURCE, else http://HOST:PORT/mcp
  --authorization-server <url>  issuer to check (repeatable); default: those the metadata lists
  --token <token>               an access token for this resource; "-" reads it from stdin
                                (npm run -s token | npm run doctor -- --token -)
  --json                        print the report as JSON
  --timeout <ms>                per-request timeout (default 10000)
  -h, --help                    this text

Exit status: 0 when nothing failed (warnings allowed), 1 when a check failed, 2 on bad arguments.
`;

export const MAIN_USAGE = `Usage: mcp-oauth <command> [options]

Commands:
  doctor    check a live MCP OAuth setup (mcp-oauth doctor --help)

To create a new MCP server with OAuth: npx create-mcp-oauth <directory>
`;

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = "";
  for await (const chunk of stream)
    text += typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8");
  return text;
}

export async function doctorMain(argv: readonly string[], io: CliIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        resource: { type: "string" },
        dotenv: { type: "string" },
        "authorization-server": { type: "string", multiple: true },
        token: { type: "string" },
        json: { type: "boolean", default: false },
        timeout: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    io.stderr.write(`mcp-oauth doctor: ${(error as Error).message}\n\n${DOCTOR_USAGE}`);
    return 2;
  }
  if (values.help) {
    io.stdout.write(DOCTOR_USAGE);
    return 0;
  }
  const resource = values.resource ?? (values.dotenv !== undefined ? configuredResource(values.dotenv) : undefined);
  if (resource === undefined) {
    io.stderr.write(`mcp-oauth doctor: --resource is required\n\n${DOCTOR_USAGE}`);
    return 2;
  }
  const timeout = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeout !== undefined && (!Number.isFinite(timeout) || timeout <= 0)) {
    io.stderr.write(`mcp-oauth doctor: --timeout must be a positive number of milliseconds\n`);
    return 2;
  }
  let token = values.token;
  if (token === "-") {
    token = (await readAll(io.stdin)).trim();
    // A token check was asked for: running without one would pass without checking any.
    if (token === "") {
      io.stderr.write("mcp-oauth doctor: --token -: no token on standard input\n");
      return 2;
    }
  }

  try {
    const scripts = projectScripts();
    const report = await runDoctor({
      resource,
      ...(scripts !== undefined ? { projectScripts: scripts } : {}),
      ...(values["authorization-server"] ? { authorizationServers: values["authorization-server"] } : {}),
      ...(token !== undefined ? { token } : {}),
      ...(timeout !== undefined ? { timeout } : {}),
    });
    io.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
    return report.ok ? 0 : 1;
  } catch (error) {
    if (error instanceof DoctorUsageError) {
      io.stderr.write(`mcp-oauth doctor: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

/**
 * The resource a server made by create-mcp-oauth publishes (its src/server.ts): OAUTH_RESOURCE,
 * else its own /mcp URL on HOST:PORT, from the environment and then `file` (missing: none).
 */
function configuredResource(file: string): string {
  const fromFile = existsSync(file) ? parseEnv(readFileSync(file, "utf8")) : {};
  const value = (name: string): string | undefined => process.env[name] || fromFile[name] || undefined;
  const resource = value("OAUTH_RESOURCE");
  if (resource !== undefined) return resource;
  const host = value("HOST") ?? "127.0.0.1";
  // A wildcard bind address is no URL a client can use: the server's default resource is loopback.
  const publicHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  return `http://${publicHost}:${value("PORT") ?? "3000"}/mcp`;
}

/** The npm scripts of package.json in the current directory (npm runs scripts there), if any. */
function projectScripts(): Record<string, string> | undefined {
  try {
    const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { scripts?: unknown };
    return pkg.scripts !== null && typeof pkg.scripts === "object"
      ? (pkg.scripts as Record<string, string>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The `mcp-oauth` command: subcommands. */
export async function mcpOAuthMain(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "doctor") return doctorMain(rest, io);
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    (command === undefined ? io.stderr : io.stdout).write(MAIN_USAGE);
    return command === undefined ? 2 : 0;
  }
  io.stderr.write(`mcp-oauth: unknown command ${JSON.stringify(command)}\n\n${MAIN_USAGE}`);
  return 2;
}
