import { and, eq, gt, lte } from 'drizzle-orm';
import { uuidv7, type Clock } from '@tessera/kernel';
import type { AuthDatabase } from '../flows/deps.ts';
import { randomToken, sha256 } from '../flows/crypto.ts';
import { sessions } from './table.ts';

/** A session row as the flows see it. */
export type Session = typeof sessions.$inferSelect;

/** A session that has a signed-in user. */
export type SignedInSession = Session & { userId: string; authTime: Date };

/** True when a user signed in to `session`. */
export function isSignedIn(session: Session | undefined): session is SignedInSession {
  return session?.userId != null && session.authTime != null;
}

/**
 * Server-side browser sessions (SECURITY 14, 24): the cookie holds a 256-bit random token, the
 * table only its SHA-256 hash, so a database leak yields no usable session.
 */
export class SessionStore {
  readonly #db: AuthDatabase;
  readonly #clock: Clock;
  readonly #ttlSeconds: number;
  readonly #anonymousTtlSeconds: number;

  constructor(db: AuthDatabase, clock: Clock, options: { ttlSeconds: number; anonymousTtlSeconds: number }) {
    this.#db = db;
    this.#clock = clock;
    this.#ttlSeconds = options.ttlSeconds;
    this.#anonymousTtlSeconds = options.anonymousTtlSeconds;
  }

  /** The live session for a cookie token, or undefined (unknown, expired, malformed). */
  async findByToken(token: string | undefined): Promise<Session | undefined> {
    if (!token || token.length > 128) return undefined;
    const [row] = await this.#db
      .select()
      .from(sessions)
      .where(and(eq(sessions.tokenHash, sha256(token)), gt(sessions.expiresAt, new Date(this.#clock.now()))))
      .limit(1);
    return row;
  }

  /** A new session without a user: binds the login form's CSRF token to this browser. */
  async createAnonymous(): Promise<{ session: Session; token: string }> {
    return this.#insert(undefined, this.#anonymousTtlSeconds);
  }

  /**
   * A new signed-in session with a new token (the old one is never promoted: no session
   * fixation). Deleting the previous session is the caller's last step, once it has moved what
   * it needs over.
   */
  async createSignedIn(userId: string): Promise<{ session: SignedInSession; token: string }> {
    const created = await this.#insert(userId, this.#ttlSeconds);
    return created as { session: SignedInSession; token: string };
  }

  /** Remembers the organization the user chose for this session. */
  async setOrganization(sessionId: string, orgId: string): Promise<void> {
    await this.#db.update(sessions).set({ orgId }).where(eq(sessions.id, sessionId));
  }

  /** Ends a session server-side: its cookie is worthless afterwards. */
  async destroy(sessionId: string): Promise<void> {
    await this.#db.delete(sessions).where(eq(sessions.id, sessionId));
  }

  /** Deletes sessions that have expired; returns how many. */
  async deleteExpired(): Promise<number> {
    const rows = await this.#db
      .delete(sessions)
      .where(lte(sessions.expiresAt, new Date(this.#clock.now())))
      .returning({ id: sessions.id });
    return rows.length;
  }

  /** Seconds a new cookie for `session` should live. */
  cookieMaxAge(session: Session): number {
    return Math.max(0, Math.floor((session.expiresAt.getTime() - this.#clock.now()) / 1000));
  }

  async #insert(
    userId: string | undefined,
    ttlSeconds: number,
  ): Promise<{ session: Session; token: string }> {
    const now = this.#clock.now();
    const token = randomToken();
    const [session] = await this.#db
      .insert(sessions)
      .values({
        id: uuidv7(now),
        tokenHash: sha256(token),
        userId: userId ?? null,
        authTime: userId ? new Date(now) : null,
        createdAt: new Date(now),
        expiresAt: new Date(now + ttlSeconds * 1000),
      })
      .returning();
    if (!session) throw new Error('session insert returned no row');
    return { session, token };
  }
}
