import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { decodeJwt } from 'jose';
import type { RefreshTokenInfo, RefreshTokenStore } from '../../contracts.ts';
import { revokedAccessTokens } from '../../tokens/table.ts';
import {
  createTestAuthDatabase,
  startAuthServer,
  type StartedAuthServer,
  type TestAuthDatabase,
} from '../../testing.ts';

let database: TestAuthDatabase;
let server: StartedAuthServer;
const secrets: Record<string, string> = {};

/** A refresh-token store standing in for the grants feature: one known token owned by `reports`. */
const refreshInfo: RefreshTokenInfo = {
  active: true,
  clientId: 'reports',
  sub: 'user-1',
  scope: 'openid offline_access',
  exp: 4_000_000_000,
  iat: 1_700_000_000,
  orgId: 'org-1',
};
const refreshStore: RefreshTokenStore = {
  inspect: (token) => Promise.resolve(token === 'refresh-token-of-reports' ? refreshInfo : undefined),
  revokeFamily: () => Promise.resolve('unknown'),
};

const basic = (id: string) => `Basic ${Buffer.from(`${id}:${secrets[id]}`).toString('base64')}`;

beforeAll(async () => {
  database = await createTestAuthDatabase();
  server = await startAuthServer({
    db: database.db,
    conn: database.conn,
    features: [() => ({ refreshTokenStore: refreshStore })],
  });
  for (const clientId of ['reports', 'api']) {
    secrets[clientId] = (
      await server.auth.clients.create({
        clientId,
        name: clientId,
        type: 'confidential',
        // `api` is a resource server: it may introspect tokens others present to it.
        scopes: clientId === 'api' ? ['users:read', 'introspect'] : ['users:read'],
      })
    ).secret as string;
  }
  // A confidential client for another resource: not entitled to tessera-api tokens of others.
  secrets.partner = (
    await server.auth.clients.create({
      clientId: 'partner',
      name: 'partner',
      type: 'confidential',
      scopes: ['users:read'],
      audiences: ['https://partner.example/api'],
    })
  ).secret as string;
  await server.auth.clients.create({
    clientId: 'spa',
    name: 'SPA',
    type: 'public',
    redirectUris: ['http://127.0.0.1:5173/callback'],
  });
});

afterAll(async () => {
  await server?.close();
  await database?.drop();
});

async function accessToken(clientId = 'reports'): Promise<string> {
  const res = await request(server.url)
    .post('/oauth2/token')
    .type('form')
    .set('authorization', basic(clientId))
    .send({ grant_type: 'client_credentials' });
  return res.body.access_token as string;
}

const introspect = (clientId: string | undefined, form: Record<string, string>) => {
  const req = request(server.url).post('/oauth2/introspect').type('form');
  if (clientId) void req.set('authorization', basic(clientId));
  return req.send(form);
};

describe('POST /oauth2/introspect', () => {
  it('refuses an unauthenticated caller with 401 invalid_client', async () => {
    const res = await introspect(undefined, { token: await accessToken() });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
    expect(res.body.active).toBeUndefined();
  });

  it('refuses a public client, whose client_id is not authentication', async () => {
    const res = await introspect(undefined, { token: await accessToken(), client_id: 'spa' });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
  });

  it('describes an active access token with its claims', async () => {
    const token = await accessToken();
    const res = await introspect('api', { token });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toMatchObject({
      active: true,
      token_type: 'Bearer',
      iss: server.url,
      sub: 'client:reports',
      client_id: 'reports',
      aud: 'tessera-api',
      scope: 'users:read',
      permissions: ['users:read'],
      jti: expect.any(String),
      exp: expect.any(Number),
      iat: expect.any(Number),
    });
  });

  it('describes an access token only to its own client or a resource server (introspect scope) of its audience (RFC 7662 §4)', async () => {
    const token = await accessToken('reports');
    expect((await introspect('reports', { token })).body.active).toBe(true);
    expect((await introspect('api', { token })).body.active).toBe(true);
    // A client of the same audience that is not a resource server learns nothing of another's token.
    const apiToken = await accessToken('api');
    expect((await introspect('reports', { token: apiToken })).body).toEqual({ active: false });
    const other = await introspect('partner', { token });
    expect(other.status).toBe(200);
    expect(other.body).toEqual({ active: false });
    // The partner's own token (another audience) is described to the partner.
    const own = await accessToken('partner');
    expect((await introspect('partner', { token: own })).body).toMatchObject({
      active: true,
      aud: 'https://partner.example/api',
    });
  });

  it('answers only {"active":false} for garbage', async () => {
    const res = await introspect('api', { token: 'not-a-token' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ active: false });
  });

  it('answers only {"active":false} for a token signed by someone else', async () => {
    const token = await accessToken();
    const [header, payload] = token.split('.');
    const forged = `${header}.${payload}.${Buffer.alloc(64, 1).toString('base64url')}`;
    expect((await introspect('api', { token: forged })).body).toEqual({ active: false });
  });

  it('answers only {"active":false} for an expired token', async () => {
    const { token } = await server.auth.core.signer.signAccessToken({
      sub: 'client:reports',
      clientId: 'reports',
      aud: 'tessera-api',
      scope: '',
      ttlSeconds: -10,
    });
    expect((await introspect('api', { token })).body).toEqual({ active: false });
  });

  it('answers only {"active":false} for a revoked access token, denylisted in the database without Redis', async () => {
    const token = await accessToken();
    const revoked = await request(server.url)
      .post('/oauth2/revoke')
      .type('form')
      .set('authorization', basic('reports'))
      .send({ token });
    expect(revoked.status).toBe(200);
    expect((await introspect('api', { token })).body).toEqual({ active: false });
    const rows = await database.db.select().from(revokedAccessTokens);
    expect(rows).toContainEqual({
      id: decodeJwt(token).jti,
      expiresAt: new Date(decodeJwt(token).exp! * 1000),
    });
  });

  it('describes an active refresh token to the client that owns it, without a token_type (no access token type applies)', async () => {
    const res = await introspect('reports', {
      token: 'refresh-token-of-reports',
      token_type_hint: 'refresh_token',
    });
    expect(res.body).toEqual({
      active: true,
      iss: server.url,
      client_id: 'reports',
      sub: 'user-1',
      scope: 'openid offline_access',
      exp: 4_000_000_000,
      iat: 1_700_000_000,
      org_id: 'org-1',
    });
  });

  it('answers {"active":false} when another client introspects a refresh token', async () => {
    const res = await introspect('api', { token: 'refresh-token-of-reports' });
    expect(res.body).toEqual({ active: false });
  });

  it('answers a missing or empty token parameter with 400 invalid_request as RFC 6749 §5.2 JSON', async () => {
    const forms: Record<string, string>[] = [{}, { token: '' }, { token_type_hint: 'access_token' }];
    for (const form of forms) {
      const res = await introspect('api', form);
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toEqual({ error: 'invalid_request', error_description: 'token is missing' });
    }
  });

  it('answers a request without a body with 400 invalid_request', async () => {
    const res = await request(server.url).post('/oauth2/introspect').set('authorization', basic('api'));
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
  });
});
