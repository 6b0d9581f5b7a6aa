/**
 * The DPoP proof checks of RFC 9449 section 4.3, one defect at a time, with real keys and
 * proofs signed by jose (an implementation independent of ours). Each refusal must carry its
 * own code: a test that only looked for "refused" would pass when the wrong check fired.
 */
import { beforeAll, describe, expect, it } from "@jest/globals";
import { createHmac, generateKeyPairSync, KeyObject, sign } from "node:crypto";
import { calculateJwkThumbprint } from "jose";
import {
  accessTokenHash,
  DpopProofChecker,
  DpopVerifier,
  ProofKeyCache,
  resolveDpopOptions,
  signatureCheck,
  thumbprintInput,
  thumbprintOf,
  type DpopAlgorithm,
  type DpopOptions,
  type DpopProofInput,
} from "../src/internal.js";
import { McpOAuthError } from "../src/errors.js";
import { codeOf } from "../../../test/helpers/error-code.js";
import { signJwt } from "../../../test/helpers/jwt.js";
import {
  athOf,
  dpopKey,
  dpopProof,
  settle,
  tamperSignature,
  unsignedProof,
  type DpopKey,
  type ProofSpec,
} from "../../../test/helpers/dpop.js";

const NOW_MS = 1_750_000_000_000;
const NOW = NOW_MS / 1000;
const RESOURCE = new URL("https://mcp.example.com/mcp");
const TOKEN = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.access-token-signature";

let es256: DpopKey;
let other: DpopKey;

beforeAll(async () => {
  es256 = await dpopKey("ES256");
  other = await dpopKey("ES256");
});

function verifier(options: DpopOptions = {}, now: () => number = () => NOW_MS): DpopVerifier {
  return new DpopVerifier(resolveDpopOptions({ mode: "allowed", ...options }), { resourceUrl: RESOURCE, now });
}

function request(proofs: DpopProofInput["proofs"], overrides: Partial<DpopProofInput> = {}): DpopProofInput {
  return {
    method: "POST",
    proofs,
    requestTarget: "/mcp",
    accessToken: TOKEN,
    boundThumbprint: es256.thumbprint,
    ...overrides,
  };
}

/** The claims of a valid proof for the usual request. */
const validClaims = (): Record<string, unknown> => ({
  jti: Math.random().toString(36),
  htm: "POST",
  htu: RESOURCE.href,
  iat: NOW,
  ath: athOf(TOKEN),
});

/** A proof signed with node:crypto, for what jose refuses to sign (unknown alg, crit, small keys). */
function rawProof(header: Record<string, unknown>, claims: Record<string, unknown>, key: KeyObject): string {
  const input = `${Buffer.from(JSON.stringify(header)).toString("base64url")}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}`;
  const signature = sign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" });
  return `${input}.${signature.toString("base64url")}`;
}

/** A proof of `key` for the usual request, with `spec`'s changes. */
const proofOf = (key: DpopKey, spec: ProofSpec = {}): Promise<string> =>
  dpopProof(key, { accessToken: TOKEN, ...spec }, NOW);

async function outcome(
  proof: string | string[] | undefined,
  overrides: Partial<DpopProofInput> = {},
  options: DpopOptions = {},
): Promise<string> {
  return codeOf(settle(async () => verifier(options).verify(request(proof, overrides))));
}

describe("a valid proof", () => {
  it("is accepted, and the key thumbprint is the one jose computes (RFC 7638)", async () => {
    const result = await verifier().verify(request(await proofOf(es256)));
    expect(result.thumbprint).toBe(es256.thumbprint);
    expect(result.nextNonce).toBeUndefined();
  });

  it.each([
    ["PS256", {}],
    ["RS256", {}],
    ["EdDSA", {}],
  ])("is accepted signed with %s (a default algorithm)", async (alg, options) => {
    const key = await dpopKey(alg, options);
    const result = await verifier().verify(request(await proofOf(key), { boundThumbprint: key.thumbprint }));
    expect(result.thumbprint).toBe(key.thumbprint);
  });

  it.each(["ES384", "ES512", "PS384", "PS512", "RS384", "RS512", "Ed25519"])(
    "is accepted signed with %s when configured, refused by default",
    async (alg) => {
      const key = await dpopKey(alg);
      const proof = await proofOf(key);
      const input = { boundThumbprint: key.thumbprint };
      expect(await outcome(proof, input, { algorithms: [alg] })).toBe("ok");
      expect(await outcome(proof, input)).toBe("dpop_algorithm_not_allowed");
    },
  );

  it("computes the RFC 7638 section 3.1 thumbprint of the RFC's own key", () => {
    const jwk = {
      kty: "RSA",
      n: "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
      e: "AQAB",
      alg: "RS256",
      kid: "2011-04-29",
    };
    expect(thumbprintOf(thumbprintInput(jwk, "RS256"))).toBe("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
  });

  it("ignores members outside RFC 7638's required set in the thumbprint, as jose does", async () => {
    const decorated = { ...es256.publicJwk, kid: "k1", use: "sig", alg: "ES256", ext: true };
    expect(thumbprintOf(thumbprintInput(decorated, "ES256"))).toBe(await calculateJwkThumbprint(decorated));
    expect(await outcome(await proofOf(es256, { header: { jwk: decorated } }))).toBe("ok");
  });

  it("accepts the application/ prefix and any case in typ (RFC 7515 section 4.1.9)", async () => {
    expect(await outcome(await proofOf(es256, { header: { typ: "application/dpop+jwt" } }))).toBe("ok");
    expect(await outcome(await proofOf(es256, { header: { typ: "DPoP+JWT" } }))).toBe("ok");
  });

  it("computes ath as base64url(SHA-256(token))", () => {
    expect(accessTokenHash(TOKEN)).toBe(athOf(TOKEN));
  });
});

describe("the DPoP header", () => {
  it("must be there", async () => {
    expect(await outcome(undefined)).toBe("dpop_proof_missing");
    expect(await outcome([])).toBe("dpop_proof_missing");
  });

  it("must be one: two headers are refused, even two valid proofs", async () => {
    expect(await outcome([await proofOf(es256), await proofOf(es256)])).toBe("dpop_multiple_proofs");
  });

  it("must be one: two proofs folded into one value (Node's req.headers) are refused", async () => {
    expect(await outcome(`${await proofOf(es256)}, ${await proofOf(es256)}`)).toBe("dpop_multiple_proofs");
  });

  it.each([
    ["not a JWT", "this-is-not-a-jwt"],
    ["empty", ""],
    ["two parts", "eyJhbGciOiJFUzI1NiJ9.eyJqdGkiOiJ4In0"],
    ["four parts", "a.b.c.d"],
    ["five parts (a JWE)", "a.b.c.d.e"],
    ["header not base64url", "e+J.eyJ9.sig"],
    ["header not JSON", `${Buffer.from("not json").toString("base64url")}.e30.c2ln`],
    ["header a JSON array", `${Buffer.from("[1]").toString("base64url")}.e30.c2ln`],
  ])("refuses a proof that is %s", async (_, proof) => {
    expect(await outcome(proof)).toBe("dpop_proof_malformed");
  });

  it("refuses a proof longer than maxProofLength", async () => {
    const proof = await proofOf(es256, { claims: { padding: "x".repeat(600) } });
    expect(await outcome(proof, {}, { maxProofLength: 512 })).toBe("dpop_proof_malformed");
    expect(await outcome(proof, {}, { maxProofLength: 2048 })).toBe("ok");
  });

  it("refuses a payload that is not a JSON object, once the signature verified", async () => {
    const proof = await proofOf(es256);
    const [header] = proof.split(".");
    // Re-signed by jose with a non-object payload.
    const { CompactSign } = await import("jose");
    const signed = await new CompactSign(Buffer.from("[1,2]"))
      .setProtectedHeader(JSON.parse(Buffer.from(header!, "base64url").toString()) as { alg: string })
      .sign(es256.privateKey);
    expect(await outcome(signed)).toBe("dpop_proof_malformed");
  });
});

describe("the proof header", () => {
  it.each([["jwt"], ["at+jwt"], [undefined], [7]])("refuses typ %p", async (typ) => {
    const proof = await proofOf(es256, typ === undefined ? { omit: ["typ"] } : { header: { typ } });
    expect(await outcome(proof)).toBe("dpop_proof_type_invalid");
  });

  it("refuses alg none", async () => {
    const proof = unsignedProof(es256, { jti: "n", htm: "POST", htu: RESOURCE.href, iat: NOW, ath: athOf(TOKEN) });
    expect(await outcome(proof)).toBe("dpop_algorithm_not_allowed");
  });

  it("refuses HS256, signed with a secret (a MAC proves no private key)", async () => {
    const header = Buffer.from(JSON.stringify({ typ: "dpop+jwt", alg: "HS256", jwk: { kty: "oct", k: "c2VjcmV0" } }));
    const claims = Buffer.from(
      JSON.stringify({ jti: "h", htm: "POST", htu: RESOURCE.href, iat: NOW, ath: athOf(TOKEN) }),
    );
    const input = `${header.toString("base64url")}.${claims.toString("base64url")}`;
    const proof = `${input}.${createHmac("sha256", "secret").update(input).digest("base64url")}`;
    expect(await outcome(proof)).toBe("dpop_algorithm_not_allowed");
  });

  it("refuses an algorithm off the allowlist, and one nobody knows", async () => {
    expect(await outcome(await proofOf(es256), {}, { algorithms: ["RS256"] })).toBe("dpop_algorithm_not_allowed");
    const es256Private = KeyObject.from(es256.privateKey);
    const unknown = rawProof({ typ: "dpop+jwt", alg: "ES256K", jwk: es256.publicJwk }, validClaims(), es256Private);
    expect(await outcome(unknown)).toBe("dpop_algorithm_not_allowed");
    const noAlg = rawProof({ typ: "dpop+jwt", jwk: es256.publicJwk }, validClaims(), es256Private);
    expect(await outcome(noAlg)).toBe("dpop_algorithm_not_allowed");
  });

  it("refuses a critical header it does not understand (RFC 7515 section 4.1.11)", async () => {
    const header = { typ: "dpop+jwt", alg: "ES256", jwk: es256.publicJwk, crit: ["exp"], exp: NOW + 60 };
    const proof = rawProof(header, validClaims(), KeyObject.from(es256.privateKey));
    expect(
      await outcome(rawProof({ ...header, crit: undefined }, validClaims(), KeyObject.from(es256.privateKey))),
    ).toBe("ok");
    expect(await outcome(proof)).toBe("dpop_proof_malformed");
  });

  it("refuses a proof without jwk", async () => {
    expect(await outcome(await proofOf(es256, { omit: ["jwk"] }))).toBe("dpop_key_invalid");
  });

  it("refuses the whole private key in jwk", async () => {
    expect(await outcome(await proofOf(es256, { header: { jwk: es256.privateJwk } }))).toBe("dpop_key_invalid");
  });

  it.each(["d", "p", "q", "dp", "dq", "qi", "oth", "k"])("refuses a jwk with the private member %s", async (member) => {
    const jwk = { ...es256.publicJwk, [member]: "AQAB" };
    expect(await outcome(await proofOf(es256, { header: { jwk } }))).toBe("dpop_key_invalid");
  });

  it("refuses a key of another type than the algorithm's (RSA key, ES256)", async () => {
    const rsa = await dpopKey("RS256");
    expect(await outcome(await proofOf(es256, { header: { jwk: rsa.publicJwk } }))).toBe("dpop_key_invalid");
  });

  it("refuses a key on another curve than the algorithm's (P-384, ES256)", async () => {
    const p384 = await dpopKey("ES384");
    expect(await outcome(await proofOf(es256, { header: { jwk: p384.publicJwk } }))).toBe("dpop_key_invalid");
  });

  it.each([
    ["a string", "key"],
    ["an array", [1]],
    ["missing y", { kty: "EC", crv: "P-256", x: "AQAB" }],
    ["x not base64url", { kty: "EC", crv: "P-256", x: "a+b", y: "AQAB" }],
    ["x a number", { kty: "EC", crv: "P-256", x: 1, y: "AQAB" }],
  ])("refuses a jwk that is %s", async (_, jwk) => {
    expect(await outcome(await proofOf(es256, { header: { jwk } }))).toBe("dpop_key_invalid");
  });

  it("refuses a point that is not on the curve", async () => {
    const y = es256.publicJwk.y!;
    const moved = { ...es256.publicJwk, y: `${y.slice(0, 10)}${y[10] === "A" ? "B" : "A"}${y.slice(11)}` };
    expect(await outcome(await proofOf(es256, { header: { jwk: moved } }))).toBe("dpop_key_invalid");
  });

  it("refuses an RSA key under 2048 bits", async () => {
    const small = generateKeyPairSync("rsa", { modulusLength: 1024 });
    const jwk = small.publicKey.export({ format: "jwk" });
    const proof = signJwt({ typ: "dpop+jwt", alg: "RS256", jwk }, validClaims(), small.privateKey);
    const thumbprint = await calculateJwkThumbprint(jwk as never);
    expect(await outcome(proof, { boundThumbprint: thumbprint })).toBe("dpop_key_invalid");
    // The same proof with a 2048-bit key passes, so the size is what is refused.
    const big = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const bigJwk = big.publicKey.export({ format: "jwk" });
    const bigProof = signJwt({ typ: "dpop+jwt", alg: "RS256", jwk: bigJwk }, validClaims(), big.privateKey);
    expect(await outcome(bigProof, { boundThumbprint: await calculateJwkThumbprint(bigJwk as never) })).toBe("ok");
  });
});

describe("the signature", () => {
  it("refuses a tampered signature", async () => {
    expect(await outcome(tamperSignature(await proofOf(es256)))).toBe("dpop_signature_invalid");
  });

  it("refuses a proof signed by another key than its jwk", async () => {
    expect(await outcome(await proofOf(es256, { signWith: other.privateKey }))).toBe("dpop_signature_invalid");
  });

  it("refuses a signature that is not base64url, or empty", async () => {
    const proof = await proofOf(es256);
    const input = proof.slice(0, proof.lastIndexOf("."));
    expect(await outcome(`${input}.`)).toBe("dpop_proof_malformed");
    expect(await outcome(`${input}.a+b`)).toBe("dpop_proof_malformed");
  });

  it("refuses a payload changed after signing", async () => {
    const proof = await proofOf(es256);
    const [header, , signature] = proof.split(".");
    const payload = Buffer.from(JSON.stringify({ jti: "x", htm: "POST", htu: RESOURCE.href, iat: NOW })).toString(
      "base64url",
    );
    expect(await outcome(`${header}.${payload}.${signature}`)).toBe("dpop_signature_invalid");
  });
});

describe("the claims", () => {
  it.each(["jti", "htm", "htu", "iat", "ath"])("refuses a proof without %s", async (claim) => {
    expect(await outcome(await proofOf(es256, { omit: [claim] }))).toBe("dpop_claim_missing");
  });

  it.each([
    ["jti", 12],
    ["jti", ""],
    ["jti", "j".repeat(257)],
    ["htm", ["POST"]],
    ["htu", null],
    ["iat", "1750000000"],
    ["iat", null],
    ["nonce", 5],
  ])("refuses %s = %p", async (claim, value) => {
    expect(await outcome(await proofOf(es256, { claims: { [claim]: value } }))).toBe("dpop_claim_invalid");
  });

  it("accepts a jti of maxJtiLength characters", async () => {
    expect(await outcome(await proofOf(es256, { jti: "j".repeat(256) }))).toBe("ok");
  });

  it.each([["GET"], ["post"], ["PUT"]])("refuses htm %s for a POST", async (htm) => {
    expect(await outcome(await proofOf(es256, { htm }))).toBe("dpop_method_mismatch");
  });

  it("checks htm against the request's method, whatever it is", async () => {
    expect(await outcome(await proofOf(es256, { htm: "GET" }), { method: "GET" })).toBe("ok");
  });

  it.each([
    ["an uppercase host and scheme", "HTTPS://MCP.Example.COM/mcp"],
    ["the default port", "https://mcp.example.com:443/mcp"],
    ["a query", "https://mcp.example.com/mcp?session=1"],
    ["a fragment", "https://mcp.example.com/mcp#part"],
    ["a percent-encoded unreserved character", "https://mcp.example.com/%6Dcp"],
    ["a dot segment", "https://mcp.example.com/a/../mcp"],
  ])("accepts htu with %s (RFC 3986 normalization)", async (_, htu) => {
    expect(await outcome(await proofOf(es256, { htu }))).toBe("ok");
  });

  it.each([
    ["another path", "https://mcp.example.com/other"],
    ["a trailing slash", "https://mcp.example.com/mcp/"],
    ["a path of another case", "https://mcp.example.com/MCP"],
    ["another host", "https://wrong.example.com/mcp"],
    ["another port", "https://mcp.example.com:8443/mcp"],
    ["plain http", "http://mcp.example.com/mcp"],
    ["a userinfo", "https://user@mcp.example.com/mcp"],
    ["our host as the userinfo of another", "https://mcp.example.com@evil.example/mcp"],
    ["no scheme", "//mcp.example.com/mcp"],
    ["a relative path", "/mcp"],
    ["a space", "https://mcp.example.com/m cp"],
  ])("refuses htu with %s", async (_, htu) => {
    expect(await outcome(await proofOf(es256, { htu }))).toBe("dpop_uri_mismatch");
  });

  it("builds the request URI from the configured resource and the request path, never from the client", async () => {
    // A query on the request does not count; an absolute-form target contributes its path only.
    expect(await outcome(await proofOf(es256), { requestTarget: "/mcp?session=1" })).toBe("ok");
    expect(await outcome(await proofOf(es256), { requestTarget: "http://evil.example/mcp" })).toBe("ok");
    const evil = await proofOf(es256, { htu: "http://evil.example/mcp" });
    expect(await outcome(evil, { requestTarget: "http://evil.example/mcp" })).toBe("dpop_uri_mismatch");
    expect(await outcome(await proofOf(es256), { requestTarget: "/other" })).toBe("dpop_uri_mismatch");
    expect(await outcome(await proofOf(es256), { requestTarget: "*" })).toBe("dpop_uri_mismatch");
  });

  it.each([
    [-303, "dpop_iat_out_of_window"],
    [303, "dpop_iat_out_of_window"],
    [-301, "dpop_iat_out_of_window"],
    [-300, "ok"],
    [300, "ok"],
    [0, "ok"],
  ])("iat %i s from now: %s (window 300 s, tolerance 0)", async (offset, expected) => {
    expect(await outcome(await proofOf(es256, { iat: NOW + offset }))).toBe(expected);
  });

  it("widens the window by clockToleranceSeconds and narrows it with iatWindowSeconds", async () => {
    expect(await outcome(await proofOf(es256, { iat: NOW - 303 }), {}, { clockToleranceSeconds: 5 })).toBe("ok");
    expect(await outcome(await proofOf(es256, { iat: NOW + 31 }), {}, { iatWindowSeconds: 30 })).toBe(
      "dpop_iat_out_of_window",
    );
  });

  it("refuses an ath of another token, and a wrong one", async () => {
    expect(await outcome(await proofOf(es256, { accessToken: `${TOKEN}x` }))).toBe("dpop_ath_mismatch");
    expect(await outcome(await proofOf(es256, { claims: { ath: "not-the-right-hash" } }))).toBe("dpop_ath_mismatch");
  });
});

describe("the key binding", () => {
  it("refuses a token bound to another key (cnf.jkt mismatch)", async () => {
    expect(await outcome(await proofOf(es256), { boundThumbprint: other.thumbprint })).toBe("dpop_key_mismatch");
  });

  it("refuses a token bound to no key", async () => {
    expect(await outcome(await proofOf(es256), { boundThumbprint: undefined })).toBe("dpop_token_not_bound");
  });
});

describe("replay", () => {
  it("accepts a proof once", async () => {
    const v = verifier();
    const proof = await proofOf(es256);
    expect(await codeOf(settle(async () => v.verify(request(proof))))).toBe("ok");
    expect(await codeOf(settle(async () => v.verify(request(proof))))).toBe("dpop_proof_replayed");
  });

  it("refuses another proof of the same key with a jti already used, not another key's", async () => {
    const v = verifier();
    expect(await codeOf(settle(async () => v.verify(request(await proofOf(es256, { jti: "same" })))))).toBe("ok");
    expect(
      await codeOf(settle(async () => v.verify(request(await proofOf(es256, { jti: "same", htm: "POST" }))))),
    ).toBe("dpop_proof_replayed");
    const otherInput = request(await proofOf(other, { jti: "same" }), { boundThumbprint: other.thumbprint });
    expect(await codeOf(settle(async () => v.verify(otherInput)))).toBe("ok");
  });

  it("does not spend a jti on a proof refused for another reason", async () => {
    const v = verifier();
    const input = request(await proofOf(es256, { jti: "kept" }), { boundThumbprint: other.thumbprint });
    expect(await codeOf(settle(async () => v.verify(input)))).toBe("dpop_key_mismatch");
    expect(await codeOf(settle(async () => v.verify(request(await proofOf(es256, { jti: "kept" })))))).toBe("ok");
  });

  it("remembers a jti until its proof could no longer pass the iat check, and no longer", async () => {
    let now = NOW_MS;
    const v = verifier({}, () => now);
    const proof = await proofOf(es256, { iat: NOW + 100 });
    expect(await codeOf(settle(async () => v.verify(request(proof))))).toBe("ok");
    now = NOW_MS + 399_000; // iat + 299 s: still acceptable, so still remembered
    expect(await codeOf(settle(async () => v.verify(request(proof))))).toBe("dpop_proof_replayed");
    now = NOW_MS + 401_000; // past iat + 300 s
    expect(await codeOf(settle(async () => v.verify(request(proof))))).toBe("dpop_iat_out_of_window");
  });

  it("answers 503-style dpop_replay_unavailable when the store is full, never accepting unchecked", async () => {
    const v = verifier({ replay: { maxEntries: 1 } });
    expect(await codeOf(settle(async () => v.verify(request(await proofOf(es256)))))).toBe("ok");
    expect(await codeOf(settle(async () => v.verify(request(await proofOf(es256)))))).toBe("dpop_replay_unavailable");
  });

  it("turns a store of the application's own that throws into dpop_replay_unavailable", async () => {
    const failing = {
      rememberOnce: (): Promise<boolean> => Promise.reject(new Error("store down")),
    };
    expect(await outcome(await proofOf(es256), {}, { replay: { store: failing } })).toBe("dpop_replay_unavailable");
    const truthy = { rememberOnce: () => 1 as unknown as boolean };
    expect(await outcome(await proofOf(es256), {}, { replay: { store: truthy } })).toBe("dpop_proof_replayed");
  });

  it("keeps the store's cause on that refusal, and passes on a refusal the store made itself as it is", async () => {
    const down = new Error("store down");
    const failing = { rememberOnce: (): Promise<boolean> => Promise.reject(down) };
    const wrapped = await settle(async () =>
      verifier({ replay: { store: failing } }).verify(request(await proofOf(es256))),
    ).catch((error: unknown) => error);
    expect(wrapped).toBeInstanceOf(McpOAuthError);
    expect((wrapped as McpOAuthError).cause).toBe(down);
    // A store that refuses with its own answer (a Retry-After it knows) is not re-wrapped.
    const own = new McpOAuthError("dpop_replay_unavailable", "replicas unreachable", { retryAfter: 7 });
    const refusing = { rememberOnce: (): Promise<boolean> => Promise.reject(own) };
    const passed = await settle(async () =>
      verifier({ replay: { store: refusing } }).verify(request(await proofOf(es256))),
    ).catch((error: unknown) => error);
    expect(passed).toBe(own);
  });

  it("is built only when DPoP is on, with a replay store", () => {
    const resolved = resolveDpopOptions({ mode: "allowed" });
    expect(() => new DpopVerifier({ ...resolved, mode: "off" }, { resourceUrl: RESOURCE })).toThrow(
      "DpopVerifier is built only when dpop.mode is allowed or required",
    );
    expect(() => new DpopVerifier({ ...resolved, replayStore: undefined }, { resourceUrl: RESOURCE })).toThrow(
      "DpopVerifier is built only when dpop.mode is allowed or required",
    );
  });

  it("answers synchronously with the in-memory store, and with a promise for a store that needs one", async () => {
    const sync = verifier().verify(request(await proofOf(es256)));
    expect(sync).not.toBeInstanceOf(Promise);
    const store = { rememberOnce: async (): Promise<boolean> => true };
    const pending = verifier({ replay: { store } }).verify(request(await proofOf(es256)));
    expect(pending).toBeInstanceOf(Promise);
    expect((await pending).thumbprint).toBe(es256.thumbprint);
    const replayed = { rememberOnce: async (): Promise<boolean> => false };
    expect(
      await codeOf(settle(async () => verifier({ replay: { store: replayed } }).verify(request(await proofOf(es256))))),
    ).toBe("dpop_proof_replayed");
  });

  it("gives the store a lifetime that covers the rest of the window", async () => {
    const seen: number[] = [];
    const store = {
      rememberOnce: (_key: string, ttlSeconds: number): boolean => {
        seen.push(ttlSeconds);
        return true;
      },
    };
    expect(await outcome(await proofOf(es256, { iat: NOW - 100 }), {}, { replay: { store } })).toBe("ok");
    expect(await outcome(await proofOf(es256, { iat: NOW + 100 }), {}, { replay: { store } })).toBe("ok");
    expect(seen).toEqual([200, 400]);
  });
});

describe("a verifier that has seen the client before (header and ath memos)", () => {
  it("still checks the signature of every proof with a known header", async () => {
    const v = verifier();
    expect(await codeOf(settle(async () => v.verify(request(await proofOf(es256)))))).toBe("ok");
    expect(await codeOf(settle(async () => v.verify(request(tamperSignature(await proofOf(es256))))))).toBe(
      "dpop_signature_invalid",
    );
    expect(
      await codeOf(settle(async () => v.verify(request(await proofOf(es256, { signWith: other.privateKey }))))),
    ).toBe("dpop_signature_invalid");
    expect(await codeOf(settle(async () => v.verify(request(await proofOf(es256)))))).toBe("ok");
  });

  it("still checks every claim of a proof with a known header", async () => {
    const v = verifier();
    expect(await codeOf(settle(async () => v.verify(request(await proofOf(es256)))))).toBe("ok");
    expect(await codeOf(settle(async () => v.verify(request(await proofOf(es256, { htm: "GET" })))))).toBe(
      "dpop_method_mismatch",
    );
    expect(await codeOf(settle(async () => v.verify(request(await proofOf(es256, { iat: NOW - 400 })))))).toBe(
      "dpop_iat_out_of_window",
    );
    expect(
      await codeOf(settle(async () => v.verify(request(await proofOf(es256), { boundThumbprint: other.thumbprint })))),
    ).toBe("dpop_key_mismatch");
  });

  it("checks ath against the token presented, not one seen before", async () => {
    const v = verifier();
    expect(await codeOf(settle(async () => v.verify(request(await proofOf(es256)))))).toBe("ok");
    // The proof names the known token; the request presents another.
    expect(
      await codeOf(settle(async () => v.verify(request(await proofOf(es256), { accessToken: `${TOKEN}.other` })))),
    ).toBe("dpop_ath_mismatch");
    // The known token with a proof for another.
    expect(await codeOf(settle(async () => v.verify(request(await proofOf(es256, { accessToken: "another" })))))).toBe(
      "dpop_ath_mismatch",
    );
    expect(await codeOf(settle(async () => v.verify(request(await proofOf(es256, { omit: ["ath"] })))))).toBe(
      "dpop_claim_missing",
    );
  });

  it("does not learn a header from a proof whose signature failed", async () => {
    const v = verifier();
    const forged = await proofOf(es256, { signWith: other.privateKey });
    expect(await codeOf(settle(async () => v.verify(request(forged))))).toBe("dpop_signature_invalid");
    expect(
      await codeOf(settle(async () => v.verify(request(await proofOf(es256, { signWith: other.privateKey }))))),
    ).toBe("dpop_signature_invalid");
    expect(await codeOf(settle(async () => v.verify(request(await proofOf(es256)))))).toBe("ok");
  });

  it("serves many clients past the memo's bound", async () => {
    const v = verifier({ keyCacheEntries: 2 });
    const keys = await Promise.all([dpopKey(), dpopKey(), dpopKey()]);
    for (let round = 0; round < 2; round++) {
      for (const key of keys) {
        const input = request(await proofOf(key), { boundThumbprint: key.thumbprint });
        expect(await codeOf(settle(async () => v.verify(input)))).toBe("ok");
      }
    }
  });
});

describe("signatureCheck (RFC 8725 section 3.1: the key must suit the algorithm)", () => {
  const ec256 = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey;
  const ec384 = generateKeyPairSync("ec", { namedCurve: "P-384" }).publicKey;
  const rsa2048 = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey;
  const rsa1024 = generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey;
  const rsaPss = generateKeyPairSync("rsa-pss", { modulusLength: 2048 }).publicKey;
  const ed25519 = generateKeyPairSync("ed25519").publicKey;
  const ed448 = generateKeyPairSync("ed448").publicKey;

  it.each<[string, KeyObject, boolean]>([
    ["ES256", ec256, true],
    ["ES256", ec384, false],
    ["ES384", ec384, true],
    ["ES256", rsa2048, false],
    ["RS256", rsa2048, true],
    ["RS256", rsa1024, false],
    ["RS256", rsaPss, false],
    ["RS256", ec256, false],
    ["PS256", rsa2048, true],
    ["PS256", rsaPss, true],
    ["PS256", rsa1024, false],
    ["EdDSA", ed25519, true],
    ["EdDSA", ed448, true],
    ["Ed25519", ed25519, true],
    ["Ed25519", ed448, false],
    ["EdDSA", ec256, false],
  ])("%s with this key: %p", (alg, key, suits) => {
    expect(signatureCheck(alg as DpopAlgorithm, key) !== undefined).toBe(suits);
  });

  it("verifies what node:crypto signed, and nothing else, never throwing", () => {
    const { privateKey, publicKey } = generateKeyPairSync("ed448");
    const data = Buffer.from("header.payload");
    const check = signatureCheck("EdDSA", publicKey)!;
    expect(check(data, sign(null, data, privateKey))).toBe(true);
    expect(check(Buffer.from("header.other"), sign(null, data, privateKey))).toBe(false);
    expect(check(data, Buffer.alloc(3))).toBe(false);
  });
});

describe("DpopProofChecker, rule by rule (the refusal's message says which rule fired)", () => {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwk = publicKey.export({ format: "jwk" });
  const thumbprint = thumbprintOf(thumbprintInput(jwk, "ES256"));
  const rules = {
    algorithms: new Set(["ES256"]),
    iatWindowSeconds: 300,
    clockToleranceSeconds: 0,
    maxProofLength: 8192,
    maxJtiLength: 256,
  };
  const checker = (overrides: Partial<typeof rules> = {}, keys = new ProofKeyCache()): DpopProofChecker =>
    new DpopProofChecker({ ...rules, ...overrides }, RESOURCE, keys);
  const encode = (text: string): string => Buffer.from(text).toString("base64url");
  /** A proof of the segments as given (each already base64url, or not), signed as sent. */
  const signedSegments = (header: string, payload: string, key: KeyObject = privateKey): string => {
    const input = `${header}.${payload}`;
    return `${input}.${sign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" }).toString("base64url")}`;
  };
  const headerText = (extra: Record<string, unknown> = {}, key: object = jwk): string =>
    JSON.stringify({ typ: "dpop+jwt", alg: "ES256", jwk: key, ...extra });
  const payloadText = (extra: Record<string, unknown> = {}): string => JSON.stringify({ ...validClaims(), ...extra });
  const proofWith = (payload: Record<string, unknown> = {}, header: Record<string, unknown> = {}): string =>
    signedSegments(encode(headerText(header)), encode(payloadText(payload)));
  const input = (proofs: DpopProofInput["proofs"], overrides: Partial<DpopProofInput> = {}): DpopProofInput => ({
    method: "POST",
    proofs,
    requestTarget: "/mcp",
    accessToken: TOKEN,
    boundThumbprint: thumbprint,
    ...overrides,
  });
  const refusal = (run: () => unknown): [string, string] | "accepted" => {
    try {
      run();
    } catch (error) {
      const { code, message } = error as { code: string; message: string };
      return [code, message];
    }
    return "accepted";
  };
  /** Base64's `+` and `/` for base64url's `-` and `_`: the same bytes to a lenient decoder. */
  const respell = (segment: string): string => segment.replaceAll("-", "+").replaceAll("_", "/");

  it("takes one proof as a string or a one-element list, and refuses two", () => {
    expect(checker().check(input(proofWith()), NOW).thumbprint).toBe(thumbprint);
    expect(checker().check(input([proofWith()]), NOW).thumbprint).toBe(thumbprint);
    expect(refusal(() => checker().check(input([proofWith(), proofWith()]), NOW))).toEqual([
      "dpop_multiple_proofs",
      "more than one DPoP header",
    ]);
  });

  it("tells a proof that is not three parts from two folded into one header value", () => {
    const proof = proofWith();
    const notThree = ["dpop_proof_malformed", "proof is not a three-part JWS"];
    expect(refusal(() => checker().check(input("abc"), NOW))).toEqual(notThree);
    expect(refusal(() => checker().check(input("abc.def"), NOW))).toEqual(notThree);
    expect(refusal(() => checker().check(input(`${proof}.x`), NOW))).toEqual(notThree);
    expect(refusal(() => checker().check(input(`${proof}, ${proofWith()}`), NOW))).toEqual([
      "dpop_multiple_proofs",
      "more than one DPoP proof in the header",
    ]);
    // Three parts, read as such: the first dot at 0 or 1 is still a separator.
    expect(refusal(() => checker().check(input("..x"), NOW))).toEqual([
      "dpop_proof_malformed",
      "proof header is not base64url",
    ]);
    expect(refusal(() => checker().check(input("e.e.e"), NOW))).toEqual([
      "dpop_proof_malformed",
      "proof header is not a JSON object",
    ]);
  });

  it("tells clients apart through one checker, whichever came last: each proof under its own key", () => {
    const one = checker();
    const second = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const secondJwk = second.publicKey.export({ format: "jwk" });
    const secondThumbprint = thumbprintOf(thumbprintInput(secondJwk, "ES256"));
    const secondHeader = encode(headerText({}, secondJwk));
    const ofSecond = (key: KeyObject = second.privateKey): string =>
      signedSegments(secondHeader, encode(payloadText()), key);
    for (let i = 0; i < 2; i++) {
      expect(one.check(input(proofWith()), NOW).thumbprint).toBe(thumbprint);
      expect(one.check(input(ofSecond(), { boundThumbprint: secondThumbprint }), NOW).thumbprint).toBe(
        secondThumbprint,
      );
      expect(one.check(input(ofSecond(), { boundThumbprint: secondThumbprint }), NOW).thumbprint).toBe(
        secondThumbprint,
      );
    }
    // The second client's header, signed by the first client's key, right after either client.
    expect(refusal(() => one.check(input(ofSecond(privateKey), { boundThumbprint: secondThumbprint }), NOW))).toEqual([
      "dpop_signature_invalid",
      "proof signature does not verify with its jwk",
    ]);
    expect(one.check(input(proofWith()), NOW).thumbprint).toBe(thumbprint);
    expect(refusal(() => one.check(input(ofSecond(privateKey), { boundThumbprint: secondThumbprint }), NOW))).toEqual([
      "dpop_signature_invalid",
      "proof signature does not verify with its jwk",
    ]);
    expect(one.rememberedHeaders).toBe(2);
  });

  it("decodes each payload whole and alone, as UTF-8, one proof after another through one checker", () => {
    const one = checker();
    // A payload as long as the bound allows, then shorter ones: nothing of an earlier one is read.
    const long = proofWith({ jti: "a".repeat(256), padding: "p".repeat(5000) });
    expect(one.check(input(long), NOW).jti).toBe("a".repeat(256));
    expect(one.check(input(proofWith({ jti: "short" })), NOW).jti).toBe("short");
    // Multi-byte characters come back as sent, not as their bytes read one by one.
    expect(one.check(input(proofWith({ jti: "ключ-é-🔑" })), NOW).jti).toBe("ключ-é-🔑");
    const atBound = proofWith({ padding: "q".repeat(7000) });
    expect(checker({ maxProofLength: atBound.length }).check(input(atBound), NOW).thumbprint).toBe(thumbprint);
  });

  it("reads a payload alike in the compact form clients send and in any other JSON form", () => {
    const compact = payloadText({ jti: "jti-1" });
    // Whitespace, an escape in a name and a value, a claim sent twice (JSON.parse keeps the last).
    const spaced = compact
      .replace('"jti":"jti-1"', ' "j\\u0074i" : "jti-\\u0032" ')
      .replace('"htm":', '"htm":"GET","htm":')
      .replace(/,/g, ",\n ");
    expect(spaced).not.toBe(compact);
    const seen = (text: string): unknown => {
      const checked = checker().check(input(signedSegments(encode(headerText()), encode(text))), NOW);
      return [checked.jti, checked.iat, checked.acceptableForSeconds];
    };
    expect(seen(compact)).toEqual(["jti-1", NOW, 300]);
    expect(seen(spaced)).toEqual(["jti-2", NOW, 300]);
    // A compact payload whose method claim is another's is refused as such, not passed over.
    expect(
      refusal(() =>
        checker().check(input(signedSegments(encode(headerText()), encode(payloadText({ htm: "GET" })))), NOW),
      ),
    ).toEqual(["dpop_method_mismatch", "proof htm is not the request method"]);
  });

  it("accepts a proof of exactly maxProofLength characters, not one more", () => {
    const proof = proofWith();
    expect(checker({ maxProofLength: proof.length }).check(input(proof), NOW).thumbprint).toBe(thumbprint);
    expect(refusal(() => checker({ maxProofLength: proof.length - 1 }).check(input(proof), NOW))).toEqual([
      "dpop_proof_malformed",
      "proof too long",
    ]);
  });

  it("refuses header and payload segments in base64's alphabet, though their bytes and signature are right", () => {
    // Base64url's `-` and `_` need a byte such as "?" (0x3f) in the right place: three in a row
    // put one there, whatever the alignment.
    const payload = encode(payloadText({ note: "???" }));
    expect(payload).toMatch(/[-_]/);
    expect(checker().check(input(signedSegments(encode(headerText()), payload)), NOW).thumbprint).toBe(thumbprint);
    expect(refusal(() => checker().check(input(signedSegments(encode(headerText()), respell(payload))), NOW))).toEqual([
      "dpop_proof_malformed",
      "proof payload is not base64url",
    ]);
    const header = encode(headerText({ kid: "???" }));
    expect(header).toMatch(/[-_]/);
    expect(refusal(() => checker().check(input(signedSegments(respell(header), encode(payloadText()))), NOW))).toEqual([
      "dpop_proof_malformed",
      "proof header is not base64url",
    ]);
  });

  it("refuses a header or payload that is JSON but no object (null, a list, a number)", () => {
    for (const json of ["null", "[]", "[{}]", "7", '"text"']) {
      expect(refusal(() => checker().check(input(signedSegments(encode(headerText()), encode(json))), NOW))).toEqual([
        "dpop_proof_malformed",
        "proof payload is not a JSON object",
      ]);
      expect(refusal(() => checker().check(input(signedSegments(encode(json), encode(payloadText()))), NOW))).toEqual([
        "dpop_proof_malformed",
        "proof header is not a JSON object",
      ]);
    }
  });

  it("refuses an iat that is not a finite number", () => {
    const notNumber = ["dpop_claim_invalid", "proof iat not a number"];
    expect(refusal(() => checker().check(input(proofWith({ iat: String(NOW) })), NOW))).toEqual(notNumber);
    // JSON's 1e999 parses to Infinity.
    const infinite = payloadText({ iat: 0 }).replace('"iat":0', '"iat":1e999');
    expect(refusal(() => checker().check(input(signedSegments(encode(headerText()), encode(infinite))), NOW))).toEqual(
      notNumber,
    );
  });

  it("returns the proof's nonce, and refuses one that is not a string", () => {
    expect(checker().check(input(proofWith({ nonce: "n-1" })), NOW).nonce).toBe("n-1");
    expect(checker().check(input(proofWith()), NOW).nonce).toBeUndefined();
    expect(refusal(() => checker().check(input(proofWith({ nonce: 7 })), NOW))).toEqual([
      "dpop_claim_invalid",
      "proof nonce not a string",
    ]);
  });

  it("refuses a header without jwk as such", () => {
    const header = encode(JSON.stringify({ typ: "dpop+jwt", alg: "ES256" }));
    expect(refusal(() => checker().check(input(signedSegments(header, encode(payloadText()))), NOW))).toEqual([
      "dpop_key_invalid",
      "proof has no jwk",
    ]);
  });

  it("remembers checked headers up to the key cache's bound, starting over when full, and only those whose signature verified", () => {
    const keys = [0, 1, 2].map(() => generateKeyPairSync("ec", { namedCurve: "P-256" }));
    const proofOfKey = ({ privateKey: key, publicKey: pub }: (typeof keys)[number]): DpopProofInput => {
      const own = pub.export({ format: "jwk" });
      return input(signedSegments(encode(headerText({}, own)), encode(payloadText()), key), {
        boundThumbprint: thumbprintOf(thumbprintInput(own, "ES256")),
      });
    };
    const bounded = checker({}, new ProofKeyCache(2));
    const sizes = keys.map((key) => {
      bounded.check(proofOfKey(key), NOW);
      bounded.check(proofOfKey(key), NOW);
      return bounded.rememberedHeaders;
    });
    expect(sizes).toEqual([1, 2, 1]);
    // A header whose signature does not verify is not remembered.
    const fresh = checker();
    expect(refusal(() => fresh.check(input(tamperSignature(proofWith())), NOW))[0]).toBe("dpop_signature_invalid");
    expect(fresh.rememberedHeaders).toBe(0);
    fresh.check(input(proofWith()), NOW);
    expect(fresh.rememberedHeaders).toBe(1);
  });

  it("with a key cache of 0 remembers no header, and checks every proof in full", () => {
    const uncached = checker({}, new ProofKeyCache(0));
    expect(uncached.check(input(proofWith()), NOW).thumbprint).toBe(thumbprint);
    expect(uncached.check(input(proofWith()), NOW).thumbprint).toBe(thumbprint);
    expect(uncached.rememberedHeaders).toBe(0);
    expect(refusal(() => uncached.check(input(tamperSignature(proofWith())), NOW))[0]).toBe("dpop_signature_invalid");
  });
});
