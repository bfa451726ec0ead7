import type { Cluster, Redis } from 'ioredis';
import type { Clock } from '@tessera/kernel';

/**
 * Failed-login counters with a fixed window per key. Redis shares them between instances;
 * the in-memory version serves the single-process embedded mode.
 */
export interface AttemptCounters {
  /** Current count of each key (0 when absent or expired). */
  get(keys: readonly string[]): Promise<number[]>;
  /** Adds one to each key; a key's window starts with its first failure. */
  increment(keys: readonly string[], windowMs: number): Promise<void>;
  reset(key: string): Promise<void>;
}

/** Counters in Redis: one key per account or IP, expiring with its window. */
export class RedisAttemptCounters implements AttemptCounters {
  readonly #redis: Redis | Cluster;
  readonly #prefix: string;

  constructor(redis: Redis | Cluster, prefix: string) {
    this.#redis = redis;
    this.#prefix = prefix;
  }

  async get(keys: readonly string[]): Promise<number[]> {
    // One GET per key rather than MGET: the keys may live in different Cluster slots.
    const values = await Promise.all(keys.map((key) => this.#redis.get(this.#prefix + key)));
    return values.map((value) => Number(value ?? 0) || 0);
  }

  async increment(keys: readonly string[], windowMs: number): Promise<void> {
    await Promise.all(
      keys.map(async (key) => {
        await this.#redis.set(this.#prefix + key, 0, 'PX', windowMs, 'NX');
        await this.#redis.incr(this.#prefix + key);
      }),
    );
  }

  async reset(key: string): Promise<void> {
    await this.#redis.del(this.#prefix + key);
  }
}

/** Counters in this process, bounded so a flood of distinct keys cannot exhaust memory. */
export class MemoryAttemptCounters implements AttemptCounters {
  readonly #clock: Clock;
  readonly #maxKeys: number;
  readonly #entries = new Map<string, { count: number; expiresAt: number }>();

  constructor(clock: Clock, maxKeys = 100_000) {
    this.#clock = clock;
    this.#maxKeys = maxKeys;
  }

  get(keys: readonly string[]): Promise<number[]> {
    const now = this.#clock.now();
    return Promise.resolve(
      keys.map((key) => {
        const entry = this.#entries.get(key);
        return entry && entry.expiresAt > now ? entry.count : 0;
      }),
    );
  }

  increment(keys: readonly string[], windowMs: number): Promise<void> {
    const now = this.#clock.now();
    for (const key of keys) {
      const entry = this.#entries.get(key);
      if (entry && entry.expiresAt > now) entry.count += 1;
      else this.#entries.set(key, { count: 1, expiresAt: now + windowMs });
    }
    if (this.#entries.size > this.#maxKeys) this.#prune(now);
    return Promise.resolve();
  }

  reset(key: string): Promise<void> {
    this.#entries.delete(key);
    return Promise.resolve();
  }

  #prune(now: number): void {
    for (const [key, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(key);
    // Still too many live keys: drop the oldest insertions (Map iterates in insertion order).
    for (const key of this.#entries.keys()) {
      if (this.#entries.size <= this.#maxKeys) break;
      this.#entries.delete(key);
    }
  }
}
