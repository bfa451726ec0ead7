import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { TEST_REDIS_URL, testKeyPrefix } from '@tessera/db/testing';
import { connectRedis } from './redis.ts';
import { announceUserDeactivated, followUserDeactivations } from './user-deactivations.ts';

const connections: Redis[] = [];
let redis: Redis;

async function until(condition: () => boolean, ms = 2000): Promise<void> {
  for (const start = Date.now(); !condition();) {
    if (Date.now() - start > ms) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function subscriber(): Promise<Redis> {
  const connection = await connectRedis(TEST_REDIS_URL, { subscriber: true });
  connections.push(connection);
  return connection;
}

beforeAll(async () => {
  redis = await connectRedis(TEST_REDIS_URL);
  connections.push(redis);
});

afterAll(() => {
  for (const connection of connections) connection.disconnect();
});

describe('user deactivations (user service → auth)', () => {
  it('hands over users announced while auth listens, and those announced before it started', async () => {
    const prefix = testKeyPrefix('deactivations');
    const before = randomUUID();
    await announceUserDeactivated(redis, prefix, before);
    const seen: string[] = [];
    const follower = await followUserDeactivations({
      redis,
      subscriber: await subscriber(),
      prefix,
      onUser: async (userId) => void seen.push(userId),
    });
    expect(seen).toEqual([before]);
    const during = [randomUUID(), randomUUID()];
    for (const userId of during) await announceUserDeactivated(redis, prefix, userId);
    await until(() => seen.length === 3);
    expect(seen).toEqual([before, ...during]);
    expect(await redis.llen(`${prefix}deactivated-users`)).toBe(0);
    await follower.close();
  });

  it('keeps a user whose revocation failed for the next attempt', async () => {
    const prefix = testKeyPrefix('deactivations');
    const userId = randomUUID();
    let attempts = 0;
    const revoked: string[] = [];
    const follower = await followUserDeactivations({
      redis,
      subscriber: await subscriber(),
      prefix,
      intervalMs: 60_000,
      onUser: async (id) => {
        attempts += 1;
        if (attempts === 1) throw new Error('auth database unavailable');
        revoked.push(id);
      },
    });
    await announceUserDeactivated(redis, prefix, userId);
    await until(() => attempts === 1);
    let kept: string[] = [];
    for (let i = 0; i < 100 && kept.length === 0; i++) {
      kept = await redis.lrange(`${prefix}deactivated-users`, 0, -1);
      if (kept.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(kept).toEqual([userId]);
    expect(revoked).toEqual([]);
    await follower.drain();
    expect(revoked).toEqual([userId]);
    expect(await redis.llen(`${prefix}deactivated-users`)).toBe(0);
    // Anything that is not a user id is dropped, never handed over.
    await announceUserDeactivated(redis, prefix, 'not-a-user');
    await follower.drain();
    expect(revoked).toEqual([userId]);
    await follower.close();
  });
});
