import { eq, sql } from 'drizzle-orm';
import type { Clock } from '@tessera/kernel';
import type { AuthDatabase } from '../flows/deps.ts';
import { randomToken, sha256 } from '../flows/crypto.ts';
import { grantAccessTokens, grantFamilies, refreshTokens } from './table.ts';
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
   * Retires `current`, issues its successor and (optionally) records the access token issued with
   * it, in ONE statement: a compare-and-set (`WHERE rotated_at IS NULL`) whose result feeds both
   * inserts, so of two concurrent rotations exactly one returns a new token (the other finds the
   * row already rotated and inserts nothing) and the whole rotation costs one round trip and one
   * commit.
   */
  async rotate(
    current: StoredRefreshToken,
    idleTtlSeconds: number,
    accessToken?: { jti: string; exp: number },
  ): Promise<string | undefined> {
    const next = randomToken();
    const row = this.#row(next, current.family, idleTtlSeconds);
    const now = new Date(this.#clock.now());
    const jti = accessToken?.jti ?? null;
    const jtiExpires = accessToken ? new Date(accessToken.exp * 1000) : null;
    const result = await this.#db.execute(sql`
      with retired as (
        update ${refreshTokens} set rotated_at = ${now}
        where ${refreshTokens.tokenHash} = ${current.token.tokenHash} and ${refreshTokens.rotatedAt} is null
        returning ${refreshTokens.familyId}
      ), successor as (
        insert into ${refreshTokens} (token_hash, family_id, created_at, idle_expires_at)
        select ${row.tokenHash}, family_id, ${row.createdAt}, ${row.idleExpiresAt} from retired
        returning token_hash
      ), recorded as (
        insert into ${grantAccessTokens} (jti, family_id, expires_at)
        select ${jti}::text, family_id, ${jtiExpires}::timestamptz from retired where ${jti}::text is not null
        returning jti
      )
      select (select count(*) from successor)::int as rotated`);
    const rows = (
      Array.isArray(result) ? result : (result as { rows: Array<{ rotated: number }> }).rows
    ) as Array<{ rotated: number }>;
    return rows[0]?.rotated === 1 ? next : undefined;
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
