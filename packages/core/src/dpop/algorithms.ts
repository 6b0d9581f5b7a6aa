/**
 * The signature algorithms a DPoP proof may use, and the key each one needs. RFC 9449
 * section 4.3 (point 5): an asymmetric algorithm the server supports; never `none`, never a
 * MAC (a proof must show a private key, and an HMAC secret would be the verifier's too).
 */
import { constants, keyVerifier, type KeyObject, type VerifyOptions } from "../crypto/index.js";

export const DPOP_ALGORITHMS = [
  "ES256",
  "ES384",
  "ES512",
  "PS256",
  "PS384",
  "PS512",
  "RS256",
  "RS384",
  "RS512",
  "EdDSA",
  "Ed25519",
] as const;

export type DpopAlgorithm = (typeof DPOP_ALGORITHMS)[number];

/**
 * ES256 is what DPoP clients use (RFC 9449's examples, the MCP conformance suite, the common
 * client libraries); RS256 is JOSE's mandatory-to-implement algorithm and, with PS256, what
 * RSA-only keystores can sign; EdDSA (Ed25519) is the small, fast choice. The longer hashes
 * are supported on request but not offered by default: no client needs them, and every
 * algorithm offered is one more path an attacker can choose.
 */
export const DEFAULT_DPOP_ALGORITHMS: readonly DpopAlgorithm[] = Object.freeze(["ES256", "PS256", "RS256", "EdDSA"]);

export function isDpopAlgorithm(value: unknown): value is DpopAlgorithm {
  return typeof value === "string" && (DPOP_ALGORITHMS as readonly string[]).includes(value);
}

/** The JWK `kty` (and `crv`, where it has one) an algorithm's key must have. */
export interface KeyShape {
  kty: "EC" | "RSA" | "OKP";
  /** Allowed curves; undefined for RSA. */
  curves?: readonly string[];
}

const SHAPES: Readonly<Record<DpopAlgorithm, KeyShape>> = {
  ES256: { kty: "EC", curves: ["P-256"] },
  ES384: { kty: "EC", curves: ["P-384"] },
  ES512: { kty: "EC", curves: ["P-521"] },
  PS256: { kty: "RSA" },
  PS384: { kty: "RSA" },
  PS512: { kty: "RSA" },
  RS256: { kty: "RSA" },
  RS384: { kty: "RSA" },
  RS512: { kty: "RSA" },
  // RFC 8037: EdDSA with either Edwards curve; RFC 9864's fully specified `Ed25519` with one.
  EdDSA: { kty: "OKP", curves: ["Ed25519", "Ed448"] },
  Ed25519: { kty: "OKP", curves: ["Ed25519"] },
};

export function keyShapeOf(alg: DpopAlgorithm): KeyShape {
  return SHAPES[alg];
}

const HASHES: Readonly<Record<string, string>> = { "256": "sha256", "384": "sha384", "512": "sha512" };
const SALT_BYTES: Readonly<Record<string, number>> = { "256": 32, "384": 48, "512": 64 };
const CURVES: Readonly<Record<string, string>> = { ES256: "prime256v1", ES384: "secp384r1", ES512: "secp521r1" };
const MIN_RSA_BITS = 2048;

/** A prepared signature check: `signingInput` is `BASE64URL(header) "." BASE64URL(payload)` as bytes. */
export type ProofSignatureCheck = (signingInput: Buffer, signature: Buffer) => boolean;

/**
 * The check of `alg` signatures under `key`, prepared once per key and algorithm (the key's
 * type and size are read here, not per proof), or undefined when the key does not suit the
 * algorithm (RFC 8725 section 3.1: RS and PS only with RSA keys of 2048 bits or more, ES only
 * with the curve it names, EdDSA with an Edwards curve). The check never throws.
 */
export function signatureCheck(alg: DpopAlgorithm, key: KeyObject): ProofSignatureCheck | undefined {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails;
  let hash: string | null;
  let options: VerifyOptions | undefined;
  if (alg === "EdDSA" || alg === "Ed25519") {
    if (type !== "ed25519" && (alg !== "EdDSA" || type !== "ed448")) return undefined;
    [hash, options] = [null, undefined];
  } else {
    hash = HASHES[alg.slice(2)]!;
    const rsa = (type === "rsa" || type === "rsa-pss") && (details?.modulusLength ?? 0) >= MIN_RSA_BITS;
    if (alg.startsWith("ES")) {
      if (type !== "ec" || details?.namedCurve !== CURVES[alg]) return undefined;
      options = { dsaEncoding: "ieee-p1363" };
    } else if (alg.startsWith("PS")) {
      if (!rsa) return undefined;
      // RFC 7518 section 3.5: the salt is as long as the hash (RSA_PSS_SALTLEN_DIGEST on Node; workerd takes only the length).
      options = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: SALT_BYTES[alg.slice(2)]! };
    } else {
      if (!rsa || type !== "rsa") return undefined;
      options = undefined;
    }
  }
  const verify = keyVerifier(hash, key, options);
  return (signingInput, signature) => {
    try {
      return verify(signingInput, signature);
    } catch {
      return false;
    }
  };
}
