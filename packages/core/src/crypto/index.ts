/**
 * The core's one seam over the runtime's crypto on the request path: the only module of the
 * core that imports `node:crypto` (the JWT path, and DPoP's proof signatures, hashes, key
 * import and nonce sealing).
 *
 * Chosen by measurement (`pnpm bench:crypto`, docs/architecture.md "Crypto on each runtime"):
 * node:crypto on every runtime that has it (Node, Bun, Deno, Workers with `nodejs_compat`),
 * never WebCrypto. WebCrypto is asynchronous only: the SHA-256 of a token, which every request
 * pays for its cache key, costs 5 to 25 times more through it on Node, Bun and Deno, and a
 * promise per hash would end the cached path that answers without one. RS256 verification
 * is 1.8 to 2.8 times slower through it on Node and Bun; ES256 is close there (on Deno,
 * WebCrypto verifies ES256 faster: docs/architecture.md).
 *
 * Where runtimes differ, the difference lives here. workerd's node:crypto (the Workers
 * runtime) refuses a `KeyObject` inside a verify options object (`{ key, dsaEncoding }`,
 * `{ key, padding }`), which ES and PS signatures need, and its one-shot `verify` ignores
 * the PSS padding; it takes the same key as a PEM string through `createVerify`. Which form
 * the runtime takes is found once, on first use.
 */
import {
  constants,
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createVerify,
  createPublicKey,
  createSecretKey,
  hash,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
  verify,
  type KeyObject,
  type VerifyKeyObjectInput,
} from "node:crypto";

export {
  constants,
  createCipheriv,
  createDecipheriv,
  createHmac,
  createPublicKey,
  createSecretKey,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
};
export type { JsonWebKey, KeyObject } from "node:crypto";

/** SHA-256 of `text` (UTF-8), base64url: the one-shot `hash` (Node 20.12+, Bun, Deno, workerd), else a Hash object. */
export const sha256Base64url: (text: string | Buffer) => string =
  typeof hash === "function"
    ? (text) => hash("sha256", text, "base64url")
    : (text) => createHash("sha256").update(text).digest("base64url");

/** The key types a JWK Set's signing keys may have (RFC 7518 section 6, RFC 8037). */
const SIGNING_KEY_TYPES = new Set(["RSA", "EC", "OKP"]);

/**
 * The public key of a JWK from a key set, or undefined when it is none to verify with: not a
 * signing key (`use` other than `sig`, RFC 7517 section 4.2), a type that signs nothing here,
 * a private key (a key set publishes public keys; one with private parts is a mistake, not
 * trusted), or one the runtime cannot import.
 */
export function importPublicJwk(jwk: Readonly<Record<string, unknown>>): KeyObject | undefined {
  if (jwk["use"] !== undefined && jwk["use"] !== "sig") return undefined;
  if (typeof jwk["kty"] !== "string" || !SIGNING_KEY_TYPES.has(jwk["kty"])) return undefined;
  if (jwk["d"] !== undefined) return undefined;
  try {
    return createPublicKey({ key: jwk as import("node:crypto").JsonWebKey, format: "jwk" });
  } catch {
    return undefined;
  }
}

// A P-256 public key, only to find whether the runtime takes a KeyObject in verify options.
const PROBE_JWK = {
  kty: "EC",
  crv: "P-256",
  x: "fU-Agj_VEhOTJpmBxfHr1YJwB-YJ9NEE61F8pPFiAVg",
  y: "PlbUZhcIJ--FilOPApbGcXzcMhfK_BTn_bGevoRIBSY",
};
let keyObjectInOptions: boolean | undefined;

function takesKeyObjectInOptions(): boolean {
  if (keyObjectInOptions === undefined) {
    const key = createPublicKey({ key: PROBE_JWK, format: "jwk" });
    try {
      // An all-zero signature of nothing: false where the form is taken, a TypeError where not.
      verify("sha256", new Uint8Array(0), { key, dsaEncoding: "ieee-p1363" }, new Uint8Array(64));
      keyObjectInOptions = true;
    } catch {
      keyObjectInOptions = false;
    }
  }
  return keyObjectInOptions;
}

/** Options of a verification beyond the key: RSA-PSS padding and salt, ECDSA signature encoding. */
export type VerifyOptions = Omit<VerifyKeyObjectInput, "key">;
const pemInputs = new WeakMap<KeyObject, Map<string, VerifyKeyObjectInput>>();

/** `key` as a PEM string with `options` (the form workerd takes), made once per key and options. */
function pemInput(key: KeyObject, options: VerifyOptions): VerifyKeyObjectInput {
  const id = JSON.stringify(options);
  let inputs = pemInputs.get(key);
  if (inputs === undefined) pemInputs.set(key, (inputs = new Map()));
  let input = inputs.get(id);
  if (input === undefined) {
    const pem = key.export({ format: "pem", type: "spki" }) as string;
    inputs.set(id, (input = { ...options, key: pem } as unknown as VerifyKeyObjectInput));
  }
  return input;
}

/** A verification of one key's signatures, prepared by `keyVerifier`. */
export type KeyVerifier = (data: Buffer, signature: Buffer) => boolean;

/**
 * `verifyWithKey` with `hash`, `key` and `options` fixed, the verify input built once: for a
 * key that verifies many signatures (a DPoP client's key, one per request), where a new
 * options object per call was a measurable part of the cost beyond the signature
 * (bench/dpop-results.md). Same forms per runtime as `verifyWithKey`; throws as it does.
 */
export function keyVerifier(hash: string | null, key: KeyObject, options: VerifyOptions | undefined): KeyVerifier {
  if (options === undefined) return (data, signature) => verify(hash, data, key, signature);
  if (hash === null || takesKeyObjectInOptions()) {
    const input: VerifyKeyObjectInput = { ...options, key };
    return (data, signature) => verify(hash, data, input, signature);
  }
  const input = pemInput(key, options);
  return (data, signature) => createVerify(hash).update(data).verify(input, signature);
}

/**
 * Whether `signature` is `key`'s signature of `data` with `hash` (null: the key's own, EdDSA)
 * and `options` (none for PKCS#1 v1.5 RSA and EdDSA). Throws what node:crypto throws (the caller decides what that means).
 * Where the runtime refuses a KeyObject in options (workerd), the key goes as PEM through
 * `createVerify`: workerd's one-shot `verify` ignores the PSS padding it is given.
 */
export function verifyWithKey(
  hash: string | null,
  data: Buffer,
  key: KeyObject,
  options: VerifyOptions | undefined,
  signature: Buffer,
): boolean {
  if (options === undefined) return verify(hash, data, key, signature);
  // No hash (EdDSA) takes no options: the first form, as everywhere.
  if (hash === null || takesKeyObjectInOptions()) return verify(hash, data, { ...options, key }, signature);
  return createVerify(hash).update(data).verify(pemInput(key, options), signature);
}

/**
 * `verifyWithKey` on libuv's thread pool (node:crypto's `verify` with a callback), where the
 * runtime takes the KeyObject form; elsewhere synchronously. `done` gets the verdict (false
 * on an error); throws only when node:crypto refuses the arguments at once.
 */
export function verifyWithKeyInPool(
  hash: string | null,
  data: Buffer,
  key: KeyObject,
  options: VerifyOptions | undefined,
  signature: Buffer,
  done: (valid: boolean) => void,
): void {
  if (options !== undefined && !takesKeyObjectInOptions()) {
    let valid = false;
    try {
      valid = verifyWithKey(hash, data, key, options, signature);
    } catch {
      // A refusal, as below.
    }
    return done(valid);
  }
  // An error (OpenSSL refusing the combination) comes with `valid` undefined: a refusal.
  verify(hash, data, options === undefined ? key : { ...options, key }, signature, (_error, valid) =>
    done(valid === true),
  );
}
