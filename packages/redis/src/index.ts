export { RedisTokenCache, type RedisLeaseOptions, type RedisTokenCacheOptions } from "./redis-token-cache.js";
export { RedisReplayStore, type RedisReplayStoreOptions } from "./redis-replay-store.js";
export { redisCacheFromEnv, redisReplayStoreFromEnv } from "./env.js";
export { decode as decodeCachedValidation, encode as encodeCachedValidation } from "./codec.js";
export { rateLimitFromEnv, redisRateLimitStore, type RedisRateLimitStore } from "./rate-limit.js";
