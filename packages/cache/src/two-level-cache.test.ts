import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { TEST_REDIS_URL, testKeyPrefix } from '@tessera/db/testing';
import { connectRedis } from './redis.ts';
import { createTwoLevelCache, type TwoLevelCache, type TwoLevelCacheOptions } from './two-level-cache.ts';

const prefix = testKeyPrefix('cache');
const connections: Redis[] = [];
const caches: TwoLevelCache<unknown>[] = [];
const warnings: string[] = [];
const logger = { warn: (_obj: object, msg: string) => warnings.push(msg) };

async function instance<T>(options: Partial<TwoLevelCacheOptions> = {}): Promise<TwoLevelCache<T>> {
  const redis = await connectRedis(TEST_REDIS_URL);
  const subscriber = await connectRedis(TEST_REDIS_URL, { subscriber: true });
  connections.push(redis, subscriber);
  const cache = createTwoLevelCache<T>({
    name: 'test',
    keyPrefix: prefix,
    redis,
    subscriber,
    logger,
    ...options,
  });
  caches.push(cache);
  // SUBSCRIBE is asynchronous; wait until the subscription is active.
  for (let i = 0; i < 50 && (await redis.pubsub('NUMSUB', `${prefix}cache:test:invalidate`))[1] === 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return cache;
}

beforeAll(async () => {
  const probe = await connectRedis(TEST_REDIS_URL);
  connections.push(probe);
  expect(await probe.ping(), `Redis must be reachable at ${TEST_REDIS_URL}`).toBe('PONG');
});

afterAll(async () => {
  for (const cache of caches) await cache.close();
  const cleaner = connections[0];
  if (cleaner) {
    const keys = await cleaner.keys(`${prefix}*`);
    if (keys.length) await cleaner.del(...keys);
  }
  for (const c of connections) c.disconnect();
});

describe('two-level cache', () => {
  it('loads a missing key exactly once for 100 concurrent gets', async () => {
    const cache = await instance<number>();
    let loads = 0;
    const loader = async () => {
      loads++;
      await new Promise((resolve) => setTimeout(resolve, 20));
      return 42;
    };
    const values = await Promise.all(Array.from({ length: 100 }, () => cache.get('single-flight', loader)));
    expect(values.every((v) => v === 42)).toBe(true);
    expect(loads).toBe(1);
  });

  it('serves a second instance from L2 without loading, and sets the L2 TTL', async () => {
    const a = await instance<string>();
    const b = await instance<string>();
    await a.get('shared', async () => 'from-db');
    let loads = 0;
    expect(await b.get('shared', async () => (loads++, 'other'))).toBe('from-db');
    expect(loads).toBe(0);
    const ttl = await connections[0]!.ttl(`${prefix}shared`);
    expect(ttl).toBeGreaterThan(290);
    expect(ttl).toBeLessThanOrEqual(300);
  });

  it('expires L1 entries after their TTL', async () => {
    const cache = await instance<number>({ l1: { max: 10, ttlMs: 50 }, l2: false });
    let n = 0;
    expect(await cache.get('ttl', async () => ++n)).toBe(1);
    expect(await cache.get('ttl', async () => ++n)).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(await cache.get('ttl', async () => ++n)).toBe(2);
  });

  it('makes another instance serve the new value within 100 ms of an invalidation, and never the old one after', async () => {
    const a = await instance<string>();
    const b = await instance<string>();
    let value = 'v1';
    const loader = async () => value;
    expect(await a.get('user:1', loader)).toBe('v1');
    expect(await b.get('user:1', loader)).toBe('v1');
    value = 'v2';
    await a.invalidate('user:1');
    const started = performance.now();
    let seen = await b.get('user:1', loader);
    while (seen !== 'v2' && performance.now() - started < 1000) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      seen = await b.get('user:1', loader);
    }
    const window = performance.now() - started;
    expect(seen).toBe('v2');
    expect(window).toBeLessThan(100);
    for (let i = 0; i < 20; i++) expect(await b.get('user:1', loader)).toBe('v2');
  });

  it('drops every key with a prefix on every instance', async () => {
    const a = await instance<string>();
    const b = await instance<string>();
    let version = 'old';
    for (const key of ['authz:u1:o1', 'authz:u1:o2', 'authz:u2:o1']) await b.get(key, async () => version);
    version = 'new';
    await a.invalidateMatching('authz:u1:');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await b.get('authz:u1:o1', async () => version)).toBe('new');
    expect(await b.get('authz:u1:o2', async () => version)).toBe('new');
    expect(await b.get('authz:u2:o1', async () => version)).toBe('old');
  });

  it('keeps answering from L1 and the loader when Redis is unreachable', async () => {
    const registry = new Registry();
    const dead = await connectRedis('redis://127.0.0.1:1', { readyTimeoutMs: 200 });
    connections.push(dead);
    warnings.length = 0;
    const cache = createTwoLevelCache<number>({
      name: 'dead',
      keyPrefix: prefix,
      redis: dead,
      logger,
      registry,
    });
    const started = performance.now();
    expect(await cache.get('k', async () => 7)).toBe(7);
    expect(await cache.get('k', async () => 8)).toBe(7);
    await cache.invalidate('k');
    expect(await cache.get('k', async () => 9)).toBe(9);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(warnings.some((w) => w.includes('Redis unavailable'))).toBe(true);
    const text = await registry.metrics();
    expect(text).toMatch(/tessera_cache_requests_total\{cache="dead",level="l2",result="error"\} [1-9]/);
  });

  it('closes at once when Redis is unreachable (shutdown must not wait for it)', async () => {
    const dead = await connectRedis('redis://127.0.0.1:1', { readyTimeoutMs: 200 });
    const deadSubscriber = await connectRedis('redis://127.0.0.1:1', {
      subscriber: true,
      readyTimeoutMs: 200,
    });
    connections.push(dead, deadSubscriber);
    const cache = createTwoLevelCache<number>({
      name: 'dead-close',
      keyPrefix: prefix,
      redis: dead,
      subscriber: deadSubscriber,
      logger,
      registry: new Registry(),
    });
    expect(await cache.get('k', async () => 1)).toBe(1);
    const started = performance.now();
    await cache.close();
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('counts hits and misses per level', async () => {
    const registry = new Registry();
    const cache = await instance<number>({ name: 'counted', registry });
    await cache.get('m', async () => 1); // l1 miss, l2 miss, load
    await cache.get('m', async () => 1); // l1 hit
    await cache.invalidate('m');
    const metrics = await registry.getSingleMetricAsString('tessera_cache_requests_total');
    expect(metrics).toContain('tessera_cache_requests_total{cache="counted",level="l1",result="miss"} 1');
    expect(metrics).toContain('tessera_cache_requests_total{cache="counted",level="l1",result="hit"} 1');
    expect(metrics).toContain('tessera_cache_requests_total{cache="counted",level="l2",result="miss"} 1');
    const invalidations = await registry.getSingleMetricAsString('tessera_cache_invalidations_total');
    expect(invalidations).toContain('direction="sent"} 1');
  });
});
