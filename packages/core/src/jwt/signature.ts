/**
 * JWS signature verification (RFC 7515 section 5.2, RFC 7518 section 3) on the parts
 * already decoded, with node:crypto. It replaced `jsonwebtoken.verify`, which decodes and
 * checks the token a second time: measured on this machine, 47 µs per RS256 token through
 * jsonwebtoken against 36 µs for decode + checks + `crypto.verify` (bench/results.md).
 *
 * RFC 8725 section 2.1 / 3.1: the key must suit the algorithm: an HMAC algorithm only with
 * a secret key (never a public key used as an HMAC secret), RS/PS only with RSA keys of
 * 2048 bits or more, ES only with the curve the algorithm names.
 *
 * Two forms of the same check: `verifySignature` on the calling thread, and
 * `verifySignatureInPool`, which hands the public-key operation to libuv's thread pool
 * (`crypto.verify` with a callback) so that, with a second core, the event loop serves
 * other requests meanwhile. docs/architecture.md gives the measurements behind the choice.
 */
import {
  constants,
  createHmac,
  timingSafeEqual,
  verifyWithKey,
  verifyWithKeyInPool,
  type KeyObject,
  type VerifyOptions,
} from "../crypto/index.js";

const HASHES: Readonly<Record<string, string>> = { "256": "sha256", "384": "sha384", "512": "sha512" };
const SALT_BYTES: Readonly<Record<string, number>> = { "256": 32, "384": 48, "512": 64 };
const CURVES: Readonly<Record<string, string>> = { ES256: "prime256v1", ES384: "secp384r1", ES512: "secp521r1" };
const MIN_RSA_BITS = 2048;

// Every RSA, RSA-PSS and EC KeyObject has `asymmetricKeyDetails` with `modulusLength` or
// `namedCurve`: the type is checked first, so the assertions below hold.
function rsaKey(key: KeyObject): boolean {
  return (
    (key.asymmetricKeyType === "rsa" || key.asymmetricKeyType === "rsa-pss") &&
    key.asymmetricKeyDetails!.modulusLength! >= MIN_RSA_BITS
  );
}

// RFC 7518 section 3.5: the salt is as long as the hash (what RSA_PSS_SALTLEN_DIGEST means on
// Node; workerd takes only the length itself).
const PSS: Readonly<Record<string, VerifyOptions>> = Object.fromEntries(
  Object.entries(SALT_BYTES).map(([bits, saltLength]) => [
    bits,
    { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength },
  ]),
);
const P1363: VerifyOptions = { dsaEncoding: "ieee-p1363" };

/**
 * The verify options for a public-key `alg` (null: none, RSASSA-PKCS1-v1_5), or undefined
 * when the key does not suit it. Each type check matters: node:crypto verifies a DSA
 * signature whatever RSA padding it is given, and an RSA-PSS key with PSS whatever the
 * algorithm says.
 */
function publicKeyOptions(alg: string, key: KeyObject): VerifyOptions | null | undefined {
  switch (alg.slice(0, 2)) {
    case "RS":
      return key.asymmetricKeyType === "rsa" && rsaKey(key) ? null : undefined;
    case "PS":
      return rsaKey(key) ? PSS[alg.slice(2)] : undefined;
    case "ES":
      return key.asymmetricKeyType === "ec" && key.asymmetricKeyDetails!.namedCurve === CURVES[alg] ? P1363 : undefined;
  }
  return undefined;
}

/** HMAC (RFC 7518 section 3.2) with a secret key; compared in constant time. */
function hmacMatches(hash: string, key: KeyObject, data: Buffer, signature: Buffer): boolean {
  const expected = createHmac(hash, key).update(data).digest();
  return expected.length === signature.length && timingSafeEqual(expected, signature);
}

/** Whether `signature` is a valid `alg` signature of `signingInput` under `key`. Never throws. */
export function verifySignature(alg: string, key: KeyObject, signingInput: string, signature: Buffer): boolean {
  // Without a known hash, node:crypto would pick its default digest for the key: refuse first.
  const hash = HASHES[alg.slice(2)];
  if (hash === undefined) return false;
  const data = Buffer.from(signingInput, "latin1");
  // RFC 8725 section 3.1: never a public key used as an HMAC secret. Outside the try below:
  // with a known hash and a secret key nothing here throws.
  if (alg.startsWith("HS")) return key.type === "secret" && hmacMatches(hash, key, data, signature);
  const options = publicKeyOptions(alg, key);
  // Stryker disable next-line ConditionalExpression: equivalent, verify throws on a missing key and the catch refuses; the check says it outright.
  if (options === undefined) return false;
  try {
    return verifyWithKey(hash, data, key, options ?? undefined, signature);
  } catch {
    // OpenSSL refuses some combinations by throwing (an RSA-PSS key restricted to
    // another digest): a refusal, never a pass.
    return false;
  }
}

/**
 * The same check as `verifySignature`, the public-key operation on libuv's thread pool;
 * `done` gets the verdict (synchronously when there is no public-key operation to hand
 * over: an unknown algorithm, a key that does not suit it, HMAC, which takes a microsecond
 * where a hop to the pool would cost more). A callback, not a promise: the caller builds
 * the one promise the request needs around its own continuation. Never throws.
 */
export function verifySignatureInPool(
  alg: string,
  key: KeyObject,
  signingInput: string,
  signature: Buffer,
  done: (valid: boolean) => void,
): void {
  const hash = HASHES[alg.slice(2)];
  const options = hash === undefined ? undefined : publicKeyOptions(alg, key);
  if (options === undefined) return done(verifySignature(alg, key, signingInput, signature));
  try {
    verifyWithKeyInPool(hash!, Buffer.from(signingInput, "latin1"), key, options ?? undefined, signature, done);
  } catch {
    // A verification that throws at once (an argument node:crypto refuses) is a refusal.
    done(false);
  }
}
