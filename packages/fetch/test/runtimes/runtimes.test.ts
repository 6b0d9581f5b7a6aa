/**
 * The Fetch protection on other runtimes, from their registry packages: the same handler
 * (serve.ts) on Bun and on Deno, checked from outside with real tokens: metadata, 401 challenge, a
 * verdict with the body readable, 403 step-up. Skipped, saying why, when the runtime's
 * binary cannot run on this machine.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
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

const HERE = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

interface Runtime {
  name: string;
  /** The registry package that ships the binary (a devDependency), and the binary in it. */
  packageName: string;
  binary: string;
  args: (script: string) => string[];
}

const RUNTIMES: Runtime[] = [
  { name: "Bun.serve", packageName: "@oven/bun-linux-x64", binary: "bin/bun", args: (script) => [script] },
  {
    name: "Deno.serve",
    packageName: "@deno/linux-x64-glibc",
    binary: "deno",
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

describe.each(RUNTIMES.map((runtime) => ({ runtime, binary: binaryOf(runtime) })))(
  "$runtime.name",
  ({ runtime, binary }) => {
    const test = "path" in binary ? it : it.skip;
    const why = "skip" in binary ? ` (skipped: ${binary.skip})` : "";
    let as: TestAuthorizationServer;
    let child: ChildProcess | undefined;
    let url: string;

    beforeAll(async () => {
      as = await startTestAuthorizationServer();
      const port = await freePort();
      url = `http://127.0.0.1:${port}/mcp`;
      if (!("path" in binary)) return;
      child = spawn(binary.path, runtime.args(join(HERE, "serve.ts")), {
        cwd: HERE,
        env: {
          // Deno's caches in the system temp directory, not the user's home.
          DENO_DIR: join(tmpdir(), "mcp-oauth-deno-cache"),
          PATH: process.env["PATH"],
          OAUTH_AUTHORIZATION_SERVER: as.issuer,
          OAUTH_RESOURCE: url,
          OAUTH_SCOPES: "mcp:read",
          PORT: String(port),
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let errors = "";
      child.stderr?.on("data", (chunk: Buffer) => (errors += chunk.toString()));
      await new Promise<void>((resolve, reject) => {
        child!.stdout?.on("data", (chunk: Buffer) => {
          if (chunk.toString().includes("listening")) resolve();
        });
        child!.once("exit", (code) => reject(new Error(`${runtime.name} exited with ${code}: ${errors}`)));
      });
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
      expect(((await res.json()) as { resource: string }).resource).toBe(url);
    });

    test(`answers a request without a token with the MCP challenge${why}`, async () => {
      const res = await fetch(url, { method: "POST" });
      expect(res.status).toBe(401);
      expect(parseChallenge(res.headers.get("www-authenticate")!).params).toEqual({
        resource_metadata: `${new URL(url).origin}/.well-known/oauth-protected-resource/mcp`,
        scope: "mcp:read",
      });
    });

    test(`hands the handler the verdict and the body it judged, and refuses write_note without mcp:write${why}`, async () => {
      const body = (name: string): string =>
        JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name, arguments: {} } });
      const headers = { authorization: `Bearer ${as.mint(url)}`, "content-type": "application/json" };
      const ok = await fetch(url, { method: "POST", headers, body: body("whoami") });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ sub: "alice", scopes: ["mcp:read"], body: body("whoami") });
      const refused = await fetch(url, { method: "POST", headers, body: body("write_note") });
      expect(refused.status).toBe(403);
      expect(parseChallenge(refused.headers.get("www-authenticate")!).params["scope"]).toBe("mcp:read mcp:write");
    });
  },
);
