/**
 * A newcomer's path, as a user runs it, outside the workspace: the root README's "Start your
 * own server" command (the scaffolder of this clone; the mcp-oauth packages not on the npm
 * registry), then every step the command printed, exactly as printed, each through `sh -c` in
 * the directory its `cd` names: npm install (the packed packages from the project's vendor/,
 * third-party ones from npm's cache or the registry, as the consumer test does), npm test, the
 * local authorization server and the MCP server in terminals of their own, a token and the
 * doctor with it. Then, with the authorization server stopped, the doctor and the token script
 * name the command that starts it. Nothing is left in the repository.
 *
 * CREATE_MCP_OAUTH_PACKAGES=workspace stands for "not on the registry" whatever the public
 * registry holds today (registry.test.ts covers the asking). The servers get free ports through
 * the environment, which wins over .env in every script of the project (as .env.example says).
 * Minutes of packing and installing: `pnpm test` runs it after the other tests, with the consumer
 * test (`pnpm test:consumer`).
 */
import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { ChildProcesses, userEnv, type Started } from "../../../../test/helpers/child-processes.js";
import { freePort } from "../../../../test/helpers/listen.js";
import { REPO } from "../support.js";

const children = new ChildProcesses();
let root = "";

interface Step {
  command: string;
  code: number | null;
  output: string;
}

/** `sh -c command`, as a user's terminal runs a printed step. */
async function sh(command: string, cwd: string, env: Record<string, string>, timeoutMs = 300_000): Promise<Step> {
  const ran = await children.run("sh", ["-c", command], { cwd, env, timeoutMs });
  return { command, code: ran.code, output: ran.output };
}

/** A step that keeps running (a server): resolves once it prints the URL it serves. */
const shInBackground = (command: string, cwd: string, env: Record<string, string>): Promise<Started> =>
  children.start("sh", ["-c", command], { cwd, env, ready: /\bat https?:\/\/\S+/ });

const gitStatus = async (): Promise<string> =>
  (await sh("git status --porcelain --untracked-files=all", REPO, userEnv(), 60_000)).output;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "mcp-oauth-next-steps-"));
});

afterAll(async () => {
  children.killAll();
  if (root !== "") await rm(root, { recursive: true, force: true });
}, 60_000);

it("the README's scaffold command, then every next step it prints, exactly as printed, outside the workspace", async () => {
  // The command as the root README gives it; only the directory is a fresh one of this run.
  const readme = await readFile(join(REPO, "README.md"), "utf8");
  const section = readme.split("\n## Start your own server\n")[1]?.split("\n## ")[0] ?? "";
  const documented = /^npx -y pnpm@[\d.]+ scaffold \.\.\/my-server --provider local$/m.exec(section)?.[0];
  expect(documented).toBeDefined();
  const project = join(root, "my-server");
  const command = documented!.replace("../my-server", project);

  const before = await gitStatus();
  const created = await sh(command, REPO, userEnv({ CREATE_MCP_OAUTH_PACKAGES: "workspace" }));
  expect({ code: created.code, output: created.code === 0 ? "" : created.output }).toEqual({ code: 0, output: "" });
  // Quiet: no file list of the tarballs (pnpm pack prints one per file).
  expect(created.output).not.toMatch(/dist\/index\.js/);
  expect(await gitStatus()).toBe(before);
  expect((await readdir(join(project, "vendor"))).sort()).toEqual([
    "create-mcp-oauth-0.1.0.tgz",
    "mcp-oauth-core-0.1.0.tgz",
    "mcp-oauth-express-0.1.0.tgz",
    "mcp-oauth-local-authorization-server-0.1.0.tgz",
  ]);

  const block = created.output.split("\nNext steps:\n")[1]?.split("\n\n")[0]?.trimEnd() ?? "";
  const steps = block.split("\n").map((line) => {
    const [, stepCommand = "", note = ""] = /^ {2}(.*?)(?:\s+# (.*))?$/.exec(line) ?? [];
    return { command: stepCommand, background: /^in a \w+ terminal/.test(note) };
  });
  expect(steps.map((s) => s.command)).toEqual([
    `cd ${relative(REPO, project)}`,
    "npm install",
    "npm test",
    "cp .env.example .env",
    "npm run auth-server",
    "npm run dev",
    "npm run -s token | npm run doctor -- --token -",
  ]);

  const mcpPort = await freePort();
  const asPort = await freePort();
  const env = userEnv({ PORT: String(mcpPort), OAUTH_AUTHORIZATION_SERVER: `http://127.0.0.1:${asPort}` });
  let cwd = REPO;
  const servers: Awaited<ReturnType<typeof shInBackground>>[] = [];
  const results: Step[] = [];
  try {
    for (const step of steps) {
      const cd = /^cd (.+)$/.exec(step.command);
      if (cd !== null) {
        cwd = resolve(cwd, cd[1]!.startsWith('"') ? (JSON.parse(cd[1]!) as string) : cd[1]!);
        expect(cwd).toBe(project);
        continue;
      }
      if (step.background) {
        servers.push(await shInBackground(step.command, cwd, env));
        continue;
      }
      const ran = await sh(step.command, cwd, env);
      results.push(ran);
      expect({ command: ran.command, code: ran.code, output: ran.code === 0 ? "" : ran.output }).toEqual({
        command: ran.command,
        code: 0,
        output: "",
      });
    }
    const doctor = results.at(-1)!;
    expect(doctor.output).toContain(`mcp-oauth doctor: http://127.0.0.1:${mcpPort}/mcp`);
    expect(doctor.output).toMatch(/\nToken\n(?: {2}PASS .*\n)+/);
    expect(doctor.output).toMatch(/\nOK: 0 failures, 0 warnings, \d+ passed\n/);
    for (const ran of results) expect(ran.output).not.toMatch(/eyJ[\w-]+\.[\w-]+\.[\w-]+/);

    // The authorization server stopped: both name the command that starts it.
    await servers[0]!.stop();
    const token = await sh("npm run -s token", cwd, env);
    expect({ code: token.code, output: token.output.trim() }).toEqual({
      code: 1,
      output: `no authorization server answers at http://127.0.0.1:${asPort}: start it with \`npm run auth-server\` (in another terminal)`,
    });
    const stopped = await sh("npm run doctor", cwd, env);
    expect(stopped.code).toBe(1);
    expect(stopped.output).toContain("fix: start it: `npm run auth-server` (in another terminal)");
    expect(stopped.output).not.toContain("TENANT");
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
}, 600_000);
