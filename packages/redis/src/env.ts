/**
 * The store `optionsFromEnv` builds for `OAUTH_CACHE_REDIS_URL`:
 *
 *   optionsFromEnv(process.env, overrides, { redisCache: redisCacheFromEnv })
 *
 * Besides the URL it reads `OAUTH_CACHE_REDIS_LEASE` (`on` or `off`: single flight across
 * replicas for introspection; default on) and `OAUTH_CACHE_REDIS_TIMEOUT_MS` (deadline of
 * every Redis call; default 500).
 */
import { McpOAuthConfigError, type Environment } from "@mcp-oauth/core";
import { RedisReplayStore, type RedisReplayStoreOptions } from "./redis-replay-store.js";
import { RedisTokenCache, type RedisTokenCacheOptions } from "./redis-token-cache.js";

function timeoutMsOf(env: Environment): number | undefined {
  const timeout = env["OAUTH_CACHE_REDIS_TIMEOUT_MS"]?.trim();
  if (timeout === undefined || timeout === "") return undefined;
  const timeoutMs = Number(timeout);
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
    throw new McpOAuthConfigError(
      "OAUTH_CACHE_REDIS_TIMEOUT_MS",
      `"${timeout}" is not a positive number of milliseconds`,
    );
  return timeoutMs;
}

export function redisCacheFromEnv(
  url: string,
  env: Environment = process.env,
  options: Omit<RedisTokenCacheOptions, "url" | "client"> = {},
): RedisTokenCache {
  const lease = env["OAUTH_CACHE_REDIS_LEASE"]?.trim().toLowerCase();
  if (lease !== undefined && lease !== "" && lease !== "on" && lease !== "off") {
    throw new McpOAuthConfigError("OAUTH_CACHE_REDIS_LEASE", `"${lease}" is not one of on, off`);
  }
  const timeoutMs = timeoutMsOf(env);
  return new RedisTokenCache({
    ...(lease === "off" ? { lease: false } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...options,
    url,
  });
}

/**
 * The DPoP replay store `optionsFromEnv` builds when DPoP is on and `OAUTH_CACHE_REDIS_URL`
 * is set: the same Redis as the token cache, the same deadline (`OAUTH_CACHE_REDIS_TIMEOUT_MS`)
 * and the same outage policy (this replica's own memory while Redis does not answer).
 *
 *   optionsFromEnv(process.env, overrides, { redisCache: redisCacheFromEnv, redisReplay: redisReplayStoreFromEnv })
 */
export function redisReplayStoreFromEnv(
  url: string,
  env: Environment = process.env,
  options: Omit<RedisReplayStoreOptions, "url" | "client"> = {},
): RedisReplayStore {
  const timeoutMs = timeoutMsOf(env);
  return new RedisReplayStore({ ...(timeoutMs !== undefined ? { timeoutMs } : {}), ...options, url });
}
