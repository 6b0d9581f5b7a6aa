/**
 * The public endpoints' rate limit counted in Redis, so that it holds across replicas:
 * rate-limit-redis (the store express-rate-limit documents) on the token cache's connection.
 * `OAUTH_RATE_LIMIT` is the examples' setting for it.
 */
import { McpOAuthConfigError, type Environment } from "@mcp-oauth/core";
import type { Redis } from "ioredis";
import { RedisStore } from "rate-limit-redis";
import { RedisTokenCache } from "./redis-token-cache.js";

/** The counter store `rateLimit.store` takes (express-rate-limit's `Store`, declared here without its types). */
export interface RedisRateLimitStore {
  increment(key: string): Promise<{ totalHits: number; resetTime: Date | undefined }>;
  decrement(key: string): Promise<void>;
  resetKey(key: string): Promise<void>;
  init(options: unknown): void;
  readonly prefix: string;
}

/**
 * rate-limit-redis loads its Lua scripts once, when the limiter starts: had Redis been down
 * then, every later count would fail (and pass). A failed count loads them again.
 */
class ReloadingRedisStore extends RedisStore {
  override async increment(key: string): ReturnType<RedisStore["increment"]> {
    try {
      return await super.increment(key);
    } catch (error) {
      this.incrementScriptSha = this.loadIncrementScript();
      this.incrementScriptSha.catch(() => {});
      throw error;
    }
  }
}

/**
 * A rate-limit counter store in Redis, on the connection of a `RedisTokenCache` (or an
 * ioredis client of your own). Keys start with `prefix` (default `mcp-oauth:rl:`).
 */
export function redisRateLimitStore(
  connection: RedisTokenCache | Redis,
  options: { prefix?: string } = {},
): RedisRateLimitStore {
  const client = connection instanceof RedisTokenCache ? connection.client : connection;
  return new ReloadingRedisStore({
    sendCommand: async (command: string, ...args: string[]) => {
      // The limiter loads its scripts at once, possibly while the connection is still being made.
      if (client.status === "connecting" || client.status === "connect") {
        await new Promise((resolve) => {
          client.once("ready", resolve);
          setTimeout(resolve, 1000).unref();
        });
      }
      return client.call(command, ...args) as Promise<never>;
    },
    prefix: options.prefix ?? "mcp-oauth:rl:",
  }) as unknown as RedisRateLimitStore;
}

/**
 * `OAUTH_RATE_LIMIT`: requests per minute and client address on the public metadata
 * endpoints, as `protectedResourceMetadata`'s `rateLimit` option; counted in `shared`'s
 * Redis when given (the store `OAUTH_CACHE_REDIS_URL` built), so the limit holds across
 * replicas. Undefined when the variable is unset.
 */
export function rateLimitFromEnv(
  env: Environment,
  shared?: RedisTokenCache,
): { limit: number; windowMs: number; store?: RedisRateLimitStore } | undefined {
  const value = env["OAUTH_RATE_LIMIT"]?.trim();
  if (value === undefined || value === "") return undefined;
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit <= 0)
    throw new McpOAuthConfigError(
      "OAUTH_RATE_LIMIT",
      `"${value}" is not a positive whole number of requests per minute`,
    );
  return { limit, windowMs: 60_000, ...(shared !== undefined ? { store: redisRateLimitStore(shared) } : {}) };
}
