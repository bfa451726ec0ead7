import { eq, sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { Clock } from '@tessera/kernel';
import type { AuthDatabase } from '../flows/deps.ts';
import { randomToken, sha256 } from '../flows/crypto.ts';
import { KeyedBatcher, SerialBatcher, UNNAMED } from './batcher.ts';
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

/** How a rotation ended: done, lost to another use of the token (a reuse), or refused because the family was revoked. */
export type RotationOutcome = 'rotated' | 'used' | 'revoked';

/** A rotation's result: the successor token, or why there is none. */
export type RotationResult = { token: string } | { failure: Exclude<RotationOutcome, 'rotated'> };

interface OutcomeRow {
  n: number | string;
  outcome: RotationOutcome;
}

/** One rotation as the batched statement reads it (`json_to_recordset`). */
interface Rotation {
  hash: string;
  family_id: string;
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
  readonly #rotate: SerialBatcher<Rotation, RotationOutcome>;

  constructor(db: AuthDatabase, clock: Clock) {
    this.#db = db;
    this.#clock = clock;
    // Lookups of concurrent refreshes share one statement (see KeyedBatcher).
    const find = db
      .select({ token: refreshTokens, family: grantFamilies })
      .from(refreshTokens)
      .innerJoin(grantFamilies, eq(grantFamilies.id, refreshTokens.familyId))
      .where(sql`${refreshTokens.tokenHash} = any(${sql.placeholder('hashes')}::text[])`)
      .prepare(UNNAMED);
    this.#find = new KeyedBatcher(async (hashes: string[]) => {
      const rows = await find.execute({ hashes });
      return new Map(rows.map((row) => [row.token.tokenHash, row]));
    });
    // Rotations of concurrent refreshes are written together (see SerialBatcher): one statement,
    // one commit for the batch. Per item it is a compare-and-set (`rotated_at is null`) whose
    // result feeds both inserts: of two rotations of the same token exactly one returns its
    // successor (they never share a batch; across batches or instances the second UPDATE waits
    // for the first's row lock, then no longer matches and inserts nothing).
    // The family rows are share-locked and must still be live: a revocation (an UPDATE of the
    // family row) that comes later waits for this commit, so its read of the family's access
    // tokens sees the jti recorded here and deny-lists it; one that committed first leaves the
    // family out and nothing is rotated. So no token is issued past a revocation, without a
    // re-check after issuance.
    const rotation = sql`
      with input as (
        select * from json_to_recordset(${sql.placeholder('items')}::json) as i(
          n int, hash text, family_id uuid, next_hash text, now timestamptz,
          idle_expires_at timestamptz, jti text, jti_expires_at timestamptz)
      ), live as (
        select ${grantFamilies.id} as id from ${grantFamilies}
        where ${grantFamilies.id} in (select family_id from input) and ${grantFamilies.revokedAt} is null
        order by ${grantFamilies.id}
        for share
      ), retired as (
        update ${refreshTokens} set rotated_at = input.now
        from input join live on live.id = input.family_id
        where ${refreshTokens.tokenHash} = input.hash and ${refreshTokens.rotatedAt} is null
          and ${refreshTokens.familyId} = input.family_id
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
      select input.n,
        case
          when exists (select 1 from successor where successor.token_hash = input.next_hash) then 'rotated'
          when exists (select 1 from live where live.id = input.family_id) then 'used'
          else 'revoked'
        end as outcome
      from input`;
    const rotate = db._.session.prepareQuery(new PgDialect().sqlToQuery(rotation), undefined, UNNAMED, false);
    this.#rotate = new SerialBatcher(async (items: Rotation[]) => {
      const json = JSON.stringify(items.map((item, n) => ({ n, ...item })));
      const result = await rotateRetryingDeadlocks(() => rotate.execute({ items: json }));
      const rows = (Array.isArray(result) ? result : (result as { rows: OutcomeRow[] }).rows) as OutcomeRow[];
      const outcomes = new Map(rows.map((row) => [Number(row.n), row.outcome]));
      return items.map((_item, n) => outcomes.get(n) ?? 'revoked');
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
   * token exactly one returns a new token (the other fails as `used`); a family revoked before the
   * rotation could lock it fails as `revoked`, and one revoked after sees the recorded access
   * token and deny-lists it.
   */
  async rotate(
    current: StoredRefreshToken,
    idleTtlSeconds: number,
    accessToken?: { jti: string; exp: number },
  ): Promise<RotationResult> {
    const next = randomToken();
    const row = this.#row(next, current.family, idleTtlSeconds);
    const outcome = await this.#rotate.submit(
      {
        hash: current.token.tokenHash,
        family_id: current.family.id,
        next_hash: row.tokenHash,
        now: row.createdAt.toISOString(),
        idle_expires_at: row.idleExpiresAt.toISOString(),
        jti: accessToken?.jti ?? null,
        jti_expires_at: accessToken ? new Date(accessToken.exp * 1000).toISOString() : null,
      },
      current.token.tokenHash,
    );
    return outcome === 'rotated' ? { token: next } : { failure: outcome };
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
