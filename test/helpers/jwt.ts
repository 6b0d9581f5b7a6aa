/**
 * Signs JWTs with node:crypto for tests: valid tokens in any shape from the local
 * authorization server's own key, and the malformed or hostile ones an attacker sends.
 */
import { createHmac, createPrivateKey, createPublicKey, sign, type JsonWebKey, type KeyObject } from "node:crypto";

const b64 = (value: unknown): string =>
  Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");

const HASH: Record<string, string> = { "256": "sha256", "384": "sha384", "512": "sha512" };

export function signJwt(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  key: KeyObject | JsonWebKey,
): string {
  const alg = String(header["alg"]);
  const input = `${b64(header)}.${b64(payload)}`;
  const keyObject =
    "asymmetricKeyType" in key || "symmetricKeySize" in key
      ? (key as KeyObject)
      : createPrivateKey({ key: key as JsonWebKey, format: "jwk" });
  const hash = HASH[alg.slice(2)]!;
  let signature: Buffer;
  if (alg.startsWith("HS")) {
    signature = createHmac(
      hash,
      keyObject.type === "secret" ? keyObject.export() : keyObject.export({ format: "pem", type: "spki" }),
    )
      .update(input)
      .digest();
  } else if (alg.startsWith("ES")) {
    signature = sign(hash, Buffer.from(input), { key: keyObject, dsaEncoding: "ieee-p1363" });
  } else if (alg.startsWith("PS")) {
    signature = sign(hash, Buffer.from(input), {
      key: keyObject,
      padding: 6 /* RSA_PKCS1_PSS_PADDING */,
      saltLength: Number(alg.slice(2)) / 8,
    });
  } else {
    signature = sign(hash, Buffer.from(input), keyObject);
  }
  return `${input}.${signature.toString("base64url")}`;
}

/** An unsigned token (`alg: none`). */
export function unsignedJwt(
  payload: Record<string, unknown>,
  header: Record<string, unknown> = { alg: "none", typ: "at+jwt" },
): string {
  return `${b64(header)}.${b64(payload)}.`;
}

/** The PEM of the public half of a private JWK: what an algorithm-confusion attacker uses as an HMAC secret. */
export function publicPem(jwk: JsonWebKey): string {
  return createPublicKey({ key: jwk, format: "jwk" }).export({ format: "pem", type: "spki" }).toString();
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);
