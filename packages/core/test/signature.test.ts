/** JWS signature verification: every algorithm family, and keys that do not suit the algorithm. */
import { describe, expect, it } from "@jest/globals";
import {
  constants,
  createPublicKey,
  createSecretKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from "node:crypto";
import { verifySignature, verifySignatureInPool } from "../src/jwt/signature.js";
import { decodeJwt } from "../src/jwt/decode.js";
import { signJwt } from "../../../test/helpers/jwt.js";

const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const rsaSmall = generateKeyPairSync("rsa", { modulusLength: 1024 });
const p256 = generateKeyPairSync("ec", { namedCurve: "P-256" });
const p384 = generateKeyPairSync("ec", { namedCurve: "P-384" });
const p521 = generateKeyPairSync("ec", { namedCurve: "P-521" });
const pssSmall = generateKeyPairSync("rsa-pss", { modulusLength: 1024 });
const secret = createSecretKey(Buffer.alloc(32, 7));

function check(alg: string, signWith: KeyObject, verifyWith: KeyObject): boolean {
  const { signingInput, signature } = decodeJwt(signJwt({ alg }, { sub: "x" }, signWith));
  return verifySignature(alg, verifyWith, signingInput, signature);
}

/** The same check on the thread pool: it must reach the same verdict as `check`. */
async function checkInPool(alg: string, signWith: KeyObject, verifyWith: KeyObject): Promise<boolean> {
  const { signingInput, signature } = decodeJwt(signJwt({ alg }, { sub: "x" }, signWith));
  return await inPool(alg, verifyWith, signingInput, signature);
}

const inPool = (alg: string, key: KeyObject, signingInput: string, signature: Buffer): Promise<boolean> =>
  new Promise((resolve) => verifySignatureInPool(alg, key, signingInput, signature, resolve));

describe("verifySignature", () => {
  it.each([
    ["RS256", rsa.privateKey, rsa.publicKey],
    ["RS384", rsa.privateKey, rsa.publicKey],
    ["RS512", rsa.privateKey, rsa.publicKey],
    ["PS256", rsa.privateKey, rsa.publicKey],
    ["PS384", rsa.privateKey, rsa.publicKey],
    ["PS512", rsa.privateKey, rsa.publicKey],
    ["ES256", p256.privateKey, p256.publicKey],
    ["ES384", p384.privateKey, p384.publicKey],
    ["ES512", p521.privateKey, p521.publicKey],
    ["HS256", secret, secret],
    ["HS384", secret, secret],
    ["HS512", secret, secret],
  ] as const)("accepts a good %s signature", async (alg, signWith, verifyWith) => {
    expect(check(alg, signWith, verifyWith)).toBe(true);
    expect(await checkInPool(alg, signWith, verifyWith)).toBe(true);
  });

  it("refuses a signature over other content", async () => {
    const token = signJwt({ alg: "RS256" }, { sub: "x" }, rsa.privateKey);
    const other = signJwt({ alg: "RS256" }, { sub: "y" }, rsa.privateKey);
    const { signingInput } = decodeJwt(token);
    expect(verifySignature("RS256", rsa.publicKey, signingInput, decodeJwt(other).signature)).toBe(false);
    expect(await inPool("RS256", rsa.publicKey, signingInput, decodeJwt(other).signature)).toBe(false);
  });

  it.each([
    [
      "HS256 with the RSA public key as the HMAC secret",
      "HS256",
      createSecretKey(Buffer.from(rsa.publicKey.export({ format: "pem", type: "spki" }))),
      rsa.publicKey,
    ],
    ["RS256 with an EC key", "RS256", rsa.privateKey, p256.publicKey],
    ["RS256 with a 1024-bit RSA key", "RS256", rsaSmall.privateKey, rsaSmall.publicKey],
    ["PS256 with a 1024-bit RSA key", "PS256", rsaSmall.privateKey, rsaSmall.publicKey],
    ["PS256 with a 1024-bit RSA-PSS key", "PS256", pssSmall.privateKey, pssSmall.publicKey],
    ["ES512 with a P-384 key", "ES512", p384.privateKey, p384.publicKey],
    ["ES256 with an RSA key", "ES256", rsa.privateKey, rsa.publicKey],
    ["ES256 with a P-384 key", "ES256", p384.privateKey, p384.publicKey],
    ["ES384 with a P-256 key", "ES384", p256.privateKey, p256.publicKey],
    ["PS256 with an EC key", "PS256", rsa.privateKey, p256.publicKey],
    ["RS256 with a secret", "RS256", rsa.privateKey, secret],
  ] as const)("refuses %s", async (_name, alg, signWith, verifyWith) => {
    expect(check(alg, signWith as KeyObject, verifyWith as KeyObject)).toBe(false);
    expect(await checkInPool(alg, signWith as KeyObject, verifyWith as KeyObject)).toBe(false);
  });

  it("refuses unknown algorithms and never throws on garbage", async () => {
    expect(verifySignature("none", secret, "a.b", Buffer.alloc(0))).toBe(false);
    expect(verifySignature("RS999", rsa.publicKey, "a.b", Buffer.alloc(0))).toBe(false);
    expect(verifySignature("ES256", createPublicKey(p256.privateKey), "a.b", Buffer.from("short"))).toBe(false);
    expect(await inPool("none", secret, "a.b", Buffer.alloc(0))).toBe(false);
    expect(await inPool("RS999", rsa.publicKey, "a.b", Buffer.alloc(0))).toBe(false);
    expect(await inPool("ES256", createPublicKey(p256.privateKey), "a.b", Buffer.from("short"))).toBe(false);
    expect(await inPool("RS256", rsa.publicKey, "a.b", Buffer.from("garbage"))).toBe(false);
  });

  it("checks HMAC on the calling thread and public-key signatures on the pool", async () => {
    const hs = decodeJwt(signJwt({ alg: "HS256" }, { sub: "x" }, secret));
    let hsCalledSync = false;
    verifySignatureInPool("HS256", secret, hs.signingInput, hs.signature, (valid) => {
      hsCalledSync = valid;
    });
    expect(hsCalledSync).toBe(true);
    const rs = decodeJwt(signJwt({ alg: "RS256" }, { sub: "x" }, rsa.privateKey));
    let rsCalledSync = false;
    const rsVerdict = new Promise<boolean>((resolve) =>
      verifySignatureInPool("RS256", rsa.publicKey, rs.signingInput, rs.signature, (valid) => {
        rsCalledSync = true;
        resolve(valid);
      }),
    );
    expect(rsCalledSync).toBe(false);
    expect(await rsVerdict).toBe(true);
    // A key that does not suit the algorithm is refused before any hop.
    let refusedSync: boolean | undefined;
    verifySignatureInPool("RS256", p256.publicKey, rs.signingInput, rs.signature, (valid) => {
      refusedSync = valid;
    });
    expect(refusedSync).toBe(false);
  });

  it("answers false where node:crypto throws: PS384 with an RSA-PSS key restricted to SHA-256", () => {
    // An RSA-PSS key may carry its own parameters (RFC 4055); verifying with another digest
    // makes OpenSSL throw "digest not allowed". A throw must be a refusal, never a pass.
    const restricted = generateKeyPairSync("rsa-pss", {
      modulusLength: 2048,
      hashAlgorithm: "sha256",
      mgf1HashAlgorithm: "sha256",
    });
    const { signingInput } = decodeJwt(signJwt({ alg: "PS256" }, { sub: "x" }, rsa.privateKey));
    expect(() =>
      verify(
        "sha384",
        Buffer.from(signingInput),
        { key: restricted.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING },
        Buffer.alloc(256),
      ),
    ).toThrow();
    expect(verifySignature("PS384", restricted.publicKey, signingInput, Buffer.alloc(256))).toBe(false);
  });

  it("answers false where node:crypto's callback reports an error: the same key on the thread pool", async () => {
    const restricted = generateKeyPairSync("rsa-pss", {
      modulusLength: 2048,
      hashAlgorithm: "sha256",
      mgf1HashAlgorithm: "sha256",
    });
    const { signingInput } = decodeJwt(signJwt({ alg: "PS256" }, { sub: "x" }, rsa.privateKey));
    const reported = await new Promise<Error | null>((resolve) =>
      verify(
        "sha384",
        Buffer.from(signingInput),
        { key: restricted.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING },
        Buffer.alloc(256),
        (error) => resolve(error),
      ),
    );
    expect(reported).not.toBeNull();
    expect(await inPool("PS384", restricted.publicKey, signingInput, Buffer.alloc(256))).toBe(false);
  });

  it("refuses an HMAC signature over other content, under another secret, or cut short", () => {
    const token = signJwt({ alg: "HS256" }, { sub: "x" }, secret);
    const { signingInput, signature } = decodeJwt(token);
    expect(verifySignature("HS256", secret, signingInput, signature)).toBe(true);
    expect(
      verifySignature(
        "HS256",
        secret,
        signingInput,
        decodeJwt(signJwt({ alg: "HS256" }, { sub: "y" }, secret)).signature,
      ),
    ).toBe(false);
    expect(verifySignature("HS256", createSecretKey(Buffer.alloc(32, 8)), signingInput, signature)).toBe(false);
    expect(verifySignature("HS256", secret, signingInput, signature.subarray(0, 16))).toBe(false);
    expect(verifySignature("HS256", secret, signingInput, Buffer.alloc(32))).toBe(false);
  });

  it("refuses an unknown algorithm family even with a known hash size and a good signature", () => {
    const { signingInput, signature } = decodeJwt(signJwt({ alg: "RS256" }, { sub: "x" }, rsa.privateKey));
    expect(verifySignature("RS256", rsa.publicKey, signingInput, signature)).toBe(true);
    for (const alg of ["XS256", "rs256", "Ed256", "ES25"])
      expect(verifySignature(alg, rsa.publicKey, signingInput, signature)).toBe(false);
  });

  it("refuses RS256 and PS256 with a 2048-bit DSA key, even under that key's own valid signature", async () => {
    // node:crypto verifies a DSA signature whatever RSA padding it is handed: only the key
    // type check stands between an RS or PS token and a DSA key.
    const dsa = generateKeyPairSync("dsa", { modulusLength: 2048, divisorLength: 256 });
    for (const alg of ["RS256", "PS256"]) {
      const { signingInput } = decodeJwt(signJwt({ alg }, { sub: "x" }, rsa.privateKey));
      const dsaSignature = sign("sha256", Buffer.from(signingInput), dsa.privateKey);
      expect(verify("sha256", Buffer.from(signingInput), dsa.publicKey, dsaSignature)).toBe(true);
      expect(verifySignature(alg, dsa.publicKey, signingInput, dsaSignature)).toBe(false);
      expect(await inPool(alg, dsa.publicKey, signingInput, dsaSignature)).toBe(false);
    }
  });

  it("refuses RS256 with an RSA-PSS key, even under that key's own valid PSS signature", async () => {
    // An RSA-PSS key verifies with PSS whatever the algorithm says: RS256 is PKCS #1 v1.5.
    const pss = generateKeyPairSync("rsa-pss", { modulusLength: 2048 });
    const { signingInput, signature } = decodeJwt(signJwt({ alg: "PS256" }, { sub: "x" }, pss.privateKey));
    expect(verify("sha256", Buffer.from(signingInput), pss.publicKey, signature)).toBe(true);
    expect(verifySignature("PS256", pss.publicKey, signingInput, signature)).toBe(true);
    expect(verifySignature("RS256", pss.publicKey, signingInput, signature)).toBe(false);
    expect(await inPool("RS256", pss.publicKey, signingInput, signature)).toBe(false);
  });

  it.each(["RS256", "PS256", "ES256"])("refuses %s with a secret key, on both paths, without throwing", async (alg) => {
    const { signingInput, signature } = decodeJwt(signJwt({ alg: "HS256" }, { sub: "x" }, secret));
    expect(verifySignature(alg, secret, signingInput, signature)).toBe(false);
    expect(await inPool(alg, secret, signingInput, signature)).toBe(false);
  });

  it.each<[string, string, KeyObject, KeyObject]>([
    ["RS", "RS256", rsa.privateKey, rsa.publicKey],
    ["RS2560", "RS256", rsa.privateKey, rsa.publicKey],
    ["PS0256", "PS256", rsa.privateKey, rsa.publicKey],
    ["HS2560", "HS256", secret, secret],
    ["HS", "HS256", secret, secret],
  ])(
    "refuses %s, an unknown hash size, under a good %s signature (node:crypto's default digest would take it)",
    async (alg, signedAs, signWith, verifyWith) => {
      const { signingInput, signature } = decodeJwt(signJwt({ alg: signedAs }, { sub: "x" }, signWith));
      expect(verifySignature(signedAs, verifyWith, signingInput, signature)).toBe(true);
      expect(verifySignature(alg, verifyWith, signingInput, signature)).toBe(false);
      expect(await inPool(alg, verifyWith, signingInput, signature)).toBe(false);
    },
  );

  it("takes a verification that throws for a refusal, on both paths", async () => {
    const { signingInput } = decodeJwt(signJwt({ alg: "RS256" }, { sub: "x" }, rsa.privateKey));
    // node:crypto throws at once on a signature that is no buffer: never a pass.
    const notABuffer = "not a buffer" as unknown as Buffer;
    expect(verifySignature("RS256", rsa.publicKey, signingInput, notABuffer)).toBe(false);
    let verdict: boolean | undefined;
    verifySignatureInPool("RS256", rsa.publicKey, signingInput, notABuffer, (valid) => {
      verdict = valid;
    });
    expect(verdict).toBe(false);
  });

  it("accepts a good PS256 signature under a 2048-bit RSA-PSS key", () => {
    const pss = generateKeyPairSync("rsa-pss", { modulusLength: 2048 });
    expect(check("PS256", pss.privateKey, pss.publicKey)).toBe(true);
  });
});
