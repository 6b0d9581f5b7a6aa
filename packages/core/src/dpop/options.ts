/**
 * DPoP options: types, defaults, start-up validation and the `OAUTH_DPOP*` environment
 * variables. Inconsistent settings fail at start-up with an `McpOAuthConfigError` naming the
 * option or variable, never at the first request.
 */
import { McpOAuthConfigError } from "../errors.js";
import { splitList, type Environment } from "../env.js";
import { DEFAULT_DPOP_ALGORITHMS, DPOP_ALGORITHMS, isDpopAlgorithm, type DpopAlgorithm } from "./algorithms.js";
import { DEFAULT_KEY_CACHE_ENTRIES } from "./jwk.js";
import { DEFAULT_REPLAY_MAX_ENTRIES, MemoryReplayStore, type DpopReplayStore } from "./replay.js";

/**
 * `off`: the DPoP scheme is not accepted (as today). `allowed`: Bearer and DPoP tokens, a
 * DPoP-bound token only with its proof. `required`: DPoP only
 * (`dpop_bound_access_tokens_required`, RFC 9728 section 2).
 */
export type DpopMode = "off" | "allowed" | "required";

export const DPOP_MODES: readonly DpopMode[] = ["off", "allowed", "required"];

export interface DpopNonceSettings {
  /**
   * Secrets of at least 32 bytes (`openssl rand -base64 32`): the first issues nonces, all are
   * accepted, so a new secret goes first and the old one stays one lifetime longer.
   * Env: `OAUTH_DPOP_NONCE_SECRET` (comma-separated).
   */
  secrets: string | readonly string[];
  /** How long a nonce is accepted, in seconds. Default 300. */
  lifetimeSeconds?: number;
}

export interface DpopReplaySettings {
  /** A shared store (`RedisReplayStore` of @mcp-oauth/redis) instead of the in-memory one. */
  store?: DpopReplayStore;
  /** Bound of the in-memory store, in proofs remembered. Default 100000. */
  maxEntries?: number;
}

export interface DpopOptions {
  /** Default `off`. Env: `OAUTH_DPOP`. */
  mode?: DpopMode;
  /** Proof algorithms accepted, asymmetric only. Default ES256, PS256, RS256, EdDSA. Env: `OAUTH_DPOP_ALGS`. */
  algorithms?: readonly string[];
  /** How far a proof's `iat` may be from now, either way, in seconds. Default 300 (the MCP DPoP draft). */
  iatWindowSeconds?: number;
  /**
   * Seconds added to the `iat` window. Default 0: the five-minute window is the allowance
   * for the client's clock, and the token's `validation.clockToleranceSeconds` (for the
   * authorization server's clock) does not apply.
   */
  clockToleranceSeconds?: number;
  /** Server-provided nonces (RFC 9449 section 9): on when set. */
  nonce?: DpopNonceSettings;
  /** Replay detection (RFC 9449 section 11.1); always on. */
  replay?: DpopReplaySettings;
  /** Imported proof keys kept, by thumbprint. Default 1000. */
  keyCacheEntries?: number;
  /** Longest proof accepted, in characters. Default 8192. */
  maxProofLength?: number;
  /** Longest `jti` accepted, in characters. Default 256. */
  maxJtiLength?: number;
}

export const DPOP_DEFAULTS = Object.freeze({
  mode: "off" as DpopMode,
  algorithms: DEFAULT_DPOP_ALGORITHMS,
  iatWindowSeconds: 300,
  clockToleranceSeconds: 0,
  nonceLifetimeSeconds: 300,
  replayMaxEntries: DEFAULT_REPLAY_MAX_ENTRIES,
  keyCacheEntries: DEFAULT_KEY_CACHE_ENTRIES,
  maxProofLength: 8192,
  maxJtiLength: 256,
});

/** Shortest nonce secret, in bytes: HKDF makes a key of any secret, not entropy. */
export const MIN_NONCE_SECRET_BYTES = 32;
/** Longest `iat` window, in seconds: every second of it is a second of remembered `jti`s. */
const MAX_IAT_WINDOW_SECONDS = 3600;

export interface ResolvedDpopOptions {
  readonly mode: DpopMode;
  readonly algorithms: readonly DpopAlgorithm[];
  readonly iatWindowSeconds: number;
  readonly clockToleranceSeconds: number;
  readonly nonce: { readonly secrets: readonly string[]; readonly lifetimeSeconds: number } | undefined;
  /** The given store, or a `MemoryReplayStore`; undefined when DPoP is off. */
  readonly replayStore: DpopReplayStore | undefined;
  readonly keyCacheEntries: number;
  readonly maxProofLength: number;
  readonly maxJtiLength: number;
}

function fail(option: string, message: string): never {
  throw new McpOAuthConfigError(option, message);
}

function number(option: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    fail(option, `must be a number from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

function wholeNumber(option: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) fail(option, `must be a whole number of ${min} or more`);
  return value;
}

/** The algorithms of a list, refused with the reason when one is not an accepted proof algorithm. */
export function checkDpopAlgorithms(option: string, values: readonly unknown[]): DpopAlgorithm[] {
  if (values.length === 0) fail(option, `list at least one algorithm, e.g. ${DEFAULT_DPOP_ALGORITHMS.join(",")}`);
  for (const alg of values) {
    if (typeof alg === "string" && (/^HS\d+$/i.test(alg) || alg.toLowerCase() === "none")) {
      fail(option, `"${alg}" is not allowed: a DPoP proof must be signed with a private key (RFC 9449 section 4.3)`);
    }
    if (!isDpopAlgorithm(alg)) fail(option, `"${String(alg)}" is not supported; use ${DPOP_ALGORITHMS.join(", ")}`);
  }
  return [...new Set(values as DpopAlgorithm[])];
}

/** Nonce secrets, refused when one is shorter than 32 bytes. */
export function checkNonceSecrets(option: string, secrets: string | readonly string[]): string[] {
  const list = typeof secrets === "string" ? [secrets] : [...secrets];
  if (list.length === 0) fail(option, "give at least one secret");
  for (const secret of list) {
    if (typeof secret !== "string" || Buffer.byteLength(secret, "utf8") < MIN_NONCE_SECRET_BYTES) {
      fail(option, `each secret needs at least ${MIN_NONCE_SECRET_BYTES} bytes, e.g. from \`openssl rand -base64 32\``);
    }
  }
  return list;
}

/** Validates DPoP options and fills in the defaults. */
export function resolveDpopOptions(options: DpopOptions | undefined): ResolvedDpopOptions {
  const given = options ?? {};
  const mode = given.mode ?? DPOP_DEFAULTS.mode;
  if (!DPOP_MODES.includes(mode)) fail("dpop.mode", `"${String(mode)}" is not one of ${DPOP_MODES.join(", ")}`);
  if (mode === "off") {
    const set = Object.entries(given).filter(([name, value]) => name !== "mode" && value !== undefined);
    if (set.length > 0) {
      fail(
        `dpop.${set[0]![0]}`,
        'has no effect while dpop.mode is "off" (the default): set dpop.mode to "allowed" or "required", or remove it',
      );
    }
  }
  const algorithms =
    given.algorithms === undefined
      ? [...DPOP_DEFAULTS.algorithms]
      : checkDpopAlgorithms("dpop.algorithms", [...given.algorithms]);
  const iatWindowSeconds = number(
    "dpop.iatWindowSeconds",
    given.iatWindowSeconds,
    DPOP_DEFAULTS.iatWindowSeconds,
    1,
    MAX_IAT_WINDOW_SECONDS,
  );
  const clockToleranceSeconds = number(
    "dpop.clockToleranceSeconds",
    given.clockToleranceSeconds,
    DPOP_DEFAULTS.clockToleranceSeconds,
    0,
    MAX_IAT_WINDOW_SECONDS,
  );
  const nonce =
    given.nonce === undefined
      ? undefined
      : Object.freeze({
          secrets: Object.freeze(checkNonceSecrets("dpop.nonce.secrets", given.nonce.secrets)),
          lifetimeSeconds: number(
            "dpop.nonce.lifetimeSeconds",
            given.nonce.lifetimeSeconds,
            DPOP_DEFAULTS.nonceLifetimeSeconds,
            1,
            86_400,
          ),
        });
  const replay = given.replay ?? {};
  if (replay.store !== undefined && typeof replay.store.rememberOnce !== "function") {
    fail("dpop.replay.store", "must have a rememberOnce(key, ttlSeconds) method");
  }
  if (replay.store !== undefined && replay.maxEntries !== undefined) {
    fail("dpop.replay.maxEntries", "bounds the in-memory store only; bound your own store itself");
  }
  const maxEntries = wholeNumber("dpop.replay.maxEntries", replay.maxEntries, DPOP_DEFAULTS.replayMaxEntries, 1);
  return Object.freeze({
    mode,
    algorithms: Object.freeze(algorithms),
    iatWindowSeconds,
    clockToleranceSeconds,
    nonce,
    replayStore: mode === "off" ? undefined : (replay.store ?? new MemoryReplayStore({ maxEntries })),
    keyCacheEntries: wholeNumber("dpop.keyCacheEntries", given.keyCacheEntries, DPOP_DEFAULTS.keyCacheEntries, 0),
    maxProofLength: wholeNumber("dpop.maxProofLength", given.maxProofLength, DPOP_DEFAULTS.maxProofLength, 256),
    maxJtiLength: wholeNumber("dpop.maxJtiLength", given.maxJtiLength, DPOP_DEFAULTS.maxJtiLength, 16),
  });
}

function read(env: Environment, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === "" ? undefined : value;
}

/**
 * DPoP options from `OAUTH_DPOP` (`off`, `allowed` or `required`; default off),
 * `OAUTH_DPOP_ALGS` (comma- or space-separated) and `OAUTH_DPOP_NONCE_SECRET` (nonces on;
 * several secrets comma-separated, the first issuing). Undefined when none is set. A
 * variable that would do nothing (an algorithm list or a secret with DPoP off) is refused:
 * whoever set it believes DPoP is on.
 */
export function dpopOptionsFromEnv(env: Environment = process.env): DpopOptions | undefined {
  const modeText = read(env, "OAUTH_DPOP")?.toLowerCase();
  const algs = read(env, "OAUTH_DPOP_ALGS");
  const secret = read(env, "OAUTH_DPOP_NONCE_SECRET");
  if (modeText === undefined && algs === undefined && secret === undefined) return undefined;
  const mode = modeText ?? "off";
  if (!(DPOP_MODES as readonly string[]).includes(mode)) {
    fail("OAUTH_DPOP", `"${mode}" is not one of ${DPOP_MODES.join(", ")}`);
  }
  if (mode === "off") {
    const unused =
      algs !== undefined ? "OAUTH_DPOP_ALGS" : secret !== undefined ? "OAUTH_DPOP_NONCE_SECRET" : undefined;
    if (unused !== undefined) {
      fail(
        unused,
        "has no effect while OAUTH_DPOP is off (the default): set OAUTH_DPOP=allowed or required, or unset it",
      );
    }
    return { mode: "off" };
  }
  const options: DpopOptions = { mode: mode as DpopMode };
  if (algs !== undefined) options.algorithms = checkDpopAlgorithms("OAUTH_DPOP_ALGS", splitList(algs));
  if (secret !== undefined) {
    const secrets = secret
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    options.nonce = { secrets: checkNonceSecrets("OAUTH_DPOP_NONCE_SECRET", secrets) };
  }
  return options;
}
