/**
 * `mcp-oauth doctor`'s DPoP checks (RFC 9449): what a server advertises (metadata members,
 * the DPoP challenge, and that they agree) and what it enforces (the DPoP scheme without a
 * proof refused, a DPoP-bound token sent as Bearer refused), against loopback stubs that get
 * one thing wrong each, and the real Express example without DPoP (Bearer only).
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import type { IncomingMessage, ServerResponse } from "node:http";
import { generateSigningKey, startLocalAuthorizationServer } from "@mcp-oauth/local-authorization-server";
import type { LocalAuthorizationServer } from "@mcp-oauth/local-authorization-server";
import { startExampleServer, type RunningExample } from "../../../examples/express-server/src/server.js";
import { signJwt } from "../../../test/helpers/jwt.js";
import { json, startStubServer, type StubServer } from "../../../test/helpers/stub-server.js";
import { runDoctor } from "../src/doctor/doctor.js";
import { formatReport, type Check, type DoctorReport } from "../src/doctor/report.js";

let as: LocalAuthorizationServer;
const stubs: StubServer[] = [];
const key = generateSigningKey("RS256");
const JKT = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";

beforeAll(async () => {
  as = await startLocalAuthorizationServer();
});
afterAll(async () => {
  await Promise.all(stubs.map((s) => s.close()));
  await as?.close();
});

const one = (report: DoctorReport, id: string): Check => {
  const found = report.checks.filter((c) => c.id === id);
  if (found.length !== 1) throw new Error(`expected one ${id}, got ${found.length}:\n${formatReport(report)}`);
  return found[0]!;
};
const none = (report: DoctorReport, id: string): void => {
  expect(report.checks.filter((c) => c.id === id)).toEqual([]);
};

/** A JWT bound to a key (`cnf.jkt`), as an authorization server issues it for a DPoP client. */
const boundToken = (resource: string): string =>
  signJwt(
    { alg: "RS256", kid: key.kid, typ: "at+jwt" },
    {
      iss: as.issuer,
      aud: resource,
      sub: "alice",
      scope: "mcp:read",
      exp: Math.floor(Date.now() / 1000) + 600,
      cnf: { jkt: JKT },
    },
    key,
  );

interface DpopStub {
  /** The members the metadata adds; default: ES256, not required. */
  metadata?: Record<string, unknown>;
  /** The 401 challenge; default Bearer and DPoP side by side. */
  challenge?: (metadataUrl: string) => string;
  /** Accept `Authorization: DPoP ...` without a `DPoP` header (the defect). */
  acceptUnproven?: boolean;
  /** Accept any `Authorization: Bearer ...` (the downgrade defect). */
  acceptBearer?: boolean;
}

/** A resource server on a stub that advertises DPoP and refuses what `config` does not accept. */
async function dpopResource(config: DpopStub = {}): Promise<string> {
  const stub = await startStubServer();
  stubs.push(stub);
  const url = `${stub.url}/mcp`;
  const metadataUrl = `${stub.url}/.well-known/oauth-protected-resource/mcp`;
  const challenge =
    config.challenge?.(metadataUrl) ??
    `Bearer resource_metadata="${metadataUrl}", scope="mcp:read", DPoP algs="ES256", resource_metadata="${metadataUrl}", scope="mcp:read"`;
  stub.handle("/mcp", (req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on("end", () => {
      const authorization = req.headers.authorization ?? "";
      const ok =
        req.method === "OPTIONS" ||
        (config.acceptUnproven === true && authorization.startsWith("DPoP ") && req.headers.dpop === undefined) ||
        (config.acceptBearer === true && authorization.startsWith("Bearer "));
      if (ok) {
        res.writeHead(req.method === "OPTIONS" ? 204 : 200, { "content-type": "application/json" });
        res.end(req.method === "OPTIONS" ? undefined : JSON.stringify({ jsonrpc: "2.0", id: 1, result: {} }));
        return;
      }
      const error = authorization.startsWith("DPoP ")
        ? `, error="invalid_dpop_proof"`
        : authorization.startsWith("Bearer ")
          ? `, error="invalid_token"`
          : "";
      res.writeHead(401, {
        "content-type": "application/json",
        "www-authenticate": authorization.startsWith("DPoP ")
          ? challenge.replace(/(DPoP [^,]*)/, `$1${error}`)
          : challenge.replace(/^(Bearer [^,]*)/, `$1${error}`),
      });
      res.end(JSON.stringify({ error: "invalid_token" }));
    });
  });
  const document = {
    resource: url,
    authorization_servers: [as.issuer],
    scopes_supported: ["mcp:read"],
    bearer_methods_supported: ["header"],
    ...(config.metadata ?? { dpop_signing_alg_values_supported: ["ES256"], dpop_bound_access_tokens_required: false }),
  };
  for (const path of ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"]) {
    stub.handle(path, (req, res) => {
      res.setHeader("access-control-allow-origin", "*");
      json(document)(req, res);
    });
  }
  return url;
}

describe("what a server advertises", () => {
  it("reports DPoP accepted next to Bearer, the challenge agreeing with the metadata", async () => {
    const report = await runDoctor({ resource: await dpopResource() });
    expect(one(report, "dpop.advertised")).toMatchObject({ status: "pass" });
    expect(one(report, "dpop.advertised").message).toContain("accepted next to Bearer");
    expect(one(report, "dpop.challenge").status).toBe("pass");
    none(report, "dpop.metadata");
  });

  it("reads a server that requires DPoP: its 401 has the DPoP challenge only", async () => {
    const resource = await dpopResource({
      metadata: { dpop_signing_alg_values_supported: ["ES256"], dpop_bound_access_tokens_required: true },
      challenge: (metadataUrl) => `DPoP algs="ES256", resource_metadata="${metadataUrl}", scope="mcp:read"`,
    });
    const report = await runDoctor({ resource });
    none(report, "challenge.header");
    expect(one(report, "challenge.resource_metadata").status).toBe("pass");
    expect(one(report, "dpop.advertised").message).toContain("DPoP required");
    none(report, "dpop.required_challenge");
  });

  it("warns when DPoP is required but the challenge still offers Bearer", async () => {
    const resource = await dpopResource({
      metadata: { dpop_signing_alg_values_supported: ["ES256"], dpop_bound_access_tokens_required: true },
    });
    expect(one(await runDoctor({ resource }), "dpop.required_challenge").status).toBe("warn");
  });

  it("fails metadata that lists HS256 or none, is not an array, or says required with something not a boolean", async () => {
    const hs = await runDoctor({
      resource: await dpopResource({ metadata: { dpop_signing_alg_values_supported: ["ES256", "HS256"] } }),
    });
    expect(one(hs, "dpop.metadata")).toMatchObject({ status: "fail" });
    expect(one(hs, "dpop.metadata").message).toContain('"HS256"');
    const notArray = await runDoctor({
      resource: await dpopResource({ metadata: { dpop_signing_alg_values_supported: "ES256" } }),
    });
    expect(one(notArray, "dpop.metadata").status).toBe("fail");
    const notBoolean = await runDoctor({
      resource: await dpopResource({
        metadata: { dpop_signing_alg_values_supported: ["ES256"], dpop_bound_access_tokens_required: "yes" },
      }),
    });
    expect(one(notBoolean, "dpop.metadata").message).toContain("true or false");
  });

  it("warns when the metadata advertises DPoP and the challenge does not, or offers other algorithms", async () => {
    const missing = await runDoctor({
      resource: await dpopResource({
        challenge: (metadataUrl) => `Bearer resource_metadata="${metadataUrl}", scope="mcp:read"`,
      }),
    });
    expect(one(missing, "dpop.challenge").status).toBe("warn");
    const other = await runDoctor({
      resource: await dpopResource({
        challenge: (metadataUrl) =>
          `Bearer resource_metadata="${metadataUrl}", scope="mcp:read", DPoP algs="ES256 RS256", resource_metadata="${metadataUrl}"`,
      }),
    });
    expect(one(other, "dpop.challenge")).toMatchObject({ status: "warn" });
    expect(one(other, "dpop.challenge").message).toContain('algs="ES256 RS256"');
  });

  it("fails a server that says DPoP is required but lists no algorithm", async () => {
    const report = await runDoctor({
      resource: await dpopResource({
        metadata: { dpop_bound_access_tokens_required: true },
        challenge: (metadataUrl) => `Bearer resource_metadata="${metadataUrl}", scope="mcp:read"`,
      }),
    });
    expect(one(report, "dpop.advertised").status).toBe("fail");
  });
});

describe("what a server enforces", () => {
  it("passes a server that refuses the DPoP scheme without a proof and a bound token as Bearer, and never tries the bound token as Bearer in the token checks", async () => {
    const resource = await dpopResource();
    const token = boundToken(resource);
    const report = await runDoctor({ resource, token });
    expect(one(report, "dpop.unproven")).toMatchObject({ status: "pass" });
    expect(one(report, "dpop.unproven").message).toContain('error="invalid_dpop_proof"');
    expect(one(report, "dpop.bound_as_bearer")).toMatchObject({ status: "pass" });
    expect(one(report, "token.accepted").message).toContain("DPoP-bound");
    expect(formatReport(report)).not.toContain(token);
  });

  it("fails a server that accepts the DPoP scheme without a proof", async () => {
    const resource = await dpopResource({ acceptUnproven: true });
    const placeholder = await runDoctor({ resource });
    expect(one(placeholder, "dpop.unproven")).toMatchObject({ status: "fail" });
    expect(one(placeholder, "dpop.unproven").message).toContain("does not check possession");
    const withToken = await runDoctor({ resource, token: boundToken(resource) });
    expect(one(withToken, "dpop.unproven").message).toContain("with the token");
  });

  it("fails a server that accepts a DPoP-bound token sent as Bearer (a downgrade)", async () => {
    const resource = await dpopResource({ acceptBearer: true });
    const report = await runDoctor({ resource, token: boundToken(resource) });
    expect(one(report, "dpop.bound_as_bearer")).toMatchObject({ status: "fail" });
    expect(one(report, "dpop.bound_as_bearer").fix).toContain("cnf.jkt");
  });

  it("does not try the downgrade without a bound token", async () => {
    none(await runDoctor({ resource: await dpopResource({ acceptBearer: true }) }), "dpop.bound_as_bearer");
  });
});

describe("a server without DPoP (the Express example, Bearer only)", () => {
  let mcp: RunningExample;
  beforeAll(async () => {
    mcp = await startExampleServer({ OAUTH_AUTHORIZATION_SERVER: as.issuer, OAUTH_SCOPES: "mcp:read", PORT: "0" });
  });
  afterAll(async () => {
    await mcp?.close();
  });

  it("says DPoP is not advertised, and that the DPoP scheme is refused, with no warning", async () => {
    const report = await runDoctor({ resource: mcp.url });
    expect(one(report, "dpop.advertised")).toMatchObject({ status: "pass" });
    expect(one(report, "dpop.advertised").message).toContain("Bearer tokens only");
    expect(one(report, "dpop.unproven").status).toBe("pass");
    expect(report.checks.filter((c) => c.section === "dpop" && c.status !== "pass")).toEqual([]);
  });
});
