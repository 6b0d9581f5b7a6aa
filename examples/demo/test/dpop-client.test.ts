/**
 * The reference DPoP client (examples/demo/src/dpop-client.ts): its proofs pass the
 * resource server's own check (@mcp-oauth/core's DpopProofChecker) for every algorithm it
 * offers; through the SDK v1 token functions it gets DPoP-bound tokens from the real local
 * authorization server, refreshes them with a proof, and answers that server's nonce; and
 * against a resource server built from core's DpopVerifier and dpopAnswerFor (the resource
 * server's wiring is not on this branch) it presents bound tokens with the DPoP scheme and
 * retries once on `use_dpop_nonce`.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createHash, randomBytes } from "node:crypto";
import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader } from "jose";
import {
  exchangeAuthorization,
  extractWWWAuthenticateParams,
  refreshAuthorization,
} from "@modelcontextprotocol/sdk/client/auth.js";
import {
  completeAuthorization,
  startLocalAuthorizationServer,
  type LocalAuthorizationServer,
} from "@mcp-oauth/local-authorization-server";
import { DpopProofChecker, DpopVerifier, dpopAnswerFor, resolveDpopOptions } from "@mcp-oauth/core/internal";
import { isMcpOAuthError } from "@mcp-oauth/core";
import { startStubServer, type StubServer } from "../../../test/helpers/stub-server.js";
import { DpopClient, htuOf, parseChallenges, type DpopClientAlgorithm } from "../src/dpop-client.js";

const RESOURCE = "http://127.0.0.1:3999/mcp";
const REDIRECT_URI = "http://127.0.0.1:1/callback";
const now = (): number => Math.floor(Date.now() / 1000);

const checker = (resource = "https://mcp.example.com/mcp"): DpopProofChecker =>
  new DpopProofChecker(
    {
      algorithms: new Set(["ES256", "EdDSA", "PS256", "RS256"]),
      iatWindowSeconds: 300,
      clockToleranceSeconds: 0,
      maxProofLength: 8192,
      maxJtiLength: 256,
    },
    new URL(resource),
  );

describe("proofs of the reference DPoP client", () => {
  it.each(["ES256", "EdDSA", "PS256", "RS256"] as DpopClientAlgorithm[])(
    "pass the resource server's check of RFC 9449 section 4.3 (%s)",
    async (alg) => {
      const client = await DpopClient.create({ alg });
      expect(client.thumbprint).toBe(await calculateJwkThumbprint(client.publicJwk, "sha256"));
      const proof = await client.proof({
        method: "POST",
        url: "https://mcp.example.com/mcp?session=1#frag",
        accessToken: "token-value",
      });
      const checked = checker().check(
        {
          method: "POST",
          proofs: [proof],
          requestTarget: "/mcp?session=1",
          accessToken: "token-value",
          boundThumbprint: client.thumbprint,
        },
        now(),
      );
      expect(checked.thumbprint).toBe(client.thumbprint);
    },
  );

  it("carry a fresh jti and iat, htu without query and fragment, and a public jwk only", async () => {
    let clock = 1_800_000_000_000;
    const client = await DpopClient.create({ now: () => clock });
    const first = await client.proof({ method: "GET", url: "https://mcp.example.com/mcp?x=1#y" });
    clock += 2000;
    const second = await client.proof({ method: "GET", url: "https://mcp.example.com/mcp" });
    const [a, b] = [decodeJwt(first), decodeJwt(second)];
    expect(a["jti"]).not.toBe(b["jti"]);
    expect([a["iat"], b["iat"]]).toEqual([1_800_000_000, 1_800_000_002]);
    expect(a["htu"]).toBe("https://mcp.example.com/mcp");
    expect(a["ath"]).toBeUndefined();
    const header = decodeProtectedHeader(first);
    expect(header.typ).toBe("dpop+jwt");
    expect(Object.keys(header.jwk!).sort()).toEqual(["crv", "kty", "x", "y"]);
    expect(htuOf("HTTPS://MCP.Example.com:443/mcp?q#f")).toBe("https://mcp.example.com/mcp");
  });

  it("reads every challenge of a WWW-Authenticate holding Bearer and DPoP", () => {
    expect(
      parseChallenges(
        'Bearer resource_metadata="https://m/.well-known/x", scope="a b", DPoP algs="ES256 PS256", resource_metadata="https://m/.well-known/x", error="insufficient_scope", error_description="say \\"more\\""',
      ),
    ).toEqual([
      { scheme: "Bearer", params: { resource_metadata: "https://m/.well-known/x", scope: "a b" } },
      {
        scheme: "DPoP",
        params: {
          algs: "ES256 PS256",
          resource_metadata: "https://m/.well-known/x",
          error: "insufficient_scope",
          error_description: 'say "more"',
        },
      },
    ]);
  });
});

/** A registered public client, a code, and the SDK v1 token exchange through the DPoP fetch. */
async function exchange(as: LocalAuthorizationServer, fetchFn: typeof fetch) {
  const registration = await fetch(`${as.issuer}/reg`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      redirect_uris: [REDIRECT_URI],
      grant_types: ["authorization_code", "refresh_token"],
      token_endpoint_auth_method: "none",
    }),
  });
  const clientInformation = (await registration.json()) as { client_id: string };
  const verifier = randomBytes(32).toString("base64url");
  const authorize = new URL(`${as.issuer}/auth`);
  authorize.search = new URLSearchParams({
    response_type: "code",
    client_id: clientInformation.client_id,
    redirect_uri: REDIRECT_URI,
    scope: "mcp:read",
    resource: RESOURCE,
    state: "s",
    code_challenge: createHash("sha256").update(verifier).digest("base64url"),
    code_challenge_method: "S256",
  }).toString();
  const callback = await completeAuthorization(authorize, { redirectUri: REDIRECT_URI });
  const metadata = await (await fetch(`${as.issuer}/.well-known/oauth-authorization-server`)).json();
  const tokens = await exchangeAuthorization(as.issuer, {
    metadata,
    clientInformation,
    authorizationCode: callback.searchParams.get("code")!,
    codeVerifier: verifier,
    redirectUri: REDIRECT_URI,
    resource: new URL(RESOURCE),
    fetchFn,
  });
  return { tokens, metadata, clientInformation };
}

describe("the reference DPoP client at the real local authorization server (SDK v1 token functions)", () => {
  let as: LocalAuthorizationServer;
  beforeAll(async () => {
    as = await startLocalAuthorizationServer({ resources: [RESOURCE] });
  });
  afterAll(async () => {
    await as?.close();
  });

  it("gets a token bound to its key, and refreshes it with a proof of the same key", async () => {
    const client = await DpopClient.create();
    const fetchFn = client.fetch();
    const { tokens, metadata, clientInformation } = await exchange(as, fetchFn);
    expect(tokens.token_type).toBe("DPoP");
    expect(decodeJwt(tokens.access_token)["cnf"]).toEqual({ jkt: client.thumbprint });
    expect(client.isBound(tokens.access_token)).toBe(true);

    const refreshed = await refreshAuthorization(as.issuer, {
      metadata,
      clientInformation,
      refreshToken: tokens.refresh_token!,
      resource: new URL(RESOURCE),
      fetchFn,
    });
    expect(refreshed.token_type).toBe("DPoP");
    expect(decodeJwt(refreshed.access_token)["cnf"]).toEqual({ jkt: client.thumbprint });
    expect(client.isBound(refreshed.access_token)).toBe(true);
  });

  it("leaves a token request without a proof to a fetch that is not wrapped: a Bearer token, not recorded as bound", async () => {
    const client = await DpopClient.create();
    const { tokens } = await exchange(as, fetch);
    expect(tokens.token_type).toBe("Bearer");
    expect(client.isBound(tokens.access_token)).toBe(false);
  });

  it("answers the authorization server's use_dpop_nonce once, with the nonce it was given (section 8)", async () => {
    const withNonces = await startLocalAuthorizationServer({ resources: [RESOURCE], dpop: { requireNonce: true } });
    try {
      const client = await DpopClient.create();
      const { tokens } = await exchange(withNonces, client.fetch());
      expect(tokens.token_type).toBe("DPoP");
      expect(withNonces.requestCounts.get("/token")).toBe(2);
      expect(client.nonceFor(`${withNonces.issuer}/token`)).toEqual(expect.any(String));
      expect(client.nonceFor(RESOURCE)).toBeUndefined();
    } finally {
      await withNonces.close();
    }
  });
});

describe("the reference DPoP client at a resource server (core's DpopVerifier, nonces on)", () => {
  let stub: StubServer;
  let client: DpopClient;
  let token: string;
  let verifier: DpopVerifier;
  const seen: { authorization: string | undefined; proofs: number; nonce: unknown }[] = [];

  beforeAll(async () => {
    stub = await startStubServer();
    client = await DpopClient.create();
    // A token the client holds as bound: recorded from a token response, as the wrapper does.
    token = randomBytes(24).toString("base64url");
    client.recordTokenResponse({ access_token: token, token_type: "DPoP" });
    verifier = new DpopVerifier(
      resolveDpopOptions({ mode: "allowed", nonce: { secrets: [randomBytes(32).toString("base64")] } }),
      { resourceUrl: new URL(`${stub.url}/mcp`) },
    );
    const context = { resourceMetadataUrl: `${stub.url}/.well-known/oauth-protected-resource/mcp`, requiredScopes: [] };
    stub.handle("/mcp", (req, res) => {
      const authorization = req.headers.authorization;
      const proofs = req.headersDistinct["dpop"];
      seen.push({
        authorization: authorization?.split(" ")[0],
        proofs: proofs?.length ?? 0,
        nonce: proofs?.[0] ? decodeJwt(proofs[0])["nonce"] : undefined,
      });
      const answer = (error: unknown): void => {
        if (!isMcpOAuthError(error)) throw error;
        const refused = dpopAnswerFor(
          error,
          { ...context, retryAfterSeconds: 1 },
          { mode: "allowed", algorithms: verifier.algorithms, scheme: "DPoP", nonce: verifier.nonce() },
        );
        res.writeHead(refused.status, refused.headers).end(JSON.stringify(refused.body));
      };
      try {
        const verified = verifier.verify({
          method: req.method!,
          proofs,
          requestTarget: req.url!,
          accessToken: authorization!.slice("DPoP ".length),
          boundThumbprint: client.thumbprint,
        }) as { thumbprint: string };
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(verified.thumbprint));
      } catch (error) {
        answer(error);
      }
    });
    stub.handle("/always-nonce", (_req, res) => {
      seen.push({ authorization: undefined, proofs: 0, nonce: undefined });
      res
        .writeHead(401, {
          "www-authenticate": 'DPoP algs="ES256", error="use_dpop_nonce"',
          "dpop-nonce": randomBytes(8).toString("hex"),
        })
        .end();
    });
    stub.handle("/forbidden", (_req, res) => {
      res
        .writeHead(403, {
          "www-authenticate": `DPoP algs="ES256", resource_metadata="${stub.url}/.well-known/oauth-protected-resource/mcp", scope="mcp:read mcp:write", error="insufficient_scope"`,
        })
        .end();
    });
  });
  afterAll(async () => {
    await stub?.close();
  });

  it("presents a bound token the SDK sends as Bearer with the DPoP scheme, and retries once on use_dpop_nonce", async () => {
    seen.length = 0;
    const response = await client.fetch()(`${stub.url}/mcp?probe=1`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: "{}",
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toBe(client.thumbprint);
    expect(seen.map((s) => [s.authorization, s.proofs, typeof s.nonce])).toEqual([
      ["DPoP", 1, "undefined"],
      ["DPoP", 1, "string"],
    ]);
    // The nonce is kept for the resource server's origin and used at once by the next proof.
    seen.length = 0;
    const next = await client.fetch()(`${stub.url}/mcp`, {
      method: "GET",
      headers: { authorization: `Bearer ${token}` },
    });
    expect(next.status).toBe(200);
    expect(seen).toHaveLength(1);
  });

  it("retries a use_dpop_nonce refusal only once", async () => {
    seen.length = 0;
    const response = await client.fetch()(`${stub.url}/always-nonce`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(401);
    expect(seen).toHaveLength(2);
  });

  it("leaves a token it does not hold as bound as it is: Bearer, no proof", async () => {
    seen.length = 0;
    const response = await client.fetch()(`${stub.url}/mcp`, { headers: { authorization: "Bearer another-token" } });
    expect(response.status).toBe(401);
    expect(seen[0]).toEqual({ authorization: "Bearer", proofs: 0, nonce: undefined });
  });

  it("shows SDK v1 a DPoP-only 403 challenge under the Bearer name, so that it can step up", async () => {
    const plain = await client.fetch()(`${stub.url}/forbidden`, { headers: { authorization: `Bearer ${token}` } });
    expect(extractWWWAuthenticateParams(plain).error).toBeUndefined();
    const forV1 = await client.fetch(fetch, { bearerChallengeForSdkV1: true })(`${stub.url}/forbidden`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(forV1.status).toBe(403);
    const params = extractWWWAuthenticateParams(forV1);
    expect(params.error).toBe("insufficient_scope");
    expect(params.scope).toBe("mcp:read mcp:write");
    expect(params.resourceMetadataUrl?.href).toBe(`${stub.url}/.well-known/oauth-protected-resource/mcp`);
    // The server's own challenge is still there, after the one SDK v1 reads.
    expect(forV1.headers.get("www-authenticate")).toMatch(/^Bearer .*, DPoP algs="ES256"/);
  });
});
