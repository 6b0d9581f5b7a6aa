/**
 * Checking one DPoP proof (RFC 9449 section 4.3), everything that needs no state beyond the
 * imported keys: the header count, the JWS, `typ`, `alg`, `jwk`, the signature, `jti`, `htm`,
 * `htu`, `iat`, `ath` and the key binding. The nonce and the replay check, which need the
 * server's secret and memory, are the verifier's (verifier.ts). Synchronous, never cached:
 * every request carries its own proof.
 */
import { sha256Base64url } from "../crypto/index.js";
import { McpOAuthError, type McpOAuthErrorCode } from "../errors.js";
import { RecentKeys } from "../recent-keys.js";
import { isDpopAlgorithm, signatureCheck, type ProofSignatureCheck } from "./algorithms.js";
import { HtuMatcher } from "./htu.js";
import { ProofKeyCache } from "./jwk.js";
import { readCompactClaims, type CompactClaims } from "./payload.js";

/** What a request brings to the check. */
export interface DpopProofInput {
  /** The request method, as received (`htm` is compared exactly, RFC 9110 methods are case-sensitive). */
  method: string;
  /**
   * Every `DPoP` header value as received, one entry per header line (Node:
   * `req.headersDistinct.dpop`). A plain string is one value; a value holding a comma is
   * several folded into one (`req.headers` joins repeated headers with ", "; no compact JWS
   * holds a comma).
   */
  proofs: readonly string[] | string | undefined;
  /** The request target (`req.url`, or Express's `req.originalUrl`): its path makes `htu`. */
  requestTarget: string;
  /** The access token of `Authorization: DPoP <token>`, for `ath`. */
  accessToken: string;
  /**
   * The token's `cnf.jkt` (JWT claim, or the introspection answer's, RFC 9449 section 6),
   * undefined when the token is not bound to a key.
   */
  boundThumbprint: string | undefined;
}

/** The rules a proof is held to (from the resolved DPoP options). */
export interface DpopProofRules {
  /** Accepted `alg` values: only asymmetric algorithms of `DPOP_ALGORITHMS`. */
  algorithms: ReadonlySet<string>;
  /** How far `iat` may be from now, either way, in seconds. */
  iatWindowSeconds: number;
  /** Added to the window, in seconds. */
  clockToleranceSeconds: number;
  /** Longest proof accepted, in characters. */
  maxProofLength: number;
  /** Longest `jti` accepted, in characters. */
  maxJtiLength: number;
}

export interface CheckedDpopProof {
  /** RFC 7638 thumbprint of the proof key (equal to the token's `cnf.jkt`). */
  thumbprint: string;
  jti: string;
  iat: number;
  /** The proof's `nonce` claim, if any (checked by the verifier when nonces are on). */
  nonce: string | undefined;
  /**
   * For how many more seconds this proof would pass the `iat` check: how long its `jti`
   * must be remembered for a replay to be caught (RFC 9449 section 11.1).
   */
  acceptableForSeconds: number;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

const refuse = (code: McpOAuthErrorCode, message: string): McpOAuthError => new McpOAuthError(code, message);

/** The JSON object `text` holds, or a refusal naming the segment. */
function jsonObject(text: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // Refused below with every other non-object.
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw refuse("dpop_proof_malformed", `proof ${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/**
 * A segment's bytes, decoded into `into` (a buffer able to hold any segment of an accepted
 * proof): no Buffer per proof; the check is synchronous, so one per checker serves every
 * request. Their length.
 */
function decodeInto(segment: string, what: string, into: Buffer): number {
  if (!BASE64URL.test(segment)) throw refuse("dpop_proof_malformed", `proof ${what} is not base64url`);
  return into.write(segment, "base64url");
}

/** The header's JSON object (decoded once per client: the checker remembers checked headers). */
function decodeHeader(segment: string, into: Buffer): Record<string, unknown> {
  return jsonObject(into.toString("utf8", 0, decodeInto(segment, "header", into)), "header");
}

/** The payload's claims: its compact JSON read in place (payload.ts), any other JSON through `JSON.parse`. */
function decodePayload(segment: string, into: Buffer): Readonly<Record<string, unknown>> | CompactClaims {
  const length = decodeInto(segment, "payload", into);
  return readCompactClaims(into, length) ?? jsonObject(into.toString("utf8", 0, length), "payload");
}

/** The one proof of a request, or a refusal: none, or several headers (folded ones: see `check`). */
function oneProof(proofs: DpopProofInput["proofs"]): string {
  if (typeof proofs === "string") return proofs;
  if (proofs === undefined || proofs.length === 0) throw refuse("dpop_proof_missing", "no DPoP header");
  if (proofs.length > 1) throw refuse("dpop_multiple_proofs", "more than one DPoP header");
  return proofs[0]!;
}

/** RFC 7515 section 4.1.9: `typ` is a media type, compared without case and `application/`. */
function isDpopType(typ: unknown): boolean {
  if (typeof typ !== "string") return false;
  const lower = typ.toLowerCase();
  return lower === "dpop+jwt" || lower === "application/dpop+jwt";
}

function stringClaim(
  payload: Readonly<Record<string, unknown>> | CompactClaims,
  name: "jti" | "htm" | "htu",
  maxLength = Infinity,
): string {
  const value = payload[name];
  if (value === undefined) throw refuse("dpop_claim_missing", `proof has no ${name}`);
  if (typeof value !== "string" || value.length === 0 || value.length > maxLength) {
    throw refuse("dpop_claim_invalid", `proof ${name} is not a string of 1 to ${maxLength} characters`);
  }
  return value;
}

/** The base64url SHA-256 of an access token: `ath` (RFC 9449 section 4.2). */
export function accessTokenHash(accessToken: string): string {
  return sha256Base64url(accessToken);
}

/** A proof header that passed every check and verified a signature. */
interface KnownHeader {
  /** The signature check of the header's `alg` under its `jwk`. */
  verify: ProofSignatureCheck;
  thumbprint: string;
}

export class DpopProofChecker {
  readonly #rules: DpopProofRules;
  readonly #htu: HtuMatcher;
  readonly #keys: ProofKeyCache;
  /**
   * Header segments (as sent) whose checks passed and whose key verified a signature: a
   * client sends the same header (`typ`, `alg`, `jwk`) with every proof, so its base64url
   * and JSON decoding, checks and thumbprint are done once (they were half the cost beyond
   * the signature, bench/dpop-results.md). Same bound as the key cache; a plain `Map` that
   * starts over when full (cheaper per hit than an LRU; a client minting headers only makes
   * the others decode theirs once more, their keys staying in the key cache).
   */
  readonly #headers: Map<string, KnownHeader> | undefined;
  readonly #maxHeaders: number;
  /**
   * The header segment of the last proof whose signature verified, and its entry: a client
   * sends its requests one after another, each with the same header.
   */
  #lastHeader: string | undefined;
  #last: KnownHeader | undefined;
  /** `ath` of recently accepted tokens: a client presents one token with many proofs. */
  readonly #tokenHashes = new RecentKeys();
  /** Where segments are decoded (`decodeInto`): three bytes for every four characters of the longest proof. */
  readonly #decoded: Buffer;

  /** `resource`: the configured resource URL (its origin is the `htu` origin). */
  constructor(rules: DpopProofRules, resource: URL, keys: ProofKeyCache = new ProofKeyCache()) {
    this.#rules = rules;
    this.#htu = new HtuMatcher(resource);
    this.#keys = keys;
    this.#maxHeaders = keys.maxEntries;
    this.#headers = keys.maxEntries > 0 ? new Map() : undefined;
    this.#decoded = Buffer.allocUnsafe(Math.ceil(rules.maxProofLength / 4) * 3);
  }

  /** How many checked headers are remembered (at most the key cache's bound). */
  get rememberedHeaders(): number {
    return this.#headers?.size ?? 0;
  }

  /** The checked header of a segment: known, or decoded and checked now (not yet known). */
  #header(segment: string): KnownHeader {
    const header = decodeHeader(segment, this.#decoded);
    if (!isDpopType(header["typ"])) throw refuse("dpop_proof_type_invalid", "proof typ is not dpop+jwt");
    const alg = header["alg"];
    if (!isDpopAlgorithm(alg) || !this.#rules.algorithms.has(alg)) {
      throw refuse("dpop_algorithm_not_allowed", "proof alg is not an accepted asymmetric algorithm");
    }
    // RFC 7515 section 4.1.11: an extension we do not know must be refused; we know none.
    if (header["crit"] !== undefined) throw refuse("dpop_proof_malformed", "proof has a critical header");
    if (header["jwk"] === undefined) throw refuse("dpop_key_invalid", "proof has no jwk");
    const { key, thumbprint } = this.#keys.keyFor(header["jwk"], alg);
    const verify = signatureCheck(alg, key);
    if (verify === undefined) throw refuse("dpop_key_invalid", `proof jwk does not suit ${alg}`);
    return { verify, thumbprint };
  }

  /** Checks the request's proof at `nowSeconds`; throws an `McpOAuthError` with a `dpop_*` code. */
  check(input: DpopProofInput, nowSeconds: number): CheckedDpopProof {
    const rules = this.#rules;
    const proof = oneProof(input.proofs);
    if (proof.length > rules.maxProofLength) throw refuse("dpop_proof_malformed", "proof too long");
    const first = proof.indexOf(".");
    const second = proof.indexOf(".", first + 1);
    // No first dot leaves no second either (the search for it starts at 0 and finds none).
    if (second === -1 || proof.indexOf(".", second + 1) !== -1) {
      // Two proofs folded into one value hold four dots and a comma (no compact JWS holds one):
      // looked for only here, not in every valid proof.
      if (proof.includes(",")) throw refuse("dpop_multiple_proofs", "more than one DPoP proof in the header");
      throw refuse("dpop_proof_malformed", "proof is not a three-part JWS");
    }

    const headerSegment = proof.slice(0, first);
    const memo = this.#headers;
    // The last header seen first: one comparison, where the map hashes the segment (about 230 characters).
    const known =
      memo === undefined ? undefined : headerSegment === this.#lastHeader ? this.#last : memo.get(headerSegment);
    const { verify, thumbprint } = known ?? this.#header(headerSegment);

    const signature = proof.slice(second + 1);
    if (!BASE64URL.test(signature)) throw refuse("dpop_proof_malformed", "proof signature is not base64url");
    if (!verify(Buffer.from(proof.slice(0, second), "latin1"), Buffer.from(signature, "base64url"))) {
      throw refuse("dpop_signature_invalid", "proof signature does not verify with its jwk");
    }
    if (memo !== undefined && headerSegment !== this.#lastHeader) {
      let entry = known;
      if (entry === undefined) {
        entry = { verify, thumbprint };
        if (memo.size >= this.#maxHeaders) memo.clear();
        memo.set(headerSegment, entry);
      }
      this.#lastHeader = headerSegment;
      this.#last = entry;
    }

    const payload = decodePayload(proof.slice(first + 1, second), this.#decoded);
    const jti = stringClaim(payload, "jti", rules.maxJtiLength);
    const htm = stringClaim(payload, "htm");
    const htu = stringClaim(payload, "htu");
    const iat = payload["iat"];
    if (iat === undefined) throw refuse("dpop_claim_missing", "proof has no iat");
    if (typeof iat !== "number" || !Number.isFinite(iat)) throw refuse("dpop_claim_invalid", "proof iat not a number");

    if (htm !== input.method) throw refuse("dpop_method_mismatch", "proof htm is not the request method");
    if (!this.#htu.matches(htu, input.requestTarget)) throw refuse("dpop_uri_mismatch", "proof htu is not this URI");
    const window = rules.iatWindowSeconds + rules.clockToleranceSeconds;
    if (Math.abs(nowSeconds - iat) > window) throw refuse("dpop_iat_out_of_window", "proof iat outside the window");

    const ath = payload["ath"];
    if (ath === undefined) throw refuse("dpop_claim_missing", "proof has no ath");
    const remembered = this.#tokenHashes.get(input.accessToken);
    if (ath !== (remembered ?? accessTokenHash(input.accessToken))) {
      throw refuse("dpop_ath_mismatch", "proof ath is not the token's");
    }

    if (input.boundThumbprint === undefined) throw refuse("dpop_token_not_bound", "token has no cnf.jkt");
    if (input.boundThumbprint !== thumbprint) throw refuse("dpop_key_mismatch", "token cnf.jkt is not the proof key");
    // Only a token whose proof passed everything above is kept (the memo holds raw tokens).
    if (remembered === undefined) this.#tokenHashes.remember(input.accessToken, ath);

    const nonce = payload["nonce"];
    if (nonce !== undefined && typeof nonce !== "string")
      throw refuse("dpop_claim_invalid", "proof nonce not a string");
    return { thumbprint, jti, iat, nonce, acceptableForSeconds: Math.max(1, Math.ceil(iat + window - nowSeconds)) };
  }
}
