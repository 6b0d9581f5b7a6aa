/**
 * Options from the `OAUTH_*` environment variables that mcp-framework's CLI writes into
 * `.env.example`, so an existing `.env` works unchanged.
 */
import type { TokenCacheStore } from "./cache.js";
import { dpopOptionsFromEnv } from "./dpop/options.js";
import type { DpopReplayStore } from "./dpop/replay.js";
import { McpOAuthConfigError } from "./errors.js";
import type { CachedValidation, McpOAuthOptions } from "./options.js";

export type Environment = Readonly<Record<string, string | undefined>>;

/** Comma- or whitespace-separated list; empty entries dropped. */
export function splitList(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value.split(/[\s,]+/).filter((v) => v.length > 0);
}

function read(env: Environment, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === "" ? undefined : value;
}

function seconds(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0)
    throw new McpOAuthConfigError(name, `"${value}" is not a number of seconds`);
  return parsed;
}

/**
 * Builders of the stores some variables name. Core depends on no database client: the
 * package that has one supplies the builder (`redisCacheFromEnv` of `@mcp-oauth/redis`).
 */
export interface EnvironmentStores {
  /** Builds the shared cache store for `OAUTH_CACHE_REDIS_URL`; given the URL and the whole environment. */
  redisCache?: (url: string, env: Environment) => TokenCacheStore<CachedValidation>;
  /**
   * Builds the DPoP replay store shared by replicas for `OAUTH_CACHE_REDIS_URL`
   * (`redisReplayStoreFromEnv` of `@mcp-oauth/redis`), used when DPoP is on.
   */
  redisReplay?: (url: string, env: Environment) => DpopReplayStore;
}

/**
 * Reads `OAUTH_AUTHORIZATION_SERVER` (comma-separated for several), `OAUTH_RESOURCE`,
 * `OAUTH_AUDIENCE`, `OAUTH_ISSUER`, `OAUTH_JWKS_URI`, `OAUTH_SCOPES`,
 * `OAUTH_CLOCK_TOLERANCE`, `OAUTH_TIMEOUT_MS` (`timeoutMs`), `OAUTH_VALIDATION` (`jwt`, `introspection` or `auto`),
 * `OAUTH_INTROSPECTION_ENDPOINT`, `OAUTH_CLIENT_ID`, `OAUTH_CLIENT_SECRET`,
 * `OAUTH_CACHE_TTL` and `OAUTH_CACHE_INTROSPECTION_TTL` (seconds), and
 * `OAUTH_CACHE_REDIS_URL` (a `redis://` or `rediss://` URL: the cache store is built by
 * `stores.redisCache`, and without that builder the variable is refused rather than
 * ignored), and `OAUTH_DPOP`, `OAUTH_DPOP_ALGS`, `OAUTH_DPOP_NONCE_SECRET` (`dpop`; with
 * DPoP on and `OAUTH_CACHE_REDIS_URL` set, the replicas share the replay store
 * `stores.redisReplay` builds, and without that builder the URL is refused: a replica
 * remembering only its own proofs would accept a proof replayed to another).
 * `overrides` win over the environment (`cache: false` or a `cache.store` of their own
 * leave the URL unused by the cache; a `dpop` of their own replaces the DPoP variables).
 */
export function optionsFromEnv(
  env: Environment = process.env,
  overrides: Partial<McpOAuthOptions> = {},
  stores: EnvironmentStores = {},
): McpOAuthOptions {
  const resource = overrides.resource ?? read(env, "OAUTH_RESOURCE");
  if (resource === undefined)
    throw new McpOAuthConfigError(
      "OAUTH_RESOURCE",
      "set it to the public URL of your MCP endpoint, e.g. https://mcp.example.com/mcp",
    );
  const authorizationServers = overrides.authorizationServers ?? splitList(read(env, "OAUTH_AUTHORIZATION_SERVER"));
  if (authorizationServers.length === 0) {
    throw new McpOAuthConfigError(
      "OAUTH_AUTHORIZATION_SERVER",
      "set it to your authorization server's issuer URL, e.g. https://tenant.auth0.com/",
    );
  }
  const audience = splitList(read(env, "OAUTH_AUDIENCE"));
  const issuer = splitList(read(env, "OAUTH_ISSUER"));
  const scopes = splitList(read(env, "OAUTH_SCOPES"));
  const jwksUri = read(env, "OAUTH_JWKS_URI");
  const clockTolerance = read(env, "OAUTH_CLOCK_TOLERANCE");
  let clockSeconds: number | undefined;
  if (clockTolerance !== undefined) {
    clockSeconds = Number(clockTolerance);
    if (!Number.isFinite(clockSeconds) || clockSeconds < 0)
      throw new McpOAuthConfigError("OAUTH_CLOCK_TOLERANCE", `"${clockTolerance}" is not a number of seconds`);
  }
  const timeout = read(env, "OAUTH_TIMEOUT_MS");
  // Digits only: "1e3" or "1.5" would be read as a number nobody meant.
  if (
    timeout !== undefined &&
    (!/^\d+$/.test(timeout) || Number(timeout) === 0 || !Number.isSafeInteger(Number(timeout)))
  )
    throw new McpOAuthConfigError("OAUTH_TIMEOUT_MS", `"${timeout}" is not a positive whole number of milliseconds`);
  const validationType = read(env, "OAUTH_VALIDATION");
  if (
    validationType !== undefined &&
    validationType !== "jwt" &&
    validationType !== "introspection" &&
    validationType !== "auto"
  ) {
    throw new McpOAuthConfigError("OAUTH_VALIDATION", `"${validationType}" is not one of jwt, introspection, auto`);
  }
  const clientId = read(env, "OAUTH_CLIENT_ID");
  const clientSecret = read(env, "OAUTH_CLIENT_SECRET");
  const introspectionEndpoint = read(env, "OAUTH_INTROSPECTION_ENDPOINT");
  const introspection =
    clientId !== undefined || clientSecret !== undefined || introspectionEndpoint !== undefined
      ? {
          clientId: clientId ?? "",
          clientSecret: clientSecret ?? "",
          ...(introspectionEndpoint !== undefined ? { endpoint: introspectionEndpoint } : {}),
        }
      : undefined;
  // The cache lifetimes bound how long a revocation takes to reach every replica (docs/deployment.md).
  const cacheTtls: { ttlSeconds?: number; introspectionTtlSeconds?: number } = {};
  const ttlSeconds = seconds("OAUTH_CACHE_TTL", read(env, "OAUTH_CACHE_TTL"));
  const introspectionTtlSeconds = seconds("OAUTH_CACHE_INTROSPECTION_TTL", read(env, "OAUTH_CACHE_INTROSPECTION_TTL"));
  if (ttlSeconds !== undefined) cacheTtls.ttlSeconds = ttlSeconds;
  if (introspectionTtlSeconds !== undefined) cacheTtls.introspectionTtlSeconds = introspectionTtlSeconds;
  const redisUrl = read(env, "OAUTH_CACHE_REDIS_URL");
  let cache: McpOAuthOptions["cache"] =
    overrides.cache === false
      ? false
      : Object.keys(cacheTtls).length > 0
        ? { ...cacheTtls, ...overrides.cache }
        : overrides.cache;
  if (redisUrl !== undefined && cache !== false && cache?.store === undefined) {
    if (!/^rediss?:\/\//i.test(redisUrl))
      throw new McpOAuthConfigError(
        "OAUTH_CACHE_REDIS_URL",
        "must be a redis:// or rediss:// (TLS) URL, e.g. rediss://:password@cache.internal:6380/0",
      );
    if (stores.redisCache === undefined) {
      throw new McpOAuthConfigError(
        "OAUTH_CACHE_REDIS_URL",
        "is set but nothing here builds a Redis store: install @mcp-oauth/redis and pass `{ redisCache: redisCacheFromEnv }` as the third argument of optionsFromEnv",
      );
    }
    cache = { ...cache, store: stores.redisCache(redisUrl, env) };
  }
  let dpop = overrides.dpop ?? dpopOptionsFromEnv(env);
  if (redisUrl !== undefined && dpop !== undefined && dpop.mode !== "off" && dpop.replay?.store === undefined) {
    if (!/^rediss?:\/\//i.test(redisUrl))
      throw new McpOAuthConfigError("OAUTH_CACHE_REDIS_URL", "must be a redis:// or rediss:// (TLS) URL");
    if (stores.redisReplay === undefined) {
      throw new McpOAuthConfigError(
        "OAUTH_CACHE_REDIS_URL",
        "is set with DPoP on but nothing here builds the shared replay store: pass `{ redisReplay: redisReplayStoreFromEnv }` (from @mcp-oauth/redis) in the third argument of optionsFromEnv",
      );
    }
    dpop = { ...dpop, replay: { ...dpop.replay, store: stores.redisReplay(redisUrl, env) } };
  }
  return {
    ...(introspection !== undefined ? { introspection } : {}),
    ...(timeout !== undefined ? { timeoutMs: Number(timeout) } : {}),
    ...overrides,
    ...(cache !== undefined ? { cache } : {}),
    ...(dpop !== undefined ? { dpop } : {}),
    resource,
    authorizationServers,
    ...(scopes.length > 0 && overrides.scopes === undefined ? { scopes } : {}),
    validation: {
      type: validationType ?? "jwt",
      ...(jwksUri !== undefined ? { jwksUri } : {}),
      ...(audience.length > 0 ? { audience } : {}),
      ...(issuer.length > 0 ? { issuer } : {}),
      ...(clockSeconds !== undefined ? { clockToleranceSeconds: clockSeconds } : {}),
      ...overrides.validation,
    },
  };
}
