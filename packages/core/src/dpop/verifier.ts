/**
 * The DPoP check of a request, whole: the proof (proof.ts), then the server's nonce when
 * nonces are on (RFC 9449 section 4.3 point 10, section 9), then the replay check (section
 * 11.1), last so that only proofs that passed everything else take room in the store.
 */
import { McpOAuthError, isMcpOAuthError } from "../errors.js";
import type { DpopAlgorithm } from "./algorithms.js";
import { ProofKeyCache } from "./jwk.js";
import { DpopNonces } from "./nonce.js";
import type { DpopMode, ResolvedDpopOptions } from "./options.js";
import { DpopProofChecker, type DpopProofInput } from "./proof.js";
import { MemoryReplayStore, replayKey, type DpopReplayStore } from "./replay.js";

/** A store's failure as a refusal: unknown is never "first seen". */
function unavailable(error: unknown): McpOAuthError {
  if (isMcpOAuthError(error)) return error;
  return new McpOAuthError("dpop_replay_unavailable", "replay store failed", { cause: error });
}

export interface VerifiedDpop {
  /** RFC 7638 thumbprint of the proof key, equal to the token's `cnf.jkt`. */
  thumbprint: string;
  /**
   * A fresh nonce for `DPoP-Nonce` on the answer: set when nonces are on and the one used is
   * past half its lifetime, so that a client switches before it goes stale.
   */
  nextNonce: string | undefined;
}

/** RFC 9728 section 2's DPoP members of the protected resource metadata. */
export interface DpopMetadata {
  dpop_signing_alg_values_supported?: DpopAlgorithm[];
  dpop_bound_access_tokens_required?: boolean;
}

/** The metadata members matching what is enforced; none when DPoP is off. */
export function dpopMetadata(options: ResolvedDpopOptions): DpopMetadata {
  if (options.mode === "off") return {};
  return {
    dpop_signing_alg_values_supported: [...options.algorithms],
    dpop_bound_access_tokens_required: options.mode === "required",
  };
}

export interface DpopVerifierSettings {
  /** The configured resource URL: the origin of every `htu`. */
  resourceUrl: URL;
  /** The resource identifier nonces are bound to. Default: `resourceUrl.href`. */
  audience?: string;
  /** The clock, in ms since the epoch. */
  now?: () => number;
}

export class DpopVerifier {
  readonly mode: DpopMode;
  readonly algorithms: readonly DpopAlgorithm[];
  /** Undefined when nonces are off. */
  readonly nonces: DpopNonces | undefined;
  readonly #checker: DpopProofChecker;
  readonly #store: DpopReplayStore;
  readonly #now: () => number;

  constructor(options: ResolvedDpopOptions, settings: DpopVerifierSettings) {
    if (options.mode === "off" || options.replayStore === undefined) {
      throw new Error("DpopVerifier is built only when dpop.mode is allowed or required");
    }
    this.mode = options.mode;
    this.algorithms = options.algorithms;
    this.#now = settings.now ?? Date.now;
    this.#store = options.replayStore;
    this.#checker = new DpopProofChecker(
      {
        algorithms: new Set(options.algorithms),
        iatWindowSeconds: options.iatWindowSeconds,
        clockToleranceSeconds: options.clockToleranceSeconds,
        maxProofLength: options.maxProofLength,
        maxJtiLength: options.maxJtiLength,
      },
      settings.resourceUrl,
      new ProofKeyCache(options.keyCacheEntries),
    );
    this.nonces =
      options.nonce === undefined
        ? undefined
        : new DpopNonces({
            secrets: options.nonce.secrets,
            lifetimeSeconds: options.nonce.lifetimeSeconds,
            audience: settings.audience ?? settings.resourceUrl.href,
            clockToleranceSeconds: options.clockToleranceSeconds,
            now: this.#now,
          });
  }

  /**
   * Checks the request's proof against its token (`boundThumbprint`: the token's `cnf.jkt`),
   * the nonce and the replay store. Synchronous when the store answers synchronously (the
   * in-memory one), as `ResourceServer.check` is on a cache hit; throws or rejects with an
   * `McpOAuthError` (`dpop_*`). Answer it with `dpopAnswerFor`, giving `nonce()` for
   * `DPoP-Nonce`.
   */
  verify(input: DpopProofInput): VerifiedDpop | Promise<VerifiedDpop> {
    const proof = this.#checker.check(input, Math.floor(this.#now() / 1000));
    let renew = false;
    if (this.nonces !== undefined) {
      if (proof.nonce === undefined) throw new McpOAuthError("dpop_nonce_required", "proof has no nonce");
      const verdict = this.nonces.check(proof.nonce);
      if (!verdict.valid) throw new McpOAuthError("dpop_nonce_invalid", `proof nonce is ${verdict.reason}`);
      renew = verdict.renew;
    }
    let first: boolean | Promise<boolean>;
    try {
      const store = this.#store;
      first =
        store instanceof MemoryReplayStore
          ? store.rememberProofOnce(proof.thumbprint, proof.jti, proof.acceptableForSeconds)
          : store.rememberOnce(replayKey(proof.thumbprint, proof.jti), proof.acceptableForSeconds);
    } catch (error) {
      throw unavailable(error);
    }
    if (first instanceof Promise) {
      return first.then(
        (answer) => this.#settle(answer, proof.thumbprint, renew),
        (error: unknown) => {
          throw unavailable(error);
        },
      );
    }
    return this.#settle(first, proof.thumbprint, renew);
  }

  #settle(first: boolean, thumbprint: string, renew: boolean): VerifiedDpop {
    if (first !== true) throw new McpOAuthError("dpop_proof_replayed", "proof jti already seen");
    return { thumbprint, nextNonce: renew ? this.nonces!.issue() : undefined };
  }

  /** A nonce for `DPoP-Nonce`, or undefined when nonces are off. */
  nonce(): string | undefined {
    return this.nonces?.issue();
  }
}
