/**
 * `mcp-oauth doctor` against live setups: the Express example with the real local
 * authorization server (healthy), and loopback stubs that get one thing wrong each.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { Readable } from "node:stream";
import { join } from "node:path";
import type { IncomingMessage, ServerResponse } from "node:http";
import { generateSigningKey, obtainAccessToken } from "@mcp-oauth/local-authorization-server";
import { startExampleServer, type RunningExample } from "../../../examples/express-server/src/server.js";
import {
  startTestAuthorizationServer,
  type TestAuthorizationServer,
} from "../../../test/helpers/authorization-server.js";
import { signJwt } from "../../../test/helpers/jwt.js";
import { json, startStubServer, type StubServer } from "../../../test/helpers/stub-server.js";
import { mcpOAuthMain } from "../src/doctor/cli.js";
import { runDoctor } from "../src/doctor/doctor.js";
import { formatReport, type Check, type DoctorReport } from "../src/doctor/report.js";
import { parseWwwAuthenticate } from "../src/doctor/www-authenticate.js";
import type { CliIo } from "../src/io.js";
import { BIN, PACKAGE_DIR, run } from "./support.js";

let as: TestAuthorizationServer;
let mcp: RunningExample;
let token: string;
const stubs: StubServer[] = [];

beforeAll(async () => {
  as = await startTestAuthorizationServer();
  mcp = await startExampleServer({ OAUTH_AUTHORIZATION_SERVER: as.issuer, OAUTH_SCOPES: "mcp:read", PORT: "0" });
  token = (await obtainAccessToken(as.issuer, { resource: mcp.url, scope: "mcp:read" })).access_token;
}, 60_000);

afterAll(async () => {
  await Promise.all(stubs.map((s) => s.close()));
  await mcp?.close();
  await as?.close();
});

const byId = (report: DoctorReport, id: string): Check[] => report.checks.filter((c) => c.id === id);
const one = (report: DoctorReport, id: string): Check => {
  const found = byId(report, id);
  if (found.length !== 1) throw new Error(`expected one ${id}, got ${found.length}:\n${formatReport(report)}`);
  return found[0]!;
};
const failures = (report: DoctorReport): string[] => report.checks.filter((c) => c.status === "fail").map((c) => c.id);

function memoryIo(stdin = ""): CliIo & { out: () => string; err: () => string } {
  let out = "";
  let err = "";
  return {
    stdout: {
      write: (t: string) => {
        out += t;
        return true;
      },
    },
    stderr: {
      write: (t: string) => {
        err += t;
        return true;
      },
    },
    stdin: Readable.from([stdin]),
    out: () => out,
    err: () => err,
  };
}

/** The real local authorization server's metadata, to serve altered copies of. */
async function realAsMetadata(): Promise<Record<string, unknown>> {
  return (await (await fetch(`${as.issuer}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
}

interface Misconfig {
  challenge?: string | null;
  status?: number;
  metadata?: (resource: string, stubUrl: string) => Record<string, unknown>;
  metadataStatus?: number;
}

/**
 * A resource server on a loopback stub: POST /mcp answers `status` with `challenge`, and
 * both metadata URLs serve `metadata` (default: a correct document naming the real local
 * authorization server).
 */
async function misconfiguredResource(config: Misconfig): Promise<{ url: string; stub: StubServer }> {
  const stub = await startStubServer();
  stubs.push(stub);
  const url = `${stub.url}/mcp`;
  const metadataUrl = `${stub.url}/.well-known/oauth-protected-resource/mcp`;
  const challenge =
    config.challenge === undefined ? `Bearer resource_metadata="${metadataUrl}", scope="mcp:read"` : config.challenge;
  stub.handle("/mcp", (req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on("end", () => {
      res.statusCode = req.method === "OPTIONS" ? 204 : (config.status ?? 401);
      if (req.method !== "OPTIONS" && challenge !== null) res.setHeader("www-authenticate", challenge);
      res.setHeader("content-type", "application/json");
      res.end(
        req.method === "OPTIONS"
          ? undefined
          : JSON.stringify({ error: "invalid_token", error_description: "no token" }),
      );
    });
  });
  const document = config.metadata?.(url, stub.url) ?? {
    resource: url,
    authorization_servers: [as.issuer],
    scopes_supported: ["mcp:read"],
    bearer_methods_supported: ["header"],
  };
  for (const path of ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"]) {
    stub.handle(path, (_req, res) => {
      res.setHeader("access-control-allow-origin", "*");
      json(document, config.metadataStatus ?? 200)(_req, res);
    });
  }
  return { url, stub };
}

/** An authorization server on a stub: the real server's metadata, altered; keys as given. */
async function misconfiguredAuthorizationServer(
  alter: (metadata: Record<string, unknown>, stubUrl: string) => Record<string, unknown>,
  jwks?: unknown,
): Promise<string> {
  const stub = await startStubServer();
  stubs.push(stub);
  const metadata = alter({ ...(await realAsMetadata()), issuer: stub.url }, stub.url);
  if (jwks !== undefined) metadata["jwks_uri"] = `${stub.url}/jwks`;
  stub.handle("/.well-known/oauth-authorization-server", json(metadata));
  if (jwks !== undefined) stub.handle("/jwks", json(jwks));
  return stub.url;
}

describe("a healthy setup (Express example + local authorization server)", () => {
  it("passes every check, with no warning", async () => {
    const report = await runDoctor({ resource: mcp.url });
    expect(report.ok).toBe(true);
    expect(report.checks.filter((c) => c.status !== "pass")).toEqual([]);
    expect(report.authorizationServers).toEqual([as.issuer]);
    for (const id of [
      "challenge.status",
      "challenge.resource_metadata",
      "challenge.no_error",
      "challenge.scope",
      "cors.preflight",
      "cors.expose",
      "metadata.path_suffixed",
      "metadata.root",
      "metadata.resource",
      "metadata.authorization_servers",
      "metadata.cors",
      "as.metadata",
      "as.issuer",
      "as.pkce",
      "as.registration",
      "as.jwks",
    ]) {
      expect(one(report, id).status).toBe("pass");
    }
    expect(one(report, "as.metadata").message).toContain("RFC 8414");
    expect(one(report, "as.metadata").message).toContain("OpenID Connect");
    expect(one(report, "as.registration").message).toContain(`${as.issuer}/reg`);
  });

  it("checks a real token (issuer, audience, expiry, scopes, signature, the endpoint's answer) and never prints it", async () => {
    const report = await runDoctor({ resource: mcp.url, authorizationServers: [as.issuer], token });
    expect(failures(report)).toEqual([]);
    expect(one(report, "token.issuer").message).toBe(`issuer "${as.issuer}"`);
    expect(one(report, "token.audience").message).toBe(`audience "${mcp.url}" is this resource`);
    expect(one(report, "token.expiry").message).toMatch(/^expires in (59|60) min \(\d{4}-\d\d-\d\dT/);
    expect(one(report, "token.scopes").message).toBe('scopes "mcp:read"');
    expect(one(report, "token.signature").status).toBe("pass");
    expect(one(report, "token.accepted").message).toBe("the MCP endpoint accepted the token (HTTP 200)");
    const text = formatReport(report);
    const serialized = JSON.stringify(report);
    for (const part of [token, ...token.split(".")]) {
      expect(text).not.toContain(part);
      expect(serialized).not.toContain(part);
    }
  });

  it("fails a token for another resource, an expired one and one signed by another key, each with its fix", async () => {
    const otherResource = (
      await obtainAccessToken(as.issuer, { resource: "http://127.0.0.1:1/other", scope: "mcp:read" })
    ).access_token;
    const now = Math.floor(Date.now() / 1000);
    const expired = as.mint(mcp.url, { exp: now - 3600, iat: now - 7200 });
    const stranger = generateSigningKey("RS256");
    const forged = signJwt(
      { alg: "RS256", typ: "at+jwt", kid: as.key.kid },
      { iss: as.issuer, sub: "mallory", aud: mcp.url, exp: now + 600, scope: "mcp:read" },
      stranger,
    );
    const [a, e, f] = await Promise.all(
      [otherResource, expired, forged].map((t) => runDoctor({ resource: mcp.url, token: t })),
    );

    expect(one(a!, "token.audience")).toMatchObject({
      status: "fail",
      message: `audience "http://127.0.0.1:1/other" is not this resource ("${mcp.url}")`,
    });
    expect(one(a!, "token.audience").fix).toContain(`resource=${mcp.url}`);
    expect(one(a!, "token.accepted").status).toBe("fail");
    expect(one(a!, "token.accepted").message).toContain('HTTP 401 error="invalid_token"');

    expect(one(e!, "token.expiry")).toMatchObject({ status: "fail", fix: "get a fresh token" });
    expect(one(e!, "token.expiry").message).toMatch(/^expired 60 min ago/);

    expect(one(f!, "token.signature")).toMatchObject({ status: "fail" });
    expect(one(f!, "token.signature").message).toBe(`no key in ${as.issuer}/jwks verifies the signature`);
    for (const [report, t] of [
      [a!, otherResource],
      [e!, expired],
      [f!, forged],
    ] as const) {
      expect(report.ok).toBe(false);
      expect(formatReport(report)).not.toContain(t);
    }
  });
});

describe("the 401 challenge", () => {
  it("fails a 401 without resource_metadata, with the header to send as the fix", async () => {
    const { url, stub } = await misconfiguredResource({ challenge: 'Bearer realm="mcp"' });
    const report = await runDoctor({ resource: url });
    const check = one(report, "challenge.resource_metadata");
    expect(check.status).toBe("fail");
    expect(check.message).toContain("no resource_metadata");
    expect(check.fix).toBe(
      `add resource_metadata="${stub.url}/.well-known/oauth-protected-resource/mcp" to the challenge`,
    );
    expect(one(report, "challenge.scope").status).toBe("warn");
    // The metadata itself is still found at the well-known URLs.
    expect(one(report, "metadata.resource").status).toBe("pass");
  });

  it("fails an unquoted resource_metadata, warns about other unquoted values", async () => {
    const { url, stub } = await misconfiguredResource({ challenge: "" });
    const metadataUrl = `${stub.url}/.well-known/oauth-protected-resource/mcp`;
    stub.handle("/mcp", (req, res) => {
      req.resume();
      res.statusCode = 401;
      res.setHeader("www-authenticate", `Bearer resource_metadata=${metadataUrl}, scope=mcp:read`);
      res.end();
    });
    const report = await runDoctor({ resource: url });
    expect(one(report, "challenge.resource_metadata")).toMatchObject({
      status: "fail",
      message: `resource_metadata is not quoted (resource_metadata=${metadataUrl}): a widely used client parser cannot read an unquoted URL`,
      fix: `quote every value in the challenge: resource_metadata="${metadataUrl}"`,
    });
    expect(one(report, "challenge.quoting")).toMatchObject({
      status: "warn",
      message: "unquoted value in the challenge: scope",
    });
    expect(one(report, "challenge.scope").message).toBe('scope="mcp:read"');
  });

  it("warns about an error code sent although no token was presented", async () => {
    const { url, stub } = await misconfiguredResource({ challenge: null });
    stub.handle("/mcp", (req, res) => {
      req.resume();
      res.statusCode = 401;
      res.setHeader(
        "www-authenticate",
        `Bearer error="invalid_token", resource_metadata="${stub.url}/.well-known/oauth-protected-resource/mcp", scope="mcp:read"`,
      );
      res.end();
    });
    const report = await runDoctor({ resource: url });
    expect(one(report, "challenge.no_error")).toMatchObject({ status: "warn" });
    expect(one(report, "challenge.no_error").fix).toContain("RFC 6750 section 3.1");
  });

  it("fails an unprotected endpoint, a 401 without WWW-Authenticate, and an unreachable server", async () => {
    const open = await misconfiguredResource({ status: 200 });
    const bare = await misconfiguredResource({ challenge: null });
    const gone = await startStubServer();
    const goneUrl = `${gone.url}/mcp`;
    await gone.close();
    const [o, b, g] = await Promise.all([open.url, bare.url, goneUrl].map((resource) => runDoctor({ resource })));
    expect(one(o!, "challenge.status")).toMatchObject({
      status: "fail",
      message: "an MCP initialize request without a token got HTTP 200: the endpoint is not protected",
    });
    expect(one(o!, "challenge.status").fix).toContain("mcpOAuth");
    expect(one(b!, "challenge.header")).toMatchObject({ status: "fail" });
    expect(one(b!, "challenge.header").fix).toContain(
      `WWW-Authenticate: Bearer resource_metadata="${bare.stub.url}/.well-known/oauth-protected-resource/mcp"`,
    );
    expect(one(g!, "challenge.status").message).toBe(`no answer from ${goneUrl}: connection refused`);
    expect(g!.checks.filter((c) => c.section === "resource_metadata")).toEqual([]);
  });
});

describe("the protected resource metadata", () => {
  it("fails a resource with a trailing slash", async () => {
    const { url } = await misconfiguredResource({
      metadata: (resource) => ({ resource: `${resource}/`, authorization_servers: [as.issuer] }),
    });
    const report = await runDoctor({ resource: url });
    const check = one(report, "metadata.resource");
    expect(check.status).toBe("fail");
    expect(check.message).toBe(
      `resource "${url}/" differs only by a trailing slash from the endpoint "${url}": clients (VS Code) compare exactly and send resource verbatim as the RFC 8707 parameter`,
    );
    expect(check.fix).toContain(`OAUTH_RESOURCE=${url}`);
  });

  it("fails offline_access in scopes_supported", async () => {
    const { url } = await misconfiguredResource({
      metadata: (resource) => ({
        resource,
        authorization_servers: [as.issuer],
        scopes_supported: ["mcp:read", "offline_access"],
      }),
    });
    const report = await runDoctor({ resource: url });
    expect(one(report, "metadata.offline_access").status).toBe("fail");
    expect(one(report, "metadata.offline_access").fix).toContain("remove offline_access from scopes_supported");
    expect(failures(report)).toEqual(["metadata.offline_access"]);
  });

  it("fails metadata behind the auth check, a missing authorization_servers, and an issuer the metadata does not list", async () => {
    const hidden = await misconfiguredResource({ metadataStatus: 401 });
    const noServers = await misconfiguredResource({ metadata: (resource) => ({ resource }) });
    const [h, n, x] = await Promise.all([
      runDoctor({ resource: hidden.url }),
      runDoctor({ resource: noServers.url }),
      runDoctor({ resource: mcp.url, authorizationServers: ["https://other.example.com"], timeout: 2000 }),
    ]);
    expect(one(h!, "metadata.challenge_url").message).toContain("HTTP 401: it is behind the auth check");
    expect(one(h!, "metadata.found").status).toBe("fail");
    expect(one(n!, "metadata.authorization_servers")).toMatchObject({
      status: "fail",
      message: "authorization_servers is missing: it must list at least one issuer URL",
    });
    expect(one(x!, "metadata.expected_issuer")).toMatchObject({
      status: "fail",
      fix: "set OAUTH_AUTHORIZATION_SERVER=https://other.example.com, exactly the issuer the authorization server publishes",
    });
  });
});

describe("the authorization server", () => {
  it("fails metadata whose issuer differs from the one the resource names", async () => {
    const issuer = await misconfiguredAuthorizationServer((m, stubUrl) => ({ ...m, issuer: `${stubUrl}/` }));
    const { url } = await misconfiguredResource({
      metadata: (resource) => ({ resource, authorization_servers: [issuer] }),
    });
    const report = await runDoctor({ resource: url });
    const check = one(report, "as.issuer");
    expect(check).toMatchObject({ status: "fail", subject: issuer });
    expect(check.message).toBe(
      `metadata at ${issuer}/.well-known/oauth-authorization-server names issuer "${issuer}/", not "${issuer}" (they differ by a trailing slash): clients reject the mismatch (RFC 8414 section 3.3)`,
    );
    expect(check.fix).toBe(
      `set OAUTH_AUTHORIZATION_SERVER=${issuer}/ so authorization_servers names the issuer byte for byte`,
    );
  });

  it("fails an authorization server without PKCE S256, warns without registration", async () => {
    const issuer = await misconfiguredAuthorizationServer((m) => {
      // Neither way to get a client id: no registration, no Client ID Metadata Documents.
      const { registration_endpoint: _, client_id_metadata_document_supported: __, ...rest } = m;
      return { ...rest, code_challenge_methods_supported: ["plain"] };
    });
    const report = await runDoctor({ resource: mcp.url, authorizationServers: [issuer] });
    expect(one(report, "as.pkce")).toMatchObject({
      status: "fail",
      message: 'code_challenge_methods_supported is ["plain"]: MCP clients refuse an authorization server without S256',
    });
    expect(one(report, "as.pkce").fix).toContain("S256");
    expect(one(report, "as.registration").status).toBe("warn");
    expect(one(report, "as.registration").fix).toContain("pre-register");
    // The resource names the real server, not this one.
    expect(one(report, "metadata.expected_issuer").status).toBe("fail");
  });

  it("fails a key set with private key material, and one that is missing", async () => {
    const leaked = await misconfiguredAuthorizationServer((m) => m, { keys: [generateSigningKey("ES256")] });
    const missing = await misconfiguredAuthorizationServer((m, stubUrl) => ({
      ...m,
      jwks_uri: `${stubUrl}/nothing-here`,
    }));
    const [l, m] = await Promise.all(
      [leaked, missing].map((issuer) => runDoctor({ resource: mcp.url, authorizationServers: [issuer] })),
    );
    expect(one(l!, "as.jwks_private").status).toBe("fail");
    expect(one(l!, "as.jwks_private").fix).toContain("rotate");
    expect(one(m!, "as.jwks")).toMatchObject({
      status: "fail",
      message: `key set at ${missing}/nothing-here: HTTP 404`,
    });
  });
});

describe("the mcp-oauth command", () => {
  it("prints JSON and exits 0 for a healthy setup, 1 with lines and fixes for a broken one (child processes)", async () => {
    const broken = await misconfiguredResource({
      metadata: (resource) => ({
        resource: `${resource}/`,
        authorization_servers: [as.issuer],
        scopes_supported: ["offline_access"],
      }),
    });
    const bin = join(PACKAGE_DIR, "src/bin/mcp-oauth.ts");
    const [healthy, failing] = await Promise.all([
      run(join(BIN, "tsx"), [bin, "doctor", "--resource", mcp.url, "--token", "-", "--json"], { stdin: token }),
      run(join(BIN, "tsx"), [bin, "doctor", "--resource", broken.url]),
    ]);
    expect(healthy.code).toBe(0);
    const report = JSON.parse(healthy.output) as DoctorReport;
    expect(report).toMatchObject({
      resource: mcp.url,
      ok: true,
      authorizationServers: [as.issuer],
      summary: { fail: 0, warn: 0 },
    });
    expect(report.checks.find((c) => c.id === "token.accepted")?.status).toBe("pass");
    expect(healthy.output).not.toContain(token);

    expect(failing.code).toBe(1);
    expect(failing.output).toContain(`  FAIL  resource "${broken.url}/" differs only by a trailing slash`);
    expect(failing.output).toContain(`        fix: publish the endpoint URL exactly: OAUTH_RESOURCE=${broken.url}`);
    expect(failing.output).toContain("  FAIL  scopes_supported lists offline_access");
    expect(failing.output).toMatch(/FAILED: 2 failures, 2 warnings, \d+ passed\n$/);
  }, 60_000);

  it("takes the token as an argument without echoing it, and exits 2 on bad arguments", async () => {
    const io = memoryIo();
    expect(await mcpOAuthMain(["doctor", "--resource", mcp.url, "--token", token], io)).toBe(0);
    expect(io.out()).toContain("PASS  the MCP endpoint accepted the token");
    expect(io.out()).not.toContain(token);

    for (const argv of [
      ["doctor"],
      ["doctor", "--resource", "not a url"],
      ["doctor", "--resource", mcp.url, "--bogus"],
      ["doctor", "--resource", mcp.url, "--timeout", "soon"],
      // A token check was asked for, and nothing came (`npm run -s token | ...` when the token script failed).
      ["doctor", "--resource", mcp.url, "--token", "-"],
      ["doctor", "--dotenv", "no-such-dir/.env", "--resource", mcp.url, "--bogus"],
      ["frobnicate"],
      [],
    ]) {
      const bad = memoryIo();
      expect(await mcpOAuthMain(argv, bad)).toBe(2);
      expect(bad.out()).toBe("");
      expect(bad.err()).not.toBe("");
    }
    const help = memoryIo();
    expect(await mcpOAuthMain(["doctor", "--help"], help)).toBe(0);
    expect(help.out()).toContain("--authorization-server");
  });
});

describe("in a project made by create-mcp-oauth", () => {
  const SCRIPTS = { dev: "tsx watch src/index.ts", "auth-server": "tsx scripts/auth-server.ts" };

  it("names the npm script that starts a stopped authorization server or MCP server; elsewhere, says to start it", async () => {
    const closed = await startStubServer();
    const stoppedIssuer = closed.url;
    await closed.close();
    const resource = await misconfiguredResource({
      metadata: (url) => ({ resource: url, authorization_servers: [stoppedIssuer], scopes_supported: ["mcp:read"] }),
    });
    const gone = await startStubServer();
    const goneUrl = `${gone.url}/mcp`;
    await gone.close();
    const [inProject, elsewhere, serverStopped] = await Promise.all([
      runDoctor({ resource: resource.url, projectScripts: SCRIPTS }),
      runDoctor({ resource: resource.url }),
      runDoctor({ resource: goneUrl, projectScripts: SCRIPTS }),
    ]);
    expect(one(inProject, "as.metadata")).toEqual({
      id: "as.metadata",
      section: "authorization_server",
      subject: stoppedIssuer,
      status: "fail",
      message: `nothing answers at ${stoppedIssuer} (connection refused)`,
      fix: "start it: `npm run auth-server` (in another terminal)",
    });
    expect(one(elsewhere, "as.metadata")).toMatchObject({
      status: "fail",
      message: `nothing answers at ${stoppedIssuer} (connection refused)`,
      fix: `start the authorization server at ${stoppedIssuer}, or correct the issuer (OAUTH_AUTHORIZATION_SERVER)`,
    });
    expect(one(serverStopped, "challenge.status")).toMatchObject({
      status: "fail",
      message: `no answer from ${goneUrl}: connection refused`,
      fix: "start it: `npm run dev` (in another terminal)",
    });
  });

  it("reads the project's scripts and, with --dotenv, the URL its server listens at (the environment wins over the file)", async () => {
    const project = await mkdtemp(join(tmpdir(), "mcp-oauth-doctor-project-"));
    try {
      const port = new URL(mcp.url).port;
      await writeFile(join(project, "package.json"), JSON.stringify({ name: "p", scripts: SCRIPTS }));
      await writeFile(join(project, ".env"), `PORT=${port}\nHOST=127.0.0.1\nOAUTH_AUTHORIZATION_SERVER=${as.issuer}\n`);
      const bin = join(PACKAGE_DIR, "src/bin/mcp-oauth.ts");
      const closed = await startStubServer();
      const closedPort = new URL(closed.url).port;
      await closed.close();
      const [fromFile, fromEnv, explicit, noFile] = await Promise.all([
        run(join(BIN, "tsx"), [bin, "doctor", "--dotenv", ".env"], { cwd: project }),
        run(join(BIN, "tsx"), [bin, "doctor", "--dotenv", ".env"], { cwd: project, env: { PORT: closedPort } }),
        run(join(BIN, "tsx"), [bin, "doctor", "--dotenv", ".env", "--resource", mcp.url], {
          cwd: project,
          env: { OAUTH_RESOURCE: "https://elsewhere.example/mcp" },
        }),
        run(join(BIN, "tsx"), [bin, "doctor", "--dotenv", "missing.env"], { cwd: project, env: { PORT: closedPort } }),
      ]);
      expect({ code: fromFile.code, first: fromFile.output.split("\n")[0] }).toEqual({
        code: 0,
        first: `mcp-oauth doctor: ${mcp.url}`,
      });
      expect(explicit.output.split("\n")[0]).toBe(`mcp-oauth doctor: ${mcp.url}`);
      for (const stopped of [fromEnv, noFile]) {
        expect(stopped.code).toBe(1);
        expect(stopped.output).toContain(`no answer from http://127.0.0.1:${closedPort}/mcp: connection refused`);
        expect(stopped.output).toContain("fix: start it: `npm run dev` (in another terminal)");
      }
    } finally {
      await rm(project, { recursive: true, force: true });
    }
  }, 60_000);
});

describe("parseWwwAuthenticate", () => {
  it("records quoting, escapes and several challenges", () => {
    const [basic, bearer] = parseWwwAuthenticate(
      'Basic realm="x", Bearer resource_metadata="https://a/b", scope=mcp:read, error_description="say \\"hi\\""',
    );
    expect(basic!.scheme).toBe("Basic");
    expect(bearer!.scheme).toBe("Bearer");
    expect(bearer!.params.get("resource_metadata")).toEqual({ value: "https://a/b", quoted: true });
    expect(bearer!.params.get("scope")).toEqual({ value: "mcp:read", quoted: false });
    expect(bearer!.params.get("error_description")).toEqual({ value: 'say "hi"', quoted: true });
    expect(parseWwwAuthenticate("")).toEqual([]);
  });
});
