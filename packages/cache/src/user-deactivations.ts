/**
 * Users disabled or deleted, from the user service to auth when they run as separate processes
 * (the all-in-one platform calls auth directly; ADR 0008 addendum). The user service appends the
 * user's id to the list `<prefix>deactivated-users` and announces it on the channel of the same
 * name; auth takes ids off the list on every announcement, at start, and every `intervalMs`, and
 * revokes their grants. The list makes delivery at-least-once: an id announced while no auth
 * instance listened, or whose revocation failed (it goes back on the list), is taken later.
 * Revoking twice is harmless.
 */
import type { Redis } from 'ioredis';
import { unsubscribeBounded } from './redis.ts';

/** The user service's default Redis key prefix, hence the list's and the channel's. */
export const USERS_REDIS_KEY_PREFIX = 'tessera:users:';

const key = (prefix: string) => `${prefix}deactivated-users`;
const MAX_PER_DRAIN = 1_000;
const USER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Records and announces that `userId` was disabled or deleted.
 *
 * @example
 * await announceUserDeactivated(redis, 'tessera:users:', userId);
 */
export async function announceUserDeactivated(redis: Redis, prefix: string, userId: string): Promise<void> {
  await redis.lpush(key(prefix), userId);
  await redis.publish(key(prefix), userId);
}

/** Options of {@link followUserDeactivations}. */
export interface FollowUserDeactivationsOptions {
  redis: Redis;
  /** A connection for SUBSCRIBE (may be shared with other subscriptions). */
  subscriber: Redis;
  /** Revokes the user's grants; a rejection puts the id back for a later attempt. */
  onUser: (userId: string) => Promise<unknown>;
  /** The user service's key prefix (default `tessera:users:`). */
  prefix?: string | undefined;
  /** Default 30 s. */
  intervalMs?: number | undefined;
  logger?: { warn(obj: object, msg: string): void } | undefined;
}

/**
 * Takes the announced ids off the list as they come (see the module comment).
 *
 * @example
 * const follower = await followUserDeactivations({ redis, subscriber, onUser: (id) => auth.revokeUserGrants(id) });
 */
export async function followUserDeactivations(
  options: FollowUserDeactivationsOptions,
): Promise<{ drain(): Promise<void>; close(): Promise<void> }> {
  const { redis, subscriber, onUser, logger } = options;
  const list = key(options.prefix ?? USERS_REDIS_KEY_PREFIX);
  let draining: Promise<void> | undefined;
  let again = false;
  const warn = (err: unknown, msg: string) =>
    logger?.warn({ err: err instanceof Error ? err.message : 'error' }, msg);
  /** Takes ids until the list is empty; false when a revocation failed (its id is back on the list). */
  const drainOnce = async (): Promise<boolean> => {
    for (let n = 0; n < MAX_PER_DRAIN; n++) {
      const userId = await redis.rpop(list);
      if (userId === null) return true;
      if (!USER_ID.test(userId)) continue;
      try {
        await onUser(userId);
      } catch (err) {
        warn(err, 'revoking a deactivated user failed; kept for a retry');
        await redis.lpush(list, userId);
        return false;
      }
    }
    return true;
  };
  /** One drain at a time; an announcement during a drain runs it once more afterwards. */
  const drain = (): Promise<void> => {
    if (draining) {
      again = true;
      return draining;
    }
    draining = (async () => {
      try {
        let more = true;
        while (more) {
          again = false;
          more = (await drainOnce()) && again;
        }
      } catch (err) {
        warn(err, 'reading deactivated users failed');
      } finally {
        draining = undefined;
      }
    })();
    return draining;
  };
  const onMessage = (channel: string) => {
    if (channel === list) void drain();
  };
  subscriber.on('message', onMessage);
  await subscriber.subscribe(list);
  await drain();
  const timer = setInterval(() => void drain(), options.intervalMs ?? 30_000);
  timer.unref();
  return {
    drain,
    async close() {
      clearInterval(timer);
      subscriber.off('message', onMessage);
      await unsubscribeBounded(subscriber, list);
      await draining;
    },
  };
}
