/**
 * Business and RED metrics after a scripted set of calls through the gateway: every counter the
 * dashboards and alerts read has exactly the value the script implies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { exchangeCode, signIn, startTestPlatform, type TestPlatform } from './support/platform.ts';

let t: TestPlatform;
const scraped: Record<'gateway' | 'auth' | 'users', string> = { gateway: '', auth: '', users: '' };
let rateLimited = 0;
let loginRequests = 0;

/** The value of the sample `name` whose labels include `labels`; undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => present[k] === v)) return Number(match[3]);
  }
  return undefined;
}

beforeAll(async () => {
  t = await startTestPlatform({ redisDatabase: 4 });
  const gateway = request(t.gatewayUrl);

  // Two wrong passwords, then the right one; the code is exchanged once.
  const signedIn = await signIn(t, { wrongPasswords: 2 });
  const tokens = await exchangeCode(t, signedIn);
  for (let i = 0; i < 3; i++) {
    const res = await gateway.get('/v1/users?limit=2').set('authorization', `Bearer ${tokens.access_token}`);
    expect(res.status).toBe(200);
  }

  // Two client_credentials tokens for demo-service; the second is revoked.
  const basic = `Basic ${Buffer.from(`demo-service:${t.demoServiceSecret}`).toString('base64')}`;
  const service: string[] = [];
  for (let i = 0; i < 2; i++) {
    const res = await gateway
      .post('/oauth2/token')
      .set('authorization', basic)
      .type('form')
      .send({ grant_type: 'client_credentials', scope: 'users:read' });
    expect(res.status).toBe(200);
    service.push((res.body as { access_token: string }).access_token);
  }
  const revoke = await gateway
    .post('/oauth2/revoke')
    .set('authorization', basic)
    .type('form')
    .send({ token: service[1] });
  expect(revoke.status).toBe(200);

  // One rotation, then the old refresh token again: reuse detected, family revoked.
  const refresh = (token: string) =>
    gateway
      .post('/oauth2/token')
      .type('form')
      .send({ grant_type: 'refresh_token', refresh_token: token, client_id: 'demo-spa' });
  expect((await refresh(tokens.refresh_token!)).status).toBe(200);
  const reused = await refresh(tokens.refresh_token!);
  expect(reused.status).toBe(400);
  expect((reused.body as { error: string }).error).toBe('invalid_grant');

  // A second sign-in whose code is presented twice: the second use revokes what the first issued.
  const again = await signIn(t);
  await exchangeCode(t, again);
  await expect(exchangeCode(t, again)).rejects.toThrow(/400/);

  // The login route class allows 30 requests a minute per IP: some of these are refused.
  for (let i = 0; i < 35; i++) {
    const res = await gateway.get('/login');
    loginRequests++;
    if (res.status === 429) rateLimited++;
  }

  for (const service of ['gateway', 'auth', 'users'] as const) {
    const res = await request(t.platform.urls[service]).get('/metrics');
    expect(res.status).toBe(200);
    scraped[service] = res.text;
  }
}, 90_000);

afterAll(async () => {
  await t?.close();
});

describe('metrics after a scripted set of calls', () => {
  it('counts logins by result and token issuance by grant type and client', () => {
    const auth = scraped.auth;
    expect(sample(auth, 'tessera_logins_total', { result: 'failure' })).toBe(2);
    expect(sample(auth, 'tessera_logins_total', { result: 'success' })).toBe(2);
    expect(sample(auth, 'tessera_logins_total', { result: 'locked' })).toBeUndefined();
    const issued = (grant_type: string, client_id: string) =>
      sample(auth, 'tessera_tokens_issued_total', { grant_type, client_id });
    expect(issued('authorization_code', 'demo-spa')).toBe(2);
    expect(issued('refresh_token', 'demo-spa')).toBe(1);
    expect(issued('client_credentials', 'demo-service')).toBe(2);
  });

  it('counts refresh-token reuse and revocations by reason (revocation request, refresh reuse, code reuse)', () => {
    const auth = scraped.auth;
    expect(sample(auth, 'tessera_refresh_reuse_detected_total')).toBe(1);
    expect(sample(auth, 'tessera_tokens_revoked_total', { reason: 'refresh_reuse' })).toBe(1);
    expect(sample(auth, 'tessera_tokens_revoked_total', { reason: 'revocation_request' })).toBe(1);
    expect(sample(auth, 'tessera_tokens_revoked_total', { reason: 'code_reuse' })).toBe(1);
  });

  it('reports signing keys, database pools and no reported errors', () => {
    const auth = scraped.auth;
    for (const keySet of ['primary', 'id-token-rs256']) {
      expect(sample(auth, 'tessera_signing_keys', { key_set: keySet, state: 'current' }), keySet).toBe(1);
      expect(sample(auth, 'tessera_signing_keys', { key_set: keySet, state: 'next' }), keySet).toBe(0);
      const expiry = sample(auth, 'tessera_signing_key_expiry_timestamp_seconds', { key_set: keySet })!;
      const now = Date.now() / 1000;
      expect(expiry).toBeGreaterThan(now + 89 * 86_400);
      expect(expiry).toBeLessThan(now + 91 * 86_400);
    }
    for (const service of ['auth', 'users'] as const) {
      expect(sample(scraped[service], 'tessera_db_pool_connections', { state: 'total' })).toBeGreaterThan(0);
      expect(sample(scraped[service], 'tessera_db_pool_connections', { state: 'waiting' })).toBe(0);
    }
    for (const service of ['gateway', 'auth', 'users'] as const) {
      expect(scraped[service]).toContain('# TYPE tessera_errors_reported_total counter');
      expect(sample(scraped[service], 'tessera_errors_reported_total')).toBeUndefined();
      expect(sample(scraped[service], 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
      expect(sample(scraped[service], 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    }
  });

  it('counts HTTP requests by route and status, upstream requests and rate-limited requests', () => {
    expect(
      sample(scraped.users, 'http_requests_total', {
        route: '/v1/users',
        status_code: '200',
        service: 'users',
      }),
    ).toBe(3);
    expect(
      sample(scraped.gateway, 'tessera_upstream_requests_total', { upstream: 'users', status: '200' }),
    ).toBe(3);
    expect(rateLimited).toBeGreaterThan(0);
    expect(rateLimited).toBeLessThan(loginRequests);
    expect(sample(scraped.gateway, 'tessera_rate_limited_total', { policy: 'login-ip' })).toBe(rateLimited);
    expect(sample(scraped.gateway, 'http_requests_total', { status_code: '429' })).toBe(rateLimited);
  });

  it("counts the user service's authorization cache: a miss loads once, the next lookup hits L1", () => {
    const cache = (level: string, result: string) =>
      sample(scraped.users, 'tessera_cache_requests_total', { cache: 'users', level, result });
    expect(cache('l1', 'miss')).toBe(1);
    expect(cache('l2', 'miss')).toBe(1);
    expect(cache('l1', 'hit')).toBeGreaterThanOrEqual(1);
  });
});
