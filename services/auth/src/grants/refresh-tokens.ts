import { and, eq, isNull } from 'drizzle-orm';
import type { Clock } from '@tessera/kernel';
import type { AuthDatabase } from '../flows/deps.ts';
import { randomToken, sha256 } from '../flows/crypto.ts';
import { grantFamilies, refreshTokens } from './table.ts';
import type { GrantFamily } from './families.ts';

/** A stored refresh token with its family. */
export interface StoredRefreshToken {
  token: typeof refreshTokens.$inferSelect;
  family: GrantFamily;
}

/** When a refresh token stops working: idle timeout, capped by the family's absolute lifetime. */
export function refreshTokenExpiry(stored: StoredRefreshToken): Date {
  const idle = stored.token.idleExpiresAt.getTime();
  const absolute = stored.family.expiresAt.getTime();
  return new Date(Math.min(idle, absolute));
}

/**
 * Refresh tokens (SECURITY 10, 14): 256 random bits, stored as SHA-256 hashes, one live token
 * per family; rotation retires the presented token and issues the next one atomically.
 */
export class RefreshTokens {
  readonly #db: AuthDatabase;
  readonly #clock: Clock;

  constructor(db: AuthDatabase, clock: Clock) {
    this.#db = db;
    this.#clock = clock;
  }

  /** Issues the first refresh token of a family. */
  async issue(family: GrantFamily, idleTtlSeconds: number): Promise<string> {
    const token = randomToken();
    await this.#db.insert(refreshTokens).values(this.#row(token, family, idleTtlSeconds));
    return token;
  }

  /** The token (rotated or not) and its family; undefined for anything this server never issued. */
  async find(token: string): Promise<StoredRefreshToken | undefined> {
    if (token.length === 0 || token.length > 256) return undefined;
    const [row] = await this.#db
      .select({ token: refreshTokens, family: grantFamilies })
      .from(refreshTokens)
      .innerJoin(grantFamilies, eq(grantFamilies.id, refreshTokens.familyId))
      .where(eq(refreshTokens.tokenHash, sha256(token)))
      .limit(1);
    return row;
  }

  /**
   * Retires `current` and issues its successor in one transaction. The retirement is a
   * compare-and-set (`WHERE rotated_at IS NULL`), so of two concurrent rotations exactly one
   * returns a new token; the other gets undefined and must treat it as reuse.
   */
  async rotate(current: StoredRefreshToken, idleTtlSeconds: number): Promise<string | undefined> {
    const next = randomToken();
    return this.#db.transaction(async (tx) => {
      const retired = await tx
        .update(refreshTokens)
        .set({ rotatedAt: new Date(this.#clock.now()) })
        .where(and(eq(refreshTokens.tokenHash, current.token.tokenHash), isNull(refreshTokens.rotatedAt)))
        .returning({ tokenHash: refreshTokens.tokenHash });
      if (retired.length !== 1) return undefined;
      await tx.insert(refreshTokens).values(this.#row(next, current.family, idleTtlSeconds));
      return next;
    });
  }

  #row(token: string, family: GrantFamily, idleTtlSeconds: number): typeof refreshTokens.$inferInsert {
    const now = this.#clock.now();
    return {
      tokenHash: sha256(token),
      familyId: family.id,
      createdAt: new Date(now),
      idleExpiresAt: new Date(Math.min(now + idleTtlSeconds * 1000, family.expiresAt.getTime())),
    };
  }
}
