/**
 * DPoP at the local authorization server's token endpoint (RFC 9449 section 5), against the
 * real oidc-provider: a token request with a proof gets a token bound to the proof's key
 * (`cnf.jkt` in the JWT and in the introspection answer, `token_type` DPoP), a public
 * client's refresh token is bound to the same key, a request without a proof still gets a
 * Bearer token, and server nonces (section 8) work when asked for. Proofs are signed by jose
 * (test/helpers/dpop.ts), independently of the reference client.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createHash, randomBytes } from "node:crypto";
import { decodeJwt } from "jose";
import {
  completeAuthorization,
  DEFAULT_LOCAL_DPOP_ALGORITHMS,
  obtainAccessToken,
  startLocalAuthorizationServer,
  type LocalAuthorizationServer,
  type LocalAuthorizationServerOptions,
} from "@mcp-oauth/local-authorization-server";
import { dpopKey, dpopProof, type DpopKey } from "../../../test/helpers/dpop.js";

const RESOURCE = "http://127.0.0.1:3999/mcp";
const REDIRECT_URI = "http://127.0.0.1:1/callback";
const now = (): number => Math.floor(Date.now() / 1000);

interface TokenAnswer {
  status: number;
  body: Record<string, unknown>;
  nonce: string | null;
}

/** A registered public client and the code flow up to the code, as an MCP client runs it. */
class Client {
  clientId = "";
  verifier = "";
  constructor(readonly as: LocalAuthorizationServer) {}

  async register(): Promise<this> {
    const registration = await fetch(`${this.as.issuer}/reg`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        client_name: "dpop test",
        redirect_uris: [REDIRECT_URI],
        grant_types: ["authorization_code", "refresh_token"],
        token_endpoint_auth_method: "none",
      }),
    });
    this.clientId = ((await registration.json()) as { client_id: string }).client_id;
    return this;
  }

  async code(): Promise<string> {
    this.verifier = randomBytes(32).toString("base64url");
    const url = new URL(`${this.as.issuer}/auth`);
    url.search = new URLSearchParams({
      response_type: "code",
      client_id: this.clientId,
      redirect_uri: REDIRECT_URI,
      scope: "mcp:read",
      resource: RESOURCE,
      state: "s",
      code_challenge: createHash("sha256").update(this.verifier).digest("base64url"),
      code_challenge_method: "S256",
    }).toString();
    const callback = await completeAuthorization(url, { redirectUri: REDIRECT_URI });
    return callback.searchParams.get("code")!;
  }

  /** POST /token with `params`, and a `DPoP` header when `proof` is given. */
  async token(params: Record<string, string>, proof?: string): Promise<TokenAnswer> {
    const response = await fetch(`${this.as.issuer}/token`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        ...(proof !== undefined ? { dpop: proof } : {}),
      },
      body: new URLSearchParams({ client_id: this.clientId, ...params }).toString(),
    });
    return {
      status: response.status,
      body: (await response.json()) as Record<string, unknown>,
      nonce: response.headers.get("dpop-nonce"),
    };
  }

  async exchange(proof?: string): Promise<TokenAnswer> {
    const code = await this.code();
    return this.token(
      { grant_type: "authorization_code", code, redirect_uri: REDIRECT_URI, code_verifier: this.verifier },
      proof,
    );
  }
}

const tokenProof = (as: LocalAuthorizationServer, key: DpopKey, nonce?: string): Promise<string> =>
  dpopProof(key, { htm: "POST", htu: `${as.issuer}/token`, ...(nonce !== undefined ? { nonce } : {}) }, now());

async function introspect(as: LocalAuthorizationServer, token: string): Promise<Record<string, unknown>> {
  const { endpoint, clientId, clientSecret } = as.introspection;
  const response = await fetch(endpoint, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString("base64")}`,
    },
    body: new URLSearchParams({ token }).toString(),
  });
  return (await response.json()) as Record<string, unknown>;
}

async function withServer(
  options: LocalAuthorizationServerOptions,
  run: (as: LocalAuthorizationServer) => Promise<void>,
): Promise<void> {
  const as = await startLocalAuthorizationServer({ resources: [RESOURCE], ...options });
  try {
    await run(as);
  } finally {
    await as.close();
  }
}

describe("DPoP-bound tokens from the local authorization server (RFC 9449 section 5)", () => {
  let as: LocalAuthorizationServer;
  let key: DpopKey;
  beforeAll(async () => {
    as = await startLocalAuthorizationServer({ resources: [RESOURCE] });
    key = await dpopKey("ES256");
  });
  afterAll(async () => {
    await as?.close();
  });

  it("advertises the resource server's default proof algorithms (section 5.1)", async () => {
    const metadata = (await (await fetch(`${as.issuer}/.well-known/oauth-authorization-server`)).json()) as Record<
      string,
      unknown
    >;
    expect(metadata["dpop_signing_alg_values_supported"]).toEqual(["ES256", "PS256", "RS256", "EdDSA"]);
    expect(DEFAULT_LOCAL_DPOP_ALGORITHMS).toEqual(["ES256", "PS256", "RS256", "EdDSA"]);
  });

  it("binds the access token to the proof key: token_type DPoP and cnf.jkt (section 6.1)", async () => {
    const client = await new Client(as).register();
    const answer = await client.exchange(await tokenProof(as, key));
    expect(answer.status).toBe(200);
    expect(answer.body["token_type"]).toBe("DPoP");
    const claims = decodeJwt(answer.body["access_token"] as string);
    expect(claims["cnf"]).toEqual({ jkt: key.thumbprint });
    expect(claims["aud"]).toBe(RESOURCE);
  });

  it("still issues a plain Bearer token, with no cnf, when the request has no proof", async () => {
    const client = await new Client(as).register();
    const answer = await client.exchange();
    expect(answer.status).toBe(200);
    expect(answer.body["token_type"]).toBe("Bearer");
    expect(decodeJwt(answer.body["access_token"] as string)["cnf"]).toBeUndefined();
  });

  it("accepts PS256, RS256 and EdDSA proofs as well", async () => {
    for (const [alg, shape] of [
      ["PS256", { modulusLength: 2048 }],
      ["RS256", { modulusLength: 2048 }],
      ["EdDSA", { crv: "Ed25519" }],
    ] as const) {
      const other = await dpopKey(alg, shape);
      const client = await new Client(as).register();
      const answer = await client.exchange(await tokenProof(as, other));
      expect([alg, answer.status, answer.body["token_type"]]).toEqual([alg, 200, "DPoP"]);
      expect(decodeJwt(answer.body["access_token"] as string)["cnf"]).toEqual({ jkt: other.thumbprint });
    }
  });

  it("refuses a proof signed with an algorithm it does not accept (ES384: invalid_dpop_proof)", async () => {
    const client = await new Client(as).register();
    const answer = await client.exchange(await tokenProof(as, await dpopKey("ES384")));
    expect(answer.status).toBe(400);
    expect(answer.body["error"]).toBe("invalid_dpop_proof");
  });

  it("refuses a proof replayed at the token endpoint", async () => {
    const client = await new Client(as).register();
    const proof = await tokenProof(as, key);
    expect((await client.exchange(proof)).status).toBe(200);
    const replayed = await client.exchange(proof);
    expect(replayed.status).toBe(400);
    expect(replayed.body["error"]).toBe("invalid_grant");
  });

  it("binds the public client's refresh token to the key: refreshed with a proof of that key only", async () => {
    const client = await new Client(as).register();
    const first = await client.exchange(await tokenProof(as, key));
    const refreshToken = first.body["refresh_token"] as string;
    expect(typeof refreshToken).toBe("string");

    const bare = await client.token({ grant_type: "refresh_token", refresh_token: refreshToken });
    expect([bare.status, bare.body["error"]]).toEqual([400, "invalid_grant"]);
    const otherKey = await client.token(
      { grant_type: "refresh_token", refresh_token: refreshToken },
      await tokenProof(as, await dpopKey("ES256")),
    );
    expect([otherKey.status, otherKey.body["error"]]).toEqual([400, "invalid_grant"]);

    const refreshed = await client.token(
      { grant_type: "refresh_token", refresh_token: refreshToken },
      await tokenProof(as, key),
    );
    expect(refreshed.status).toBe(200);
    expect(refreshed.body["token_type"]).toBe("DPoP");
    expect(decodeJwt(refreshed.body["access_token"] as string)["cnf"]).toEqual({ jkt: key.thumbprint });
  });

  it("obtainAccessToken with a DPoP client's fetch gets a bound token (the proof rides on its token request)", async () => {
    const dpopFetch: typeof fetch = async (input, init) => {
      const url = new URL(input instanceof Request ? input.url : input);
      if (url.pathname !== "/token") return fetch(input, init);
      const headers = new Headers(init?.headers);
      headers.set("dpop", await tokenProof(as, key));
      return fetch(input, { ...init, headers });
    };
    const tokens = await obtainAccessToken(as.issuer, { resource: RESOURCE, fetch: dpopFetch });
    expect(tokens.token_type).toBe("DPoP");
    expect(decodeJwt(tokens.access_token)["cnf"]).toEqual({ jkt: key.thumbprint });
  });

  it("reports the binding in the introspection answer of an opaque token (section 6.2)", async () => {
    await withServer({ accessTokenFormat: "opaque" }, async (opaque) => {
      const client = await new Client(opaque).register();
      const answer = await client.exchange(await tokenProof(opaque, key));
      expect(answer.body["token_type"]).toBe("DPoP");
      const introspection = await introspect(opaque, answer.body["access_token"] as string);
      expect(introspection["active"]).toBe(true);
      expect(introspection["cnf"]).toEqual({ jkt: key.thumbprint });
      expect(introspection["token_type"]).toBe("DPoP");
    });
  });
});

describe("the dpop options of the local authorization server", () => {
  it("advertises and accepts only the algorithms given", async () => {
    await withServer({ dpop: { algorithms: ["EdDSA"] } }, async (as) => {
      const metadata = (await (await fetch(`${as.issuer}/.well-known/oauth-authorization-server`)).json()) as Record<
        string,
        unknown
      >;
      expect(metadata["dpop_signing_alg_values_supported"]).toEqual(["EdDSA"]);
      const client = await new Client(as).register();
      const refused = await client.exchange(await tokenProof(as, await dpopKey("ES256")));
      expect([refused.status, refused.body["error"]]).toEqual([400, "invalid_dpop_proof"]);
    });
  });

  it("refuses an empty algorithm list at start-up", async () => {
    await expect(startLocalAuthorizationServer({ dpop: { algorithms: [] } })).rejects.toThrow(/dpop\.algorithms/);
  });

  it("with requireNonce, answers a proof without a nonce 400 use_dpop_nonce and accepts the retry with it (section 8)", async () => {
    await withServer({ dpop: { requireNonce: true } }, async (as) => {
      const key = await dpopKey("ES256");
      const client = await new Client(as).register();
      const code = await client.code();
      const params = {
        grant_type: "authorization_code",
        code,
        redirect_uri: REDIRECT_URI,
        code_verifier: client.verifier,
      };
      const challenged = await client.token(params, await tokenProof(as, key));
      expect([challenged.status, challenged.body["error"]]).toEqual([400, "use_dpop_nonce"]);
      expect(challenged.nonce).toEqual(expect.any(String));
      const stale = await client.token(params, await tokenProof(as, key, "not-a-nonce-of-this-server"));
      expect([stale.status, stale.body["error"]]).toEqual([400, "use_dpop_nonce"]);
      const retried = await client.token(params, await tokenProof(as, key, challenged.nonce!));
      expect(retried.status).toBe(200);
      expect(retried.body["token_type"]).toBe("DPoP");
    });
  });

  it("without requireNonce, sends no DPoP-Nonce", async () => {
    await withServer({}, async (as) => {
      const client = await new Client(as).register();
      const answer = await client.exchange(await tokenProof(as, await dpopKey("ES256")));
      expect(answer.status).toBe(200);
      expect(answer.nonce).toBeNull();
    });
  });
});
