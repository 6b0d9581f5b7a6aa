/**
 * dpop/jwk.ts alone: which `jwk` a proof may carry (a public key of the type and curve its
 * `alg` needs, RSA of 2048 to 8192 bits with an exponent up to 2^32), its RFC 7638
 * thumbprint input, and the bounded cache of imported keys. Each refusal is `dpop_key_invalid`;
 * the message tells which rule refused, so that each rule is pinned on its own (the proof
 * tests, dpop-proof.test.ts, see only the code, which a later check would also give).
 */
import { describe, expect, it } from "@jest/globals";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { McpOAuthError } from "../src/errors.js";
import { ProofKeyCache, thumbprintInput } from "../src/internal.js";

const ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ format: "jwk" });
const p384 = generateKeyPairSync("ec", { namedCurve: "P-384" }).publicKey.export({ format: "jwk" });
const ed = generateKeyPairSync("ed25519").publicKey.export({ format: "jwk" });

/** An RSA public JWK of exactly `bits` bits (an odd modulus: node:crypto imports any). */
function rsaJwk(bits: number, exponent = 65537n): Record<string, string> {
  const bytes = randomBytes(Math.ceil(bits / 8));
  // The top bit of the modulus at position `bits`, the bits above it clear.
  const top = (bits - 1) % 8;
  bytes[0] = (bytes[0]! & ((1 << top) - 1)) | (1 << top);
  bytes[bytes.length - 1]! |= 1;
  let hex = exponent.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  return { kty: "RSA", n: bytes.toString("base64url"), e: Buffer.from(hex, "hex").toString("base64url") };
}

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(McpOAuthError);
    expect((error as McpOAuthError).code).toBe("dpop_key_invalid");
    return (error as McpOAuthError).message;
  }
  throw new Error("accepted");
}

describe("thumbprintInput", () => {
  it.each([
    ["null", null],
    ["a string", "eyJrdHkiOiJFQyJ9"],
    ["a number", 7],
    ["undefined", undefined],
    ["an array", [ec]],
  ])("refuses a jwk that is %s, as not a JSON object", (_, jwk) => {
    expect(refusal(() => thumbprintInput(jwk, "ES256"))).toBe("jwk is not a JSON object");
  });

  it.each(["d", "p", "q", "dp", "dq", "qi", "oth", "k"])(
    "refuses a jwk holding the private member %s (RFC 9449 section 4.2: a public key only)",
    (member) => {
      expect(refusal(() => thumbprintInput({ ...ec, [member]: "AQAB" }, "ES256"))).toBe(
        "jwk holds private key material",
      );
    },
  );

  it("refuses a key of another type than alg needs, before reading its members", () => {
    expect(refusal(() => thumbprintInput(ec, "RS256"))).toBe("jwk is not an RSA key, as RS256 needs");
    expect(refusal(() => thumbprintInput(rsaJwk(2048), "ES256"))).toBe("jwk is not an EC key, as ES256 needs");
    expect(refusal(() => thumbprintInput({ ...ec, kty: "ec" }, "ES256"))).toBe("jwk is not an EC key, as ES256 needs");
    expect(refusal(() => thumbprintInput(ed, "ES256"))).toBe("jwk is not an EC key, as ES256 needs");
  });

  it("refuses a curve alg does not use", () => {
    expect(refusal(() => thumbprintInput(p384, "ES256"))).toBe("jwk is not on a curve ES256 uses");
    expect(refusal(() => thumbprintInput({ ...ec, crv: undefined }, "ES256"))).toBe("jwk is not on a curve ES256 uses");
    expect(refusal(() => thumbprintInput({ ...ed, crv: "X25519" }, "EdDSA"))).toBe("jwk is not on a curve EdDSA uses");
    expect(thumbprintInput(p384, "ES384")).toContain('"crv":"P-384"');
  });

  it.each([
    ["missing", { x: undefined }, "x"],
    ["not a string", { y: 12 }, "y"],
    ["not base64url", { x: `${ec.x!.slice(1)}+` }, "x"],
    ["padded", { y: `${ec.y!}=` }, "y"],
    ["empty", { x: "" }, "x"],
  ])("refuses a required member that is %s", (_, change, name) => {
    expect(refusal(() => thumbprintInput({ ...ec, ...change }, "ES256"))).toBe(
      `jwk member ${name} is missing or not base64url`,
    );
  });

  it("refuses an RSA key whose e or n is not base64url", () => {
    const rsa = rsaJwk(2048);
    expect(refusal(() => thumbprintInput({ ...rsa, e: "AQ/B" }, "PS256"))).toBe(
      "jwk member e is missing or not base64url",
    );
    expect(refusal(() => thumbprintInput({ ...rsa, n: 5 }, "PS256"))).toBe("jwk member n is missing or not base64url");
  });

  it("is the required members only, in RFC 7638 order, whatever else the jwk holds", () => {
    expect(thumbprintInput({ y: ec.y, x: ec.x, kid: "k", crv: "P-256", alg: "ES256", kty: "EC" }, "ES256")).toBe(
      `{"crv":"P-256","kty":"EC","x":"${ec.x}","y":"${ec.y}"}`,
    );
    const rsa = rsaJwk(2048);
    expect(thumbprintInput({ n: rsa.n, kty: "RSA", e: rsa.e, use: "sig" }, "RS256")).toBe(
      `{"e":"${rsa.e}","kty":"RSA","n":"${rsa.n}"}`,
    );
  });
});

describe("ProofKeyCache", () => {
  it("accepts RSA keys of 2048 to 8192 bits, and no others", () => {
    const keys = new ProofKeyCache();
    expect(keys.keyFor(rsaJwk(2048), "RS256").key.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(keys.keyFor(rsaJwk(8192), "PS256").key.asymmetricKeyDetails?.modulusLength).toBe(8192);
    expect(refusal(() => keys.keyFor(rsaJwk(2047), "RS256"))).toBe("RSA key of 2047 bits; 2048 to 8192 are accepted");
    expect(refusal(() => keys.keyFor(rsaJwk(1024), "RS256"))).toBe("RSA key of 1024 bits; 2048 to 8192 are accepted");
    expect(refusal(() => keys.keyFor(rsaJwk(8193), "RS256"))).toBe("RSA key of 8193 bits; 2048 to 8192 are accepted");
  });

  it("accepts an RSA exponent up to 2^32, and refuses a larger one", () => {
    const keys = new ProofKeyCache();
    expect(keys.keyFor(rsaJwk(2048, 2n ** 32n), "RS256").key.asymmetricKeyDetails?.publicExponent).toBe(2n ** 32n);
    expect(refusal(() => keys.keyFor(rsaJwk(2048, 2n ** 32n + 1n), "RS256"))).toBe("RSA public exponent too large");
  });

  it("refuses a key node:crypto cannot import", () => {
    expect(refusal(() => new ProofKeyCache().keyFor({ ...ec, x: "AAAA" }, "ES256"))).toBe(
      "jwk is not a valid public key",
    );
  });

  it("imports a key once and finds it again by thumbprint, up to its bound, least recently used dropped", () => {
    const keys = new ProofKeyCache(2);
    const first = keys.keyFor(ec, "ES256");
    expect(keys.size).toBe(1);
    // Found again: the same imported key, and the same thumbprint from a decorated copy.
    const again = keys.keyFor({ ...ec, kid: "other", use: "sig" }, "ES256");
    expect(again.key).toBe(first.key);
    expect(again.thumbprint).toBe(first.thumbprint);
    expect(keys.size).toBe(1);
    keys.keyFor(ed, "EdDSA");
    keys.keyFor(ec, "ES256");
    keys.keyFor(p384, "ES384");
    expect(keys.size).toBe(2);
    // ed25519 was the least recently used: imported again, the EC key still held.
    expect(keys.keyFor(ec, "ES256").key).toBe(first.key);
  });

  it("with a bound of 0 keeps nothing and imports every time", () => {
    const keys = new ProofKeyCache(0);
    const first = keys.keyFor(ec, "ES256");
    const second = keys.keyFor(ec, "ES256");
    expect(second.key).not.toBe(first.key);
    expect(second.key.equals(first.key)).toBe(true);
    expect(keys.size).toBe(0);
    expect(keys.maxEntries).toBe(0);
  });
});
