/**
 * DPoP (RFC 9449, the MCP DPoP extension draft, the conformance scenario
 * `auth/dpop-server-validation`) against the examples as they run, configured only by
 * `OAUTH_DPOP*`: tokens from the real local authorization server carrying `cnf.jkt` (signed
 * with its real key), proofs signed by jose. Every check of the scenario on the Express
 * example and on the mcp-framework example (HTTP Stream); on SSE and Hono the acceptance,
 * the downgrade and the replay.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { CompactSign } from "jose";
import { startTestAuthorizationServer, type TestAuthorizationServer } from "../helpers/authorization-server.js";
import { athOf, dpopKey, dpopProof, tamperSignature, unsignedProof, type DpopKey } from "../helpers/dpop.js";
import { rawRequest } from "../helpers/raw-request.js";
import {
  challengesOf,
  nowSeconds,
  open,
  proofFor,
  startHost,
  type Answer,
  type HostName,
  type RunningHost,
} from "./hosts.js";

const headerList = (value: string | string[] | undefined): string[] =>
  String(value ?? "")
    .split(",")
    .map((name) => name.trim().toLowerCase());

const NONCE_SECRET = "a-nonce-secret-of-at-least-32-bytes-for-the-tests";
const ALGS = "ES256 PS256 RS256 EdDSA";

let as: TestAuthorizationServer;
let key: DpopKey;
let otherKey: DpopKey;

beforeAll(async () => {
  [as, key, otherKey] = await Promise.all([startTestAuthorizationServer(), dpopKey("ES256"), dpopKey("ES256")]);
});
afterAll(() => as?.close());

const env = (mode: string, extra: Record<string, string> = {}): Record<string, string> => ({
  OAUTH_AUTHORIZATION_SERVER: as.issuer,
  OAUTH_SCOPES: "mcp:read",
  OAUTH_DPOP: mode,
  ...extra,
});

/** A token of the real authorization server bound to `bound` (its `cnf.jkt`), for `host`. */
const boundToken = (host: RunningHost, bound: DpopKey = key, claims: Record<string, unknown> = {}): string =>
  as.mint(host.url, { cnf: { jkt: bound.thumbprint }, ...claims });

/** A 401 with a DPoP challenge (`algs`) carrying `error`, as the scenario requires. */
function expectDpopRefusal(answer: Answer, error: "invalid_dpop_proof" | "invalid_token"): void {
  expect(answer.status).toBe(401);
  const challenges = challengesOf(answer);
  expect(challenges["DPoP"]).toMatchObject({ error, algs: ALGS });
}

describe.each<HostName>(["express", "mcp-framework http-stream"])("%s with OAUTH_DPOP=allowed", (name) => {
  let host: RunningHost;
  beforeAll(async () => {
    host = await startHost(name, env("allowed"));
  });
  afterAll(() => host?.stop());

  const dpop = async (proof: string | string[], token = boundToken(host)): Promise<Answer> =>
    open(host, { authorization: `DPoP ${token}`, dpop: proof });

  it("accepts a DPoP-bound token with a valid proof, and still a Bearer token without cnf", async () => {
    const token = boundToken(host);
    expect((await dpop(await proofFor(host, key, token), token)).status).toBe(200);
    expect((await open(host, { authorization: `Bearer ${as.mint(host.url)}` })).status).toBe(200);
  });

  it("publishes the algorithms and that DPoP is not required", async () => {
    const origin = new URL(host.url).origin;
    const res = await fetch(`${origin}/.well-known/oauth-protected-resource${new URL(host.url).pathname}`);
    expect(await res.json()).toMatchObject({
      dpop_signing_alg_values_supported: ALGS.split(" "),
      dpop_bound_access_tokens_required: false,
    });
  });

  it("challenges a request without a token with Bearer and DPoP side by side", async () => {
    const challenges = challengesOf(await open(host, {}));
    expect(challenges["Bearer"]).toMatchObject({ scope: "mcp:read" });
    expect(challenges["DPoP"]).toMatchObject({ algs: ALGS, scope: "mcp:read" });
    expect(challenges["DPoP"]!["resource_metadata"]).toBe(challenges["Bearer"]!["resource_metadata"]);
    expect(challenges["DPoP"]!["error"]).toBeUndefined();
  });

  it.each<[string, (token: string) => Promise<string | string[]>]>([
    ["a bad signature", async (t) => tamperSignature(await proofFor(host, key, t))],
    ["no jti", (t) => proofFor(host, key, t, { omit: ["jti"] })],
    ["no htm", (t) => proofFor(host, key, t, { omit: ["htm"] })],
    ["no htu", (t) => proofFor(host, key, t, { omit: ["htu"] })],
    ["no iat", (t) => proofFor(host, key, t, { omit: ["iat"] })],
    ["no jwk", (t) => proofFor(host, key, t, { omit: ["jwk"] })],
    ["no ath", (t) => proofFor(host, key, t, { omit: ["ath"] })],
    ["typ jwt", (t) => proofFor(host, key, t, { header: { typ: "jwt" } })],
    ["another method in htm", (t) => proofFor(host, key, t, { htm: host.method === "POST" ? "GET" : "POST" })],
    ["another URI in htu", (t) => proofFor(host, key, t, { htu: new URL("/other", host.url).href })],
    [
      "the Host a client could choose in htu",
      (t) => proofFor(host, key, t, { htu: host.url.replace("127.0.0.1", "localhost") }),
    ],
    ["a private key in jwk", (t) => proofFor(host, key, t, { header: { jwk: key.privateJwk } })],
    ["another token's ath", (t) => proofFor(host, key, t, { claims: { ath: athOf(`${t}x`) } })],
    ["two DPoP headers", async (t) => [await proofFor(host, key, t), await proofFor(host, key, t)]],
    ["a value that is not a JWT", async () => "not-a-jwt"],
    ["iat 303 s early", (t) => proofFor(host, key, t, { iat: nowSeconds() - 303 })],
    ["iat 303 s late", (t) => proofFor(host, key, t, { iat: nowSeconds() + 303 })],
    [
      "alg none",
      async (t) => unsignedProof(key, { jti: "j", htm: host.method, htu: host.url, iat: nowSeconds(), ath: athOf(t) }),
    ],
    [
      "alg HS256",
      async (t) =>
        new CompactSign(
          Buffer.from(JSON.stringify({ jti: "h", htm: host.method, htu: host.url, iat: nowSeconds(), ath: athOf(t) })),
        )
          .setProtectedHeader({ typ: "dpop+jwt", alg: "HS256", jwk: key.publicJwk } as { alg: string })
          .sign(new Uint8Array(32).fill(7)),
    ],
  ])("refuses a proof with %s: 401 invalid_dpop_proof in the DPoP challenge", async (_, make) => {
    const token = boundToken(host);
    expectDpopRefusal(await dpop(await make(token), token), "invalid_dpop_proof");
  });

  it("refuses a replayed proof", async () => {
    const token = boundToken(host);
    const proof = await proofFor(host, key, token);
    expect((await dpop(proof, token)).status).toBe(200);
    expectDpopRefusal(await dpop(proof, token), "invalid_dpop_proof");
  });

  it("refuses a token bound to another key (cnf.jkt mismatch): invalid_token", async () => {
    const token = boundToken(host, otherKey);
    expectDpopRefusal(await dpop(await proofFor(host, key, token), token), "invalid_token");
  });

  it("refuses the DPoP scheme with a token that is not bound", async () => {
    const token = as.mint(host.url);
    expectDpopRefusal(await dpop(await proofFor(host, key, token), token), "invalid_token");
  });

  it("refuses a token for another audience, even with a valid proof: invalid_token in the DPoP challenge", async () => {
    const token = boundToken(host, key, { aud: "https://not-this-server.example.com/mcp" });
    expectDpopRefusal(await dpop(await proofFor(host, key, token), token), "invalid_token");
  });

  it("refuses a bound token sent as Bearer (downgrade): 401 invalid_token in the Bearer challenge", async () => {
    const answer = await open(host, { authorization: `Bearer ${boundToken(host)}` });
    expect(answer.status).toBe(401);
    const challenges = challengesOf(answer);
    expect(challenges["Bearer"]).toMatchObject({ error: "invalid_token" });
    expect(challenges["DPoP"]).toMatchObject({ algs: ALGS });
  });

  it("answers a DPoP token short of a scope with 403 insufficient_scope in the DPoP challenge (step-up)", async () => {
    const token = boundToken(host);
    const answer = await open(
      host,
      { authorization: `DPoP ${token}`, dpop: await proofFor(host, key, token) },
      host.url,
      { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "write_note", arguments: { text: "x" } } },
    );
    expect(answer.status).toBe(403);
    const challenges = challengesOf(answer);
    expect(challenges["DPoP"]).toMatchObject({ error: "insufficient_scope", scope: "mcp:read mcp:write" });
    expect(challenges["Bearer"]!["error"]).toBeUndefined();
    // The step-up token is accepted.
    const upgraded = boundToken(host, key, { scope: "mcp:read mcp:write" });
    const again = await open(
      host,
      { authorization: `DPoP ${upgraded}`, dpop: await proofFor(host, key, upgraded) },
      host.url,
      { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "write_note", arguments: { text: "x" } } },
    );
    expect(again.status).not.toBe(403);
    expect(again.status).not.toBe(401);
  });

  it("lets a browser send DPoP and read DPoP-Nonce (CORS)", async () => {
    const origin = new URL(host.url).origin;
    const preflight = await rawRequest(host.url, {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, dpop",
      },
    });
    expect(preflight.status).toBe(204);
    expect(headerList(preflight.headers["access-control-allow-headers"])).toContain("dpop");
    const answer = await open(host, { origin });
    expect(headerList(answer.headers["access-control-expose-headers"])).toContain("dpop-nonce");
  });
});

describe.each<HostName>(["express", "mcp-framework http-stream"])("%s with OAUTH_DPOP=required", (name) => {
  let host: RunningHost;
  beforeAll(async () => {
    host = await startHost(name, env("required"));
  });
  afterAll(() => host?.stop());

  it("publishes dpop_bound_access_tokens_required: true", async () => {
    const res = await fetch(
      `${new URL(host.url).origin}/.well-known/oauth-protected-resource${new URL(host.url).pathname}`,
    );
    expect(await res.json()).toMatchObject({
      dpop_signing_alg_values_supported: ALGS.split(" "),
      dpop_bound_access_tokens_required: true,
    });
  });

  it("refuses a Bearer token, bound or not, with the DPoP challenge alone", async () => {
    for (const token of [as.mint(host.url), boundToken(host)]) {
      const answer = await open(host, { authorization: `Bearer ${token}` });
      expect(answer.status).toBe(401);
      const challenges = challengesOf(answer);
      expect(Object.keys(challenges)).toEqual(["DPoP"]);
      expect(challenges["DPoP"]).toMatchObject({ algs: ALGS, scope: "mcp:read" });
    }
  });

  it("accepts a DPoP-bound token with its proof", async () => {
    const token = boundToken(host);
    expect((await open(host, { authorization: `DPoP ${token}`, dpop: await proofFor(host, key, token) })).status).toBe(
      200,
    );
  });
});

describe.each<HostName>(["express", "mcp-framework http-stream"])("%s with OAUTH_DPOP_NONCE_SECRET", (name) => {
  let host: RunningHost;
  beforeAll(async () => {
    host = await startHost(name, env("allowed", { OAUTH_DPOP_NONCE_SECRET: NONCE_SECRET }));
  });
  afterAll(() => host?.stop());

  it("asks for its nonce (401 use_dpop_nonce with DPoP-Nonce), accepts it, refuses another", async () => {
    const token = boundToken(host);
    const first = await open(host, { authorization: `DPoP ${token}`, dpop: await proofFor(host, key, token) });
    expect(first.status).toBe(401);
    expect(challengesOf(first)["DPoP"]).toMatchObject({ error: "use_dpop_nonce" });
    const nonce = first.headers["dpop-nonce"];
    expect(typeof nonce).toBe("string");
    const retry = await open(host, {
      authorization: `DPoP ${token}`,
      dpop: await proofFor(host, key, token, { nonce: nonce as string }),
    });
    expect(retry.status).toBe(200);
    const wrong = await open(host, {
      authorization: `DPoP ${token}`,
      dpop: await proofFor(host, key, token, { nonce: "definitely-not-the-server-nonce" }),
    });
    expect(wrong.status).toBe(401);
    expect(challengesOf(wrong)["DPoP"]).toMatchObject({ error: "use_dpop_nonce" });
    expect(wrong.headers["dpop-nonce"]).toBe(nonce);
  });
});

describe.each<HostName>(["mcp-framework sse", "hono"])("%s with OAUTH_DPOP=allowed", (name) => {
  let host: RunningHost;
  beforeAll(async () => {
    host = await startHost(name, env("allowed"));
  });
  afterAll(() => host?.stop());

  it("accepts a DPoP-bound token with a valid proof, and refuses that proof replayed", async () => {
    const token = boundToken(host);
    const proof = await proofFor(host, key, token);
    expect((await open(host, { authorization: `DPoP ${token}`, dpop: proof })).status).toBe(200);
    expectDpopRefusal(await open(host, { authorization: `DPoP ${token}`, dpop: proof }), "invalid_dpop_proof");
  });

  it("refuses a bound token sent as Bearer", async () => {
    const answer = await open(host, { authorization: `Bearer ${boundToken(host)}` });
    expect(answer.status).toBe(401);
    expect(challengesOf(answer)["Bearer"]).toMatchObject({ error: "invalid_token" });
  });

  it("refuses a proof signed by another key than cnf.jkt names", async () => {
    const token = boundToken(host);
    const proof = await dpopProof(otherKey, { htm: host.method, htu: host.url, accessToken: token }, nowSeconds());
    expectDpopRefusal(await open(host, { authorization: `DPoP ${token}`, dpop: proof }), "invalid_token");
  });
});
