/**
 * ADR 0008: an access token auth revokes stops working at the user service (and the gateway's
 * edge check) within moments, not at its `exp`: after /oauth2/revoke, after refresh-token reuse
 * revokes the whole family, and at a user service started after the revocation. Both wirings of
 * the all-in-one platform: auth's Redis revocation feed, and in process without Redis.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { createTestDatabase, TEST_REDIS_URL } from '@tessera/db/testing';
import { createLogger } from '@tessera/kernel';
import { startPlatform } from '@tessera/platform';
import { ADMIN_EMAIL, exchangeCode, freePort, signIn, type TestPlatform } from './support/platform.ts';

const REDIS_DATABASE = 9;
const PROPAGATION_BOUND_MS = 2000;

interface Setup {
  env: Record<string, string>;
  dropDatabase(): Promise<void>;
}

async function setUp(withRedis: boolean): Promise<Setup> {
  const db = await createTestDatabase();
  // The gateway's port is the issuer and stays across restarts; auth and users take any free port
  // (held by the platform from the moment it is chosen), which leaves one port to race for, not three.
  const gatewayPort = await freePort();
  const env: Record<string, string> = {
    DATABASE_URL: db.url,
    TESSERA_PUBLIC_URL: `http://127.0.0.1:${gatewayPort}`,
    GATEWAY_PORT: String(gatewayPort),
    AUTH_PORT: '0',
    USERS_PORT: '0',
    TESSERA_ADMIN_EMAIL: ADMIN_EMAIL,
    TESSERA_ADMIN_PASSWORD: `pw-${randomBytes(12).toString('hex')}`,
    TESSERA_DEMO_SERVICE_SECRET: randomBytes(24).toString('base64url'),
    TESSERA_MASTER_KEY: randomBytes(32).toString('base64'),
    TESSERA_DATA_DIR: `/tmp/tessera-test-${randomBytes(4).toString('hex')}`,
  };
  if (withRedis) {
    const url = new URL(TEST_REDIS_URL);
    url.pathname = `/${REDIS_DATABASE}`;
    const { Redis } = await import('ioredis');
    const redis = new Redis(url.toString(), { maxRetriesPerRequest: 1 });
    await redis.flushdb();
    redis.disconnect();
    env.REDIS_URL = url.toString();
  }
  return { env, dropDatabase: () => db.drop() };
}

/** Starts (or restarts: same database, Redis, ports and master key) the platform. */
async function start(setup: Setup): Promise<TestPlatform> {
  const platform = await startPlatform({
    env: setup.env,
    logger: createLogger({
      name: 'revocation-test',
      level: 'warn',
      destination: new Writable({ write: (_c, _e, cb) => cb() }),
    }),
  });
  return {
    platform,
    gatewayUrl: setup.env.TESSERA_PUBLIC_URL!,
    adminPassword: setup.env.TESSERA_ADMIN_PASSWORD!,
    demoServiceSecret: setup.env.TESSERA_DEMO_SERVICE_SECRET!,
    close: () => platform.close(),
  };
}

async function me(baseUrl: string, token: string) {
  return request(baseUrl).get('/v1/users/me').set('authorization', `Bearer ${token}`);
}

/** Asks until the answer is 401 or the bound has passed; returns the last answer. */
async function meUntilRefused(baseUrl: string, token: string) {
  const started = Date.now();
  let res = await me(baseUrl, token);
  while (res.status !== 401 && Date.now() - started < PROPAGATION_BOUND_MS) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    res = await me(baseUrl, token);
  }
  return res;
}

function expectInvalidToken(res: request.Response): void {
  expect(res.status).toBe(401);
  expect(String(res.headers['www-authenticate'])).toContain('invalid_token');
}

describe.each([
  { mode: 'with Redis (revocation feed)', withRedis: true },
  { mode: 'without Redis (in process)', withRedis: false },
])('revocation reaches the user service $mode', ({ withRedis }) => {
  let setup: Setup;
  let t: TestPlatform;
  const revokedBeforeRestart: string[] = [];

  beforeAll(async () => {
    setup = await setUp(withRedis);
    t = await start(setup);
    expect(t.platform.redis).toBe(withRedis);
  });

  afterAll(async () => {
    await t.close();
    await setup.dropDatabase();
  });

  const tokens = async () => exchangeCode(t, await signIn(t));

  it('refuses an access token revoked at /oauth2/revoke, directly and through the gateway', async () => {
    const { access_token: token } = await tokens();
    expect((await me(t.platform.urls.users, token)).status).toBe(200);
    expect((await me(t.gatewayUrl, token)).status).toBe(200);

    const revoke = await request(t.gatewayUrl)
      .post('/oauth2/revoke')
      .type('form')
      .send({ token, client_id: 'demo-spa' });
    expect(revoke.status).toBe(200);

    expectInvalidToken(await meUntilRefused(t.platform.urls.users, token));
    expectInvalidToken(await meUntilRefused(t.gatewayUrl, token));
    revokedBeforeRestart.push(token);
  });

  it('refuses every access token of a family revoked by refresh-token reuse', async () => {
    const first = await tokens();
    const refresh = (refreshToken: string) =>
      request(t.gatewayUrl)
        .post('/oauth2/token')
        .type('form')
        .send({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'demo-spa' });
    const rotated = await refresh(first.refresh_token!);
    expect(rotated.status).toBe(200);
    const second = (rotated.body as { access_token: string }).access_token;
    expect((await me(t.platform.urls.users, first.access_token)).status).toBe(200);
    expect((await me(t.platform.urls.users, second)).status).toBe(200);

    const reused = await refresh(first.refresh_token!);
    expect(reused.status).toBe(400);

    expectInvalidToken(await meUntilRefused(t.platform.urls.users, first.access_token));
    expectInvalidToken(await meUntilRefused(t.platform.urls.users, second));
  });

  it('refuses the access and refresh tokens of a user an administrator disabled or deleted', async () => {
    const admin = (await exchangeCode(t, await signIn(t, { scope: 'openid users:read users:write' })))
      .access_token;
    for (const action of ['disable', 'delete'] as const) {
      const email = `leaver-${action}-${Date.now()}@example.com`;
      const password = `pw-${randomBytes(12).toString('hex')}`;
      const created = await request(t.gatewayUrl)
        .post('/v1/users')
        .set('authorization', `Bearer ${admin}`)
        .send({ email, password, name: 'Leaver' });
      expect(created.status).toBe(201);
      const own = await exchangeCode(t, await signIn(t, { email, password, scope: 'openid offline_access' }));
      expect((await me(t.platform.urls.users, own.access_token)).status).toBe(200);

      const url = `/v1/users/${created.body.id as string}`;
      const removed =
        action === 'disable'
          ? await request(t.gatewayUrl).post(`${url}/disable`).set('authorization', `Bearer ${admin}`)
          : await request(t.gatewayUrl).delete(url).set('authorization', `Bearer ${admin}`);
      expect(removed.status).toBeLessThan(300);

      // Reads, which do not look the user up, stop too: the grant was revoked at auth.
      expectInvalidToken(await meUntilRefused(t.platform.urls.users, own.access_token));
      expectInvalidToken(await meUntilRefused(t.gatewayUrl, own.access_token));
      const refreshed = await request(t.gatewayUrl)
        .post('/oauth2/token')
        .type('form')
        .send({ grant_type: 'refresh_token', refresh_token: own.refresh_token!, client_id: 'demo-spa' });
      expect(refreshed.status).toBe(400);
      expect(refreshed.body.error).toBe('invalid_grant');
    }
    expect((await me(t.platform.urls.users, admin)).status).toBe(200);
  });

  it('refuses, at a user service started after the revocation, what was revoked before it started', async () => {
    expect(revokedBeforeRestart).toHaveLength(1);
    const { access_token: kept } = await tokens();
    await t.close();
    t = await start(setup);

    // No polling: the catch-up read happens before the service listens.
    expectInvalidToken(await me(t.platform.urls.users, revokedBeforeRestart[0]!));
    expectInvalidToken(await me(t.gatewayUrl, revokedBeforeRestart[0]!));
    expect((await me(t.platform.urls.users, kept)).status).toBe(200);
  });
});
