/**
 * Server-provided nonces (RFC 9449 section 9), stateless so that every replica holding the
 * secret accepts every replica's nonce: a nonce is the time it was issued, encrypted and
 * authenticated with AES-256-GCM under a key derived (HKDF-SHA256) from the configured
 * secret, bound to the resource through the GCM additional data. Nothing is stored.
 *
 * Rotation: the first secret issues, every secret is accepted; put the new secret first and
 * drop the old one once a nonce lifetime has passed.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "../crypto/index.js";

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const TIME_BYTES = 8;
/** version, IV, encrypted issue time (ms since the epoch), tag: 37 bytes, 50 base64url characters. */
const NONCE_BYTES = 1 + IV_BYTES + TIME_BYTES + TAG_BYTES;
const NONCE_LENGTH = Math.ceil((NONCE_BYTES * 4) / 3);
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Fixed HKDF salt and info: the derived key serves this one purpose, in this one format. */
const HKDF_SALT = "mcp-oauth DPoP-Nonce";
const HKDF_INFO = "AES-256-GCM v1";

export interface DpopNonceOptions {
  /** Secrets, the first used to issue, all accepted (rotation). Each at least 32 bytes. */
  secrets: readonly string[];
  /** How long a nonce is accepted after it was issued, in seconds. */
  lifetimeSeconds: number;
  /** What a nonce is bound to (the resource identifier): a nonce of another resource is refused. */
  audience: string;
  /** How far into the future an issue time may be (replicas' clocks differ), in seconds. */
  clockToleranceSeconds?: number;
  /** The clock, in ms since the epoch. */
  now?: () => number;
}

export type NonceVerdict =
  /** `renew`: past half its lifetime, a fresh nonce should be sent with the answer. */
  | { valid: true; renew: boolean }
  /** `stale`: authentic but too old (or issued ahead of our clock); `invalid`: not one of ours. */
  | { valid: false; reason: "stale" | "invalid" };

export class DpopNonces {
  readonly lifetimeSeconds: number;
  readonly #keys: Buffer[];
  readonly #audience: Buffer;
  readonly #toleranceMs: number;
  readonly #now: () => number;
  /** The last nonce issued and when: reused for a tenth of the lifetime (see `issue`). */
  #current: { nonce: string; issuedAt: number } | undefined;

  constructor(options: DpopNonceOptions) {
    if (options.secrets.length === 0) throw new Error("DpopNonces needs at least one secret");
    this.#keys = options.secrets.map((secret) =>
      Buffer.from(hkdfSync("sha256", Buffer.from(secret, "utf8"), HKDF_SALT, HKDF_INFO, 32)),
    );
    this.lifetimeSeconds = options.lifetimeSeconds;
    this.#audience = Buffer.from(options.audience, "utf8");
    this.#toleranceMs = (options.clockToleranceSeconds ?? 0) * 1000;
    this.#now = options.now ?? Date.now;
  }

  /**
   * A nonce to send in `DPoP-Nonce`. The same one for a tenth of the lifetime: RFC 9449 does
   * not ask for a nonce per answer, and fewer encryptions under one key keep AES-GCM's random
   * IVs far from their limit (2^32 per key) however busy the server is.
   */
  issue(): string {
    const now = this.#now();
    const current = this.#current;
    if (current !== undefined && now >= current.issuedAt && now - current.issuedAt < this.lifetimeSeconds * 100) {
      return current.nonce;
    }
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.#keys[0]!, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(this.#audience);
    const time = Buffer.alloc(TIME_BYTES);
    time.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(now))));
    const sealed = Buffer.concat([cipher.update(time), cipher.final()]);
    const nonce = Buffer.concat([Buffer.of(VERSION), iv, sealed, cipher.getAuthTag()]).toString("base64url");
    this.#current = { nonce, issuedAt: now };
    return nonce;
  }

  /** Whether `nonce` is one of ours (any accepted secret, this audience) and still fresh. Never throws. */
  check(nonce: string): NonceVerdict {
    if (nonce.length !== NONCE_LENGTH || !BASE64URL.test(nonce)) return { valid: false, reason: "invalid" };
    const bytes = Buffer.from(nonce, "base64url");
    if (bytes.length !== NONCE_BYTES || bytes[0] !== VERSION) return { valid: false, reason: "invalid" };
    const iv = bytes.subarray(1, 1 + IV_BYTES);
    const sealed = bytes.subarray(1 + IV_BYTES, 1 + IV_BYTES + TIME_BYTES);
    const tag = bytes.subarray(1 + IV_BYTES + TIME_BYTES);
    for (const key of this.#keys) {
      const issuedAt = this.#open(key, iv, sealed, tag);
      if (issuedAt === undefined) continue;
      const age = this.#now() - issuedAt;
      const lifetimeMs = this.lifetimeSeconds * 1000;
      if (age > lifetimeMs || age < -this.#toleranceMs) return { valid: false, reason: "stale" };
      return { valid: true, renew: age > lifetimeMs / 2 };
    }
    return { valid: false, reason: "invalid" };
  }

  /** The issue time sealed under `key`, or undefined when the tag does not verify. */
  #open(key: Buffer, iv: Buffer, sealed: Buffer, tag: Buffer): number | undefined {
    try {
      const decipher = createDecipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(this.#audience);
      decipher.setAuthTag(tag);
      const time = Buffer.concat([decipher.update(sealed), decipher.final()]);
      return Number(time.readBigUInt64BE());
    } catch {
      return undefined;
    }
  }
}
