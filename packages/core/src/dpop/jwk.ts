/**
 * The proof's `jwk` header (RFC 9449 section 4.3, point 7): a public key of the type the
 * algorithm needs, its RFC 7638 thumbprint (what `cnf.jkt` names), and the imported key,
 * kept by thumbprint so that a client's repeated proofs do not import its key again.
 */
import { createPublicKey, type JsonWebKey, type KeyObject } from "../crypto/index.js";
import { sha256Base64url } from "../crypto/index.js";
import { LRUCache } from "lru-cache";
import { McpOAuthError } from "../errors.js";
import { keyShapeOf, type DpopAlgorithm } from "./algorithms.js";

/**
 * Members that carry private key material (RFC 7518 sections 6.2.2 and 6.3.2, and `k` of a
 * symmetric key, section 6.4.1): a proof carrying one is refused, whatever else it holds.
 */
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] as const;

/** RFC 7638 section 3.2: the required members of each key type, in lexicographic order. */
const THUMBPRINT_MEMBERS: Readonly<Record<"EC" | "RSA" | "OKP", readonly string[]>> = {
  EC: ["crv", "kty", "x", "y"],
  RSA: ["e", "kty", "n"],
  OKP: ["crv", "kty", "x"],
};

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * RSA sizes accepted: 2048 bits at least (RFC 8725 section 3.5, as for tokens), and at most
 * 8192, so that a client cannot make each of its requests cost a 16k-bit verification.
 * A public exponent above 2^32 is refused for the same reason (65537 is what keys use).
 */
const MIN_RSA_BITS = 2048;
const MAX_RSA_BITS = 8192;
const MAX_RSA_EXPONENT = 2n ** 32n;

/** Default number of imported proof keys kept. */
export const DEFAULT_KEY_CACHE_ENTRIES = 1000;

const invalidKey = (message: string): McpOAuthError => new McpOAuthError("dpop_key_invalid", message);

/**
 * The RFC 7638 input of a proof's `jwk`: the required members of its key type, in order, as
 * JSON without whitespace. Refuses anything but a public key of the type `alg` needs.
 */
export function thumbprintInput(jwk: unknown, alg: DpopAlgorithm): string {
  if (jwk === null || typeof jwk !== "object" || Array.isArray(jwk)) throw invalidKey("jwk is not a JSON object");
  const members = jwk as Record<string, unknown>;
  for (const name of PRIVATE_MEMBERS) {
    if (Object.hasOwn(members, name)) throw invalidKey("jwk holds private key material");
  }
  const shape = keyShapeOf(alg);
  if (members["kty"] !== shape.kty) throw invalidKey(`jwk is not an ${shape.kty} key, as ${alg} needs`);
  if (shape.curves !== undefined && !shape.curves.includes(members["crv"] as string)) {
    throw invalidKey(`jwk is not on a curve ${alg} uses`);
  }
  const required = THUMBPRINT_MEMBERS[shape.kty];
  const canonical: Record<string, string> = {};
  for (const name of required) {
    const value = members[name];
    // `kty` and `crv` were checked against fixed names above, all of base64url's alphabet.
    if (typeof value !== "string" || !BASE64URL.test(value)) {
      throw invalidKey(`jwk member ${name} is missing or not base64url`);
    }
    canonical[name] = value;
  }
  return JSON.stringify(canonical);
}

/** RFC 7638 thumbprint (SHA-256, base64url) of a thumbprint input. */
export function thumbprintOf(input: string): string {
  return sha256Base64url(input);
}

/** The public key of a thumbprint input, checked for size; throws `dpop_key_invalid`. */
function importKey(input: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: JSON.parse(input) as JsonWebKey, format: "jwk" });
  } catch {
    // Not a point on the curve, a modulus of zero, bytes of the wrong length.
    throw invalidKey("jwk is not a valid public key");
  }
  if (key.asymmetricKeyType === "rsa") {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    const exponent = key.asymmetricKeyDetails?.publicExponent ?? 0n;
    if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) {
      throw invalidKey(`RSA key of ${bits} bits; ${MIN_RSA_BITS} to ${MAX_RSA_BITS} are accepted`);
    }
    if (exponent > MAX_RSA_EXPONENT) throw invalidKey("RSA public exponent too large");
  }
  return key;
}

export interface ProofKey {
  readonly key: KeyObject;
  /** RFC 7638 SHA-256 thumbprint, base64url: what the token's `cnf.jkt` must equal. */
  readonly thumbprint: string;
}

/**
 * Imported proof keys by thumbprint, least recently used dropped first: importing a JWK
 * costs more than the thumbprint that finds it again. Bounded, so a client minting a key per
 * request only evicts; each key is checked against the proof's algorithm on every use (the
 * signature check does), so one key under two algorithms is no concern.
 */
export class ProofKeyCache {
  readonly maxEntries: number;
  readonly #keys: LRUCache<string, KeyObject> | undefined;

  constructor(maxEntries: number = DEFAULT_KEY_CACHE_ENTRIES) {
    this.maxEntries = maxEntries;
    this.#keys = maxEntries > 0 ? new LRUCache<string, KeyObject>({ max: maxEntries }) : undefined;
  }

  get size(): number {
    return this.#keys?.size ?? 0;
  }

  /** The key of a proof's `jwk` for `alg`, and its thumbprint; throws `dpop_key_invalid`. */
  keyFor(jwk: unknown, alg: DpopAlgorithm): ProofKey {
    const input = thumbprintInput(jwk, alg);
    const thumbprint = thumbprintOf(input);
    let key = this.#keys?.get(thumbprint);
    if (key === undefined) {
      key = importKey(input);
      this.#keys?.set(thumbprint, key);
    }
    return { key, thumbprint };
  }
}
