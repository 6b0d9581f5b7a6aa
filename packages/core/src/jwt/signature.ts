/**
 * JWS signature verification (RFC 7515 section 5.2, RFC 7518 section 3) on the parts
 * already decoded, with node:crypto. It replaced `jsonwebtoken.verify`, which decodes and
 * checks the token a second time: measured on this machine, 47 µs per RS256 token through
 * jsonwebtoken against 36 µs for decode + checks + `crypto.verify` (bench/results.md).
 *
 * RFC 8725 section 2.1 / 3.1: the key must suit the algorithm: an HMAC algorithm only with
 * a secret key (never a public key used as an HMAC secret), RS/PS only with RSA keys of
 * 2048 bits or more, ES only with the curve the algorithm names.
 */
import { constants, createHmac, timingSafeEqual, verify, type KeyObject } from "node:crypto";

const HASHES: Readonly<Record<string, string>> = { "256": "sha256", "384": "sha384", "512": "sha512" };
const CURVES: Readonly<Record<string, string>> = { ES256: "prime256v1", ES384: "secp384r1", ES512: "secp521r1" };
const MIN_RSA_BITS = 2048;

function rsaKey(key: KeyObject): boolean {
  return (
    (key.asymmetricKeyType === "rsa" || key.asymmetricKeyType === "rsa-pss") &&
    (key.asymmetricKeyDetails?.modulusLength ?? 0) >= MIN_RSA_BITS
  );
}

/** Whether `signature` is a valid `alg` signature of `signingInput` under `key`. Never throws. */
export function verifySignature(alg: string, key: KeyObject, signingInput: string, signature: Buffer): boolean {
  const hash = HASHES[alg.slice(2)];
  if (hash === undefined) return false;
  const data = Buffer.from(signingInput, "latin1");
  try {
    switch (alg.slice(0, 2)) {
      case "HS": {
        if (key.type !== "secret") return false;
        const expected = createHmac(hash, key).update(data).digest();
        return expected.length === signature.length && timingSafeEqual(expected, signature);
      }
      case "RS":
        if (key.asymmetricKeyType !== "rsa" || !rsaKey(key)) return false;
        return verify(hash, data, key, signature);
      case "PS":
        if (!rsaKey(key)) return false;
        return verify(
          hash,
          data,
          { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST },
          signature,
        );
      case "ES":
        if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== CURVES[alg]) return false;
        return verify(hash, data, { key, dsaEncoding: "ieee-p1363" }, signature);
      default:
        return false;
    }
  } catch {
    return false;
  }
}
