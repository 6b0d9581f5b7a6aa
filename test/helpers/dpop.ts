/**
 * DPoP proofs for tests, built with jose (an implementation independent of ours): real key
 * pairs, well-formed proofs, and proofs with one defect at a time.
 */
import { createHash, randomBytes } from "node:crypto";
import { calculateJwkThumbprint, CompactSign, exportJWK, generateKeyPair, type CryptoKey, type JWK } from "jose";

export interface DpopKey {
  alg: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  privateJwk: JWK;
  /** RFC 7638 thumbprint as jose computes it: what a token's `cnf.jkt` holds. */
  thumbprint: string;
}

export async function dpopKey(alg = "ES256", options: { crv?: string; modulusLength?: number } = {}): Promise<DpopKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...options });
  const publicJwk = await exportJWK(publicKey);
  const privateJwk = await exportJWK(privateKey);
  return { alg, privateKey, publicJwk, privateJwk, thumbprint: await calculateJwkThumbprint(publicJwk, "sha256") };
}

/** `ath` as RFC 9449 section 4.2 defines it. */
export const athOf = (token: string): string => createHash("sha256").update(token, "ascii").digest("base64url");

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");

export interface ProofSpec {
  htm?: string;
  htu?: string;
  /** Sets `ath`. */
  accessToken?: string;
  iat?: number;
  jti?: string;
  nonce?: string;
  /** Claims added or replaced. */
  claims?: Record<string, unknown>;
  /** Header members added or replaced (`jwk`, `typ`, `alg`, ...). */
  header?: Record<string, unknown>;
  /** Claims or header members left out. */
  omit?: string[];
  /** Signs with this key instead of the one whose public JWK is in the header. */
  signWith?: CryptoKey;
}

/** A proof signed by jose, `now` in seconds. */
export async function dpopProof(key: DpopKey, spec: ProofSpec, now: number): Promise<string> {
  const omit = new Set(spec.omit ?? []);
  const claims: Record<string, unknown> = {
    jti: spec.jti ?? randomBytes(16).toString("base64url"),
    htm: spec.htm ?? "POST",
    htu: spec.htu ?? "https://mcp.example.com/mcp",
    iat: spec.iat ?? now,
    ...(spec.accessToken !== undefined ? { ath: athOf(spec.accessToken) } : {}),
    ...(spec.nonce !== undefined ? { nonce: spec.nonce } : {}),
    ...spec.claims,
  };
  const header: Record<string, unknown> = { typ: "dpop+jwt", alg: key.alg, jwk: key.publicJwk, ...spec.header };
  for (const name of omit) {
    delete claims[name];
    delete header[name];
  }
  return new CompactSign(Buffer.from(JSON.stringify(claims)))
    .setProtectedHeader(header as { alg: string })
    .sign(spec.signWith ?? key.privateKey);
}

/** An `alg: none` proof: no signature. */
export function unsignedProof(key: DpopKey, claims: Record<string, unknown>): string {
  return `${b64({ typ: "dpop+jwt", alg: "none", jwk: key.publicJwk })}.${b64(claims)}.`;
}

/** Flips the signature's first character (all six of its bits count; the last one's may not). */
export function tamperSignature(proof: string): string {
  const dot = proof.lastIndexOf(".");
  const first = proof[dot + 1];
  return `${proof.slice(0, dot + 1)}${first === "A" ? "B" : "A"}${proof.slice(dot + 2)}`;
}

/**
 * Splits a `WWW-Authenticate` value holding several challenges (RFC 9110 section 11.6.1) at
 * the commas that start a new scheme, outside quoted strings.
 */
export function splitChallenges(header: string): string[] {
  const challenges: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < header.length; i++) {
    const c = header[i];
    if (quoted && c === "\\") i++;
    else if (c === '"') quoted = !quoted;
    else if (
      !quoted &&
      c === "," &&
      /^[ \t]*[!#$%&'*+.^_`|~0-9A-Za-z-]+ +[!#$%&'*+.^_`|~0-9A-Za-z-]+[ \t]*=/.test(header.slice(i + 1))
    ) {
      challenges.push(header.slice(start, i).trim());
      start = i + 1;
    }
  }
  challenges.push(header.slice(start).trim());
  return challenges;
}

/** A promise of what `run` returns or throws: for APIs that answer synchronously when they can. */
export const settle = <T>(run: () => T | Promise<T>): Promise<T> => (async () => run())();
