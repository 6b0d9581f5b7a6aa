/**
 * Options: their types (documented where they are declared) and their validation,
 * done once when a middleware or provider is built. Anything wrong fails at start-up
 * with an `McpOAuthConfigError` that names the option and what to change.
 */
import { createSecretKey, type KeyObject } from "./crypto/index.js";
import { MemoryTokenCache, type TokenCacheStore } from "./cache.js";
import { McpOAuthConfigError, type McpOAuthErrorCode } from "./errors.js";
import type { McpOAuthEventListener } from "./events.js";
import { DPOP_DEFAULTS, resolveDpopOptions, type DpopOptions, type ResolvedDpopOptions } from "./dpop/options.js";
import { AudienceMatcher, hasUserinfoOrFragment, isLoopbackHost } from "./resource-uri.js";
import {
  compileScopeHierarchy,
  compileScopePolicy,
  isValidScopeToken,
  type McpScopePolicy,
  type ScopeHierarchy,
} from "./scopes.js";

/** Asymmetric JWS algorithms accepted by default (RFC 7518 section 3.1). */
export const ASYMMETRIC_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
] as const;
/** HMAC algorithms: only with an explicit shared `secret`. */
export const HMAC_ALGORITHMS = ["HS256", "HS384", "HS512"] as const;

export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];
export type HmacAlgorithm = (typeof HMAC_ALGORITHMS)[number];
export type JwtAlgorithm = AsymmetricAlgorithm | HmacAlgorithm;

/**
 * How tokens are validated: locally as JWTs (RFC 9068, RFC 8725), by the authorization
 * server's introspection endpoint (RFC 7662), or `auto` (JWT-shaped tokens locally,
 * opaque ones by introspection).
 */
export interface ValidationOptions {
  /** Default `jwt`. Env: `OAUTH_VALIDATION`. */
  type?: "jwt" | "introspection" | "auto";
  /**
   * The JSON Web Key Set URL. Default: `jwks_uri` from each authorization server's
   * metadata (RFC 8414 / OpenID Connect Discovery), fetched on first use.
   */
  jwksUri?: string;
  /** Accepted `aud` values. Default: the `resource`. Env: `OAUTH_AUDIENCE`. */
  audience?: string | readonly string[];
  /** Accepted `iss` values, compared exactly. Default: the `authorizationServers`. Env: `OAUTH_ISSUER`. */
  issuer?: string | readonly string[];
  /** Allowed `alg` values. Default: the RS, PS and ES families. `none` is never allowed. */
  algorithms?: readonly JwtAlgorithm[];
  /**
   * Shared secret for HS256/384/512 tokens. HMAC algorithms are refused unless this is
   * set, and they never verify with a key from the key set (RFC 8725 section 2.1).
   */
  secret?: string | Uint8Array;
  /** Seconds of clock skew tolerated for `exp`, `nbf` and `iat`. Default 60. Env: `OAUTH_CLOCK_TOLERANCE`. */
  clockToleranceSeconds?: number;
  /**
   * Require the RFC 9068 profile: `typ: at+jwt` and the claims `iss`, `exp`, `aud`, `sub`,
   * `client_id`, `iat`, `jti`. Default false: `at+jwt` is accepted, not required.
   */
  strict?: boolean;
  /** Longest token accepted, in characters; longer ones are refused before any parsing. Default 8192. */
  maxTokenLength?: number;
  /** How long a fetched key set is used before it is read again, in ms. Default 10 minutes. */
  jwksCacheMaxAgeMs?: number;
  /**
   * How long keys already held keep validating past `jwksCacheMaxAgeMs` while the key set is
   * unreachable, in ms. Default 30 minutes; 0 turns it off.
   */
  jwksStaleWindowMs?: number;
  /** Key-set fetches allowed per minute for unknown `kid`s and retries after failures. Default 10. */
  jwksRequestsPerMinute?: number;
  /**
   * Claims holding granted scopes, as a space-separated string or an array. Default
   * `["scope", "scp"]`; Auth0 RBAC adds `permissions`, Entra ID app roles `roles`.
   */
  scopeClaims?: readonly string[];
  /** Claims that must have exactly this value (or one of these values), e.g. Cognito's `{ token_use: "access" }`. */
  requiredClaims?: Readonly<Record<string, string | readonly string[]>>;
  /**
   * Accept a token without `aud` when its `client_id` is one of these. Only for
   * authorization servers whose access tokens carry no audience (AWS Cognito): an explicit
   * opt-in, never a default.
   */
  clientIdAsAudience?: readonly string[];
  /**
   * Where the signature of a token the cache does not know is checked: `event-loop` (the
   * default: synchronously, `check()` answers at once) or `thread-pool` (libuv's thread
   * pool, `crypto.verify` with a callback: `check()` returns a promise, and the event loop
   * serves other requests meanwhile, which pays only where a core would otherwise be idle).
   * The verdict is the same either way; bench/results.md has the throughput of each.
   */
  signatureVerification?: "event-loop" | "thread-pool";
}

/** The resource server's credentials at the introspection endpoint (RFC 7662 section 2.1). */
export interface IntrospectionOptions {
  /** Default: `introspection_endpoint` from the first authorization server's metadata. Env: `OAUTH_INTROSPECTION_ENDPOINT`. */
  endpoint?: string;
  /** Env: `OAUTH_CLIENT_ID`. */
  clientId: string;
  /** Env: `OAUTH_CLIENT_SECRET`. Never logged. */
  clientSecret: string;
  /** How the credentials are sent (RFC 6749 section 2.3.1). Default `client_secret_basic`. */
  authMethod?: "client_secret_basic" | "client_secret_post";
}

/**
 * What is cached about a token, keyed by `tokenCacheKey(token, fingerprint)`. `checkedAt`
 * (ms since the epoch) is when the verdict was reached: every reader bounds an entry's age
 * with its own lifetimes, whoever stored it and whether or not the store honours `ttlMs`.
 */
export type CachedValidation =
  | {
      ok: true;
      method: "jwt" | "introspection";
      claims: Readonly<Record<string, unknown>>;
      scopes: readonly string[];
      clientId: string;
      expiresAt: number;
      checkedAt: number;
    }
  | { ok: false; method: "jwt" | "introspection"; code: McpOAuthErrorCode; checkedAt: number };

export interface CacheOptions {
  /** Most entries held in memory. Default 10000. */
  maxEntries?: number;
  /** Longest time a verified JWT is served from the cache, in seconds (never past `exp`). Default 300. Env: `OAUTH_CACHE_TTL`. */
  ttlSeconds?: number;
  /** Longest time an introspection answer is reused, in seconds (never past `exp`). Default 60. Env: `OAUTH_CACHE_INTROSPECTION_TTL`. */
  introspectionTtlSeconds?: number;
  /** How long a rejection is remembered, in seconds. Default 10; 0 turns it off. */
  negativeTtlSeconds?: number;
  /**
   * Longest time any cached verdict (acceptance or rejection, JWT or introspection) is
   * reused, in seconds: caps `ttlSeconds`, `introspectionTtlSeconds` and `negativeTtlSeconds`. With introspection
   * it is the revocation delay: a token revoked at the authorization server is refused at
   * most this many seconds later. (A JWT validated locally is never seen revoked: it is
   * accepted until `exp`.) Default: no cap beyond the three; 0 reuses nothing.
   */
  maxAgeSeconds?: number;
  /** A shared store instead of the in-memory LRU. */
  store?: TokenCacheStore<CachedValidation>;
}

/** Options an authorization-server preset fills in (see `presets`). */
export interface ProviderPreset {
  readonly name: string;
  readonly authorizationServers: readonly string[];
  readonly validation: ValidationOptions;
}

export interface McpOAuthOptions {
  /**
   * Canonical URI of the MCP endpoint (RFC 8707 section 2), such as `https://mcp.example.com/mcp`.
   * Published verbatim as `resource`: never normalised, so no trailing slash is added.
   * Env: `OAUTH_RESOURCE`.
   */
  resource: string;
  /**
   * Issuer identifiers of the authorization servers, exactly as each publishes `issuer`
   * in its metadata (Auth0's trailing slash included). Env: `OAUTH_AUTHORIZATION_SERVER`,
   * comma-separated. May come from `preset` instead.
   */
  authorizationServers?: string | readonly string[];
  /**
   * Scopes every MCP request needs. Sent in `scope` of every challenge and published as
   * `scopes_supported` unless that is set. Env: `OAUTH_SCOPES`.
   */
  scopes?: readonly string[];
  /** Published `scopes_supported`. Default: `scopes`. Never `offline_access` (MCP 2026-07-28). */
  scopesSupported?: readonly string[];
  /** Scopes that imply others (`{ "mcp:admin": ["mcp:write", "mcp:read"] }`). */
  scopeHierarchy?: ScopeHierarchy;
  /** Extra scopes by JSON-RPC method and tool, prompt or resource name. */
  scopePolicy?: McpScopePolicy;
  /**
   * Absolute URL of the metadata document named in every challenge (`resource_metadata`).
   * Default: the path-suffixed URL (RFC 9728 section 3.1). Set it when the document is
   * served elsewhere (by a proxy, say).
   */
  resourceMetadataUrl?: string;
  /** `resource_name` in the metadata document. */
  resourceName?: string;
  /** `resource_documentation` in the metadata document. */
  resourceDocumentation?: string;
  /** More RFC 9728 fields to publish (for example `resource_policy_uri`). */
  metadata?: Readonly<Record<string, unknown>>;
  /** How tokens are validated. Default: JWT with the defaults of `ValidationOptions`. */
  validation?: ValidationOptions;
  /** Credentials for introspection; required when `validation.type` is `introspection` or `auto`. */
  introspection?: IntrospectionOptions;
  /** Caching of validation results; `false` turns it off (single flight stays). */
  cache?: CacheOptions | false;
  /** Structured events (accepted, rejected with a code, key set refreshed, upstream errors). */
  onEvent?: McpOAuthEventListener;
  /**
   * Settings for a known authorization server (`presets.auth0({...})`, ...). Explicit options
   * win over the preset's.
   */
  preset?: ProviderPreset;
  /** Accept `http:` URLs on hosts other than loopback. Default false: use HTTPS. */
  allowInsecureHttp?: boolean;
  /**
   * Total deadline of every outbound call (discovery, key set, introspection), from connect
   * to the last byte of the answer, in ms. Default 5000.
   */
  timeoutMs?: number;
  /**
   * Largest answer read from an outbound call (metadata, key set, introspection), in bytes;
   * a larger one is an upstream failure (503). Default 1 MiB (1048576).
   */
  maxResponseBytes?: number;
  /** `Retry-After` on 503 answers when an upstream is unreachable, in seconds. Default 5. */
  retryAfterSeconds?: number;
  /**
   * DPoP sender-constrained tokens (RFC 9449, the MCP DPoP extension draft). Default off.
   * Env: `OAUTH_DPOP`, `OAUTH_DPOP_ALGS`, `OAUTH_DPOP_NONCE_SECRET`.
   */
  dpop?: DpopOptions;
}

/** Options after validation: everything the hot path needs, computed once. */
export interface ResolvedOptions {
  readonly resource: string;
  readonly resourceUrl: URL;
  readonly authorizationServers: readonly string[];
  readonly requiredScopes: readonly string[];
  readonly scopesSupported: readonly string[] | undefined;
  readonly expandScopes: (granted: readonly string[]) => ReadonlySet<string>;
  readonly scopePolicy: McpScopePolicy | undefined;
  readonly resourceName: string | undefined;
  readonly resourceDocumentation: string | undefined;
  readonly extraMetadata: Readonly<Record<string, unknown>>;
  /** Path of the RFC 9728 document for this resource (`/.well-known/oauth-protected-resource/mcp`). */
  readonly metadataPath: string;
  /** Absolute URL of that document: the `resource_metadata` of every challenge. */
  readonly resourceMetadataUrl: string;
  /** Total deadline of each outbound call, in ms. */
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  readonly retryAfterSeconds: number;
  readonly allowInsecureHttp: boolean;
  readonly validationType: "jwt" | "introspection" | "auto";
  /** The rules every token is checked against, JWT or introspected (issuers, audiences, claims, key sets). */
  readonly tokenRules: ResolvedTokenRules;
  readonly introspection:
    Readonly<Required<Omit<IntrospectionOptions, "endpoint">> & { endpoint: string | undefined }> | undefined;
  /** Lifetimes in ms, each already capped by `maxAgeSeconds`. */
  readonly cache:
    | Readonly<{
        store: TokenCacheStore<CachedValidation>;
        ttlMs: number;
        introspectionTtlMs: number;
        negativeTtlMs: number;
      }>
    | undefined;
  readonly onEvent: McpOAuthEventListener | undefined;
  /** DPoP, checked on every request after the token's verdict (never cached). */
  readonly dpop: ResolvedDpopOptions;
}

export interface ResolvedTokenRules {
  readonly issuers: readonly string[];
  readonly jwksUri: string | undefined;
  readonly audiences: readonly string[];
  readonly audienceMatcher: AudienceMatcher;
  readonly algorithms: ReadonlySet<string>;
  readonly secretKey: KeyObject | undefined;
  readonly clockToleranceSeconds: number;
  readonly strict: boolean;
  readonly maxTokenLength: number;
  readonly jwksCacheMaxAgeMs: number;
  readonly jwksStaleWindowMs: number;
  readonly jwksRequestsPerMinute: number;
  readonly scopeClaims: readonly string[];
  readonly requiredClaims: ReadonlyMap<string, ReadonlySet<string>>;
  readonly clientIdAsAudience: ReadonlySet<string>;
  /** `auto` resolved against the cores available at construction. */
  readonly signatureVerification: "event-loop" | "thread-pool";
}

export const WELL_KNOWN_PROTECTED_RESOURCE = "/.well-known/oauth-protected-resource";

/** The event loop by default: the thread pool measured slower wherever the load shares the cores (docs/architecture.md). */
function signatureVerification(
  value: NonNullable<ValidationOptions["signatureVerification"]>,
): ResolvedTokenRules["signatureVerification"] {
  if (value === "event-loop" || value === "thread-pool") return value;
  return fail(
    "validation.signatureVerification",
    `"${String(value)}" is not supported; use "event-loop" (the default) or "thread-pool"`,
  );
}

/**
 * Every default of `McpOAuthOptions`, read by `resolveOptions` and by nothing else; the
 * tables of docs/configuration.md follow it (test/docs/defaults.test.ts compares them).
 */
export const DEFAULTS = Object.freeze({
  timeoutMs: 5000,
  maxResponseBytes: 1024 * 1024,
  retryAfterSeconds: 5,
  allowInsecureHttp: false,
  validation: Object.freeze({
    type: "jwt" as "jwt" | "introspection" | "auto",
    clockToleranceSeconds: 60,
    strict: false,
    maxTokenLength: 8192,
    jwksCacheMaxAgeMs: 10 * 60 * 1000,
    jwksStaleWindowMs: 30 * 60 * 1000,
    jwksRequestsPerMinute: 10,
    scopeClaims: Object.freeze(["scope", "scp"]),
    signatureVerification: "event-loop" as "event-loop" | "thread-pool",
  }),
  introspection: Object.freeze({ authMethod: "client_secret_basic" as "client_secret_basic" | "client_secret_post" }),
  cache: Object.freeze({
    maxEntries: 10_000,
    ttlSeconds: 300,
    introspectionTtlSeconds: 60,
    negativeTtlSeconds: 10,
  }),
  // DPoP's own resolver (dpop/options.ts) reads DPOP_DEFAULTS: the same values, listed here
  // with the option paths docs/configuration.md uses.
  dpop: Object.freeze({
    mode: DPOP_DEFAULTS.mode,
    algorithms: DPOP_DEFAULTS.algorithms,
    iatWindowSeconds: DPOP_DEFAULTS.iatWindowSeconds,
    clockToleranceSeconds: DPOP_DEFAULTS.clockToleranceSeconds,
    "nonce.lifetimeSeconds": DPOP_DEFAULTS.nonceLifetimeSeconds,
    "replay.maxEntries": DPOP_DEFAULTS.replayMaxEntries,
    keyCacheEntries: DPOP_DEFAULTS.keyCacheEntries,
    maxProofLength: DPOP_DEFAULTS.maxProofLength,
    maxJtiLength: DPOP_DEFAULTS.maxJtiLength,
  }),
});

function definedEntries<T extends object>(value: T | undefined): Partial<T> {
  if (value === undefined) return {};
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function fail(option: string, message: string): never {
  throw new McpOAuthConfigError(option, message);
}

function toList(value: string | readonly string[] | undefined): string[] {
  if (value === undefined) return [];
  return (typeof value === "string" ? [value] : [...value]).map((v) => v.trim()).filter((v) => v.length > 0);
}

/**
 * What is wrong with an endpoint URL, or `undefined`: https (plain http only on loopback
 * unless allowed), no fragment, no credentials. The one rule for configured URLs and for
 * endpoints discovered in authorization server metadata (`jwks_uri`, `introspection_endpoint`).
 */
export function endpointUrlProblem(value: unknown, allowInsecureHttp: boolean): string | undefined {
  if (typeof value !== "string" || value.trim() === "") return "set it to an absolute https URL";
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `"${value}" is not an absolute URL; use the form https://host/path`;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return `use an https URL, not ${url.protocol}`;
  if (url.protocol === "http:" && !allowInsecureHttp && !isLoopbackHost(url.hostname)) {
    return `"${value}" uses plain http on a non-loopback host; use https, or set allowInsecureHttp: true for a trusted private network`;
  }
  if (url.hash !== "" || value.includes("#")) return `"${value}" must not contain a fragment (#)`;
  // `https://@host` parses to an empty username: look at the string too.
  if (url.username !== "" || url.password !== "" || hasUserinfoOrFragment(value)) return "must not contain credentials";
  return undefined;
}

/**
 * A scope policy's tables, checked and compiled when the server or middleware is built: valid
 * scope tokens, no `offline_access` (what a policy requires is what a 403 challenge names, and
 * MCP 2026-07-28 says challenges SHOULD NOT name it), resource URIs that name one resource once.
 */
export function checkScopePolicy(option: string, policy: McpScopePolicy): void {
  if (policy === null || typeof policy !== "object") fail(option, "must be an object of scope tables");
  for (const table of ["methods", "tools", "prompts", "resources"] as const) {
    for (const [name, scopes] of Object.entries(policy[table] ?? {})) {
      checkRequirableScopes(
        `${option}.${table}.${name}`,
        Array.isArray(scopes) ? scopes : fail(`${option}.${table}.${name}`, "must be an array of scopes"),
      );
    }
  }
  if (policy.custom !== undefined && typeof policy.custom !== "function")
    fail(`${option}.custom`, "must be a function");
  compileScopePolicy(policy);
}

/** Scopes a request may be required to hold (and a 403 challenge then names): never `offline_access`. */
export function checkRequirableScopes(option: string, scopes: readonly string[] | undefined): string[] {
  const checked = checkScopes(option, scopes);
  if (checked.includes("offline_access"))
    fail(option, "remove offline_access: a 403 challenge would tell clients to request it");
  return checked;
}

/** Checks an https URL (http only on loopback unless allowed); returns the parsed URL. */
function checkUrl(option: string, value: unknown, allowInsecureHttp: boolean): URL {
  const problem = endpointUrlProblem(value, allowInsecureHttp);
  if (problem !== undefined) fail(option, problem);
  return new URL(value as string);
}

function checkScopes(option: string, scopes: readonly string[] | undefined): string[] {
  if (scopes === undefined) return [];
  if (!Array.isArray(scopes)) fail(option, "must be an array of scope strings");
  for (const scope of scopes) {
    if (typeof scope !== "string" || !isValidScopeToken(scope))
      fail(option, `"${String(scope)}" is not a valid scope (RFC 6749 section 3.3)`);
  }
  return [...new Set(scopes)];
}

function positive(option: string, value: number | undefined, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    fail(option, `must be a ${allowZero ? "non-negative" : "positive"} number, got ${String(value)}`);
  }
  return value;
}

function positiveInteger(option: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) fail(option, `must be a positive whole number, got ${String(value)}`);
  return value;
}

/**
 * Size of the in-memory store. 0 is refused rather than read as "no cache": a store that
 * holds nothing still hashes every token for nothing, and `cache: false` already says it.
 */
function maxEntries(value: number | undefined): number {
  if (value === undefined) return DEFAULTS.cache.maxEntries;
  if (!Number.isSafeInteger(value) || value <= 0)
    fail(
      "cache.maxEntries",
      `must be a positive whole number of entries, got ${String(value)}; to turn caching off use cache: false`,
    );
  return value;
}

/** A number of seconds, zero or more and finite (a cache lifetime). */
function finiteSeconds(option: string, value: number): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0)
    fail(option, `must be a finite number of seconds, 0 or more, got ${String(value)}`);
  return value;
}

/** Validates options and computes everything derived from them. Throws `McpOAuthConfigError`. */
export function resolveOptions(options: McpOAuthOptions): ResolvedOptions {
  if (options === null || typeof options !== "object")
    fail("options", "pass an options object with at least `resource` and `authorizationServers`");
  const allowInsecureHttp = options.allowInsecureHttp === true;

  const resourceUrl = checkUrl("resource", options.resource, allowInsecureHttp);
  const resource = options.resource.trim();
  if (resource !== options.resource) fail("resource", "must not have leading or trailing whitespace");

  const preset = options.preset;
  const authorizationServers = toList(options.authorizationServers ?? preset?.authorizationServers);
  if (authorizationServers.length === 0) {
    fail(
      "authorizationServers",
      "list at least one authorization server issuer URL (env OAUTH_AUTHORIZATION_SERVER), e.g. https://tenant.auth0.com/",
    );
  }
  authorizationServers.forEach((as, i) => {
    const url = checkUrl(`authorizationServers[${i}]`, as, allowInsecureHttp);
    if (url.search !== "") fail(`authorizationServers[${i}]`, "an issuer identifier has no query (RFC 8414 section 2)");
  });

  const requiredScopes = checkScopes("scopes", options.scopes);
  const scopesSupported =
    options.scopesSupported === undefined
      ? requiredScopes.length > 0
        ? requiredScopes
        : undefined
      : checkScopes("scopesSupported", options.scopesSupported);
  for (const [option, list] of [
    ["scopes", requiredScopes],
    ["scopesSupported", scopesSupported ?? []],
  ] as const) {
    // MCP 2026-07-28: offline_access is the authorization server's business; advertising it
    // as a resource scope makes clients ask every user for refresh tokens.
    if (list.includes("offline_access"))
      fail(option, "remove offline_access: it is not a resource scope and MCP clients must not be told to request it");
  }

  // Explicit options win over the preset's; an option left `undefined` does not erase it.
  const validation: ValidationOptions = { ...preset?.validation, ...definedEntries(options.validation) };
  const validationType = validation.type ?? DEFAULTS.validation.type;
  if (validationType !== "jwt" && validationType !== "introspection" && validationType !== "auto") {
    fail("validation.type", `"${String(validationType)}" is not supported; use "jwt", "introspection" or "auto"`);
  }
  let introspection: ResolvedOptions["introspection"];
  if (validationType !== "jwt") {
    const given = options.introspection;
    if (
      !given ||
      typeof given.clientId !== "string" ||
      given.clientId === "" ||
      typeof given.clientSecret !== "string" ||
      given.clientSecret === ""
    ) {
      fail(
        "introspection",
        "introspection needs the resource server's clientId and clientSecret at the authorization server (env OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET)",
      );
    }
    const authMethod = given.authMethod ?? DEFAULTS.introspection.authMethod;
    if (authMethod !== "client_secret_basic" && authMethod !== "client_secret_post")
      fail("introspection.authMethod", "use client_secret_basic or client_secret_post");
    introspection = Object.freeze({
      endpoint:
        given.endpoint === undefined
          ? undefined
          : checkUrl("introspection.endpoint", given.endpoint, allowInsecureHttp).href,
      clientId: given.clientId,
      clientSecret: given.clientSecret,
      authMethod,
    });
  }
  const cacheOptions = options.cache === false ? undefined : (options.cache ?? {});
  let cache: ResolvedOptions["cache"];
  if (cacheOptions !== undefined) {
    const store = cacheOptions.store;
    if (store !== undefined && (store === null || typeof store.get !== "function" || typeof store.set !== "function")) {
      fail("cache.store", "must have get(key) and set(key, value, ttlMs) methods (the TokenCacheStore interface)");
    }
    const maxAgeSeconds =
      cacheOptions.maxAgeSeconds === undefined
        ? Infinity
        : finiteSeconds("cache.maxAgeSeconds", cacheOptions.maxAgeSeconds);
    const lifetimeMs = (option: string, value: number | undefined, fallback: number): number =>
      Math.min(finiteSeconds(`cache.${option}`, value ?? fallback), maxAgeSeconds) * 1000;
    cache = Object.freeze({
      store: store ?? new MemoryTokenCache<CachedValidation>(maxEntries(cacheOptions.maxEntries)),
      ttlMs: lifetimeMs("ttlSeconds", cacheOptions.ttlSeconds, DEFAULTS.cache.ttlSeconds),
      introspectionTtlMs: lifetimeMs(
        "introspectionTtlSeconds",
        cacheOptions.introspectionTtlSeconds,
        DEFAULTS.cache.introspectionTtlSeconds,
      ),
      negativeTtlMs: lifetimeMs(
        "negativeTtlSeconds",
        cacheOptions.negativeTtlSeconds,
        DEFAULTS.cache.negativeTtlSeconds,
      ),
    });
  }
  if (options.onEvent !== undefined && typeof options.onEvent !== "function") fail("onEvent", "must be a function");
  const scopeClaims =
    validation.scopeClaims === undefined ? [...DEFAULTS.validation.scopeClaims] : [...validation.scopeClaims];
  if (scopeClaims.length === 0 || scopeClaims.some((c) => typeof c !== "string" || c === ""))
    fail("validation.scopeClaims", 'list claim names, e.g. ["scope", "scp"]');
  const requiredClaims = new Map<string, ReadonlySet<string>>();
  for (const [claim, value] of Object.entries(validation.requiredClaims ?? {})) {
    const values =
      typeof value === "string"
        ? [value]
        : Array.isArray(value)
          ? value
          : fail(`validation.requiredClaims.${claim}`, "must be a string or an array of strings");
    requiredClaims.set(claim, new Set(values));
  }
  const clientIdAsAudience = new Set(toList(validation.clientIdAsAudience));
  const issuers = validation.issuer === undefined ? authorizationServers : toList(validation.issuer);
  if (issuers.length === 0)
    fail("validation.issuer", "list at least one issuer, or leave it unset to use the authorization servers");
  const audiences = validation.audience === undefined ? [resource] : toList(validation.audience);
  if (audiences.length === 0)
    fail("validation.audience", "must not be empty; leave it unset to use the resource (env OAUTH_AUDIENCE)");
  for (const audience of audiences) {
    if (hasUserinfoOrFragment(audience))
      fail(
        "validation.audience",
        `"${audience}" has a userinfo or a fragment, which no token audience may match; use the resource URI as clients send it`,
      );
  }
  const jwksUri =
    validation.jwksUri === undefined
      ? undefined
      : checkUrl("validation.jwksUri", validation.jwksUri, allowInsecureHttp).href;

  const secretKey =
    validation.secret === undefined
      ? undefined
      : createSecretKey(
          typeof validation.secret === "string"
            ? Buffer.from(validation.secret, "utf8")
            : Buffer.from(validation.secret),
        );
  if (secretKey && secretKey.symmetricKeySize! < 32)
    fail("validation.secret", "use a shared secret of at least 32 bytes (RFC 7518 section 3.2)");
  const algorithms =
    validation.algorithms === undefined
      ? [...ASYMMETRIC_ALGORITHMS, ...(secretKey ? HMAC_ALGORITHMS : [])]
      : [...validation.algorithms];
  if (algorithms.length === 0) fail("validation.algorithms", "list at least one algorithm");
  for (const alg of algorithms) {
    if ((HMAC_ALGORITHMS as readonly string[]).includes(alg)) {
      if (!secretKey) fail("validation.algorithms", `${alg} needs a shared secret in validation.secret`);
    } else if (!(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg)) {
      fail("validation.algorithms", `"${String(alg)}" is not supported; use ${ASYMMETRIC_ALGORITHMS.join(", ")}`);
    }
  }

  const hierarchy = options.scopeHierarchy;
  if (hierarchy !== undefined) {
    for (const [scope, implied] of Object.entries(hierarchy)) {
      checkScopes(`scopeHierarchy.${scope}`, [
        scope,
        ...(Array.isArray(implied) ? implied : fail(`scopeHierarchy.${scope}`, "must be an array of scopes")),
      ]);
    }
  }

  if (options.scopePolicy !== undefined) checkScopePolicy("scopePolicy", options.scopePolicy);

  for (const [option, value] of [
    ["resourceName", options.resourceName],
    ["resourceDocumentation", options.resourceDocumentation],
  ] as const) {
    if (value !== undefined && (typeof value !== "string" || value === "")) fail(option, "must be a non-empty string");
  }
  if (options.resourceDocumentation !== undefined)
    checkUrl("resourceDocumentation", options.resourceDocumentation, true);

  // RFC 9728 section 3.1: the well-known suffix is inserted between host and path.
  const resourcePath = resourceUrl.pathname === "/" ? "" : resourceUrl.pathname.replace(/\/$/, "");
  const metadataPath = `${WELL_KNOWN_PROTECTED_RESOURCE}${resourcePath}`;

  return Object.freeze({
    resource,
    resourceUrl,
    authorizationServers,
    requiredScopes,
    scopesSupported,
    expandScopes: compileScopeHierarchy(hierarchy),
    scopePolicy: options.scopePolicy,
    resourceName: options.resourceName,
    resourceDocumentation: options.resourceDocumentation,
    extraMetadata: { ...(options.metadata ?? {}) },
    metadataPath,
    resourceMetadataUrl:
      options.resourceMetadataUrl === undefined
        ? `${resourceUrl.origin}${metadataPath}`
        : checkUrl("resourceMetadataUrl", options.resourceMetadataUrl, allowInsecureHttp).href,
    timeoutMs: positive("timeoutMs", options.timeoutMs, DEFAULTS.timeoutMs),
    maxResponseBytes: positiveInteger("maxResponseBytes", options.maxResponseBytes, DEFAULTS.maxResponseBytes),
    retryAfterSeconds: positive("retryAfterSeconds", options.retryAfterSeconds, DEFAULTS.retryAfterSeconds),
    allowInsecureHttp,
    validationType,
    introspection,
    cache,
    onEvent: options.onEvent,
    dpop: resolveDpopOptions(options.dpop),
    tokenRules: Object.freeze({
      issuers,
      jwksUri,
      audiences,
      audienceMatcher: new AudienceMatcher(audiences),
      algorithms: new Set<string>(algorithms),
      secretKey,
      clockToleranceSeconds: positive(
        "validation.clockToleranceSeconds",
        validation.clockToleranceSeconds,
        DEFAULTS.validation.clockToleranceSeconds,
        true,
      ),
      strict: validation.strict === true,
      maxTokenLength: positive(
        "validation.maxTokenLength",
        validation.maxTokenLength,
        DEFAULTS.validation.maxTokenLength,
      ),
      jwksCacheMaxAgeMs: positive(
        "validation.jwksCacheMaxAgeMs",
        validation.jwksCacheMaxAgeMs,
        DEFAULTS.validation.jwksCacheMaxAgeMs,
      ),
      jwksStaleWindowMs: positive(
        "validation.jwksStaleWindowMs",
        validation.jwksStaleWindowMs,
        DEFAULTS.validation.jwksStaleWindowMs,
        true,
      ),
      jwksRequestsPerMinute: positive(
        "validation.jwksRequestsPerMinute",
        validation.jwksRequestsPerMinute,
        DEFAULTS.validation.jwksRequestsPerMinute,
      ),
      scopeClaims,
      requiredClaims,
      clientIdAsAudience,
      signatureVerification: signatureVerification(
        validation.signatureVerification ?? DEFAULTS.validation.signatureVerification,
      ),
    }),
  });
}
