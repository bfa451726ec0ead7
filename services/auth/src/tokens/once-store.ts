/**
 * Remembers identifiers until they expire: the access-token denylist (RFC 7009) and the
 * private_key_jwt replay guard (RFC 7523 §3) are both "has this id been seen before its exp?".
 * Redis when configured (keys expire by themselves, shared by every instance), else a table
 * swept by a timer.
 */
import { and, eq, gt, lte } from 'drizzle-orm';
import type { Cluster, Redis } from 'ioredis';
import type { Clock } from '@tessera/kernel';
import type { AuthDatabase } from '../db/database.ts';
import type { ExpiringIdTable } from './table.ts';

/** A set of ids, each kept until its expiry (Unix seconds). */
export interface ExpiringIdSet {
  /** Adds `id` until `exp`; returns false when it was already present (and unexpired). */
  add(id: string, exp: number): Promise<boolean>;
  has(id: string): Promise<boolean>;
}

/**
 * The set in Redis: `SET key 1 EX ttl NX`.
 *
 * @example
 * const denied = new RedisIdSet(redis, 'tessera:auth:denylist:', clock);
 */
export class RedisIdSet implements ExpiringIdSet {
  readonly #redis: Redis | Cluster;
  readonly #prefix: string;
  readonly #clock: Clock;

  constructor(redis: Redis | Cluster, prefix: string, clock: Clock) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#clock = clock;
  }

  async add(id: string, exp: number): Promise<boolean> {
    const ttl = exp - Math.floor(this.#clock.now() / 1000);
    if (ttl <= 0) return !(await this.has(id));
    const result = await this.#redis.set(this.#prefix + id, '1', 'EX', ttl, 'NX');
    return result === 'OK';
  }

  async has(id: string): Promise<boolean> {
    return (await this.#redis.exists(this.#prefix + id)) === 1;
  }
}

/**
 * The set in a table (`id`, `expires_at`); `sweep()` deletes expired rows and `startSweeping()`
 * runs it on an unref'd timer.
 *
 * @example
 * const denied = new DbIdSet(db, revokedAccessTokens, clock);
 */
export class DbIdSet implements ExpiringIdSet {
  readonly #db: AuthDatabase;
  readonly #table: ExpiringIdTable;
  readonly #clock: Clock;

  constructor(db: AuthDatabase, table: ExpiringIdTable, clock: Clock) {
    this.#db = db;
    this.#table = table;
    this.#clock = clock;
  }

  async add(id: string, exp: number): Promise<boolean> {
    const now = new Date(this.#clock.now());
    // An expired leftover with the same id is replaced, a live one wins (replay detected).
    await this.#db.delete(this.#table).where(and(eq(this.#table.id, id), lte(this.#table.expiresAt, now)));
    const inserted = await this.#db
      .insert(this.#table)
      .values({ id, expiresAt: new Date(exp * 1000) })
      .onConflictDoNothing()
      .returning({ expiresAt: this.#table.expiresAt });
    return inserted.length === 1;
  }

  async has(id: string): Promise<boolean> {
    const rows = await this.#db
      .select({ expiresAt: this.#table.expiresAt })
      .from(this.#table)
      .where(and(eq(this.#table.id, id), gt(this.#table.expiresAt, new Date(this.#clock.now()))))
      .limit(1);
    return rows.length === 1;
  }

  /** Deletes expired rows; returns how many. */
  async sweep(): Promise<number> {
    const deleted = await this.#db
      .delete(this.#table)
      .where(lte(this.#table.expiresAt, new Date(this.#clock.now())))
      .returning({ expiresAt: this.#table.expiresAt });
    return deleted.length;
  }

  /** Sweeps every `intervalMs`; returns a stop function. */
  startSweeping(intervalMs: number, onError: (err: unknown) => void): () => void {
    const timer = setInterval(() => void this.sweep().catch(onError), intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }
}
