import { and, eq, sql } from 'drizzle-orm';
import type { Clock } from '@tessera/kernel';
import type { AuthDatabase } from '../flows/deps.ts';
import { consents } from './table.ts';

/** A remembered consent. */
export type Consent = typeof consents.$inferSelect;

/** Consents given to third-party clients, remembered per user and client. */
export class ConsentStore {
  readonly #db: AuthDatabase;
  readonly #clock: Clock;

  constructor(db: AuthDatabase, clock: Clock) {
    this.#db = db;
    this.#clock = clock;
  }

  async find(userId: string, clientId: string): Promise<Consent | undefined> {
    const [row] = await this.#db
      .select()
      .from(consents)
      .where(and(eq(consents.userId, userId), eq(consents.clientId, clientId)))
      .limit(1);
    return row;
  }

  /** Adds `scopes` to what the user has granted the client (one upsert; earlier grants stay). */
  async grant(userId: string, clientId: string, scopes: string[]): Promise<void> {
    const now = new Date(this.#clock.now());
    const unique = [...new Set(scopes)].sort();
    await this.#db
      .insert(consents)
      .values({ userId, clientId, scopes: unique, createdAt: now, updatedAt: now })
      .onConflictDoUpdate({
        target: [consents.userId, consents.clientId],
        set: {
          scopes: sql`array(select distinct unnest(${consents.scopes} || excluded.scopes) order by 1)`,
          updatedAt: now,
        },
      });
  }
}
