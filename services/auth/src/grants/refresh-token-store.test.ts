import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { startFlowServer, testClient, type FlowServer } from '../flows/testing.ts';
import { authorizeWithLogin, browser, redeem, refresh, tokens } from '../flows/testing-http.ts';

const PASSWORD = 'correct horse battery staple';

let server: FlowServer;
beforeAll(async () => {
  server = await startFlowServer();
});
afterAll(() => server.close());

async function issued() {
  const clientId = `client-${randomUUID()}`;
  await server.clients.add(testClient({ clientId }));
  const email = `${randomUUID()}@example.com`;
  const user = server.users.add(email, PASSWORD, [
    { id: 'org-1', slug: 'one', name: 'One', roles: [], permissions: [] },
  ]);
  const result = await authorizeWithLogin(browser(server), server, { clientId, email, password: PASSWORD });
  return { clientId, user, body: tokens(await redeem(server, clientId, result)) };
}

describe('RefreshTokenStore (for introspection and revocation)', () => {
  it('describes a live refresh token', async () => {
    const { clientId, user, body } = await issued();
    const info = await server.flows.refreshTokenStore.inspect(body.refresh_token ?? '');
    expect(info).toEqual({
      active: true,
      clientId,
      sub: user.profile.id,
      scope: 'openid profile email offline_access',
      exp: expect.any(Number) as number,
      iat: Math.floor(server.clock.now() / 1000),
      orgId: 'org-1',
    });
    expect(info!.exp).toBe(Math.floor(server.clock.now() / 1000) + 3600);
  });

  it('reports rotated, expired, unknown and garbage tokens as inactive', async () => {
    const { clientId, body } = await issued();
    const next = tokens(await refresh(server, clientId, body.refresh_token ?? ''));
    const store = server.flows.refreshTokenStore;
    expect(await store.inspect(body.refresh_token ?? '')).toBeUndefined();
    expect(await store.inspect('nope')).toBeUndefined();
    expect(await store.inspect('')).toBeUndefined();
    expect(await store.inspect('x'.repeat(10_000))).toBeUndefined();
    expect(await store.inspect("' or 1=1 --")).toBeUndefined();
    server.clock.advance(3601 * 1000);
    expect(await store.inspect(next.refresh_token ?? '')).toBeUndefined();
  });

  it('revokes the whole family for the owning client only', async () => {
    const { clientId, body } = await issued();
    const store = server.flows.refreshTokenStore;
    expect(await store.revokeFamily(body.refresh_token ?? '', 'someone-else')).toBe('foreign');
    expect(await store.inspect(body.refresh_token ?? '')).toBeDefined();
    expect(await store.revokeFamily('unknown-token', clientId)).toBe('unknown');
    expect(await store.revokeFamily(body.refresh_token ?? '', clientId)).toBe('revoked');
    expect(await store.inspect(body.refresh_token ?? '')).toBeUndefined();
    expect(await server.denylist.has(decodeJwt(body.access_token).jti as string)).toBe(true);
    expect((await refresh(server, clientId, body.refresh_token ?? '')).body.error).toBe('invalid_grant');
  });
});
