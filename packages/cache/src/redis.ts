import { Redis, type RedisOptions } from 'ioredis';

/** Options for {@link connectRedis}. */
export interface ConnectRedisOptions {
  /** Milliseconds one command may take before it fails (default 250): a slow Redis must not slow requests. */
  commandTimeoutMs?: number;
  /** Milliseconds to wait for the first connection before returning anyway (default 2,000). */
  readyTimeoutMs?: number;
  /** A connection that will SUBSCRIBE: its commands queue while reconnecting and it has no command timeout. */
  subscriber?: boolean;
  connectionName?: string;
}

/**
 * Opens an ioredis connection tuned for a cache and rate limiter that must degrade, never hang:
 * commands fail fast while Redis is unreachable (no offline queue, one attempt, short timeout)
 * and the client keeps reconnecting in the background with capped backoff. Resolves once the
 * connection is ready, or after `readyTimeoutMs` with a client that is still trying.
 *
 * @example
 * const redis = await connectRedis(process.env.REDIS_URL!);
 * const subscriber = await connectRedis(process.env.REDIS_URL!, { subscriber: true });
 */
export async function connectRedis(url: string, options: ConnectRedisOptions = {}): Promise<Redis> {
  const subscriber = options.subscriber ?? false;
  const redisOptions: RedisOptions = {
    lazyConnect: true,
    connectTimeout: 1_000,
    maxRetriesPerRequest: subscriber ? null : 1,
    enableOfflineQueue: subscriber,
    // Commands issued in the same tick share one socket write (one syscall for many requests).
    ...(subscriber ? {} : { commandTimeout: options.commandTimeoutMs ?? 250, enableAutoPipelining: true }),
    retryStrategy: (attempt: number) => Math.min(attempt * 200, 2_000),
    ...(options.connectionName ? { connectionName: options.connectionName } : {}),
  };
  const redis = new Redis(url, redisOptions);
  // Errors surface through command failures (counted and logged by callers); without a listener
  // ioredis would print every reconnect failure as an unhandled 'error' event.
  redis.on('error', () => undefined);
  const timeout = options.readyTimeoutMs ?? 2_000;
  await Promise.race([
    redis.connect().catch(() => undefined),
    new Promise((resolve) => setTimeout(resolve, timeout).unref()),
  ]);
  return redis;
}

/** How long a closing subscriber waits for Redis to confirm an UNSUBSCRIBE. */
const UNSUBSCRIBE_DEADLINE_MS = 500;

/**
 * Leaves `channel` without ever holding up a shutdown: only a connected subscriber is asked (an
 * offline one would queue the UNSUBSCRIBE until Redis came back), and the answer is awaited for
 * 500 ms at most. Never rejects.
 *
 * @example
 * subscriber.off('message', onMessage);
 * await unsubscribeBounded(subscriber, channel);
 */
export async function unsubscribeBounded(subscriber: Redis, channel: string): Promise<void> {
  if (subscriber.status !== 'ready') return;
  let deadline: NodeJS.Timeout | undefined;
  await Promise.race([
    subscriber.unsubscribe(channel).catch(() => undefined),
    new Promise((resolve) => (deadline = setTimeout(resolve, UNSUBSCRIBE_DEADLINE_MS))),
  ]).finally(() => clearTimeout(deadline));
}
