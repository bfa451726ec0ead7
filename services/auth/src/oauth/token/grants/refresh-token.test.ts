import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { decodeJwt } from 'jose';
import { rawQuery } from '@tessera/db';
import {
  startFlowServer,
  testClient,
  type FlowServer,
  type TestClient,
  type TestUser,
} from '../../../flows/testing.ts';
import {
  authorizeWithLogin,
  browser,
  redeem,
  refresh,
  tokens,
  type Response,
} from '../../../flows/testing-http.ts';

const PASSWORD = 'correct horse battery staple';

let server: FlowServer;
beforeAll(async () => {
  server = await startFlowServer();
});
afterAll(() => server.close());

interface Grant {
  clientId: string;
  user: TestUser;
  first: { access_token: string; refresh_token: string };
}

async function grant(
  overrides: Partial<TestClient> = {},
  orgs: TestUser['organizations'] = [],
  scope = 'openid email offline_access users:read',
): Promise<Grant> {
  const clientId = `client-${randomUUID()}`;
  await server.clients.add(testClient({ clientId, ...overrides }));
  const email = `${randomUUID()}@example.com`;
  const user = server.users.add(email, PASSWORD, orgs);
  const result = await authorizeWithLogin(browser(server), server, {
    clientId,
    email,
    password: PASSWORD,
    overrides: { scope },
    orgId: orgs[0]?.id,
  });
  const body = tokens(await redeem(server, clientId, result));
  return {
    clientId,
    user,
    first: { access_token: body.access_token, refresh_token: body.refresh_token ?? '' },
  };
}

function expectInvalidGrant(response: Response, error = 'invalid_grant') {
  expect(response.status).toBe(400);
  expect(response.headers['cache-control']).toBe('no-store');
  expect(response.body.error).toBe(error);
  expect(response.body.refresh_token).toBeUndefined();
}

async function familyOf(jti: string): Promise<{ revoked_at: Date | null; revoke_reason: string | null }> {
  const [row] = await rawQuery<{ revoked_at: Date | null; revoke_reason: string | null }>(
    server.conn,
    'select f.revoked_at, f.revoke_reason from auth.grant_families f join auth.grant_access_tokens t on t.family_id = f.id where t.jti = $1',
    [jti],
  );
  if (!row) throw new Error('no family');
  return row;
}

const jtiOf = (token: string) => decodeJwt(token).jti as string;

describe('refresh_token grant', () => {
  it('rotates the refresh token on every use and keeps the grant', async () => {
    const { clientId, first } = await grant();
    const second = tokens(await refresh(server, clientId, first.refresh_token));
    expect(second.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(second.scope).toBe('openid email offline_access users:read');
    expect(second.id_token).toBeTruthy();
    expect(decodeJwt(second.access_token).sub).toBe(decodeJwt(first.access_token).sub);
    const third = tokens(await refresh(server, clientId, second.refresh_token ?? ''));
    expect(third.refresh_token).not.toBe(second.refresh_token);
    expect((await familyOf(jtiOf(third.access_token))).revoked_at).toBeNull();
  });

  it('answers a reused (already rotated) refresh token with invalid_grant and revokes the whole family', async () => {
    const { clientId, first } = await grant();
    const second = tokens(await refresh(server, clientId, first.refresh_token));
    expectInvalidGrant(await refresh(server, clientId, first.refresh_token));
    const family = await familyOf(jtiOf(second.access_token));
    expect(family.revoke_reason).toBe('refresh_token_reuse');
    expect(await server.denylist.has(jtiOf(first.access_token))).toBe(true);
    expect(await server.denylist.has(jtiOf(second.access_token))).toBe(true);
    expectInvalidGrant(await refresh(server, clientId, second.refresh_token ?? ''));
    const userinfo = await request(server.url)
      .get('/oauth2/userinfo')
      .set('authorization', `Bearer ${second.access_token}`);
    expect(userinfo.status).toBe(401);
  });

  it('lets exactly one of two concurrent refreshes win', async () => {
    for (let round = 0; round < 3; round++) {
      const { clientId, first } = await grant();
      const responses = await Promise.all([
        refresh(server, clientId, first.refresh_token),
        refresh(server, clientId, first.refresh_token),
      ]);
      expect(responses.map((r) => r.status).sort()).toEqual([200, 400]);
      expect(responses.find((r) => r.status === 400)?.body.error).toBe('invalid_grant');
      const [{ n }] = (await rawQuery<{ n: string }>(
        server.conn,
        `select count(*) as n from auth.refresh_tokens r join auth.grant_access_tokens t on t.family_id = r.family_id
         where t.jti = $1`,
        [jtiOf(first.access_token)],
      )) as [{ n: string }];
      // The original token plus exactly one successor.
      expect(Number(n)).toBe(2);
    }
  });

  it('narrows the scope on request and refuses to widen it', async () => {
    const { clientId, first } = await grant();
    const narrowed = tokens(
      await refresh(server, clientId, first.refresh_token, { scope: 'openid users:read' }),
    );
    expect(narrowed.scope).toBe('openid users:read');
    expect(decodeJwt(narrowed.access_token).scope).toBe('openid users:read');
    const widened = await refresh(server, clientId, narrowed.refresh_token ?? '', {
      scope: 'openid profile',
    });
    expectInvalidGrant(widened, 'invalid_scope');
    // The refresh token keeps the original grant: the full scope is still available.
    const full = tokens(await refresh(server, clientId, narrowed.refresh_token ?? ''));
    expect(full.scope).toBe('openid email offline_access users:read');
  });

  it('expires a refresh token left unused past the idle lifetime', async () => {
    const { clientId, first } = await grant({
      refreshTokenIdleTtlSeconds: 600,
      refreshTokenAbsoluteTtlSeconds: 86_400,
    });
    server.clock.advance(599_000);
    const second = tokens(await refresh(server, clientId, first.refresh_token));
    server.clock.advance(601_000);
    expectInvalidGrant(await refresh(server, clientId, second.refresh_token ?? ''));
  });

  it('expires the family at its absolute lifetime however often it is used', async () => {
    const { clientId, first } = await grant({
      refreshTokenIdleTtlSeconds: 600,
      refreshTokenAbsoluteTtlSeconds: 1500,
    });
    let current = first.refresh_token;
    for (let i = 0; i < 2; i++) {
      server.clock.advance(500_000);
      current = tokens(await refresh(server, clientId, current)).refresh_token ?? '';
    }
    server.clock.advance(500_000);
    expectInvalidGrant(await refresh(server, clientId, current));
  });

  it('refuses a refresh token presented by another client without revoking it', async () => {
    const { clientId, first } = await grant();
    const otherId = `client-${randomUUID()}`;
    await server.clients.add(testClient({ clientId: otherId }));
    expectInvalidGrant(await refresh(server, otherId, first.refresh_token));
    expect((await refresh(server, clientId, first.refresh_token)).status).toBe(200);
  });

  it('refuses, and revokes, the refresh token of a deleted client presented by a new client registered under its id', async () => {
    const { clientId, first } = await grant({ scopes: ['openid', 'email', 'offline_access', 'users:read'] });
    expect(await server.clients.delete(clientId)).toBe(true);
    server.clock.advance(1000);
    // Someone registers a client with the same id and fewer scopes.
    await server.clients.add(testClient({ clientId, scopes: ['openid', 'offline_access'] }));
    expectInvalidGrant(await refresh(server, clientId, first.refresh_token));
    expect((await familyOf(jtiOf(first.access_token))).revoke_reason).toBe('revocation');
  });

  it('revokes the grants of a client deleted through the admin API at once', async () => {
    const { clientId, first } = await grant();
    const adminId = `admin-${randomUUID()}`;
    const adminSecret = randomUUID();
    await server.clients.add(
      testClient({
        clientId: adminId,
        type: 'confidential',
        tokenEndpointAuthMethod: 'client_secret_post',
        grantTypes: ['client_credentials'],
        scopes: ['clients:write'],
        secret: adminSecret,
      }),
    );
    const admin = await request(server.url)
      .post('/oauth2/token')
      .type('form')
      .send({ grant_type: 'client_credentials', client_id: adminId, client_secret: adminSecret });
    expect(admin.status).toBe(200);
    const deleted = await request(server.url)
      .delete(`/v1/clients/${clientId}`)
      .set('authorization', `Bearer ${admin.body.access_token as string}`);
    expect(deleted.status).toBe(204);
    expect(await server.denylist.has(jtiOf(first.access_token))).toBe(true);
    expect((await familyOf(jtiOf(first.access_token))).revoke_reason).toBe('revocation');
  });

  it('refreshes only the scopes the client may still request', async () => {
    const { clientId, first } = await grant({ scopes: ['openid', 'email', 'offline_access', 'users:read'] });
    expect(decodeJwt(first.access_token).scope).toContain('users:read');
    // The client loses users:read (a seed file applied again, for instance).
    await server.clients.upsert(testClient({ clientId, scopes: ['openid', 'email', 'offline_access'] }));
    const body = tokens(await refresh(server, clientId, first.refresh_token));
    expect(body.scope).toBe('openid email offline_access');
    expect(decodeJwt(body.access_token).scope).toBe('openid email offline_access');
  });

  it('fails for a disabled user and revokes the family', async () => {
    const { clientId, first, user } = await grant();
    user.profile.status = 'disabled';
    expectInvalidGrant(await refresh(server, clientId, first.refresh_token));
    expect((await familyOf(jtiOf(first.access_token))).revoke_reason).toBe('user_inactive');
    expect(await server.denylist.has(jtiOf(first.access_token))).toBe(true);
    user.profile.status = 'active';
    expectInvalidGrant(await refresh(server, clientId, first.refresh_token));
  });

  it('fails after the user changed their password and revokes the family', async () => {
    const { clientId, first, user } = await grant();
    server.clock.advance(1000);
    user.profile.passwordChangedAt = new Date(server.clock.now()).toISOString();
    expectInvalidGrant(await refresh(server, clientId, first.refresh_token));
    expect((await familyOf(jtiOf(first.access_token))).revoke_reason).toBe('user_inactive');
  });

  it('re-reads roles and permissions so that role changes apply at refresh', async () => {
    const org = {
      id: `org-${randomUUID()}`,
      slug: 'acme',
      name: 'Acme',
      roles: ['member'],
      permissions: ['users:read'],
    };
    const { clientId, first, user } = await grant(
      { scopes: ['openid', 'email', 'offline_access', 'users:read', 'users:write'] },
      [org],
      'openid email offline_access users:read users:write',
    );
    expect(decodeJwt(first.access_token).roles).toEqual(['member']);
    expect(decodeJwt(first.access_token).permissions).toEqual(['users:read']);
    const membership = user.organizations[0]!;
    membership.roles = ['admin'];
    membership.permissions = ['users:read', 'users:write'];
    const next = tokens(await refresh(server, clientId, first.refresh_token));
    const claims = decodeJwt(next.access_token);
    expect(claims.org_id).toBe(org.id);
    expect(claims.roles).toEqual(['admin']);
    expect(claims.permissions).toEqual(['users:read', 'users:write']);
    user.organizations.length = 0;
    expectInvalidGrant(await refresh(server, clientId, next.refresh_token ?? ''));
    expect((await familyOf(jtiOf(next.access_token))).revoke_reason).toBe('membership_removed');
  });

  it('rejects an unknown refresh token and a missing one', async () => {
    const { clientId } = await grant();
    expectInvalidGrant(await refresh(server, clientId, 'x'.repeat(43)));
    expectInvalidGrant(await refresh(server, clientId, ''), 'invalid_request');
  });
});
