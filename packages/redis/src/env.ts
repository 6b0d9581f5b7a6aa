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
import { RedisTokenCache, type RedisTokenCacheOptions } from "./redis-token-cache.js";

export function redisCacheFromEnv(
  url: string,
  env: Environment = process.env,
  options: Omit<RedisTokenCacheOptions, "url" | "client"> = {},
): RedisTokenCache {
  const lease = env["OAUTH_CACHE_REDIS_LEASE"]?.trim().toLowerCase();
  if (lease !== undefined && lease !== "" && lease !== "on" && lease !== "off") {
    throw new McpOAuthConfigError("OAUTH_CACHE_REDIS_LEASE", `"${lease}" is not one of on, off`);
  }
  const timeout = env["OAUTH_CACHE_REDIS_TIMEOUT_MS"]?.trim();
  let timeoutMs: number | undefined;
  if (timeout !== undefined && timeout !== "") {
    timeoutMs = Number(timeout);
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
      throw new McpOAuthConfigError(
        "OAUTH_CACHE_REDIS_TIMEOUT_MS",
        `"${timeout}" is not a positive number of milliseconds`,
      );
  }
  return new RedisTokenCache({
    ...(lease === "off" ? { lease: false } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...options,
    url,
  });
}
