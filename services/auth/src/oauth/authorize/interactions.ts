import { and, eq, gt, lte } from 'drizzle-orm';
import type { Clock } from '@tessera/kernel';
import type { AuthDatabase } from '../../flows/deps.ts';
import { randomToken } from '../../flows/crypto.ts';
import type { AuthorizationParams } from './params.ts';
import { interactions } from './table.ts';

/** A pending authorization request. */
export type Interaction = typeof interactions.$inferSelect;

/**
 * Authorization requests waiting for the user. Each is bound to the browser session that
 * started it: another browser holding the id gets nothing.
 */
export class Interactions {
  readonly #db: AuthDatabase;
  readonly #clock: Clock;
  readonly #ttlSeconds: number;

  constructor(db: AuthDatabase, clock: Clock, ttlSeconds: number) {
    this.#db = db;
    this.#clock = clock;
    this.#ttlSeconds = ttlSeconds;
  }

  async create(sessionId: string, params: AuthorizationParams): Promise<Interaction> {
    const now = this.#clock.now();
    const [row] = await this.#db
      .insert(interactions)
      .values({
        id: randomToken(18),
        sessionId,
        params,
        createdAt: new Date(now),
        expiresAt: new Date(now + this.#ttlSeconds * 1000),
      })
      .returning();
    if (!row) throw new Error('interaction insert returned no row');
    return row;
  }

  /** The live interaction `id` of `sessionId`, or undefined. */
  async find(id: unknown, sessionId: string): Promise<Interaction | undefined> {
    if (typeof id !== 'string' || id.length === 0 || id.length > 64) return undefined;
    const [row] = await this.#db
      .select()
      .from(interactions)
      .where(
        and(
          eq(interactions.id, id),
          eq(interactions.sessionId, sessionId),
          gt(interactions.expiresAt, new Date(this.#clock.now())),
        ),
      )
      .limit(1);
    return row;
  }

  /** Moves the pending requests of a replaced session to its successor (login rotates the session). */
  async rebind(fromSessionId: string, toSessionId: string): Promise<void> {
    await this.#db
      .update(interactions)
      .set({ sessionId: toSessionId })
      .where(eq(interactions.sessionId, fromSessionId));
  }

  /** Deletes requests nobody finished in time; returns how many. */
  async deleteExpired(): Promise<number> {
    const rows = await this.#db
      .delete(interactions)
      .where(lte(interactions.expiresAt, new Date(this.#clock.now())))
      .returning({ id: interactions.id });
    return rows.length;
  }

  async delete(id: string): Promise<void> {
    await this.#db.delete(interactions).where(eq(interactions.id, id));
  }
}
