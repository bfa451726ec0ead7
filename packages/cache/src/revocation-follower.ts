/**
 * Keeps a resource server's in-memory revoked-token set in step with auth (ADR 0008): messages
 * from the revocation channel as they come, and a full re-read of the still-relevant revocations
 * at start, after every subscriber reconnect, and every `resyncIntervalMs` (a pub/sub message
 * lost while the connection was down is therefore picked up within one interval at worst).
 */
import type { Cluster, Redis } from 'ioredis';
import { unsubscribeBounded } from './redis.ts';
import {
  AUTH_REDIS_KEY_PREFIX,
  parseRevocation,
  readRevocations,
  revocationChannel,
  type Revocation,
} from './revocation-feed.ts';

/** Where revocations go (a `RevokedTokenSet` of `@tessera/auth-middleware`). */
export interface RevocationSink {
  add(jti: string, exp: number): void;
  /** Drops expired entries; called after each re-sync when present. */
  prune?(): number;
}

/** Options of {@link followRevocations}; give `redis` (with `subscriber`) or `load`, or both. */
export interface FollowRevocationsOptions {
  sink: RevocationSink;
  /** Redis holding auth's revocation index. */
  redis?: Redis | Cluster | undefined;
  /** A connection for SUBSCRIBE (may be shared with other subscriptions). */
  subscriber?: Redis | undefined;
  /** Auth's Redis key prefix (default `tessera:auth:`). */
  keyPrefix?: string | undefined;
  /** Another source of the current revocations (the all-in-one platform without Redis: auth's denylist). */
  load?: (() => Promise<Iterable<Revocation>>) | undefined;
  /** Default 60 s. */
  resyncIntervalMs?: number | undefined;
  onError?: ((err: unknown, during: 'subscribe' | 'resync') => void) | undefined;
  /** Without `onError`: failures are logged here as a warning (message only, never the error object). */
  logger?: { warn(obj: object, msg: string): void } | undefined;
  /** Current time in ms (default `Date.now`). */
  now?: (() => number) | undefined;
}

/** A running follower. */
export interface RevocationFollower {
  /** Reads every source again into the sink. */
  resync(): Promise<void>;
  /** Stops the timer and the subscription (the connections belong to the caller). */
  close(): Promise<void>;
}

/**
 * Subscribes, then reads the current revocations (so none falls between the two), then follows.
 *
 * @example
 * const revoked = new RevokedTokenSet();
 * const follower = await followRevocations({ sink: revoked, redis, subscriber });
 */
export async function followRevocations(options: FollowRevocationsOptions): Promise<RevocationFollower> {
  const { sink, redis, subscriber } = options;
  const keyPrefix = options.keyPrefix ?? AUTH_REDIS_KEY_PREFIX;
  const channel = revocationChannel(keyPrefix);
  const now = options.now ?? Date.now;
  const { logger } = options;
  const onError =
    options.onError ??
    ((err: unknown, during: 'subscribe' | 'resync') =>
      logger?.warn({ err: err instanceof Error ? err.message : 'error', during }, 'revocation feed failed'));
  const sources: Array<() => Promise<Iterable<Revocation>>> = [];
  if (redis) sources.push(() => readRevocations(redis, keyPrefix, now()));
  if (options.load) sources.push(options.load);

  const resync = async () => {
    for (const source of sources) {
      try {
        for (const { jti, exp } of await source()) sink.add(jti, exp);
      } catch (err) {
        onError(err, 'resync');
      }
    }
    sink.prune?.();
  };
  const onMessage = (from: string, text: string) => {
    if (from !== channel) return;
    const revocation = parseRevocation(text);
    if (revocation) sink.add(revocation.jti, revocation.exp);
  };
  const onReady = () => void resync();
  if (subscriber) {
    subscriber.on('message', onMessage);
    subscriber.on('ready', onReady);
    subscriber.subscribe(channel).catch((err: unknown) => onError(err, 'subscribe'));
  }
  await resync();
  const timer = setInterval(() => void resync(), options.resyncIntervalMs ?? 60_000);
  timer.unref();

  return {
    resync,
    async close() {
      clearInterval(timer);
      if (!subscriber) return;
      subscriber.off('message', onMessage);
      subscriber.off('ready', onReady);
      await unsubscribeBounded(subscriber, channel);
    },
  };
}
