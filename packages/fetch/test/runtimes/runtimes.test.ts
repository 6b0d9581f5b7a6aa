/**
 * The Fetch protection on other runtimes, from their registry packages: the example
 * (examples/fetch-server, `Bun.serve` and `Deno.serve`) on Bun and on Deno, checked from outside
 * with real tokens and the real MCP SDK v2 client: metadata, 401 challenge, a token accepted
 * (the tool sees its caller), 403 step-up and the call with the scope. Skipped, saying why,
 * when the runtime's binary cannot run on this machine.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { obtainAccessToken } from "@mcp-oauth/local-authorization-server";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  startTestAuthorizationServer,
  type TestAuthorizationServer,
} from "../../../../test/helpers/authorization-server.js";
import { parseChallenge } from "../../../../test/helpers/challenge-parser.js";
import { freePort } from "../../../../test/helpers/listen.js";

const EXAMPLE = join(dirname(fileURLToPath(import.meta.url)), "../../../../examples/fetch-server");
const require = createRequire(import.meta.url);

interface Runtime {
  name: string;
  /** The registry package that ships the binary (a devDependency), and the binary in it. */
  packageName: string;
  binary: string;
  /** The example's entry for this runtime (examples/fetch-server/src). */
  script: string;
  args: (script: string) => string[];
}

const RUNTIMES: Runtime[] = [
  {
    name: "Bun.serve",
    packageName: "@oven/bun-linux-x64",
    binary: "bin/bun",
    script: "src/bun.ts",
    args: (script) => [script],
  },
  {
    name: "Deno.serve",
    packageName: "@deno/linux-x64-glibc",
    binary: "deno",
    script: "src/deno.ts",
    // The workspace's node_modules as they are; `./x.js` imports of the TypeScript sources resolve to `./x.ts`.
    args: (script) => ["run", "--allow-all", "--no-lock", "--sloppy-imports", "--node-modules-dir=manual", script],
  },
];

/** The runtime's binary, or why it cannot run on this machine. */
function binaryOf(runtime: Runtime): { path: string } | { skip: string } {
  let path: string;
  try {
    path = join(dirname(require.resolve(`${runtime.packageName}/package.json`)), runtime.binary);
  } catch {
    return { skip: `${runtime.packageName} is not installed (not a linux-x64 glibc machine?)` };
  }
  const probe = spawnSync(path, ["--version"], { encoding: "utf8" });
  if (probe.status !== 0) return { skip: `its binary does not run here: ${probe.error?.message ?? probe.stderr}` };
  return { path };
}

interface Seen {
  status: number;
  challenge: string | null;
}

async function connect(url: string, token: string, seen: Seen[] = []): Promise<Client> {
  const client = new Client({ name: "runtimes-test", version: "0.0.0" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), {
      requestInit: { headers: { Authorization: `Bearer ${token}` } },
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        seen.push({ status: response.status, challenge: response.headers.get("www-authenticate") });
        return response;
      },
    }),
  );
  return client;
}

const textOf = (result: unknown): string => (result as { content: { text: string }[] }).content[0]?.text ?? "";

describe.each(RUNTIMES.map((runtime) => ({ runtime, binary: binaryOf(runtime) })))(
  "$runtime.name",
  ({ runtime, binary }) => {
    const test = "path" in binary ? it : it.skip;
    const why = "skip" in binary ? ` (skipped: ${binary.skip})` : "";
    let as: TestAuthorizationServer;
    let child: ChildProcess | undefined;
    let url: string;
    let readToken: string;
    let writeToken: string;

    beforeAll(async () => {
      as = await startTestAuthorizationServer();
      const port = await freePort();
      // What the example makes its resource without OAUTH_RESOURCE: http://HOST:PORT/mcp.
      url = `http://127.0.0.1:${port}/mcp`;
      if (!("path" in binary)) return;
      child = spawn(binary.path, runtime.args(runtime.script), {
        cwd: EXAMPLE,
        env: {
          // Deno's caches in the system temp directory, not the user's home.
          DENO_DIR: join(tmpdir(), "mcp-oauth-deno-cache"),
          PATH: process.env["PATH"],
          OAUTH_AUTHORIZATION_SERVER: as.issuer,
          OAUTH_SCOPES: "mcp:read",
          PORT: String(port),
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let errors = "";
      child.stderr?.on("data", (chunk: Buffer) => (errors += chunk.toString()));
      await new Promise<void>((resolve, reject) => {
        let out = "";
        child!.stdout?.on("data", (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes(`MCP server (${runtime.name.split(".")[0]}) at ${url}`)) resolve();
        });
        child!.once("exit", (code) => reject(new Error(`${runtime.name} exited with ${code}: ${errors}`)));
      });
      const tokenFor = (scope: string): Promise<string> =>
        obtainAccessToken(as.issuer, { resource: url, scope, login: "alice" }).then((t) => t.access_token);
      [readToken, writeToken] = await Promise.all([tokenFor("mcp:read"), tokenFor("mcp:read mcp:write")]);
    });

    afterAll(async () => {
      if (child !== undefined && child.exitCode === null) {
        const exited = new Promise((resolve) => child!.once("exit", resolve));
        child.kill();
        await exited;
      }
      await as?.close();
    });

    test(`serves the metadata document${why}`, async () => {
      const res = await fetch(new URL("/.well-known/oauth-protected-resource/mcp", url));
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ resource: url, authorization_servers: [as.issuer] });
    });

    test(`answers a request without a token with the MCP challenge${why}`, async () => {
      const res = await fetch(url, { method: "POST" });
      expect(res.status).toBe(401);
      expect(parseChallenge(res.headers.get("www-authenticate")!).params).toEqual({
        resource_metadata: `${new URL(url).origin}/.well-known/oauth-protected-resource/mcp`,
        scope: "mcp:read",
      });
    });

    test(`accepts a token: the MCP SDK v2 client calls whoami and the tool sees its caller${why}`, async () => {
      const client = await connect(url, readToken);
      expect(JSON.parse(textOf(await client.callTool({ name: "whoami", arguments: {} })))).toMatchObject({
        sub: "alice",
        scopes: ["mcp:read"],
      });
      await client.close();
    });

    test(`refuses write_note without mcp:write with 403 naming every scope needed, and runs it with it${why}`, async () => {
      const seen: Seen[] = [];
      const reader = await connect(url, readToken, seen);
      await expect(reader.callTool({ name: "write_note", arguments: { text: "x" } })).rejects.toThrow();
      expect(parseChallenge(seen.find((s) => s.status === 403)!.challenge!).params).toMatchObject({
        error: "insufficient_scope",
        scope: "mcp:read mcp:write",
      });
      await reader.close();
      const writer = await connect(url, writeToken);
      expect(textOf(await writer.callTool({ name: "write_note", arguments: { text: "x" } }))).toBe(
        "saved note 1 for alice",
      );
      await writer.close();
    });
  },
);
