import { afterAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { connectRedis } from '@tessera/cache';
import { TEST_REDIS_URL, testKeyPrefix } from '@tessera/db/testing';
import type { Redis } from 'ioredis';
import {
  memoryRateLimitStore,
  redisRateLimitStore,
  type RateLimitCheck,
  type RateLimitDecision,
  type RateLimitPolicy,
} from './rate-limit.ts';

const clients: Redis[] = [];
afterAll(() => {
  for (const c of clients) c.disconnect();
});

async function redisStore(maxBatch?: number) {
  const redis = await connectRedis(TEST_REDIS_URL);
  clients.push(redis);
  const store = redisRateLimitStore(redis, testKeyPrefix('rl-batch'), maxBatch);
  // Count the script calls (the store looks the command up on every call).
  const target = redis as unknown as Record<string, (...args: unknown[]) => Promise<number[]>>;
  const original = target.tesseraGcraBatch!.bind(redis);
  let calls = 0;
  target.tesseraGcraBatch = (...args: unknown[]) => {
    calls++;
    return original(...args);
  };
  return { store, calls: () => calls };
}

const policy = (name: string, limit: number): RateLimitPolicy => ({ name, limit, windowSeconds: 60 });

describe('Redis rate-limit batches', () => {
  it('decides concurrent requests in one script call exactly as one after another', async () => {
    const { store, calls } = await redisStore();
    const ip = policy('ip', 3);
    const decisions = await Promise.all(
      Array.from({ length: 5 }, () => store.take([{ policy: ip, key: '203.0.113.9' }])),
    );
    expect(calls()).toBe(1);
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, false, false]);
    expect(decisions.map((d) => d.remaining)).toEqual([2, 1, 0, 0, 0]);
    expect(decisions[4]!.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    // The memory store (one request at a time) agrees.
    const memory = memoryRateLimitStore();
    const sequential = [];
    for (let i = 0; i < 5; i++) sequential.push(await memory.take([{ policy: ip, key: '203.0.113.9' }]));
    expect(sequential.map((d) => [d.allowed, d.remaining])).toEqual(
      decisions.map((d) => [d.allowed, d.remaining]),
    );
  });

  it('charges a request only when all its keys allow, even inside a batch', async () => {
    const { store } = await redisStore();
    const ip = policy('ip', 100);
    const user = policy('user', 1);
    const [first, second, third] = await Promise.all([
      store.take([
        { policy: ip, key: 'a' },
        { policy: user, key: 'u1' },
      ]),
      store.take([
        { policy: ip, key: 'a' },
        { policy: user, key: 'u1' },
      ]),
      store.take([{ policy: ip, key: 'a' }]),
    ]);
    expect(first.allowed).toBe(true);
    expect(second.allowed).toBe(false);
    expect(second.policy.name).toBe('user');
    // The refused request did not charge the IP key: 100 - 2 allowed requests.
    expect(third.allowed).toBe(true);
    expect(third.remaining).toBe(98);
  });

  it('sends requests arriving during a round trip together afterwards, in chunks of maxBatch', async () => {
    const { store, calls } = await redisStore(4);
    const ip = policy('ip', 1000);
    const first = store.take([{ policy: ip, key: 'b' }]);
    await new Promise((resolve) => setImmediate(resolve));
    // `first` is in flight now: these ten wait for it, then go as three calls of at most 4.
    const rest = Array.from({ length: 10 }, () => store.take([{ policy: ip, key: 'b' }]));
    const all = await Promise.all([first, ...rest]);
    expect(all.every((d) => d.allowed)).toBe(true);
    expect(all.map((d) => d.remaining).sort((x, y) => y - x)).toEqual(
      Array.from({ length: 11 }, (_, i) => 999 - i),
    );
    expect(calls()).toBe(4);
  });

  it('under load holds the next call a moment so later requests join it; at light load sends at once', async () => {
    const { store, calls } = await redisStore();
    const ip = policy('ip', 1000);
    const take = () => store.take([{ policy: ip, key: 'hold' }]);
    // Count the holds (1 ms timers) the store schedules; other timers (ioredis's command timeout) differ.
    let holds = 0;
    const realSetTimeout = globalThis.setTimeout;
    const spy = vi.spyOn(globalThis, 'setTimeout').mockImplementation((fn: () => void, ms?: number) => {
      if (ms === 1) holds++;
      return realSetTimeout(fn, ms);
    });
    onTestFinished(() => spy.mockRestore());
    // Light load: one request per call, each sent at once (no hold).
    for (let i = 0; i < 3; i++) await take();
    expect(calls()).toBe(3);
    expect(holds).toBe(0);
    // Load: a call carrying five requests; two more arrive while it is in flight.
    const first = Array.from({ length: 5 }, take);
    await new Promise((resolve) => setImmediate(resolve));
    const during = [take(), take()];
    await Promise.all(first);
    // The first call has returned; the two waiting ones are held, so these three join them.
    await new Promise((resolve) => setImmediate(resolve));
    const after = [take(), take(), take()];
    const all = await Promise.all([...during, ...after]);
    expect(all.every((d) => d.allowed)).toBe(true);
    expect(calls()).toBe(3 + 2);
    expect(holds).toBe(1);
  });

  it('decides a mixed batch (runs of alike requests, refusals mid-run) as the memory store does one by one', async () => {
    const { store, calls } = await redisStore();
    // Long windows: the few milliseconds between the two stores' clocks change no figure.
    const ip = { name: 'ip', limit: 9, windowSeconds: 3600 };
    const client = { name: 'client', limit: 6, windowSeconds: 3600 };
    const user = { name: 'user', limit: 4, windowSeconds: 7200 };
    const shapes: RateLimitCheck[][] = [
      [{ policy: ip, key: '198.51.100.1' }],
      [
        { policy: ip, key: '198.51.100.1' },
        { policy: client, key: 'spa' },
        { policy: user, key: 'u1' },
      ],
      [
        { policy: ip, key: '198.51.100.2' },
        { policy: client, key: 'spa' },
      ],
      [
        { policy: ip, key: '198.51.100.2' },
        { policy: client, key: 'spa' },
        { policy: user, key: 'u1' },
      ],
    ];
    // A fixed pseudo-random sequence with runs of one shape and switches between shapes.
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
    const sequence: RateLimitCheck[][] = [];
    while (sequence.length < 48) {
      const shape = shapes[next() % shapes.length]!;
      for (let n = 1 + (next() % 5); n > 0 && sequence.length < 48; n--) sequence.push(shape);
    }
    const batched = await Promise.all(sequence.map((checks) => store.take(checks)));
    expect(calls()).toBe(1);
    const memory = memoryRateLimitStore();
    const oneByOne: RateLimitDecision[] = [];
    for (const checks of sequence) oneByOne.push(await memory.take(checks));
    const exact = (d: RateLimitDecision) => [d.allowed, d.policy.name, d.remaining];
    expect(batched.map(exact)).toEqual(oneByOne.map(exact));
    expect(batched.filter((d) => d.allowed).length).toBeGreaterThan(4);
    expect(batched.filter((d) => !d.allowed).length).toBeGreaterThan(4);
    batched.forEach((d, i) => {
      expect(Math.abs(d.resetSeconds - oneByOne[i]!.resetSeconds)).toBeLessThanOrEqual(1);
      expect(Math.abs(d.retryAfterSeconds - oneByOne[i]!.retryAfterSeconds)).toBeLessThanOrEqual(1);
    });
  });

  it('charges a key named twice by one request once', async () => {
    const { store } = await redisStore();
    const ip = policy('ip', 10);
    const twice = [
      { policy: ip, key: 'dup' },
      { policy: ip, key: 'dup' },
    ];
    const [first, second] = await Promise.all([store.take(twice), store.take(twice)]);
    expect([first.remaining, second.remaining]).toEqual([9, 8]);
  });

  it('fails every request of a batch when Redis is down, and recovers for the next', async () => {
    const dead = await connectRedis('redis://127.0.0.1:1', { readyTimeoutMs: 100 });
    clients.push(dead);
    const store = redisRateLimitStore(dead, testKeyPrefix('rl-dead'));
    const ip = policy('ip', 10);
    const results = await Promise.allSettled([
      store.take([{ policy: ip, key: 'c' }]),
      store.take([{ policy: ip, key: 'c' }]),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    await expect(store.take([{ policy: ip, key: 'c' }])).rejects.toBeDefined();
  });
});
