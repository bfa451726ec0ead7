import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { TEST_REDIS_URL, testKeyPrefix } from '@tessera/db/testing';
import { connectRedis } from './redis.ts';
import { publishRevocation, readRevocations, revocationChannel } from './revocation-feed.ts';
import { followRevocations, type RevocationFollower } from './revocation-follower.ts';

const connections: Redis[] = [];
let redis: Redis;

/** A sink recording what it was told, like RevokedTokenSet without the expiry. */
function recordingSink() {
  const seen = new Map<string, number>();
  return { seen, add: (jti: string, exp: number) => void seen.set(jti, exp) };
}

async function until(condition: () => boolean, ms = 2000): Promise<void> {
  for (const start = Date.now(); !condition();) {
    if (Date.now() - start > ms) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function subscribedFollower(prefix: string, sink: ReturnType<typeof recordingSink>) {
  const subscriber = await connectRedis(TEST_REDIS_URL, { subscriber: true });
  connections.push(subscriber);
  const follower = await followRevocations({ sink, redis, subscriber, keyPrefix: prefix });
  const channel = revocationChannel(prefix);
  for (let i = 0; i < 100 && (await redis.pubsub('NUMSUB', channel))[1] === 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return follower;
}

beforeAll(async () => {
  redis = await connectRedis(TEST_REDIS_URL);
  connections.push(redis);
});

afterAll(() => {
  for (const connection of connections) connection.disconnect();
});

describe('the revocation feed', () => {
  const followers: RevocationFollower[] = [];
  afterAll(async () => {
    for (const follower of followers) await follower.close();
  });

  it('delivers a published revocation to a running follower', async () => {
    const prefix = testKeyPrefix('revocations');
    const sink = recordingSink();
    followers.push(await subscribedFollower(prefix, sink));
    const exp = Math.floor(Date.now() / 1000) + 600;
    await publishRevocation(redis, prefix, { jti: 'live-1', exp }, Date.now());
    await until(() => sink.seen.has('live-1'));
    expect(sink.seen.get('live-1')).toBe(exp);
  });

  it('gives a follower started later every revocation still relevant, and none long expired', async () => {
    const prefix = testKeyPrefix('revocations');
    const now = Date.now();
    const exp = Math.floor(now / 1000) + 600;
    await publishRevocation(redis, prefix, { jti: 'before-start', exp }, now);
    await publishRevocation(redis, prefix, { jti: 'long-expired', exp: Math.floor(now / 1000) - 3600 }, now);
    const sink = recordingSink();
    const follower = await followRevocations({ sink, redis, keyPrefix: prefix });
    followers.push(follower);
    expect([...sink.seen]).toEqual([['before-start', exp]]);
    // The index prunes what expired long ago on the next publication.
    await publishRevocation(redis, prefix, { jti: 'next', exp }, now);
    expect((await readRevocations(redis, prefix, now)).map((r) => r.jti).sort()).toEqual([
      'before-start',
      'next',
    ]);
  });

  it('catches up on a re-sync with what a lost message carried, and ignores malformed messages', async () => {
    const prefix = testKeyPrefix('revocations');
    const sink = recordingSink();
    const follower = await subscribedFollower(prefix, sink);
    followers.push(follower);
    await redis.publish(revocationChannel(prefix), '{"jti":42}');
    await redis.publish(revocationChannel(prefix), 'not json');
    // Recorded in the index without a message, as when the subscriber was disconnected.
    const exp = Math.floor(Date.now() / 1000) + 600;
    await redis.zadd(`${revocationChannel(prefix)}:index`, exp, 'missed');
    expect(sink.seen.size).toBe(0);
    await follower.resync();
    expect([...sink.seen]).toEqual([['missed', exp]]);
  });

  it('reads another source (the platform without Redis) at start and on re-sync', async () => {
    const listed = [{ jti: 'from-auth', exp: Math.floor(Date.now() / 1000) + 600 }];
    const sink = recordingSink();
    const follower = await followRevocations({ sink, load: async () => listed });
    followers.push(follower);
    expect(sink.seen.has('from-auth')).toBe(true);
    listed.push({ jti: 'later', exp: listed[0]!.exp });
    await follower.resync();
    expect(sink.seen.has('later')).toBe(true);
  });
});
