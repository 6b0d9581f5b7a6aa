/**
 * DPoP in `ResourceServer` (RFC 9449): the token's verdict keeps its cache while the proof is
 * checked on every request; `cnf.jkt` from a JWT or an introspection answer; what `authInfo`
 * says; the answers by scheme; the options, the metadata and the environment.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import {
  McpOAuthConfigError,
  McpOAuthError,
  optionsFromEnv,
  ResourceServer,
  type AuthInfo,
  type AuthInfoExtra,
  type McpOAuthEvent,
  type McpOAuthOptions,
  type TokenRequest,
} from "../src/index.js";
import { MemoryReplayStore } from "../src/internal.js";
import {
  startTestAuthorizationServer,
  type TestAuthorizationServer,
} from "../../../test/helpers/authorization-server.js";
import { dpopKey, dpopProof, splitChallenges, type DpopKey } from "../../../test/helpers/dpop.js";
import { json, startStubServer, type StubServer } from "../../../test/helpers/stub-server.js";

const RESOURCE = "https://mcp.example.com/mcp";
const now = (): number => Math.floor(Date.now() / 1000);

let as: TestAuthorizationServer;
let key: DpopKey;
beforeAll(async () => {
  [as, key] = await Promise.all([startTestAuthorizationServer(), dpopKey("ES256")]);
});
afterAll(() => as?.close());

/** Options with `dpop` (`null`: none, DPoP off). */
const options = (dpop: McpOAuthOptions["dpop"] | null = { mode: "allowed" }): McpOAuthOptions => ({
  resource: RESOURCE,
  authorizationServers: [as.issuer],
  allowInsecureHttp: true,
  ...(dpop === null ? {} : { dpop }),
});

async function dpopRequest(token: string, proof?: string): Promise<TokenRequest> {
  return {
    method: "POST",
    url: "/mcp",
    headers: {
      authorization: `DPoP ${token}`,
      dpop: proof ?? (await dpopProof(key, { htu: RESOURCE, accessToken: token }, now())),
    },
  };
}

const codeOf = async (run: () => Promise<unknown>): Promise<string> => {
  try {
    await run();
    return "ok";
  } catch (error) {
    if (error instanceof McpOAuthError) return error.code;
    throw error;
  }
};

describe("the verdict cache and the proof", () => {
  it("validates the token once, and checks each request's proof (a replay is refused while the verdict is cached)", async () => {
    const server = new ResourceServer(options());
    const token = as.mint(RESOURCE, { cnf: { jkt: key.thumbprint } });
    const first = await server.authenticate(await dpopRequest(token));
    const proof = await dpopProof(key, { htu: RESOURCE, accessToken: token }, now());
    await server.authenticate(await dpopRequest(token, proof));
    expect(server.stats()).toMatchObject({ validations: 1, cacheHits: 1 });
    expect(await codeOf(async () => server.authenticate(await dpopRequest(token, proof)))).toBe("dpop_proof_replayed");
    expect(server.stats().validations).toBe(1);
    expect((first.extra as unknown as AuthInfoExtra).dpop).toEqual({ jkt: key.thumbprint });
  });

  it("answers a cached token synchronously with the in-memory replay store", async () => {
    const server = new ResourceServer(options());
    const token = as.mint(RESOURCE, { cnf: { jkt: key.thumbprint } });
    await server.authenticate(await dpopRequest(token));
    const result = server.check(await dpopRequest(token));
    expect(result).not.toBeInstanceOf(Promise);
    expect(((result as AuthInfo).extra as unknown as AuthInfoExtra).dpop?.jkt).toBe(key.thumbprint);
  });

  it("gives each request its own authInfo: a Bearer token's has no dpop", async () => {
    const server = new ResourceServer(options());
    const token = as.mint(RESOURCE);
    const auth = await server.authenticate({ headers: { authorization: `Bearer ${token}` } });
    expect((auth.extra as unknown as AuthInfoExtra).dpop).toBeUndefined();
    expect(server.successHeaders(auth)).toBeUndefined();
  });

  it("refuses a bound token as Bearer even when its verdict is cached, and a DPoP request without method or target", async () => {
    const server = new ResourceServer(options());
    const token = as.mint(RESOURCE, { cnf: { jkt: key.thumbprint } });
    await server.authenticate(await dpopRequest(token));
    expect(await codeOf(() => server.authenticate({ headers: { authorization: `Bearer ${token}` } }))).toBe(
      "dpop_bound_token_as_bearer",
    );
    const request = await dpopRequest(token);
    expect(await codeOf(() => server.authenticate({ ...request, method: undefined }))).toBe("dpop_method_mismatch");
    expect(await codeOf(() => server.authenticate({ ...request, url: undefined }))).toBe("dpop_uri_mismatch");
  });

  it("reports a DPoP refusal of an accepted token as dpop_rejected, and counts it (sync and async paths)", async () => {
    const events: McpOAuthEvent[] = [];
    const server = new ResourceServer({ ...options(), onEvent: (event) => events.push(event) });
    const token = as.mint(RESOURCE, { cnf: { jkt: key.thumbprint }, sub: "alice" });
    // The first request validates (async path), the second is served by the cache (sync path).
    expect(await codeOf(() => server.authenticate({ headers: { authorization: `Bearer ${token}` } }))).toBe(
      "dpop_bound_token_as_bearer",
    );
    const replayed = await dpopRequest(token);
    await server.authenticate(replayed);
    expect(await codeOf(() => server.authenticate(replayed))).toBe("dpop_proof_replayed");
    const types = events
      .map((event) => event.type)
      .filter((type) => type.startsWith("token_") || type.startsWith("dpop_"));
    expect(types).toEqual(["token_accepted", "dpop_rejected", "token_accepted", "token_accepted", "dpop_rejected"]);
    expect(events.filter((event) => event.type === "dpop_rejected")).toEqual([
      { type: "dpop_rejected", code: "dpop_bound_token_as_bearer", clientId: expect.any(String), sub: "alice" },
      { type: "dpop_rejected", code: "dpop_proof_replayed", clientId: expect.any(String), sub: "alice" },
    ]);
    expect(server.stats()).toMatchObject({ accepted: 3, dpopRejected: 2 });
    expect(JSON.stringify(events)).not.toContain(token);
  });

  it("takes the path of originalUrl (a mounted router's req.url lost it), never the Host header", async () => {
    const server = new ResourceServer(options());
    const token = as.mint(RESOURCE, { cnf: { jkt: key.thumbprint } });
    const request = await dpopRequest(token);
    await expect(server.authenticate({ ...request, url: "/", originalUrl: "/mcp" })).resolves.toBeDefined();
    const spoofed = await dpopRequest(
      token,
      await dpopProof(key, { htu: "https://evil.example/mcp", accessToken: token }, now()),
    );
    expect(
      await codeOf(() => server.authenticate({ ...spoofed, headers: { ...spoofed.headers, host: "evil.example" } })),
    ).toBe("dpop_uri_mismatch");
  });

  it("refuses a cnf that is not an object or a jkt that is no thumbprint as an invalid token", async () => {
    const server = new ResourceServer(options());
    for (const cnf of ["x", { jkt: "short" }]) {
      const token = as.mint(RESOURCE, { cnf });
      expect(await codeOf(async () => server.authenticate(await dpopRequest(token)))).toBe("claim_invalid");
    }
  });

  it("with DPoP off, refuses the DPoP scheme and still a bound token as Bearer (RFC 9449 section 7.2: it proves nothing)", async () => {
    const server = new ResourceServer(options(null));
    const token = as.mint(RESOURCE, { cnf: { jkt: key.thumbprint } });
    expect(await codeOf(async () => server.authenticate(await dpopRequest(token)))).toBe("unsupported_scheme");
    // Both the validating (async) and the cached (sync) path.
    const asBearer = { headers: { authorization: `Bearer ${token}` } };
    expect(await codeOf(() => server.authenticate(asBearer))).toBe("dpop_bound_token_as_bearer");
    expect(await codeOf(() => server.authenticate(asBearer))).toBe("dpop_bound_token_as_bearer");
    expect(server.answer(new McpOAuthError("dpop_bound_token_as_bearer", "x")).headers["WWW-Authenticate"]).toMatch(
      /^Bearer .*error="invalid_token"/,
    );
    const unbound = as.mint(RESOURCE);
    expect(await codeOf(() => server.authenticate({ headers: { authorization: `Bearer ${unbound}` } }))).toBe("ok");
  });
});

describe("nonces (RFC 9449 sections 8 and 9)", () => {
  it("asks for the nonce, accepts it, and hands a fresh one on an accepted answer once it is past half its life", async () => {
    const t0 = Date.now();
    const clock = jest.spyOn(Date, "now").mockReturnValue(t0);
    try {
      const server = new ResourceServer(options({ mode: "allowed", nonce: { secrets: "s".repeat(32) } }));
      const token = as.mint(RESOURCE, { cnf: { jkt: key.thumbprint } });
      const refused = await server.authenticate(await dpopRequest(token)).catch((error: unknown) => error);
      expect(refused).toMatchObject({ code: "dpop_nonce_required" });
      const nonce = server.answer(refused, await dpopRequest(token)).headers["DPoP-Nonce"]!;
      const proof = (at: number): Promise<string> =>
        dpopProof(key, { htu: RESOURCE, accessToken: token, nonce }, Math.floor(at / 1000));
      const fresh = await server.authenticate(await dpopRequest(token, await proof(t0)));
      expect(server.successHeaders(fresh)).toBeUndefined();
      clock.mockReturnValue(t0 + 200_000);
      const aging = await server.authenticate(await dpopRequest(token, await proof(t0 + 200_000)));
      const next = server.successHeaders(aging)?.["DPoP-Nonce"];
      expect(next).toMatch(/^[A-Za-z0-9_-]{50}$/);
      expect(next).not.toBe(nonce);
      clock.mockReturnValue(t0 + 301_000);
      expect(await codeOf(async () => server.authenticate(await dpopRequest(token, await proof(t0 + 301_000))))).toBe(
        "dpop_nonce_invalid",
      );
    } finally {
      clock.mockRestore();
    }
  });
});

describe("cnf.jkt in an introspection answer (RFC 9449 section 6.2)", () => {
  let stub: StubServer;
  beforeAll(async () => {
    stub = await startStubServer();
  });
  afterAll(() => stub.close());

  const server = (): ResourceServer =>
    new ResourceServer({
      resource: RESOURCE,
      authorizationServers: [stub.url],
      validation: { type: "introspection" },
      introspection: { endpoint: `${stub.url}/introspect`, clientId: "rs", clientSecret: "s3cret" },
      dpop: { mode: "allowed" },
    });

  it("binds an opaque token to the key the answer names", async () => {
    stub.handle("/introspect", json({ active: true, aud: RESOURCE, exp: now() + 60, cnf: { jkt: key.thumbprint } }));
    const rs = server();
    const auth = await rs.authenticate(await dpopRequest("opaque-token"));
    expect((auth.extra as unknown as AuthInfoExtra).dpop).toEqual({ jkt: key.thumbprint });
    expect(await codeOf(() => rs.authenticate({ headers: { authorization: "Bearer opaque-token" } }))).toBe(
      "dpop_bound_token_as_bearer",
    );
    const other = await dpopKey("ES256");
    const wrong = await dpopProof(other, { htu: RESOURCE, accessToken: "opaque-token" }, now());
    expect(await codeOf(async () => rs.authenticate(await dpopRequest("opaque-token", wrong)))).toBe(
      "dpop_key_mismatch",
    );
  });

  it("refuses the DPoP scheme for an answer without cnf", async () => {
    stub.handle("/introspect", json({ active: true, aud: RESOURCE, exp: now() + 60 }));
    expect(await codeOf(async () => server().authenticate(await dpopRequest("unbound-opaque")))).toBe(
      "dpop_token_not_bound",
    );
  });
});

describe("answers", () => {
  const challenges = (header: string | undefined): string[] =>
    splitChallenges(header ?? "").map((challenge) => challenge.split(" ")[0]!);

  it("puts the token error in the challenge of the scheme used, the proof error in DPoP's", () => {
    const server = new ResourceServer(options());
    const bearer = server.answer(new McpOAuthError("token_expired", "x"), { headers: { authorization: "Bearer t" } });
    expect(splitChallenges(bearer.headers["WWW-Authenticate"]!)).toEqual([
      expect.stringMatching(/^Bearer error="invalid_token"/),
      expect.not.stringContaining("error="),
    ]);
    const dpop = server.answer(new McpOAuthError("token_expired", "x"), { headers: { authorization: "DPoP t" } });
    expect(splitChallenges(dpop.headers["WWW-Authenticate"]!)).toEqual([
      expect.not.stringContaining("error="),
      expect.stringMatching(/^DPoP error="invalid_token"/),
    ]);
    const proof = server.answer(new McpOAuthError("dpop_iat_out_of_window", "x"));
    expect(proof.headers["WWW-Authenticate"]).toMatch(/, DPoP error="invalid_dpop_proof"/);
    expect(proof.headers["DPoP-Nonce"]).toBeUndefined();
  });

  it("sends the DPoP challenge alone when DPoP is required, with DPoP-Nonce when nonces are on", () => {
    const server = new ResourceServer(
      options({ mode: "required", algorithms: ["ES256"], nonce: { secrets: "x".repeat(32) } }),
    );
    const answer = server.answer(new McpOAuthError("dpop_scheme_required", "x"), {
      headers: { authorization: "Bearer t" },
    });
    expect(answer.status).toBe(401);
    expect(challenges(answer.headers["WWW-Authenticate"])).toEqual(["DPoP"]);
    expect(answer.headers["WWW-Authenticate"]).toContain('algs="ES256"');
    expect(answer.headers["WWW-Authenticate"]).not.toContain("error=");
    expect(answer.headers["DPoP-Nonce"]).toMatch(/^[A-Za-z0-9_-]{50}$/);
    // A 5xx asks for no proof: no nonce (an adapter may build that answer once).
    expect(server.answer(new McpOAuthError("internal_error", "x")).headers["DPoP-Nonce"]).toBeUndefined();
    expect(server.answer(new Error("bug")).headers["DPoP-Nonce"]).toBeUndefined();
  });

  it("answers as before with DPoP off: one Bearer challenge, no nonce", () => {
    const answer = new ResourceServer(options(null)).answer(new McpOAuthError("token_missing", "x"), {
      headers: {},
    });
    expect(challenges(answer.headers["WWW-Authenticate"])).toEqual(["Bearer"]);
  });
});

describe("options, metadata and environment", () => {
  it("publishes exactly what is enforced, and nothing with DPoP off", () => {
    expect(new ResourceServer(options({ mode: "required", algorithms: ["ES256", "EdDSA"] })).metadata).toMatchObject({
      dpop_signing_alg_values_supported: ["ES256", "EdDSA"],
      dpop_bound_access_tokens_required: true,
    });
    const off = new ResourceServer(options(null)).metadata;
    expect(off).not.toHaveProperty("dpop_signing_alg_values_supported");
    expect(off).not.toHaveProperty("dpop_bound_access_tokens_required");
  });

  it("refuses the DPoP metadata members by hand: they follow dpop", () => {
    for (const field of ["dpop_signing_alg_values_supported", "dpop_bound_access_tokens_required"]) {
      expect(() => new ResourceServer({ ...options(), metadata: { [field]: true } })).toThrow(
        expect.objectContaining({ option: `metadata.${field}` }),
      );
    }
  });

  it("refuses inconsistent DPoP options at start-up", () => {
    for (const [dpop, option] of [
      [{ mode: "required", algorithms: [] }, "dpop.algorithms"],
      [{ mode: "allowed", algorithms: ["HS256"] }, "dpop.algorithms"],
      [{ mode: "off", algorithms: ["ES256"] }, "dpop.algorithms"],
      [{ mode: "sometimes" }, "dpop.mode"],
      [{ mode: "allowed", nonce: { secrets: "short" } }, "dpop.nonce.secrets"],
    ] as const) {
      expect(() => new ResourceServer(options(dpop as never))).toThrow(McpOAuthConfigError);
      expect(() => new ResourceServer(options(dpop as never))).toThrow(expect.objectContaining({ option }));
    }
  });

  it("reads OAUTH_DPOP, OAUTH_DPOP_ALGS and OAUTH_DPOP_NONCE_SECRET", () => {
    const env = {
      OAUTH_RESOURCE: RESOURCE,
      OAUTH_AUTHORIZATION_SERVER: "https://as.example.com",
      OAUTH_DPOP: "required",
      OAUTH_DPOP_ALGS: "ES256,EdDSA",
      OAUTH_DPOP_NONCE_SECRET: "n".repeat(32),
    };
    expect(optionsFromEnv(env).dpop).toEqual({
      mode: "required",
      algorithms: ["ES256", "EdDSA"],
      nonce: { secrets: ["n".repeat(32)] },
    });
    expect(
      optionsFromEnv({ ...env, OAUTH_DPOP: undefined, OAUTH_DPOP_ALGS: undefined, OAUTH_DPOP_NONCE_SECRET: undefined })
        .dpop,
    ).toBeUndefined();
    expect(optionsFromEnv(env, { dpop: { mode: "off" } }).dpop).toEqual({ mode: "off" });
  });

  it("shares the replay store through OAUTH_CACHE_REDIS_URL when DPoP is on, and refuses the URL with nothing to build it", () => {
    const env = {
      OAUTH_RESOURCE: RESOURCE,
      OAUTH_AUTHORIZATION_SERVER: "https://as.example.com",
      OAUTH_DPOP: "allowed",
      OAUTH_CACHE_REDIS_URL: "redis://127.0.0.1:1",
    };
    const store = new MemoryReplayStore();
    const built: string[] = [];
    const options = optionsFromEnv(
      env,
      {},
      {
        redisCache: () => ({ get: () => undefined, set: () => undefined }),
        redisReplay: (url) => {
          built.push(url);
          return store;
        },
      },
    );
    expect(built).toEqual(["redis://127.0.0.1:1"]);
    expect(options.dpop?.replay?.store).toBe(store);
    expect(() =>
      optionsFromEnv(env, {}, { redisCache: () => ({ get: () => undefined, set: () => undefined }) }),
    ).toThrow(expect.objectContaining({ option: "OAUTH_CACHE_REDIS_URL" }));
    // DPoP off: the URL is the token cache's only.
    expect(
      optionsFromEnv(
        { ...env, OAUTH_DPOP: "off" },
        {},
        { redisCache: () => ({ get: () => undefined, set: () => undefined }) },
      ).dpop,
    ).toEqual({ mode: "off" });
  });
});
