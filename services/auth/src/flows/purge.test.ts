import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawQuery } from '@tessera/db';
import { startFlowServer, testClient, type FlowServer } from './testing.ts';
import { authorizeParams, authorizeWithLogin, browser, redeem, refresh, tokens } from './testing-http.ts';

const PASSWORD = 'correct horse battery staple';

let server: FlowServer;
beforeAll(async () => {
  server = await startFlowServer();
});
afterAll(() => server.close());

async function count(table: string): Promise<number> {
  const [row] = await rawQuery<{ n: string }>(server.conn, `select count(*) as n from auth.${table}`);
  return Number(row?.n);
}

describe('purgeExpired', () => {
  it('deletes expired sessions, pending requests, access-token records and old grants, and nothing live', async () => {
    const clientId = `client-${randomUUID()}`;
    await server.clients.add(
      testClient({ clientId, refreshTokenAbsoluteTtlSeconds: 7200, accessTokenTtlSeconds: 600 }),
    );
    const email = `${randomUUID()}@example.com`;
    server.users.add(email, PASSWORD);
    const agent = browser(server);
    const issued = tokens(
      await redeem(
        server,
        clientId,
        await authorizeWithLogin(agent, server, { clientId, email, password: PASSWORD }),
      ),
    );
    await browser(server).get('/oauth2/authorize').query(authorizeParams(clientId).query);
    expect(await count('sessions')).toBe(2);
    expect(await count('interactions')).toBe(1);

    expect(await server.flows.purgeExpired()).toEqual({
      sessions: 0,
      interactions: 0,
      families: 0,
      accessTokens: 0,
    });

    server.clock.advance(31 * 60 * 1000);
    expect(await server.flows.purgeExpired()).toEqual({
      sessions: 1,
      interactions: 1,
      families: 0,
      accessTokens: 1,
    });
    expect(await count('sessions')).toBe(1);
    // The grant is still live: its refresh token works.
    const next = tokens(await refresh(server, clientId, issued.refresh_token ?? ''));

    server.clock.advance(26 * 3600 * 1000);
    expect(await server.flows.purgeExpired()).toMatchObject({ sessions: 1, families: 1 });
    expect(await count('grant_families')).toBe(0);
    expect(await count('refresh_tokens')).toBe(0);
    expect(await count('authorization_codes')).toBe(0);
    expect((await refresh(server, clientId, next.refresh_token ?? '')).body.error).toBe('invalid_grant');
  });
});
