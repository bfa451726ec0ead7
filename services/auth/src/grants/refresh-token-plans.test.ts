import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { applyMigrations, closeConnection, openConnection, type SqlConnection } from '@tessera/db';
import { createTestDatabase } from '@tessera/db/testing';
import { authMigrations } from '../db/migrations.ts';

// The refresh path's functions (migration 0002) are planned once per connection and their plans
// cached. On a tiny, freshly analysed table — where PostgreSQL would choose sequential scans and
// keep them as the table grows — every call must still reach the tables through their primary keys.

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let conn: SqlConnection;
let client: pg.PoolClient;

const FAMILIES = 40;

beforeAll(async () => {
  database = await createTestDatabase();
  conn = await openConnection({ url: database.url, poolMax: 2 });
  await applyMigrations(conn, authMigrations);
  if (conn.kind !== 'pg') throw new Error('expected a PostgreSQL connection');
  client = await conn.pool.connect();
  await client.query(
    `insert into auth.grant_families (id, client_id, user_id, scope, auth_time, created_at, expires_at)
     select gen_random_uuid(), 'c', 'u' || g, 'openid', now(), now(), now() + interval '1 day'
     from generate_series(1, $1::int) g`,
    [FAMILIES],
  );
  await client.query(
    `insert into auth.refresh_tokens (token_hash, family_id, created_at, idle_expires_at)
     select md5(id::text), id, now(), now() + interval '1 day' from auth.grant_families`,
  );
  await client.query('analyze auth.grant_families, auth.refresh_tokens, auth.grant_access_tokens');
}, 60_000);

afterAll(async () => {
  client?.release();
  await closeConnection(conn);
  await database.drop();
});

interface Live {
  hash: string;
  family: string;
}

async function liveTokens(): Promise<Live[]> {
  const { rows } = await client.query<{ token_hash: string; family_id: string }>(
    'select token_hash, family_id from auth.refresh_tokens where rotated_at is null order by token_hash',
  );
  return rows.map((row) => ({ hash: row.token_hash, family: row.family_id }));
}

/**
 * This backend's scan counts not yet sent to the statistics system (`pg_stat_xact_*`: read at
 * once, no waiting for a flush); the difference of two readings is what ran in between.
 */
async function scanCounts(): Promise<
  Record<'refresh_tokens' | 'grant_families', { seq: number; idx: number }>
> {
  const { rows } = await client.query<{ relname: string; seq_scan: string; idx_scan: string }>(
    `select relname, seq_scan, idx_scan from pg_stat_xact_user_tables
     where schemaname = 'auth' and relname in ('refresh_tokens', 'grant_families')`,
  );
  const count = (table: string) => {
    const row = rows.find((r) => r.relname === table);
    return { seq: Number(row?.seq_scan ?? 0), idx: Number(row?.idx_scan ?? 0) };
  };
  return { refresh_tokens: count('refresh_tokens'), grant_families: count('grant_families') };
}

describe('refresh-token functions', () => {
  it('look up and rotate through primary keys only, call after call, on tiny tables', async () => {
    const tokens = await liveTokens();
    await client.query('begin');
    try {
      const before = await scanCounts();
      // More calls than PostgreSQL's five custom plans before it settles on a cached generic one.
      for (let call = 0; call < 10; call++) {
        const batch = tokens.slice(call * 4, call * 4 + 4);
        const found = await client.query<{ token_hash: string; client_id: string }>(
          'select token_hash, client_id from auth.find_refresh_tokens($1::text[])',
          [batch.map((t) => t.hash)],
        );
        expect(found.rows.map((r) => r.token_hash).sort()).toEqual(batch.map((t) => t.hash).sort());
        const now = new Date().toISOString();
        const items = batch.map((t, n) => ({
          n,
          hash: t.hash,
          family_id: t.family,
          next_hash: randomBytes(16).toString('hex'),
          now,
          idle_expires_at: now,
          jti: randomUUID(),
          jti_expires_at: now,
        }));
        const rotated = await client.query<{ item: number; outcome: string }>(
          'select item, outcome from auth.rotate_refresh_tokens($1::json)',
          [JSON.stringify(items)],
        );
        expect(rotated.rows.map((r) => r.outcome)).toEqual(batch.map(() => 'rotated'));
      }
      const after = await scanCounts();
      const scans = (table: 'refresh_tokens' | 'grant_families') => ({
        seq: after[table].seq - before[table].seq,
        idx: after[table].idx - before[table].idx,
      });
      expect(scans('refresh_tokens').seq).toBe(0);
      expect(scans('grant_families').seq).toBe(0);
      // Each call reached both tables through an index (lookups, locks, rotations, FK checks).
      expect(scans('refresh_tokens').idx).toBeGreaterThanOrEqual(20);
      expect(scans('grant_families').idx).toBeGreaterThanOrEqual(20);
    } finally {
      await client.query('rollback');
    }
  });

  it('answers a second rotation of the same token as used, and a revoked family as revoked', async () => {
    const [first, second] = await liveTokens();
    if (!first || !second) throw new Error('no live tokens');
    const now = new Date().toISOString();
    const item = (t: Live, n: number) => ({
      n,
      hash: t.hash,
      family_id: t.family,
      next_hash: randomBytes(16).toString('hex'),
      now,
      idle_expires_at: now,
      jti: null,
      jti_expires_at: null,
    });
    await client.query('update auth.grant_families set revoked_at = now() where id = $1', [second.family]);
    const rotate = (items: object[]) =>
      client.query<{ item: number; outcome: string }>(
        'select item, outcome from auth.rotate_refresh_tokens($1::json) order by item',
        [JSON.stringify(items)],
      );
    expect((await rotate([item(first, 0), item(second, 1)])).rows).toEqual([
      { item: 0, outcome: 'rotated' },
      { item: 1, outcome: 'revoked' },
    ]);
    expect((await rotate([item(first, 0)])).rows).toEqual([{ item: 0, outcome: 'used' }]);
  });
});
