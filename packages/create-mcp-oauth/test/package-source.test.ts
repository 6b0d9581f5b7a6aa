/**
 * Where a new project's mcp-oauth packages come from: npm is asked (`npm view`, the user's npm
 * configuration) against a registry on loopback that has the packages, lacks them, or is not
 * there; and the workspace this scaffolder runs from, with the packages each project needs.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import type { IncomingMessage, ServerResponse } from "node:http";
import { startStubServer, type StubServer } from "../../../test/helpers/stub-server.js";
import { createMain } from "../src/scaffold/cli.js";
import { choosePackageSource } from "../src/scaffold/package-source.js";
import { lookUpOnRegistry } from "../src/scaffold/registry.js";
import { mcpOAuthPackages } from "../src/scaffold/templates.js";
import { findWorkspace, withWorkspaceDependencies } from "../src/scaffold/workspace.js";
import type { CliIo } from "../src/io.js";
import { PACKAGE_DIR, REPO, SCAFFOLD_ROOT } from "./support.js";

/** A registry that has `published` (at 0.1.0) and answers 404 for every other package. */
async function startRegistry(published: readonly string[]): Promise<StubServer> {
  const registry = await startStubServer();
  for (const name of published) {
    // npm asks for /@scope%2fname.
    registry.handle(`/${name.replace("/", "%2f")}`, (_req: IncomingMessage, res: ServerResponse) => {
      res.setHeader("content-type", "application/json");
      res.end(
        JSON.stringify({
          name,
          "dist-tags": { latest: "0.1.0" },
          versions: {
            "0.1.0": { name, version: "0.1.0", dist: { tarball: `${registry.url}/${name}.tgz`, shasum: "0" } },
          },
          time: { "0.1.0": "2026-01-01T00:00:00.000Z" },
        }),
      );
    });
  }
  return registry;
}

let unpublished: StubServer;
let everything: StubServer;
let gone: string;
const ALL = ["@mcp-oauth/core", "@mcp-oauth/express", "@mcp-oauth/local-authorization-server", "create-mcp-oauth"];
const envFor = (registry: string): NodeJS.ProcessEnv => ({ ...process.env, npm_config_registry: `${registry}/` });

beforeAll(async () => {
  unpublished = await startRegistry([]);
  everything = await startRegistry([...ALL, "@mcp-oauth/mcp-framework"]);
  // Port 1 on loopback: nothing listens there, so every connection is refused. A port a stub
  // server had and closed could be taken by another test's server meanwhile (the suite runs in
  // parallel), and the answer would then be that server's.
  gone = "http://127.0.0.1:1";
});

afterAll(async () => {
  await unpublished?.close();
  await everything?.close();
});

describe("lookUpOnRegistry", () => {
  it("says published, missing (no package, or no version in the range) or unknown (no registry)", async () => {
    const lookUp = (range: string, registry: string): ReturnType<typeof lookUpOnRegistry> =>
      lookUpOnRegistry("@mcp-oauth/express", range, { env: envFor(registry), timeoutMs: 60_000 });
    const published = await lookUp("^0.1.0", everything.url);
    const missing = await lookUp("^0.1.0", unpublished.url);
    const outOfRange = await lookUp("^0.2.0", everything.url);
    const unknown = await lookUp("^0.1.0", gone);
    expect(published).toEqual({ status: "published", version: "0.1.0" });
    expect(missing).toMatchObject({ status: "missing" });
    expect(outOfRange).toMatchObject({ status: "missing" });
    expect(unknown).toMatchObject({ status: "unknown", detail: expect.stringContaining("ECONNREFUSED") });
  }, 240_000);
});

describe("choosePackageSource", () => {
  const names = mcpOAuthPackages({ template: "express", provider: "local" });

  it("in the workspace: the registry when it has them all, else the workspace, saying why", async () => {
    // One after the other: each asks npm three times (two cores).
    const choose = (url: string): ReturnType<typeof choosePackageSource> =>
      choosePackageSource(names, { inWorkspace: true, env: envFor(url), timeoutMs: 60_000 });
    const published = await choose(everything.url);
    const missing = await choose(unpublished.url);
    const unknown = await choose(gone);
    expect(published).toEqual({
      source: "registry",
      message:
        "mcp-oauth packages: from the npm registry (@mcp-oauth/express@^0.1.0, @mcp-oauth/local-authorization-server@^0.1.0, create-mcp-oauth@^0.1.0)",
    });
    expect(missing.source).toBe("workspace");
    expect(missing.message).toContain("@mcp-oauth/express@^0.1.0 is not on the npm registry");
    expect(missing.message).toContain("create-mcp-oauth@^0.1.0 is not on the npm registry");
    expect(unknown.source).toBe("workspace");
    expect(unknown.message).toContain("@mcp-oauth/express@^0.1.0 could not be looked up (ECONNREFUSED");
  }, 540_000);

  it("installed from npm (no workspace): the registry, without asking it", async () => {
    expect(await choosePackageSource(names, { inWorkspace: false, env: envFor(gone) })).toEqual({
      source: "registry",
    });
  });

  it("the command, in the workspace, with everything published: the registry's ranges, nothing packed", async () => {
    const saved = process.env["npm_config_registry"];
    process.env["npm_config_registry"] = `${everything.url}/`;
    const target = join(SCAFFOLD_ROOT, "published");
    let out = "";
    const io: CliIo = {
      stdout: { write: (t: string) => (out += t) },
      stderr: { write: (t: string) => (out += t) },
      stdin: new PassThrough().end(),
    };
    try {
      expect(await createMain([target, "--provider", "local"], io)).toBe(0);
    } finally {
      if (saved === undefined) delete process.env["npm_config_registry"];
      else process.env["npm_config_registry"] = saved;
    }
    expect(out).toContain("mcp-oauth packages: from the npm registry");
    expect(out).not.toContain("vendor/");
    const pkg = JSON.parse(await readFile(join(target, "package.json"), "utf8")) as Record<
      string,
      Record<string, string>
    >;
    expect(pkg["dependencies"]!["@mcp-oauth/express"]).toBe("^0.1.0");
    expect(pkg["devDependencies"]!["create-mcp-oauth"]).toBe("^0.1.0");
    expect(pkg["overrides"]).toBeUndefined();
    await rm(target, { recursive: true, force: true });
  }, 60_000);
});

describe("the workspace", () => {
  it("is found from this package's source, with every package and what it depends on", () => {
    const workspace = findWorkspace();
    expect(workspace?.root).toBe(REPO);
    expect(workspace?.packageManager).toMatch(/^pnpm@/);
    const names = (list: { name: string }[]): string[] => list.map((p) => p.name).sort();
    expect(
      names(withWorkspaceDependencies(workspace!, mcpOAuthPackages({ template: "express", provider: "local" }))),
    ).toEqual(["@mcp-oauth/core", "@mcp-oauth/express", "@mcp-oauth/local-authorization-server", "create-mcp-oauth"]);
    expect(
      names(withWorkspaceDependencies(workspace!, mcpOAuthPackages({ template: "mcp-framework", provider: "auth0" }))),
    ).toEqual(["@mcp-oauth/core", "@mcp-oauth/express", "@mcp-oauth/mcp-framework", "create-mcp-oauth"]);
  });

  it("is not found from an installed copy, nor from a package of another workspace", () => {
    expect(
      findWorkspace("file:///home/me/app/node_modules/create-mcp-oauth/dist/scaffold/workspace.js"),
    ).toBeUndefined();
    expect(
      findWorkspace(`file://${join(PACKAGE_DIR, "..", "..", "..", "other/packages/x/src/scaffold/w.js")}`),
    ).toBeUndefined();
  });
});
