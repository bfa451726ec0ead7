export { createTwoLevelCache } from './two-level-cache.ts';
export type { CacheLogger, TwoLevelCache, TwoLevelCacheOptions } from './two-level-cache.ts';
export { connectRedis } from './redis.ts';
export type { ConnectRedisOptions } from './redis.ts';
export { cacheMetrics } from './metrics.ts';
export type { CacheMetrics } from './metrics.ts';
export { traceRedis } from './tracing.ts';
