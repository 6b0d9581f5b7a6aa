/**
 * The signature algorithms a DPoP proof may use, and the key each one needs. RFC 9449
 * section 4.3 (point 5): an asymmetric algorithm the server supports; never `none`, never a
 * MAC (a proof must show a private key, and an HMAC secret would be the verifier's too).
 */
import { verify, type KeyObject } from "node:crypto";
import { verifySignature } from "../jwt/signature.js";

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

/**
 * Whether `signature` is a valid `alg` signature of `signingInput` under `key`. ES, RS and PS
 * go through the token verifier's own check (key type, curve, RSA of 2048 bits or more);
 * EdDSA is checked here, the key's curve standing for the algorithm's. Never throws.
 */
export function verifyProofSignature(
  alg: DpopAlgorithm,
  key: KeyObject,
  signingInput: string,
  signature: Buffer,
): boolean {
  if (alg !== "EdDSA" && alg !== "Ed25519") return verifySignature(alg, key, signingInput, signature);
  const type = key.asymmetricKeyType;
  if (type !== "ed25519" && (alg !== "EdDSA" || type !== "ed448")) return false;
  try {
    return verify(null, Buffer.from(signingInput, "latin1"), key, signature);
  } catch {
    return false;
  }
}
