import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { Redis } from 'ioredis';
import { decodeJwt } from 'jose';
import { testKeyPrefix, TEST_REDIS_URL } from '@tessera/db/testing';
import type { RefreshTokenStore } from '../../contracts.ts';
import {
  createTestAuthDatabase,
  startAuthServer,
  type StartedAuthServer,
  type TestAuthDatabase,
} from '../../testing.ts';

let database: TestAuthDatabase;
let server: StartedAuthServer;
let redis: Redis;
let prefix: string;
const secrets: Record<string, string> = {};
/** Families revoked through the stand-in refresh-token store, as `token/client`. */
const revokedFamilies: string[] = [];
const refreshStore: RefreshTokenStore = {
  inspect: () => Promise.resolve(undefined),
  revokeFamily: (token, clientId) => {
    if (token !== 'refresh-of-reports') return Promise.resolve('unknown');
    if (clientId !== 'reports') return Promise.resolve('foreign');
    revokedFamilies.push(`${token}/${clientId}`);
    return Promise.resolve('revoked');
  },
};

const basic = (id: string) => `Basic ${Buffer.from(`${id}:${secrets[id]}`).toString('base64')}`;

beforeAll(async () => {
  database = await createTestAuthDatabase();
  redis = new Redis(TEST_REDIS_URL);
  prefix = testKeyPrefix('auth-revoke');
  server = await startAuthServer({
    db: database.db,
    conn: database.conn,
    redis,
    redisKeyPrefix: prefix,
    features: [() => ({ refreshTokenStore: refreshStore })],
  });
  for (const clientId of ['reports', 'other']) {
    secrets[clientId] = (
      await server.auth.clients.create({
        clientId,
        name: clientId,
        type: 'confidential',
        // `other` is also a resource server (`introspect`): it checks what revocation left active.
        scopes: clientId === 'other' ? ['users:read', 'introspect'] : ['users:read'],
      })
    ).secret as string;
  }
});

afterAll(async () => {
  await server?.close();
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis?.disconnect();
  await database?.drop();
});

async function accessToken(clientId: string): Promise<string> {
  const res = await request(server.url)
    .post('/oauth2/token')
    .type('form')
    .set('authorization', basic(clientId))
    .send({ grant_type: 'client_credentials' });
  return res.body.access_token as string;
}

const revoke = (clientId: string, form: Record<string, string>) =>
  request(server.url).post('/oauth2/revoke').type('form').set('authorization', basic(clientId)).send(form);
const introspect = (token: string) =>
  request(server.url)
    .post('/oauth2/introspect')
    .type('form')
    .set('authorization', basic('other'))
    .send({ token });

describe('POST /oauth2/revoke', () => {
  it('puts a revoked access token’s jti on the Redis denylist until it expires, and introspection reports it inactive', async () => {
    const token = await accessToken('reports');
    const { jti, exp } = decodeJwt(token);
    const res = await revoke('reports', { token, token_type_hint: 'access_token' });
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    expect(res.headers['cache-control']).toBe('no-store');
    const ttl = await redis.ttl(`${prefix}denied:${jti}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(exp! - Math.floor(Date.now() / 1000) + 1);
    expect((await introspect(token)).body).toEqual({ active: false });
  });

  it('answers 200 for an unknown token and changes nothing', async () => {
    const before = await redis.keys(`${prefix}denied:*`);
    const res = await revoke('reports', { token: 'never-issued' });
    expect(res.status).toBe(200);
    expect(await redis.keys(`${prefix}denied:*`)).toEqual(before);
  });

  it('refuses with 400 invalid_request when a client revokes another client’s access token, and leaves it active', async () => {
    const token = await accessToken('reports');
    const res = await revoke('other', { token });
    expect(res.status).toBe(400);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({
      error: 'invalid_request',
      error_description: 'the token was not issued to this client',
    });
    expect(await redis.exists(`${prefix}denied:${decodeJwt(token).jti}`)).toBe(0);
    expect((await introspect(token)).body.active).toBe(true);
  });

  it('revokes the whole family of a refresh token owned by the client', async () => {
    const res = await revoke('reports', { token: 'refresh-of-reports', token_type_hint: 'refresh_token' });
    expect(res.status).toBe(200);
    expect(revokedFamilies).toEqual(['refresh-of-reports/reports']);
  });

  it('refuses with 400 invalid_request, without effect, when another client presents a refresh token', async () => {
    const before = revokedFamilies.length;
    const res = await revoke('other', { token: 'refresh-of-reports' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expect(revokedFamilies).toHaveLength(before);
  });

  it('requires client authentication', async () => {
    const res = await request(server.url)
      .post('/oauth2/revoke')
      .type('form')
      .send({ token: await accessToken('reports') });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
  });

  it('answers a missing or empty token parameter with 400 invalid_request as RFC 6749 §5.2 JSON', async () => {
    const forms: Record<string, string>[] = [{}, { token: '' }, { token_type_hint: 'refresh_token' }];
    for (const form of forms) {
      const res = await revoke('reports', form);
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toEqual({ error: 'invalid_request', error_description: 'token is missing' });
    }
  });

  it('answers a request without a body with 400 invalid_request', async () => {
    const res = await request(server.url).post('/oauth2/revoke').set('authorization', basic('reports'));
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
  });
});
