/**
 * The packages as a user gets them: every publishable package is packed with `pnpm pack`
 * (its `prepack` builds `dist`; `workspace:` ranges become versions), the tarballs are checked
 * with publint and arethetypeswrong, then installed with npm into fresh projects outside the
 * workspace (os.tmpdir()), where:
 * - a plain JavaScript ESM app and a CommonJS `require()` app use `mcpOAuth` against the local
 *   authorization server (metadata 200, 401 challenge, a real token accepted);
 * - a TypeScript app is type-checked with NodeNext, Bundler and node10 resolution and
 *   `skipLibCheck: false` (no @types/express installed), and the mcp-framework README snippet
 *   with NodeNext;
 * - an mcp-framework app with OAuthAuthProvider and a tool answers a real token;
 * - both templates of create-mcp-oauth, each with two providers, are scaffolded by the packed
 *   CLI, installed from the tarballs, and run their own test, type-check, auth-server script
 *   and `mcp-oauth doctor` against a local authorization server.
 * npm reaches the registry for third-party packages (one shared cache, `--prefer-offline`).
 * `pnpm test` runs this file after the others, alone (jest.config.ts ignores it otherwise):
 * `pnpm test:consumer`.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { obtainAccessToken } from "@mcp-oauth/local-authorization-server";
import { ChildProcesses, userEnv, type Ran } from "../helpers/child-processes.js";
import { freePort } from "../helpers/listen.js";

const REPO = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const FIXTURES = join(REPO, "test/consumer/fixtures");
const BIN = join(REPO, "node_modules/.bin");
/** Directory under packages/ → package name. */
const PACKAGES: Record<string, string> = {
  core: "@mcp-oauth/core",
  express: "@mcp-oauth/express",
  fetch: "@mcp-oauth/fetch",
  "mcp-framework": "@mcp-oauth/mcp-framework",
  "local-authorization-server": "@mcp-oauth/local-authorization-server",
  redis: "@mcp-oauth/redis",
  "create-mcp-oauth": "create-mcp-oauth",
};

interface RootPackage {
  packageManager: string;
  devDependencies: Record<string, string>;
}

let root = "";
let tarballs: Record<string, string> = {};
let consumer = "";
const children = new ChildProcesses();
const run = children.run.bind(children);
const start = children.start.bind(children);

const npmInstall = (cwd: string): Promise<Ran> =>
  run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"], {
    cwd,
    timeoutMs: 300_000,
  });

/** `file:` specs of the tarballs, and overrides so nested `@mcp-oauth/*` dependencies use them too (not the registry). */
function tarballDependencies(names: readonly string[]): {
  dependencies: Record<string, string>;
  overrides: Record<string, string>;
} {
  const dependencies = Object.fromEntries(names.map((n) => [n, `file:${tarballs[n]}`]));
  const overrides = Object.fromEntries(
    Object.keys(tarballs)
      .filter((n) => n.startsWith("@mcp-oauth/"))
      .map((n) => [n, `file:${tarballs[n]}`]),
  );
  return { dependencies, overrides };
}

const ok = (ran: Ran): { code: number | null; output: string } => ({
  code: ran.code,
  output: ran.code === 0 ? "" : `${ran.stdout}\n${ran.stderr}`,
});

/** Runs a command and keeps at most `limit` of them at once (two cores). */
async function inBatches<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await task(items[index]!);
      }
    }),
  );
  return results;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "mcp-oauth-consumer-"));
  const rootPackage = JSON.parse(await readFile(join(REPO, "package.json"), "utf8")) as RootPackage;

  // pnpm: the one running this test (`pnpm test`; a script or a single executable), else the pinned one.
  const execPath = process.env["npm_execpath"] ?? "";
  const pnpm: [string, string[]] = !/pnpm/.test(execPath)
    ? ["npx", ["-y", rootPackage.packageManager]]
    : /\.[cm]?js$/.test(execPath)
      ? [process.execPath, [execPath]]
      : [execPath, []];
  const packDir = join(root, "tarballs");
  await mkdir(packDir);
  const packed = await inBatches(Object.keys(PACKAGES), 2, async (dir) => ({
    dir,
    ...(await run(pnpm[0], [...pnpm[1], "pack", "--pack-destination", packDir], {
      cwd: join(REPO, "packages", dir),
      env: userEnv(),
      timeoutMs: 180_000,
    })),
  }));
  for (const p of packed) expect({ dir: p.dir, ...ok(p) }).toEqual({ dir: p.dir, code: 0, output: "" });
  const files = await readdir(packDir);
  tarballs = Object.fromEntries(
    Object.values(PACKAGES).map((name) => {
      const prefix = `${name.replace("@", "").replace("/", "-")}-`;
      const file = files.find((f) => f.startsWith(prefix) && /^\d/.test(f.slice(prefix.length)));
      if (file === undefined) throw new Error(`no tarball for ${name} in ${files.join(", ")}`);
      return [name, join(packDir, file)];
    }),
  );

  // One project for the apps and the type checks.
  consumer = join(root, "consumer");
  await mkdir(consumer);
  const { dependencies, overrides } = tarballDependencies(Object.values(PACKAGES));
  const dev = rootPackage.devDependencies;
  await writeFile(
    join(consumer, "package.json"),
    JSON.stringify(
      {
        name: "consumer",
        private: true,
        type: "module",
        dependencies: {
          ...dependencies,
          express: dev["express"],
          "mcp-framework": dev["mcp-framework"],
          "@modelcontextprotocol/sdk": dev["@modelcontextprotocol/sdk"],
          zod: "^3.25.76",
          typescript: dev["typescript"],
          "@types/node": dev["@types/node"],
        },
        overrides,
      },
      null,
      2,
    ),
  );
  for (const file of await readdir(FIXTURES)) await copyFile(join(FIXTURES, file), join(consumer, file));
  const installed = await npmInstall(consumer);
  expect(ok(installed)).toEqual({ code: 0, output: "" });
}, 600_000);

afterAll(async () => {
  children.killAll();
  if (root !== "") await rm(root, { recursive: true, force: true });
}, 60_000);

describe("the packed packages", () => {
  it("pass publint and arethetypeswrong", async () => {
    const results = await inBatches(Object.entries(tarballs), 2, async ([name, tarball]) => {
      const publint = await run(join(BIN, "publint"), ["run", tarball, "--strict"], { cwd: root });
      // ESM-only packages: under TypeScript's node16 rules a require() cannot load ESM, which
      // attw reports as cjs-resolves-to-esm. Node 20.19+ (the engines range) loads them with
      // require(esm), which the CommonJS app below does; every other rule and mode stays on.
      const attw = await run(
        join(BIN, "attw"),
        [tarball, "--ignore-rules", "cjs-resolves-to-esm", "--no-color", "--no-emoji"],
        { cwd: root },
      );
      return { name, publint: ok(publint), attw: ok(attw) };
    });
    for (const r of results)
      expect(r).toEqual({ name: r.name, publint: { code: 0, output: "" }, attw: { code: 0, output: "" } });
  }, 120_000);

  it("ship what they declare: dist, types, source maps whose sources are in the package, README and LICENSE", async () => {
    for (const [name, tarball] of Object.entries(tarballs)) {
      const listed = await run("tar", ["-tzf", tarball], { cwd: root });
      const entries = listed.stdout
        .split("\n")
        .filter((e) => e !== "")
        .map((e) => e.replace(/^package\//, ""));
      expect({
        name,
        has: ["package.json", "README.md", "LICENSE", "CHANGELOG.md", "dist/index.js", "dist/index.d.ts"].filter(
          (f) => !entries.includes(f),
        ),
      }).toEqual({ name, has: [] });
      const installedDir = join(consumer, "node_modules", name);
      const maps = entries.filter((e) => e.endsWith(".map"));
      expect(maps.length).toBeGreaterThan(0);
      for (const map of maps) {
        const { sources } = JSON.parse(await readFile(join(installedDir, map), "utf8")) as { sources: string[] };
        const missing = sources.map((s) => join(map, "..", s).replace(/\\/g, "/")).filter((s) => !entries.includes(s));
        expect({ name, map, missing }).toEqual({ name, map, missing: [] });
      }
      const pkg = JSON.parse(await readFile(join(installedDir, "package.json"), "utf8")) as Record<string, unknown>;
      expect({
        name,
        workspace: JSON.stringify(pkg).includes("workspace:"),
        prepack: (pkg["scripts"] as Record<string, string> | undefined)?.["prepack"],
      }).toEqual({ name, workspace: false, prepack: undefined });
    }
  });
});

interface AppReport {
  resource: string;
  metadata: { status: number; body: { resource: string; authorization_servers: string[] } };
  withoutToken: { status: number; challenge: string | null };
  withToken: { status: number; body?: { sub: string; scopes: string[] }; call?: { status: number; body: string } };
}

async function runApp(file: string): Promise<AppReport> {
  const ran = await run(process.execPath, [file], { cwd: consumer, timeoutMs: 60_000 });
  expect({ file, ...ok(ran) }).toEqual({ file, code: 0, output: "" });
  const report = JSON.parse(ran.stdout.trim().split("\n").pop() ?? "") as AppReport;
  expect(report.metadata.status).toBe(200);
  expect(report.metadata.body.resource).toBe(report.resource);
  expect(report.withoutToken.status).toBe(401);
  expect(report.withoutToken.challenge).toMatch(/^Bearer /);
  expect(report.withoutToken.challenge).toContain('resource_metadata="http://127.0.0.1:');
  expect(report.withToken.status).toBe(200);
  return report;
}

describe("installed from the tarballs with npm", () => {
  it("a JavaScript ESM app: metadata, 401 challenge, a real token accepted", async () => {
    const report = await runApp("express-esm.mjs");
    expect(report.withToken.body).toEqual({ sub: "alice", scopes: ["mcp:read"] });
  }, 90_000);

  it("a CommonJS app loads the packages with require()", async () => {
    const report = await runApp("express-cjs.cjs");
    expect(report.withToken.body).toEqual({ sub: "alice", scopes: ["mcp:read"] });
  }, 90_000);

  it("an mcp-framework app with OAuthAuthProvider and a tool answers a real token", async () => {
    const report = await runApp("framework.mjs");
    expect(report.withToken.call?.status).toBe(200);
    expect(report.withToken.call?.body).toContain("alice");
  }, 90_000);

  it("TypeScript type-checks with NodeNext, Bundler and node10 resolution, skipLibCheck false, without @types/express; the mcp-framework snippet too", async () => {
    const installedTypes = await readdir(join(consumer, "node_modules/@types"));
    expect(installedTypes).not.toContain("express");
    expect(installedTypes).not.toContain("koa");
    const tsc = join(consumer, "node_modules/typescript/bin/tsc");
    const results = await inBatches(["framework", "nodenext", "bundler", "node10"], 2, async (mode) => ({
      mode,
      ...ok(await run(process.execPath, [tsc, "-p", `tsconfig.${mode}.json`], { cwd: consumer })),
    }));
    for (const r of results) expect(r).toEqual({ mode: r.mode, code: 0, output: "" });
  }, 240_000);
});

interface Project {
  dir: string;
  template: "express" | "mcp-framework";
  provider: string;
  validation: "jwt" | "introspection";
  /** A project with the same dependencies (less the local authorization server) whose install this one uses. */
  sharesInstallOf?: string;
}

// Both templates, each with the local provider (whose auth-server script is run) and one hosted
// provider. A hosted-provider project asks for the same packages as the local one of its
// template, less @mcp-oauth/local-authorization-server: it links that install (one npm install
// per template keeps the test within minutes on two cores).
const PROJECTS: Project[] = [
  { dir: "express-local", template: "express", provider: "local", validation: "introspection" },
  { dir: "framework-local", template: "mcp-framework", provider: "local", validation: "jwt" },
  { dir: "express-auth0", template: "express", provider: "auth0", validation: "jwt", sharesInstallOf: "express-local" },
  {
    dir: "framework-keycloak",
    template: "mcp-framework",
    provider: "keycloak",
    validation: "introspection",
    sharesInstallOf: "framework-local",
  },
];

describe("projects scaffolded by the packed create-mcp-oauth", () => {
  it("install from the tarballs, pass their own test and type-check, and pass mcp-oauth doctor against the local authorization server", async () => {
    const projects = join(root, "projects");
    await mkdir(projects);
    const create = join(consumer, "node_modules/create-mcp-oauth/dist/bin/create-mcp-oauth.js");
    for (const p of PROJECTS) {
      const created = await run(
        process.execPath,
        [
          create,
          join(projects, p.dir),
          "--template",
          p.template,
          "--provider",
          p.provider,
          "--validation",
          p.validation,
          "--yes",
        ],
        { cwd: projects },
      );
      expect({ dir: p.dir, ...ok(created) }).toEqual({ dir: p.dir, code: 0, output: "" });
      const file = join(projects, p.dir, "package.json");
      const pkg = JSON.parse(await readFile(file, "utf8")) as {
        dependencies: Record<string, string>;
        devDependencies: Record<string, string>;
        overrides?: Record<string, string>;
      };
      for (const deps of [pkg.dependencies, pkg.devDependencies]) {
        for (const name of Object.keys(deps)) if (tarballs[name] !== undefined) deps[name] = `file:${tarballs[name]}`;
      }
      pkg.overrides = tarballDependencies([]).overrides;
      await writeFile(file, JSON.stringify(pkg, null, 2));
    }
    const installs = await inBatches(
      PROJECTS.filter((p) => p.sharesInstallOf === undefined),
      2,
      async (p) => ({ dir: p.dir, ...ok(await npmInstall(join(projects, p.dir))) }),
    );
    for (const r of installs) expect(r).toEqual({ dir: r.dir, code: 0, output: "" });
    for (const p of PROJECTS) {
      if (p.sharesInstallOf === undefined) continue;
      const own = JSON.parse(await readFile(join(projects, p.dir, "package.json"), "utf8")) as {
        dependencies: Record<string, string>;
        devDependencies: Record<string, string>;
      };
      const other = JSON.parse(await readFile(join(projects, p.sharesInstallOf, "package.json"), "utf8")) as {
        dependencies: Record<string, string>;
        devDependencies: Record<string, string>;
      };
      const { "@mcp-oauth/local-authorization-server": _local, ...otherDev } = other.devDependencies;
      expect({ dependencies: own.dependencies, devDependencies: own.devDependencies }).toEqual({
        dependencies: other.dependencies,
        devDependencies: otherDev,
      });
      await symlink(join(projects, p.sharesInstallOf, "node_modules"), join(projects, p.dir, "node_modules"), "dir");
    }

    const checks = await inBatches(PROJECTS, 2, async (p) => {
      const cwd = join(projects, p.dir);
      const test = await run("npm", ["test", "--silent"], { cwd, timeoutMs: 120_000 });
      const typecheck = await run("npm", ["run", "typecheck", "--silent"], { cwd, timeoutMs: 120_000 });
      return { dir: p.dir, test: ok(test), typecheck: ok(typecheck) };
    });
    for (const r of checks)
      expect(r).toEqual({ dir: r.dir, test: { code: 0, output: "" }, typecheck: { code: 0, output: "" } });

    // The local projects' own auth-server script: one opaque-token server, one JWT server.
    const servers: { stop(): Promise<void> }[] = [];
    try {
      const authServers: Record<Project["validation"], { issuer: string; clientId: string; clientSecret: string }> =
        {} as never;
      for (const p of PROJECTS.filter((x) => x.provider === "local")) {
        const issuer = `http://127.0.0.1:${await freePort()}`;
        const credentials = {
          clientId: "consumer-test-rs",
          clientSecret: `secret-${Math.random().toString(36).slice(2)}`,
        };
        const cwd = join(projects, p.dir);
        servers.push(
          await start(join(cwd, "node_modules/.bin/tsx"), ["scripts/auth-server.ts"], {
            cwd,
            env: userEnv({
              OAUTH_AUTHORIZATION_SERVER: issuer,
              OAUTH_CLIENT_ID: credentials.clientId,
              OAUTH_CLIENT_SECRET: credentials.clientSecret,
            }),
            ready: /local authorization server at/,
          }),
        );
        authServers[p.validation] = { issuer, ...credentials };
      }

      const doctors = await inBatches(PROJECTS, 2, async (p) => {
        const cwd = join(projects, p.dir);
        const as = authServers[p.validation];
        const port = await freePort();
        const url = `http://127.0.0.1:${port}/mcp`;
        const server = await start(join(cwd, "node_modules/.bin/tsx"), ["src/index.ts"], {
          cwd,
          env: userEnv({
            PORT: String(port),
            HOST: "127.0.0.1",
            OAUTH_AUTHORIZATION_SERVER: as.issuer,
            OAUTH_SCOPES: "mcp:read",
            OAUTH_VALIDATION: p.validation,
            ...(p.validation === "introspection"
              ? { OAUTH_CLIENT_ID: as.clientId, OAUTH_CLIENT_SECRET: as.clientSecret }
              : {}),
          }),
          ready: /MCP server .*at http/,
        });
        servers.push(server);
        const { access_token: token } = await obtainAccessToken(as.issuer, {
          resource: url,
          scope: "mcp:read",
          login: "alice",
        });
        const doctor = await run(
          join(cwd, "node_modules/.bin/mcp-oauth"),
          ["doctor", "--resource", url, "--token", "-"],
          { cwd, input: token, timeoutMs: 60_000 },
        );
        await server.stop();
        return {
          dir: p.dir,
          doctor: { code: doctor.code, output: doctor.code === 0 ? "" : doctor.stdout },
          tokenPrinted: doctor.stdout.includes(token) || server.output().includes(token),
        };
      });
      for (const r of doctors) expect(r).toEqual({ dir: r.dir, doctor: { code: 0, output: "" }, tokenPrinted: false });
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
  }, 600_000);
});
