/**
 * create-mcp-oauth: generate each template (and provider/validation variants) inside the
 * repository, install the workspace packages into it, type-check it, start it against the
 * real local authorization server and call `whoami` with a real token through the MCP SDK
 * client; the generated project's own test runs too.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { existsSync } from "node:fs";
import { mkdir, readFile, readdir, rm, rmdir, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { PassThrough } from "node:stream";
import { startLocalAuthorizationServer, type LocalAuthorizationServer } from "@mcp-oauth/local-authorization-server";
import { createMain } from "../src/scaffold/cli.js";
import { runDoctor } from "../src/doctor/doctor.js";
import { formatReport } from "../src/doctor/report.js";
import type { CliIo } from "../src/io.js";
import {
  BIN,
  REPO,
  SCAFFOLD_PARENT,
  SCAFFOLD_ROOT,
  callWhoami,
  freePort,
  installWorkspaceDependencies,
  run,
  startChild,
  waitForServer,
  type Child,
} from "./support.js";

interface Case {
  dir: string;
  template: "express" | "mcp-framework";
  provider: string;
  validation: "jwt" | "introspection";
  /** Started against the local authorization server (one of each template). */
  start?: boolean;
}

const CASES: Case[] = [
  {
    dir: "express-local-introspection",
    template: "express",
    provider: "local",
    validation: "introspection",
    start: true,
  },
  { dir: "framework-local-jwt", template: "mcp-framework", provider: "local", validation: "jwt", start: true },
  { dir: "express-auth0", template: "express", provider: "auth0", validation: "jwt" },
  { dir: "express-keycloak-introspection", template: "express", provider: "keycloak", validation: "introspection" },
  { dir: "express-entra", template: "express", provider: "entra", validation: "jwt" },
  { dir: "framework-cognito", template: "mcp-framework", provider: "cognito", validation: "jwt" },
  { dir: "framework-okta-introspection", template: "mcp-framework", provider: "okta", validation: "introspection" },
];

function memoryIo(
  options: { tty?: boolean; answers?: string[] } = {},
): CliIo & { out: () => string; err: () => string } {
  let out = "";
  let err = "";
  const stdin = Object.assign(new PassThrough(), { isTTY: options.tty ?? false });
  const answers = [...(options.answers ?? [])];
  if (!options.tty) stdin.end();
  return {
    // Answers are typed after each prompt, as a person would: readline drops lines that
    // arrive before a question is asked.
    stdout: {
      write: (t: string) => {
        out += t;
        if (options.tty && /(?:> |\? |: )$/.test(t)) {
          const next = answers.shift();
          if (next !== undefined) setImmediate(() => stdin.write(`${next}\n`));
        }
        return true;
      },
    },
    stderr: {
      write: (t: string) => {
        err += t;
        return true;
      },
    },
    stdin,
    out: () => out,
    err: () => err,
  };
}

const dirOf = (c: Case): string => join(SCAFFOLD_ROOT, c.dir);
const read = (c: Case, file: string): Promise<string> => readFile(join(dirOf(c), file), "utf8");
const children: Child[] = [];
const servers: LocalAuthorizationServer[] = [];

beforeAll(async () => {
  await mkdir(SCAFFOLD_ROOT, { recursive: true });
  for (const c of CASES) {
    const io = memoryIo();
    const code = await createMain(
      // The registry's ranges; the packages are linked from the workspace below.
      [
        dirOf(c),
        "--template",
        c.template,
        "--provider",
        c.provider,
        "--validation",
        c.validation,
        "--packages",
        "registry",
      ],
      io,
    );
    if (code !== 0) throw new Error(`create-mcp-oauth ${c.dir} exited ${code}: ${io.err()}`);
    await installWorkspaceDependencies(dirOf(c), c.template);
  }
}, 60_000);

afterAll(async () => {
  await Promise.all(children.map((c) => c.kill()));
  await Promise.all(servers.map((s) => s.close()));
  await rm(SCAFFOLD_ROOT, { recursive: true, force: true });
  // The parent goes too when no other run is using it.
  await rmdir(SCAFFOLD_PARENT).catch(() => undefined);
}, 30_000);

describe("generated projects", () => {
  it("type-check with the workspace packages installed (tsc --noEmit)", async () => {
    const started = CASES.filter((c) => c.start);
    const variants = CASES.filter((c) => !c.start);
    // The variants in one program (each resolves its own node_modules), to keep the suite fast.
    const combined = join(SCAFFOLD_ROOT, "tsconfig.variants.json");
    await writeFile(
      combined,
      JSON.stringify({
        extends: `./${variants[0]!.dir}/tsconfig.json`,
        include: variants.flatMap((c) => [`${c.dir}/src`, `${c.dir}/test`]),
      }),
    );
    const results = await Promise.all(
      [...started.map((c) => join(dirOf(c), "tsconfig.json")), combined].map(async (project) => ({
        project,
        ...(await run(join(BIN, "tsc"), ["-p", project, "--noEmit"], { timeout: 110_000 })),
      })),
    );
    for (const result of results)
      expect({ project: result.project, code: result.code, output: result.output }).toEqual({
        project: result.project,
        code: 0,
        output: "",
      });
  }, 120_000);

  it("start against the local authorization server and answer whoami for a real token; the doctor passes them", async () => {
    const jwtAs = await startLocalAuthorizationServer();
    const opaqueAs = await startLocalAuthorizationServer({ accessTokenFormat: "opaque" });
    servers.push(jwtAs, opaqueAs);
    await Promise.all(
      CASES.filter((c) => c.start).map(async (c) => {
        const as = c.validation === "introspection" ? opaqueAs : jwtAs;
        const port = await freePort();
        const url = `http://127.0.0.1:${port}/mcp`;
        const serverEnv = {
          PORT: String(port),
          HOST: "127.0.0.1",
          OAUTH_AUTHORIZATION_SERVER: as.issuer,
          OAUTH_SCOPES: "mcp:read",
          OAUTH_VALIDATION: c.validation,
          ...(c.validation === "introspection"
            ? { OAUTH_CLIENT_ID: as.introspection.clientId, OAUTH_CLIENT_SECRET: as.introspection.clientSecret }
            : {}),
        };
        const child = startChild(join(BIN, "tsx"), [join(dirOf(c), "src/index.ts")], { cwd: dirOf(c), env: serverEnv });
        children.push(child);
        await waitForServer(`http://127.0.0.1:${port}/.well-known/oauth-protected-resource`, child);

        // The project's own token script, configured like the server.
        const issued = await run(join(BIN, "tsx"), ["scripts/token.ts"], { cwd: dirOf(c), env: serverEnv });
        expect({ template: c.template, code: issued.code }).toEqual({ template: c.template, code: 0 });
        const token = issued.output.trim();
        if (c.validation === "introspection")
          expect(token.split(".")).toHaveLength(1); // opaque
        else expect(token.split(".")).toHaveLength(3);
        const who = await callWhoami(url, token);
        expect({ template: c.template, ...who }).toEqual({
          template: c.template,
          sub: "alice",
          clientId: expect.any(String),
          scopes: ["mcp:read"],
        });

        const report = await runDoctor({ resource: url, token });
        expect({
          template: c.template,
          ok: report.ok,
          failures: report.checks.filter((x) => x.status === "fail"),
        }).toEqual({ template: c.template, ok: true, failures: [] });
        expect(report.checks.find((x) => x.id === "token.accepted")?.status).toBe("pass");
        expect({ template: c.template, notPassed: report.checks.filter((x) => x.status !== "pass") }).toEqual({
          template: c.template,
          notPassed: [],
        });
        expect(formatReport(report)).not.toContain(token);
        expect(child.output()).toContain(`at ${url}`);
        expect(child.output()).not.toContain(token);
        await child.kill();
      }),
    );
  }, 90_000);

  it("pass their own test (node --test)", async () => {
    const results = await Promise.all(
      CASES.filter((c) => c.start).map(async (c) => ({
        dir: c.dir,
        ...(await run(process.execPath, ["--import", "tsx", "--test", "test/server.test.ts"], { cwd: dirOf(c) })),
      })),
    );
    for (const r of results) {
      expect({ dir: r.dir, code: r.code }).toEqual({ dir: r.dir, code: 0 });
      expect(r.output).toMatch(/# pass 3\n# fail 0/);
    }
  }, 60_000);

  it("depend on the right packages and document every OAUTH_* variable the server reads", async () => {
    const coreEnv = await readFile(join(REPO, "packages/core/src/env.ts"), "utf8");
    const readByCore = [...coreEnv.matchAll(/read\(env, "(OAUTH_[A-Z_]+)"\)/g)].map((m) => m[1]!);
    expect(readByCore.length).toBeGreaterThanOrEqual(11);
    for (const c of CASES) {
      const pkg = JSON.parse(await read(c, "package.json")) as {
        name: string;
        type: string;
        dependencies: Record<string, string>;
        devDependencies: Record<string, string>;
        scripts: Record<string, string>;
      };
      expect(pkg).toMatchObject({ name: c.dir, type: "module" });
      if (c.template === "express") {
        expect(pkg.dependencies).toEqual({
          "@mcp-oauth/express": "^0.1.0",
          "@modelcontextprotocol/sdk": expect.any(String),
          express: expect.stringMatching(/^\^5\./),
          zod: expect.any(String),
        });
      } else {
        expect(pkg.dependencies).toEqual({
          "@mcp-oauth/mcp-framework": "^0.1.0",
          "mcp-framework": expect.stringMatching(/^\^0\.2\./),
          zod: expect.stringMatching(/^\^3\./),
        });
      }
      expect(Object.keys(pkg.devDependencies)).toEqual(expect.arrayContaining(["tsx", "typescript", "@types/node"]));
      expect(pkg.scripts["test"]).toBe("node --import tsx --test test/*.test.ts");
      // The doctor checks the URL the server is configured with (.env and the environment).
      expect(pkg.scripts["doctor"]).toBe("mcp-oauth doctor --dotenv .env");
      expect({ dir: c.dir, token: pkg.scripts["token"] }).toEqual({
        dir: c.dir,
        token: c.provider === "local" ? "tsx scripts/token.ts" : undefined,
      });
      expect({ dir: c.dir, overrides: (pkg as { overrides?: unknown }).overrides }).toEqual({
        dir: c.dir,
        overrides: undefined,
      });

      const env = await read(c, ".env.example");
      const source = (await read(c, "src/server.ts")) + (await read(c, "src/index.ts"));
      const readByServer = new Set([
        ...readByCore,
        ...[...source.matchAll(/env\["((?:OAUTH_|PORT|HOST)[A-Z_]*)"\]/g)].map((m) => m[1]!),
      ]);
      for (const name of readByServer)
        expect({ dir: c.dir, name, listed: new RegExp(`^#? ?${name}=`, "m").test(env) }).toEqual({
          dir: c.dir,
          name,
          listed: true,
        });
      // Introspection settings are live only with introspection.
      expect(/^OAUTH_CLIENT_SECRET=/m.test(env)).toBe(c.validation === "introspection");
      expect(env).toContain(`OAUTH_VALIDATION=${c.validation}\n`);
      const readme = await read(c, "README.md");
      expect(readme).toContain("## Next steps");
      expect(readme).toContain("npm run doctor");
      expect(readme).toContain("### How MCP clients get a client id");
    }
  });

  it("carry each provider's issuer form, key set, audience and client id story", async () => {
    const env = async (dir: string): Promise<string> => readFile(join(SCAFFOLD_ROOT, dir, ".env.example"), "utf8");
    const auth0 = await env("express-auth0");
    expect(auth0).toMatch(/^OAUTH_AUTHORIZATION_SERVER=https:\/\/TENANT\.auth0\.com\/$/m);
    expect(auth0).toContain("WITH the trailing slash");
    expect(auth0).toMatch(/^OAUTH_JWKS_URI=https:\/\/TENANT\.auth0\.com\/\.well-known\/jwks\.json$/m);
    expect(auth0).toContain("Dynamic Client Registration: enable it");
    expect(await readFile(join(SCAFFOLD_ROOT, "express-auth0/src/server.ts"), "utf8")).toContain(
      'scopeClaims: ["scope", "permissions"]',
    );

    const entra = await env("express-entra");
    expect(entra).toMatch(
      /^OAUTH_ISSUER=https:\/\/login\.microsoftonline\.com\/TENANT_ID\/v2\.0,https:\/\/sts\.windows\.net\/TENANT_ID\/$/m,
    );
    expect(entra).toMatch(/^OAUTH_AUDIENCE=CLIENT_ID,api:\/\/CLIENT_ID$/m);
    expect(entra).toContain("Entra has no dynamic registration");

    const cognito = await env("framework-cognito");
    expect(cognito).toMatch(/^OAUTH_COGNITO_CLIENT_IDS=APP_CLIENT_ID$/m);
    expect(cognito).toMatch(/^# OAUTH_AUDIENCE=/m);
    expect(cognito).toContain("Cognito has no dynamic registration");
    const cognitoServer = await readFile(join(SCAFFOLD_ROOT, "framework-cognito/src/server.ts"), "utf8");
    expect(cognitoServer).toContain("clientIdAsAudience: cognitoClientIds(env)");
    expect(cognitoServer).toContain('requiredClaims: { token_use: "access" }');

    const okta = await env("framework-okta-introspection");
    expect(okta).toMatch(/^OAUTH_AUTHORIZATION_SERVER=https:\/\/ORG\.okta\.com\/oauth2\/default$/m);
    expect(okta).toMatch(/^OAUTH_INTROSPECTION_ENDPOINT=https:\/\/ORG\.okta\.com\/oauth2\/default\/v1\/introspect$/m);
    expect(okta).toMatch(/^OAUTH_AUDIENCE=api:\/\/default$/m);
    expect(okta).toContain("needs an admin API token");

    const keycloak = await env("express-keycloak-introspection");
    expect(keycloak).toMatch(/^OAUTH_AUTHORIZATION_SERVER=https:\/\/sso\.example\.com\/realms\/REALM$/m);
    expect(keycloak).toContain("audience mapper");
    for (const e of [auth0, entra, cognito, okta, keycloak]) expect(e).toContain("Client ID Metadata Documents");
  });
});

describe("the create-mcp-oauth command", () => {
  it("refuses a non-empty directory unless --force, and ignores a lone .git", async () => {
    const target = join(SCAFFOLD_ROOT, "occupied");
    await mkdir(join(target, ".git"), { recursive: true });
    const first = memoryIo();
    expect(await createMain([target, "--packages", "registry"], first)).toBe(0);
    await writeFile(join(target, "src/server.ts"), "// mine\n");
    const refused = memoryIo();
    expect(await createMain([target, "--template", "mcp-framework", "--packages", "registry"], refused)).toBe(1);
    expect(refused.err()).toContain("is not empty; choose another directory, or pass --force");
    expect(await readFile(join(target, "src/server.ts"), "utf8")).toBe("// mine\n");
    const forced = memoryIo();
    expect(await createMain([target, "--template", "mcp-framework", "--force", "--packages", "registry"], forced)).toBe(
      0,
    );
    expect(await readFile(join(target, "src/server.ts"), "utf8")).toContain("mcp-framework");
    expect(forced.out()).toContain("Next steps:");
  });

  it("rejects unknown choices and introspection where the provider has none, before writing anything", async () => {
    const target = join(SCAFFOLD_ROOT, "never-written");
    for (const [argv, message] of [
      [["--template", "fastify"], 'unknown template "fastify"'],
      [["--provider", "google"], 'unknown provider "google"'],
      [["--provider", "auth0", "--validation", "introspection"], "Auth0 has no token introspection endpoint"],
      [["--provider", "cognito", "--validation", "introspection"], "AWS Cognito has no token introspection endpoint"],
      [["--bogus"], "Unknown option '--bogus'"],
      [["--packages", "npm"], 'unknown package source "npm"'],
    ] as const) {
      const io = memoryIo();
      expect(await createMain([target, ...argv], io)).toBe(2);
      expect(io.err()).toContain(message);
    }
    const noDir = memoryIo();
    expect(await createMain([], noDir)).toBe(2);
    expect(noDir.err()).toContain("give the directory");
    expect(existsSync(target)).toBe(false);
  });

  it("asks for what the flags do not say when run in a terminal", async () => {
    const target = join(SCAFFOLD_ROOT, "asked");
    // directory, template 2 (mcp-framework), provider 3 (cognito); validation is then jwt only.
    const io = memoryIo({ tty: true, answers: [target, "2", "3", ""] });
    expect(await createMain(["--packages", "registry"], io)).toBe(0);
    expect(io.out()).toContain("Authorization server:");
    expect(io.out()).not.toContain("introspection  ask the authorization server");
    expect(await readFile(join(target, "src/server.ts"), "utf8")).toContain("cognitoClientIds");
    expect(await readFile(join(target, ".env.example"), "utf8")).toContain("OAUTH_VALIDATION=jwt");
    expect((await readdir(target)).sort()).toEqual([
      ".env.example",
      ".gitignore",
      "README.md",
      "package.json",
      "src",
      "test",
      "tsconfig.build.json",
      "tsconfig.json",
    ]);
  });

  it("prints next steps that work as they are: all of them for the local provider, install and test before a hosted one is set up", async () => {
    const local = memoryIo();
    expect(await createMain([join(SCAFFOLD_ROOT, "steps-local"), "--packages", "registry"], local)).toBe(0);
    const localSteps = local.out().split("\nNext steps:\n")[1]!.trimEnd().split("\n");
    expect(localSteps.map((l) => l.replace(/\s+#.*$/, ""))).toEqual([
      `  cd ${relative(process.cwd(), join(SCAFFOLD_ROOT, "steps-local"))}`,
      "  npm install",
      "  npm test",
      "  cp .env.example .env",
      "  npm run auth-server",
      "  npm run dev",
      "  npm run -s token | npm run doctor -- --token -",
    ]);
    expect(localSteps.filter((l) => /# in a (second|third) terminal, in this directory/.test(l))).toHaveLength(2);

    const hosted = memoryIo();
    expect(
      await createMain([join(SCAFFOLD_ROOT, "steps-auth0"), "--provider", "auth0", "--packages", "registry"], hosted),
    ).toBe(0);
    const [now, later, hint] = hosted.out().split("\nNext steps:\n")[1]!.trimEnd().split("\n\n");
    expect(now!.split("\n").map((l) => l.replace(/\s+#.*$/, ""))).toEqual([
      `  cd ${relative(process.cwd(), join(SCAFFOLD_ROOT, "steps-auth0"))}`,
      "  npm install",
      "  npm test",
    ]);
    expect(later!.split("\n").map((l) => l.replace(/\s+#.*$/, ""))).toEqual([
      'Once Auth0 is set up (README.md, section "Auth0"):',
      "  cp .env.example .env",
      "  npm run dev",
      "  npm run doctor",
    ]);
    expect(hint).toContain("--provider local");
    // The README has the same steps.
    const readme = await readFile(join(SCAFFOLD_ROOT, "steps-local/README.md"), "utf8");
    for (const line of localSteps.slice(1)) expect(readme).toContain(line.trim().replace(/\s+#.*$/, ""));
  });
});
