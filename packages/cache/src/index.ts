export { createTwoLevelCache } from './two-level-cache.ts';
export type { CacheLogger, TwoLevelCache, TwoLevelCacheOptions } from './two-level-cache.ts';
export { connectRedis } from './redis.ts';
export type { ConnectRedisOptions } from './redis.ts';
export { cacheMetrics } from './metrics.ts';
export type { CacheMetrics } from './metrics.ts';
export { traceRedis } from './tracing.ts';
export {
  AUTH_REDIS_KEY_PREFIX,
  parseRevocation,
  publishRevocation,
  readRevocations,
  revocationChannel,
  revocationIndexKey,
} from './revocation-feed.ts';
export type { Revocation } from './revocation-feed.ts';
export { followRevocations } from './revocation-follower.ts';
export type { FollowRevocationsOptions, RevocationFollower, RevocationSink } from './revocation-follower.ts';
export {
  announceUserDeactivated,
  followUserDeactivations,
  USERS_REDIS_KEY_PREFIX,
} from './user-deactivations.ts';
export type { FollowUserDeactivationsOptions } from './user-deactivations.ts';
