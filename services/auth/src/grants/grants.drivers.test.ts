import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { startFlowServer, testClient, type FlowServer } from '../flows/testing.ts';
import { authorizeWithLogin, browser, redeem, refresh, tokens } from '../flows/testing-http.ts';
import { sha256 } from '../flows/crypto.ts';

const PASSWORD = 'correct horse battery staple';

// The same grant storage runs on real PostgreSQL and on embedded PGlite (HOUSE-STYLE rule 12).
describe.each(['pg', 'pglite'] as const)('grant storage on %s', (driver) => {
  let server: FlowServer;
  beforeAll(async () => {
    server = await startFlowServer({ driver });
  });
  afterAll(() => server.close());

  async function issued() {
    const clientId = `client-${randomUUID()}`;
    await server.clients.add(testClient({ clientId }));
    const email = `${randomUUID()}@example.com`;
    server.users.add(email, PASSWORD);
    const result = await authorizeWithLogin(browser(server), server, { clientId, email, password: PASSWORD });
    return { clientId, result };
  }

  it('redeems a code once, rotates refresh tokens and revokes the family on reuse', async () => {
    const { clientId, result } = await issued();
    const first = tokens(await redeem(server, clientId, result));
    expect((await redeem(server, clientId, result)).body.error).toBe('invalid_grant');
    const { clientId: otherClient, result: other } = await issued();
    const a = tokens(await redeem(server, otherClient, other));
    const b = tokens(await refresh(server, otherClient, a.refresh_token ?? ''));
    expect((await refresh(server, otherClient, a.refresh_token ?? '')).body.error).toBe('invalid_grant');
    expect((await refresh(server, otherClient, b.refresh_token ?? '')).body.error).toBe('invalid_grant');
    expect(await server.denylist.has(decodeJwt(first.access_token).jti as string)).toBe(true);
    expect(await server.denylist.has(decodeJwt(b.access_token).jti as string)).toBe(true);
  });

  it('lets exactly one of two concurrent refreshes and redemptions win', async () => {
    const { clientId, result } = await issued();
    const codeRace = await Promise.all([redeem(server, clientId, result), redeem(server, clientId, result)]);
    expect(codeRace.map((r) => r.status).sort()).toEqual([200, 400]);
    const { clientId: c2, result: r2 } = await issued();
    const start = tokens(await redeem(server, c2, r2));
    const refreshRace = await Promise.all([
      refresh(server, c2, start.refresh_token ?? ''),
      refresh(server, c2, start.refresh_token ?? ''),
    ]);
    expect(refreshRace.map((r) => r.status).sort()).toEqual([200, 400]);
  });

  it('keeps rotation exact when many refreshes share batched statements', async () => {
    // Refreshes of one moment share one lookup, one rotation and one re-check statement: each
    // token still rotates exactly once, and each raced token has exactly one winner.
    const chains = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const { clientId, result } = await issued();
        return { clientId, start: tokens(await redeem(server, clientId, result)) };
      }),
    );
    const solo = chains.slice(0, 3);
    const raced = chains.slice(3);
    const [soloResults, racedResults] = await Promise.all([
      Promise.all(solo.map((c) => refresh(server, c.clientId, c.start.refresh_token ?? ''))),
      Promise.all(
        raced.map((c) =>
          Promise.all([
            refresh(server, c.clientId, c.start.refresh_token ?? ''),
            refresh(server, c.clientId, c.start.refresh_token ?? ''),
          ]),
        ),
      ),
    ]);
    expect(soloResults.map((r) => r.status)).toEqual([200, 200, 200]);
    for (const pair of racedResults) expect(pair.map((r) => r.status).sort()).toEqual([200, 400]);
    // The unraced chains go on; every rotated token is now a reuse.
    const next = soloResults.map((r) => tokens(r).refresh_token ?? '');
    const again = await Promise.all(solo.map((c, i) => refresh(server, c.clientId, next[i] ?? '')));
    expect(again.map((r) => r.status)).toEqual([200, 200, 200]);
    const replays = await Promise.all(
      solo.map((c) => refresh(server, c.clientId, c.start.refresh_token ?? '')),
    );
    expect(replays.map((r) => r.body.error)).toEqual(['invalid_grant', 'invalid_grant', 'invalid_grant']);
  });

  // Only PostgreSQL has concurrent transactions (PGlite runs one statement at a time), so this
  // case exists on pg alone rather than as a skipped test on PGlite.
  if (driver === 'pg')
    it('refuses a refresh whose grant is revoked while it is in flight, and does not call it a reuse', async () => {
      if (server.conn.kind !== 'pg') throw new Error('needs PostgreSQL');
      const { pool } = server.conn;
      const { clientId, result } = await issued();
      const token = tokens(await redeem(server, clientId, result)).refresh_token ?? '';
      const found = await pool.query<{ family_id: string }>(
        'select family_id from auth.refresh_tokens where token_hash = $1',
        [sha256(token)],
      );
      const familyId = found.rows[0]?.family_id;
      // A revocation holds the family row (updated, not yet committed) while the refresh runs: the
      // refresh's lookup still sees a live grant, its rotation waits for the row, then finds it
      // revoked and rotates nothing.
      const revoker = await pool.connect();
      try {
        await revoker.query('begin');
        await revoker.query(
          `update auth.grant_families set revoked_at = now(), revoke_reason = 'logout' where id = $1`,
          [familyId],
        );
        const pending = refresh(server, clientId, token);
        const deadline = Date.now() + 5_000;
        for (;;) {
          const waiting = await pool.query<{ n: number }>(
            `select count(*)::int as n from pg_stat_activity
             where datname = current_database() and wait_event_type = 'Lock'`,
          );
          if ((waiting.rows[0]?.n ?? 0) > 0) break;
          if (Date.now() > deadline) throw new Error('the refresh never waited for the family row');
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        await revoker.query('commit');
        const res = await pending;
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({
          error: 'invalid_grant',
          error_description: 'the grant has been revoked',
        });
      } finally {
        revoker.release();
      }
      const rows = await pool.query<{ rotated_at: Date | null; n: number }>(
        `select (select rotated_at from auth.refresh_tokens where token_hash = $1) as rotated_at,
                (select count(*)::int from auth.grant_access_tokens where family_id = $2) as n`,
        [sha256(token), familyId],
      );
      // Nothing was rotated or recorded for the refused refresh (the code's access token is the one record).
      expect(rows.rows[0]).toEqual({ rotated_at: null, n: 1 });
      const family = await pool.query<{ revoke_reason: string }>(
        'select revoke_reason from auth.grant_families where id = $1',
        [familyId],
      );
      expect(family.rows[0]?.revoke_reason).toBe('logout');
    });

  it('remembers consent and sessions', async () => {
    const clientId = `third-${randomUUID()}`;
    await server.clients.add(testClient({ clientId, firstParty: false }));
    const email = `${randomUUID()}@example.com`;
    server.users.add(email, PASSWORD);
    const agent = browser(server);
    await authorizeWithLogin(agent, server, { clientId, email, password: PASSWORD });
    const again = await authorizeWithLogin(agent, server, {
      clientId,
      email,
      password: PASSWORD,
      overrides: { prompt: 'none' },
    });
    expect(again.code).toBeTruthy();
  });
});
