/**
 * Key sets (RFC 7517) and JWS signatures (RFC 7515, algorithms of RFC 7518 and RFC 8037)
 * with node:crypto only: enough to tell whether a key set is usable and whether a token
 * was signed by one of its keys.
 */
import { constants, createPublicKey, verify, type JsonWebKey, type KeyObject } from "node:crypto";

export interface KeyReport {
  /** Public signing keys that node:crypto can load. */
  usable: { kid: string | undefined; kty: string; alg: string | undefined; key: KeyObject }[];
  /** Keys skipped, with why. */
  skipped: string[];
  /** Keys that carry private members: a key set must never publish them. */
  privateKeys: string[];
}

const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "k"];

export function inspectKeySet(document: Record<string, unknown>): KeyReport | { error: string } {
  const keys = document["keys"];
  if (!Array.isArray(keys)) return { error: 'no "keys" array' };
  const report: KeyReport = { usable: [], skipped: [], privateKeys: [] };
  keys.forEach((entry: unknown, index) => {
    if (entry === null || typeof entry !== "object") {
      report.skipped.push(`key ${index}: not an object`);
      return;
    }
    const jwk = entry as Record<string, unknown>;
    const kid = typeof jwk["kid"] === "string" ? jwk["kid"] : undefined;
    const name = kid !== undefined ? `key "${kid}"` : `key ${index}`;
    if (PRIVATE_MEMBERS.some((m) => m in jwk)) report.privateKeys.push(name);
    const kty = typeof jwk["kty"] === "string" ? jwk["kty"] : "";
    if (kty !== "RSA" && kty !== "EC" && kty !== "OKP") {
      report.skipped.push(`${name}: kty "${kty}" is not a public signing key type`);
      return;
    }
    if (jwk["use"] !== undefined && jwk["use"] !== "sig") {
      report.skipped.push(`${name}: use "${String(jwk["use"])}"`);
      return;
    }
    if (Array.isArray(jwk["key_ops"]) && !jwk["key_ops"].includes("verify")) {
      report.skipped.push(`${name}: key_ops without verify`);
      return;
    }
    const pub: Record<string, unknown> = { ...jwk };
    for (const m of PRIVATE_MEMBERS) delete pub[m];
    try {
      const key = createPublicKey({ key: pub as JsonWebKey, format: "jwk" });
      report.usable.push({ kid, kty, alg: typeof jwk["alg"] === "string" ? jwk["alg"] : undefined, key });
    } catch (error) {
      report.skipped.push(`${name}: cannot be loaded (${(error as Error).message})`);
    }
  });
  return report;
}

/** Verifies a compact JWS with one key; false for unknown algorithms or a mismatching key type. */
export function verifyJws(token: string, alg: string, key: KeyObject): boolean {
  const parts = token.split(".");
  if (parts.length !== 3) return false;
  const data = Buffer.from(`${parts[0]}.${parts[1]}`);
  const signature = Buffer.from(parts[2]!, "base64url");
  const hash = /^(?:RS|PS|ES)(256|384|512)$/.exec(alg)?.[1];
  try {
    if (alg.startsWith("RS") && hash && key.asymmetricKeyType === "rsa")
      return verify(`sha${hash}`, data, key, signature);
    if (alg.startsWith("PS") && hash && (key.asymmetricKeyType === "rsa" || key.asymmetricKeyType === "rsa-pss")) {
      return verify(
        `sha${hash}`,
        data,
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST },
        signature,
      );
    }
    if (alg.startsWith("ES") && hash && key.asymmetricKeyType === "ec")
      return verify(`sha${hash}`, data, { key, dsaEncoding: "ieee-p1363" }, signature);
    if (
      (alg === "EdDSA" || alg === "Ed25519") &&
      (key.asymmetricKeyType === "ed25519" || key.asymmetricKeyType === "ed448")
    )
      return verify(null, data, key, signature);
  } catch {
    return false;
  }
  return false;
}
