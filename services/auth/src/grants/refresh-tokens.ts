import { eq, sql } from 'drizzle-orm';
import type { Clock } from '@tessera/kernel';
import type { AuthDatabase } from '../flows/deps.ts';
import { randomToken, sha256 } from '../flows/crypto.ts';
import { KeyedBatcher, SerialBatcher } from './batcher.ts';
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

/** One rotation as the batched statement reads it (`json_to_recordset`). */
interface Rotation {
  hash: string;
  next_hash: string;
  now: string;
  idle_expires_at: string;
  jti: string | null;
  jti_expires_at: string | null;
}

/**
 * Runs a rotation batch again if PostgreSQL aborted it as a deadlock victim (40P01): possible only
 * when two instances rotate the same tokens at the same time in opposite orders (a replay race);
 * the aborted batch changed nothing, so running it again is the same as running it late.
 */
async function rotateRetryingDeadlocks<T>(execute: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await execute();
    } catch (err) {
      if (attempt >= attempts || (err as { code?: unknown }).code !== '40P01') throw err;
    }
  }
}

/**
 * Refresh tokens (SECURITY 10, 14): 256 random bits, stored as SHA-256 hashes, one live token
 * per family; rotation retires the presented token and issues the next one atomically.
 *
 * The two statements of every refresh (lookup, rotation) are batched across concurrent refreshes
 * and deliberately *not* named prepared statements: PostgreSQL would settle on a generic plan
 * while the table is small (a sequential scan) and keep it on every pooled connection as the
 * table grows, until an ANALYZE; refresh throughput halved within a minute of load. Planned per
 * batch, each statement's plan follows the table's real size, and batching spreads the planning
 * cost (docs/benchmarks.md "token").
 */
export class RefreshTokens {
  readonly #db: AuthDatabase;
  readonly #clock: Clock;
  readonly #find: KeyedBatcher<string, StoredRefreshToken>;
  readonly #rotate: SerialBatcher<Rotation, boolean>;

  constructor(db: AuthDatabase, clock: Clock) {
    this.#db = db;
    this.#clock = clock;
    // Lookups of concurrent refreshes share one statement (see KeyedBatcher).
    this.#find = new KeyedBatcher(async (hashes: string[]) => {
      const rows = await db
        .select({ token: refreshTokens, family: grantFamilies })
        .from(refreshTokens)
        .innerJoin(grantFamilies, eq(grantFamilies.id, refreshTokens.familyId))
        .where(sql`${refreshTokens.tokenHash} = any(${sql.param(hashes)}::text[])`);
      return new Map(rows.map((row) => [row.token.tokenHash, row]));
    });
    // Rotations of concurrent refreshes are written together (see SerialBatcher): one statement,
    // one commit for the batch. Per item it is a compare-and-set (`rotated_at is null`) whose
    // result feeds both inserts: of two rotations of the same token exactly one returns its
    // successor (they never share a batch; across batches or instances the second UPDATE waits
    // for the first's row lock, then no longer matches and inserts nothing).
    const rotation = (items: string) => sql`
      with input as (
        select * from json_to_recordset(${items}::json) as i(
          n int, hash text, next_hash text, now timestamptz, idle_expires_at timestamptz,
          jti text, jti_expires_at timestamptz)
      ), retired as (
        update ${refreshTokens} set rotated_at = input.now
        from input
        where ${refreshTokens.tokenHash} = input.hash and ${refreshTokens.rotatedAt} is null
        returning ${refreshTokens.familyId} as family_id, input.n
      ), successor as (
        insert into ${refreshTokens} (token_hash, family_id, created_at, idle_expires_at)
        select input.next_hash, retired.family_id, input.now, input.idle_expires_at
        from retired join input using (n)
        returning token_hash
      ), recorded as (
        insert into ${grantAccessTokens} (jti, family_id, expires_at)
        select input.jti, retired.family_id, input.jti_expires_at
        from retired join input using (n) where input.jti is not null
        returning jti
      )
      select token_hash from successor`;
    this.#rotate = new SerialBatcher(async (items: Rotation[]) => {
      const json = JSON.stringify(items.map((item, n) => ({ n, ...item })));
      const result = await rotateRetryingDeadlocks(() => db.execute(rotation(json)));
      const rows = (
        Array.isArray(result) ? result : (result as { rows: Array<{ token_hash: string }> }).rows
      ) as Array<{ token_hash: string }>;
      const rotated = new Set(rows.map((row) => row.token_hash));
      return items.map((item) => rotated.has(item.next_hash));
    });
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
    return this.#find.load(sha256(token));
  }

  /**
   * Retires `current`, issues its successor and (optionally) records the access token issued with
   * it, in ONE statement (one round trip, one commit): of two concurrent rotations of the same
   * token exactly one returns a new token.
   */
  async rotate(
    current: StoredRefreshToken,
    idleTtlSeconds: number,
    accessToken?: { jti: string; exp: number },
  ): Promise<string | undefined> {
    const next = randomToken();
    const row = this.#row(next, current.family, idleTtlSeconds);
    const rotated = await this.#rotate.submit(
      {
        hash: current.token.tokenHash,
        next_hash: row.tokenHash,
        now: row.createdAt.toISOString(),
        idle_expires_at: row.idleExpiresAt.toISOString(),
        jti: accessToken?.jti ?? null,
        jti_expires_at: accessToken ? new Date(accessToken.exp * 1000).toISOString() : null,
      },
      current.token.tokenHash,
    );
    return rotated ? next : undefined;
  }

  #row(token: string, family: GrantFamily, idleTtlSeconds: number) {
    const now = this.#clock.now();
    return {
      tokenHash: sha256(token),
      familyId: family.id,
      createdAt: new Date(now),
      idleExpiresAt: new Date(Math.min(now + idleTtlSeconds * 1000, family.expiresAt.getTime())),
    } satisfies typeof refreshTokens.$inferInsert;
  }
}
