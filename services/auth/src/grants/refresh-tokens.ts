import { sql, type SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { Clock } from '@tessera/kernel';
import type { AuthDatabase } from '../flows/deps.ts';
import { randomToken, sha256 } from '../flows/crypto.ts';
import { KeyedBatcher, SerialBatcher } from './batcher.ts';
import { refreshTokens } from './table.ts';
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
  item: number | string;
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

/** A row of `auth.find_refresh_tokens` (migrations 0002, 0003): the token's columns, then its family's. */
interface FoundRow {
  token_hash: string;
  family_id: string;
  token_created_at: DriverDate;
  idle_expires_at: DriverDate;
  rotated_at: DriverDate | null;
  client_id: string;
  user_id: string;
  org_id: string | null;
  session_id: string | null;
  scope: string;
  resources: string[] | null;
  auth_time: DriverDate;
  family_created_at: DriverDate;
  expires_at: DriverDate;
  revoked_at: DriverDate | null;
  revoke_reason: string | null;
}

/** A timestamptz as the drivers hand it over: a string from node-postgres under Drizzle, a Date from PGlite. */
type DriverDate = string | Date;

const toDate = (value: DriverDate): Date => (value instanceof Date ? value : new Date(value));
const toOptionalDate = (value: DriverDate | null): Date | null => (value === null ? null : toDate(value));

function storedFrom(row: FoundRow): StoredRefreshToken {
  return {
    token: {
      tokenHash: row.token_hash,
      familyId: row.family_id,
      createdAt: toDate(row.token_created_at),
      idleExpiresAt: toDate(row.idle_expires_at),
      rotatedAt: toOptionalDate(row.rotated_at),
    },
    family: {
      id: row.family_id,
      clientId: row.client_id,
      userId: row.user_id,
      orgId: row.org_id,
      sessionId: row.session_id,
      scope: row.scope,
      resources: row.resources,
      authTime: toDate(row.auth_time),
      createdAt: toDate(row.family_created_at),
      expiresAt: toDate(row.expires_at),
      revokedAt: toOptionalDate(row.revoked_at),
      revokeReason: row.revoke_reason,
    },
  };
}

/** The rows of a raw prepared query: node-postgres wraps them in a result, PGlite's driver does not. */
function rowsOf<R>(result: unknown): R[] {
  return (Array.isArray(result) ? result : (result as { rows: R[] }).rows) as R[];
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
 * and run as the database functions `auth.find_refresh_tokens` and `auth.rotate_refresh_tokens`
 * (migration 0002), called through named prepared statements: each pooled connection parses and
 * plans them once, and the functions' own plans are index lookups whatever the tables' size or
 * statistics (a plan cached while a table was tiny would otherwise scan it sequentially as it
 * grows; docs/adr/0010-refresh-token-statements.md, docs/benchmarks.md "token").
 */
export class RefreshTokens {
  readonly #db: AuthDatabase;
  readonly #clock: Clock;
  readonly #find: KeyedBatcher<string, StoredRefreshToken>;
  readonly #rotate: SerialBatcher<Rotation, RotationOutcome>;

  constructor(db: AuthDatabase, clock: Clock) {
    this.#db = db;
    this.#clock = clock;
    const dialect = new PgDialect();
    const prepare = (name: string, query: SQL) =>
      db._.session.prepareQuery(dialect.sqlToQuery(query), undefined, name, false);
    // Lookups of concurrent refreshes share one call (see KeyedBatcher).
    const find = prepare(
      'tessera_auth_find_refresh_tokens',
      sql`select * from auth.find_refresh_tokens(${sql.placeholder('hashes')}::text[])`,
    );
    this.#find = new KeyedBatcher(async (hashes: string[]) => {
      const rows = rowsOf<FoundRow>(await find.execute({ hashes }));
      return new Map(rows.map((row) => [row.token_hash, storedFrom(row)]));
    });
    // Rotations of concurrent refreshes are written together (see SerialBatcher): one call, one
    // commit for the batch; the function's comment (migration 0002) says how each item is decided.
    const rotate = prepare(
      'tessera_auth_rotate_refresh_tokens',
      sql`select item, outcome from auth.rotate_refresh_tokens(${sql.placeholder('items')}::json)`,
    );
    this.#rotate = new SerialBatcher(async (items: Rotation[]) => {
      const json = JSON.stringify(items.map((item, n) => ({ n, ...item })));
      const result = await rotateRetryingDeadlocks(() => rotate.execute({ items: json }));
      const outcomes = new Map(rowsOf<OutcomeRow>(result).map((row) => [Number(row.item), row.outcome]));
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
