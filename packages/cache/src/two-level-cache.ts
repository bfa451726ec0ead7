import { trace } from '@tessera/telemetry';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { Registry } from 'prom-client';
import { cacheMetrics, type CacheMetrics } from './metrics.ts';
import { unsubscribeBounded } from './redis.ts';

/** The logging the cache needs (pino-compatible). */
export interface CacheLogger {
  warn(obj: object, msg: string): void;
}

/** Options for {@link createTwoLevelCache}. */
export interface TwoLevelCacheOptions {
  /** Metric label and part of the pub/sub channel name. */
  name: string;
  /** Prefix of every Redis key and of the invalidation channel (isolates tenants and test files). */
  keyPrefix: string;
  /** In-process LRU; `false` turns L1 off. Default 10,000 entries for 5 s. */
  l1?: { max: number; ttlMs: number } | false;
  /** Redis TTL in seconds; `false` turns L2 off even when `redis` is given. Default 300 s. */
  l2?: { ttlSeconds: number } | false;
  /** Connection for GET/SET/DEL/PUBLISH (see `connectRedis`); absent = L1 only. */
  redis?: Redis | undefined;
  /** Dedicated connection for SUBSCRIBE (a subscribed connection cannot run other commands). */
  subscriber?: Redis | undefined;
  logger: CacheLogger;
  registry?: Registry;
}

/** A read-through cache: L1 (process) → L2 (Redis) → loader, with cross-instance invalidation. */
export interface TwoLevelCache<T> {
  /** The cached value for `key`, loading it once however many callers miss at the same time. */
  get(key: string, loader: () => Promise<T>): Promise<T>;
  /** Drops `key` everywhere: here, in Redis, and (via pub/sub) in every other instance's L1. Call after commit. */
  invalidate(key: string): Promise<void>;
  /** Drops every key starting with `prefix` everywhere (e.g. all `authz:<userId>:` entries). */
  invalidateMatching(prefix: string): Promise<void>;
  /** Unsubscribes; the Redis connections belong to the caller. */
  close(): Promise<void>;
}

interface Envelope<T> {
  v: T;
}

interface InvalidationMessage {
  k?: string;
  p?: string;
}

const WARN_INTERVAL_MS = 10_000;

/** Tells the active span (an authz-context load, say) which level answered; free when not tracing. */
function markLevel(level: 'l1' | 'l2' | 'load' | 'inflight'): void {
  trace.getActiveSpan()?.setAttribute('tessera.cache.level', level);
}

/**
 * Creates a two-level read-through cache (ARCHITECTURE.md): L1 lru-cache with a short TTL, L2
 * Redis with a longer TTL, single flight for concurrent misses, invalidation after commit that
 * deletes the L2 key and publishes it so every instance drops its L1 copy. Redis failures
 * degrade to L1 + loader with a warning and an `error` metric; they never reach the caller.
 * `null` from the loader is cached like any value (a remembered "not found").
 *
 * @example
 * const authz = createTwoLevelCache<Authz | null>({ name: 'authz', keyPrefix: 'tessera:users:', redis, subscriber, logger });
 * const value = await authz.get(`authz:${userId}:${orgId}`, () => repo.loadAuthz(userId, orgId));
 * await authz.invalidateMatching(`authz:${userId}:`); // after the transaction commits
 */
export function createTwoLevelCache<T>(options: TwoLevelCacheOptions): TwoLevelCache<T> {
  const { name, keyPrefix, logger } = options;
  const metrics: CacheMetrics = cacheMetrics(options.registry ?? new Registry());
  const l1Options = options.l1 === undefined ? { max: 10_000, ttlMs: 5_000 } : options.l1;
  const l1 =
    l1Options && l1Options.max > 0
      ? new LRUCache<string, Envelope<T>>({ max: l1Options.max, ttl: l1Options.ttlMs })
      : undefined;
  const l2Ttl = options.l2 === false ? undefined : (options.l2?.ttlSeconds ?? 300);
  const redis = l2Ttl === undefined ? undefined : options.redis;
  const channel = `${keyPrefix}cache:${name}:invalidate`;
  const inflight = new Map<string, { promise: Promise<T>; stale: boolean }>();
  let lastWarn = 0;

  const warn = (err: unknown, op: string) => {
    const now = Date.now();
    if (now - lastWarn < WARN_INTERVAL_MS) return;
    lastWarn = now;
    logger.warn(
      { cache: name, op, err: { message: (err as Error).message } },
      'cache: Redis unavailable, serving from L1 and the loader',
    );
  };
  const count = (level: 'l1' | 'l2', result: 'hit' | 'miss' | 'error') =>
    metrics.requests.inc({ cache: name, level, result });

  const dropLocal = (message: InvalidationMessage) => {
    if (message.k !== undefined) {
      l1?.delete(message.k);
      const pending = inflight.get(message.k);
      if (pending) pending.stale = true;
      inflight.delete(message.k);
    }
    if (message.p !== undefined) {
      const prefix = message.p;
      if (l1) for (const key of l1.keys()) if (key.startsWith(prefix)) l1.delete(key);
      for (const [key, pending] of inflight) {
        if (key.startsWith(prefix)) {
          pending.stale = true;
          inflight.delete(key);
        }
      }
    }
  };

  const subscriber = redis ? options.subscriber : undefined;
  const onMessage = (from: string, text: string) => {
    if (from !== channel) return;
    try {
      dropLocal(JSON.parse(text) as InvalidationMessage);
      metrics.invalidations.inc({ cache: name, direction: 'received' });
    } catch {
      // A malformed message cannot name a key; the L1 TTL bounds any staleness.
    }
  };
  if (subscriber) {
    subscriber.on('message', onMessage);
    subscriber.subscribe(channel).catch((err: unknown) => warn(err, 'subscribe'));
  }

  const readL2 = async (key: string): Promise<Envelope<T> | undefined> => {
    if (!redis) return undefined;
    try {
      const text = await redis.get(keyPrefix + key);
      if (text === null) {
        count('l2', 'miss');
        return undefined;
      }
      count('l2', 'hit');
      return JSON.parse(text) as Envelope<T>;
    } catch (err) {
      count('l2', 'error');
      warn(err, 'get');
      return undefined;
    }
  };

  const load = async (key: string, loader: () => Promise<T>, entry: { stale: boolean }): Promise<T> => {
    const fromL2 = await readL2(key);
    if (fromL2) {
      if (!entry.stale) l1?.set(key, fromL2);
      markLevel('l2');
      return fromL2.v;
    }
    markLevel('load');
    const end = metrics.loadDuration.startTimer({ cache: name });
    const value = await loader();
    end();
    // An invalidation that arrived while loading means the value may predate the write: serve
    // it to the callers who asked before the write, but do not keep it.
    if (!entry.stale) {
      const envelope = { v: value };
      l1?.set(key, envelope);
      if (redis && l2Ttl !== undefined) {
        redis
          .set(keyPrefix + key, JSON.stringify(envelope), 'EX', l2Ttl)
          .catch((err: unknown) => warn(err, 'set'));
      }
    }
    return value;
  };

  const publish = async (message: InvalidationMessage, l2Delete: () => Promise<unknown>) => {
    dropLocal(message);
    if (!redis) return;
    try {
      await l2Delete();
      await redis.publish(channel, JSON.stringify(message));
      metrics.invalidations.inc({ cache: name, direction: 'sent' });
    } catch (err) {
      warn(err, 'invalidate');
    }
  };

  return {
    async get(key, loader) {
      const hit = l1?.get(key);
      if (hit) {
        count('l1', 'hit');
        markLevel('l1');
        return hit.v;
      }
      if (l1) count('l1', 'miss');
      const pending = inflight.get(key);
      if (pending) {
        markLevel('inflight');
        return pending.promise;
      }
      const entry = { promise: undefined as unknown as Promise<T>, stale: false };
      entry.promise = load(key, loader, entry).finally(() => {
        if (inflight.get(key) === entry) inflight.delete(key);
      });
      inflight.set(key, entry);
      return entry.promise;
    },
    invalidate(key) {
      return publish({ k: key }, () => redis!.del(keyPrefix + key));
    },
    invalidateMatching(prefix) {
      return publish({ p: prefix }, async () => {
        let cursor = '0';
        do {
          const [next, keys] = await redis!.scan(
            cursor,
            'MATCH',
            `${escapeGlob(keyPrefix + prefix)}*`,
            'COUNT',
            500,
          );
          if (keys.length > 0) await redis!.del(...keys);
          cursor = next;
        } while (cursor !== '0');
      });
    },
    async close() {
      if (subscriber) {
        subscriber.off('message', onMessage);
        await unsubscribeBounded(subscriber, channel);
      }
      l1?.clear();
    },
  };
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (ch) => `\\${ch}`);
}
