/**
 * The token sets every row validates: RS256 access tokens (RFC 9068 shape) signed with the
 * local authorization server's own private key, so every library checks the same tokens
 * against the same loopback key set.
 *
 * An RSA-2048 signature costs about 1 ms, so a cold pool of tens of thousands of distinct
 * tokens takes a while: signing runs on libuv's thread pool (both cores), and the pool is
 * kept in `bench/.cache/` with the key and the issuer port it was minted for, reused while
 * it has more than a day to live.
 */
import { createPrivateKey, createHmac, randomUUID, sign, type KeyObject } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { PrivateJwk } from "@mcp-oauth/local-authorization-server";
import { BENCH_DIR } from "./shared.js";

export const CACHE_DIR = join(BENCH_DIR, ".cache");
const META_FILE = join(CACHE_DIR, "tokens.json");
export const COLD_FILE = join(CACHE_DIR, "cold-tokens.txt");
export const CACHED_FILE = join(CACHE_DIR, "cached-tokens.txt");

const DAY = 86_400;
const LIFETIME = 14 * DAY;

export interface TokenClaims {
  iss: string;
  sub: string;
  aud: string;
  client_id: string;
  scope: string;
  iat: number;
  exp: number;
  jti: string;
}

export interface MintedTokens {
  jwk: PrivateJwk;
  issuerPort: number;
  issuer: string;
  resource: string;
  /** A few tokens sent over and over: the cached path. */
  cached: string[];
  /** Distinct tokens, each sent once during a measured run: the cold path. */
  coldCount: number;
  /** Valid except for `aud`: every row must refuse it (checked before each row). */
  wrongAudience: string;
  /** Reused from an earlier run. */
  reused: boolean;
}

/** What `tokens.json` keeps: the minted set without the run-specific flag, and when it expires. */
interface Meta extends Omit<MintedTokens, "reused"> {
  version: 1;
  exp: number;
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");

export function claimsFor(
  issuer: string,
  resource: string,
  n: number,
  now = Math.floor(Date.now() / 1000),
): TokenClaims {
  return {
    iss: issuer,
    sub: `user-${n}`,
    aud: resource,
    client_id: "bench-client",
    scope: "mcp:read mcp:write",
    iat: now - 60,
    exp: now + LIFETIME,
    jti: randomUUID(),
  };
}

function signingInput(kid: string, claims: object): string {
  return `${b64({ alg: "RS256", typ: "at+jwt", kid })}.${b64(claims)}`;
}

/** One RS256 token, signed on the thread pool. */
function mintRs256(key: KeyObject, kid: string, claims: object): Promise<string> {
  const input = signingInput(kid, claims);
  return new Promise((resolve, reject) => {
    sign("sha256", Buffer.from(input), key, (error, signature) => {
      if (error) reject(error);
      else resolve(`${input}.${signature.toString("base64url")}`);
    });
  });
}

/** An HS256 token with the same claims (the heap benchmark: the cache never holds the signature). */
export function mintHs256(secret: Buffer, claims: object): string {
  const input = `${b64({ alg: "HS256", typ: "at+jwt" })}.${b64(claims)}`;
  return `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
}

async function mintMany(
  key: KeyObject,
  kid: string,
  issuer: string,
  resource: string,
  count: number,
  onProgress: (done: number) => void,
): Promise<string[]> {
  const out = new Array<string>(count);
  const now = Math.floor(Date.now() / 1000);
  let next = 0;
  let done = 0;
  // Enough in flight to keep every thread-pool thread busy, few enough to stay small.
  const lane = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      out[i] = await mintRs256(key, kid, claimsFor(issuer, resource, i, now));
      if (++done % 5000 === 0) onProgress(done);
    }
  };
  await Promise.all(Array.from({ length: 8 }, lane));
  return out;
}

/** The stored set, when it fits this run (enough cold tokens, at least a day left). */
export function loadMinted(coldCount: number, resource: string): MintedTokens | undefined {
  if (!existsSync(META_FILE) || !existsSync(COLD_FILE) || !existsSync(CACHED_FILE)) return undefined;
  try {
    const meta = JSON.parse(readFileSync(META_FILE, "utf8")) as Meta;
    if (meta.version !== 1 || meta.resource !== resource || meta.coldCount < coldCount) return undefined;
    if (meta.exp - Date.now() / 1000 < DAY) return undefined;
    return {
      jwk: meta.jwk,
      issuerPort: meta.issuerPort,
      issuer: meta.issuer,
      resource,
      cached: meta.cached,
      coldCount: meta.coldCount,
      wrongAudience: meta.wrongAudience,
      reused: true,
    };
  } catch {
    return undefined;
  }
}

/** Mints the cached set, the cold pool and the wrong-audience token for `issuer`, and stores them. */
export async function mintAll(
  jwk: PrivateJwk,
  issuer: string,
  issuerPort: number,
  resource: string,
  coldCount: number,
  log: (line: string) => void,
): Promise<MintedTokens> {
  const key = createPrivateKey({ key: jwk as import("node:crypto").JsonWebKey, format: "jwk" });
  const started = performance.now();
  const cached = await mintMany(key, jwk.kid, issuer, resource, 4, () => {});
  const wrongAudience = await mintRs256(key, jwk.kid, {
    ...claimsFor(issuer, resource, 0),
    aud: "http://127.0.0.1/other",
  });
  const cold = await mintMany(key, jwk.kid, issuer, resource, coldCount, (done) =>
    log(`  minted ${done}/${coldCount} cold tokens`),
  );
  log(`  minted ${coldCount + 5} RS256 tokens in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  mkdirSync(CACHE_DIR, { recursive: true });
  writeFileSync(COLD_FILE, cold.join("\n"));
  writeFileSync(CACHED_FILE, cached.join("\n"));
  const meta: Meta = {
    version: 1,
    jwk,
    issuerPort,
    issuer,
    resource,
    cached,
    coldCount,
    wrongAudience,
    exp: Math.floor(Date.now() / 1000) + LIFETIME,
  };
  writeFileSync(META_FILE, JSON.stringify(meta));
  return { jwk, issuerPort, issuer, resource, cached, coldCount, wrongAudience, reused: false };
}

export function readTokens(file: string): string[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line !== "");
}

/** `count` RS256 tokens for `issuer` and `resource` signed with `key` under `kid` (the rotation row's new keys). */
export function mintWithKey(
  key: KeyObject,
  kid: string,
  issuer: string,
  resource: string,
  count: number,
): Promise<string[]> {
  return mintMany(key, kid, issuer, resource, count, () => {});
}
