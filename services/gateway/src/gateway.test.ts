import { request as httpRequest } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import request from 'supertest';
import { createTokenVerifier } from '@tessera/auth-middleware';
import { createTestIssuer, type TestIssuer } from '@tessera/auth-middleware/testing';
import { connectRedis } from '@tessera/cache';
import { TEST_REDIS_URL, testKeyPrefix } from '@tessera/db/testing';
import type { Redis } from 'ioredis';
import { buildGatewayApp, type Gateway, type GatewayConfig } from './app.ts';
import { loadConfig } from '@tessera/kernel';
import { defaultGatewayConfig, gatewayConfigFromEnv, gatewayConfigSpec } from './config.ts';
import { quietLogger, startUpstream, type Upstream } from './test-upstream.ts';

const servers: Upstream[] = [];
const gateways: Gateway[] = [];
const redisClients: Redis[] = [];
let issuer: TestIssuer | undefined;

async function upstream(name: string): Promise<Upstream> {
  const state = await startUpstream(name);
  servers.push(state);
  return state;
}

async function gateway(
  config: Partial<GatewayConfig> & Pick<GatewayConfig, 'pools'>,
  extra: { redis?: Redis; prefix?: string; edge?: boolean } = {},
): Promise<Gateway> {
  if (extra.edge && !issuer) issuer = await createTestIssuer();
  const gw = await buildGatewayApp({
    config: defaultGatewayConfig({ healthIntervalMs: 60_000, ...config }),
    logger: quietLogger,
    redis: extra.redis,
    redisKeyPrefix: extra.prefix,
    verifier:
      extra.edge && issuer
        ? createTokenVerifier({ jwksUrl: issuer.jwksUrl, issuer: issuer.issuer, audience: 'tessera-api' })
        : undefined,
  });
  await gw.app.ready();
  gateways.push(gw);
  return gw;
}

afterEach(async () => {
  for (const gw of gateways.splice(0)) await gw.app.close();
  for (const s of servers.splice(0)) await s.close();
});
afterAll(async () => {
  for (const r of redisClients) r.disconnect();
  await issuer?.close();
});

describe('routing', () => {
  it('routes auth and users paths to their pools and answers unknown paths with 404 without touching an upstream', async () => {
    const auth = await upstream('auth');
    const users = await upstream('users');
    const gw = await gateway({ pools: { auth: { blue: [auth.url] }, users: { blue: [users.url] } } });
    for (const [path, target] of [
      ['/.well-known/openid-configuration', 'auth'],
      ['/jwks.json', 'auth'],
      ['/oauth2/token', 'auth'],
      ['/login', 'auth'],
      ['/login/organization', 'auth'],
      ['/consent', 'auth'],
      ['/logout', 'auth'],
      ['/oauth2/authorize?client_id=demo-spa&response_type=code', 'auth'],
      ['/v1/clients', 'auth'],
      ['/v1/clients/demo-spa', 'auth'],
      ['/v1/keys', 'auth'],
      ['/v1/orgs/1', 'users'],
      ['/v1/users?limit=2', 'users'],
    ] as const) {
      const res = await request(gw.app.server).get(path);
      expect(res.body.from, path).toBe(target);
      expect(res.body.url, path).toBe(path);
    }
    const before = auth.hits.length + users.hits.length;
    const missing = await request(gw.app.server).get('/v1/usersx');
    expect(missing.status).toBe(404);
    expect(missing.headers['content-type']).toContain('application/problem+json');
    expect((await request(gw.app.server).get('/admin')).status).toBe(404);
    expect(auth.hits.length + users.hits.length).toBe(before);
    // Counted per route table entry, unknown paths under one label (not one series per URL).
    const metrics = (await request(gw.app.server).get('/metrics')).text;
    expect(metrics).toMatch(
      /http_requests_total\{method="GET",route="\/v1\/users",status_code="200"[^}]*\} 1\n/,
    );
    expect(metrics).toMatch(
      /http_requests_total\{method="GET",route="\/oauth2\/token",status_code="200"[^}]*\} 1\n/,
    );
    expect(metrics).toMatch(
      /http_requests_total\{method="GET",route="unmatched",status_code="404"[^}]*\} 2\n/,
    );
    expect(metrics).not.toContain('route="/*"');
    // Dot segments, plain or encoded, never pass as a routed path.
    for (const path of [
      '/oauth2/../internal/x',
      '/v1/users/./x',
      '/oauth2/%2e%2E/internal',
      '/v1/users/%2e',
    ]) {
      const res = await request(gw.app.server).get(path);
      expect(res.status, path).toBe(400);
      expect(res.body.code, path).toBe('dot_segment');
    }
    expect((await request(gw.app.server).get('/v1/users/a.b..c')).status).toBe(200);
  });

  it('strips upstream Server and X-Powered-By and adds security headers', async () => {
    const users = await upstream('users');
    const gw = await gateway({ pools: { users: { blue: [users.url] } } });
    const res = await request(gw.app.server).get('/v1/users');
    expect(res.headers.server).toBeUndefined();
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['x-request-id']).toBeDefined();
    expect(users.hits[0]!.headers['x-request-id']).toBe(res.headers['x-request-id']);
  });
});

describe('upstream pools', () => {
  it('round-robins over two instances and fails over when one goes down, retrying a GET once', async () => {
    const a = await upstream('a');
    const b = await upstream('b');
    const gw = await gateway({ pools: { users: { blue: [a.url, b.url] } } });
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) seen.add((await request(gw.app.server).get('/v1/users')).body.from);
    expect(seen).toEqual(new Set(['a', 'b']));
    await a.close();
    for (let i = 0; i < 6; i++) {
      const res = await request(gw.app.server).get('/v1/users');
      expect(res.status).toBe(200);
      expect(res.body.from).toBe('b');
    }
    const metrics = (await request(gw.app.server).get('/metrics')).text;
    expect(metrics).toMatch(/tessera_upstream_retries_total\{upstream="users",service="gateway"\} [1-9]/);
  });

  it('never retries a POST after a connection failure', async () => {
    const a = await upstream('a');
    const b = await upstream('b');
    const gw = await gateway({ pools: { users: { blue: [a.url, b.url] } } });
    await a.close();
    const statuses: number[] = [];
    for (let i = 0; i < 2; i++)
      statuses.push((await request(gw.app.server).post('/v1/users').send({ x: 1 })).status);
    expect(statuses).toContain(503);
    expect(b.hits.filter((h) => h.method === 'POST').length).toBe(statuses.filter((s) => s === 200).length);
  });

  it('answers 503 with Retry-After when every instance is down, without hanging', async () => {
    const a = await upstream('a');
    const gw = await gateway({ pools: { users: { blue: [a.url] } } });
    await a.close();
    const started = Date.now();
    const res = await request(gw.app.server).get('/v1/users');
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBeDefined();
    expect(res.body.code).toBe('upstream_unavailable');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('answers 504 when an upstream is slower than the timeout', async () => {
    const slow = await upstream('slow');
    slow.delayMs = 1500;
    const gw = await gateway({ pools: { users: { blue: [slow.url] } }, timeoutMs: 300 });
    const res = await request(gw.app.server).get('/v1/users');
    expect(res.status).toBe(504);
    expect(res.headers['retry-after']).toBeDefined();
  });

  it('skips instances whose health check fails', async () => {
    const a = await upstream('a');
    const b = await upstream('b');
    const gw = await gateway({ pools: { users: { blue: [a.url, b.url] } } });
    a.ready = false;
    await gw.checkHealth();
    for (let i = 0; i < 4; i++) expect((await request(gw.app.server).get('/v1/users')).body.from).toBe('b');
    const metrics = (await request(gw.app.server).get('/metrics')).text;
    expect(metrics).toContain('tessera_upstream_healthy{upstream="users"');
  });
});

describe('forwarded headers', () => {
  it('ignores a spoofed X-Forwarded-For from an untrusted client', async () => {
    const users = await upstream('users');
    const gw = await gateway({ pools: { users: { blue: [users.url] } } });
    await request(gw.app.server)
      .get('/v1/users')
      .set('x-forwarded-for', '6.6.6.6')
      .set('x-forwarded-host', 'evil.example');
    expect(users.hits[0]!.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(users.hits[0]!.headers['x-forwarded-host']).not.toBe('evil.example');
  });

  it('keeps the chain from a trusted proxy', async () => {
    const users = await upstream('users');
    const gw = await gateway({ pools: { users: { blue: [users.url] } }, trustedProxies: ['127.0.0.1'] });
    await request(gw.app.server).get('/v1/users').set('x-forwarded-for', '203.0.113.7');
    expect(users.hits[0]!.headers['x-forwarded-for']).toBe('203.0.113.7, 127.0.0.1');
  });
});

describe('the gateway’s own resources', () => {
  it('answers other methods on /livez, /readyz, /metrics and its document with 405 and Allow, OPTIONS with 204', async () => {
    const users = await upstream('users');
    const gw = await gateway({ pools: { users: { blue: [users.url] } } });
    for (const path of ['/livez', '/readyz', '/metrics', '/_gateway/openapi.json']) {
      expect((await request(gw.app.server).get(path)).status, path).toBe(200);
      for (const method of ['post', 'put', 'delete'] as const) {
        const res = await request(gw.app.server)[method](path);
        expect(res.status, `${method} ${path}`).toBe(405);
        expect(res.headers.allow).toBe('GET, HEAD, OPTIONS');
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      }
      const options = await request(gw.app.server).options(path);
      expect(options.status, path).toBe(204);
      expect(options.headers.allow).toBe('GET, HEAD, OPTIONS');
    }
    expect((await request(gw.app.server).post('/nowhere')).status).toBe(404);
    expect(users.hits).toHaveLength(0);
  });
});

describe('CORS', () => {
  it('answers an allowed preflight with cacheable allow headers and a foreign one with none', async () => {
    const users = await upstream('users');
    const gw = await gateway({
      pools: { users: { blue: [users.url] } },
      cors: { api: ['https://app.example'], token: [], login: [], oauth: [] },
    });
    const ok = await request(gw.app.server)
      .options('/v1/users')
      .set('origin', 'https://app.example')
      .set('access-control-request-method', 'POST');
    expect(ok.status).toBe(204);
    expect(ok.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(ok.headers['access-control-max-age']).toBe('600');
    const denied = await request(gw.app.server)
      .options('/v1/users')
      .set('origin', 'https://evil.example')
      .set('access-control-request-method', 'POST');
    expect(denied.headers['access-control-allow-origin']).toBeUndefined();
    expect(users.hits).toHaveLength(0);
  });
});

describe('CORS for registered browser apps', () => {
  it('allows the token and OAuth endpoints to the origins of the clients registered at auth, and follows new registrations', async () => {
    const auth = await upstream('auth');
    auth.clientOrigins = ['https://spa.example'];
    const gw = await gateway({
      pools: { auth: { blue: [auth.url] } },
      cors: { api: [], token: ['https://configured.example'], login: [], oauth: [] },
    });
    const preflight = (path: string, origin: string) =>
      request(gw.app.server).options(path).set('origin', origin).set('access-control-request-method', 'POST');
    const registered = await preflight('/oauth2/token', 'https://spa.example');
    expect(registered.status).toBe(204);
    expect(registered.headers['access-control-allow-origin']).toBe('https://spa.example');
    expect(
      (await preflight('/oauth2/revoke', 'https://spa.example')).headers['access-control-allow-origin'],
    ).toBe('https://spa.example');
    // The configured list still applies; other origins, and other route classes, get nothing.
    expect(
      (await preflight('/oauth2/token', 'https://configured.example')).headers['access-control-allow-origin'],
    ).toBe('https://configured.example');
    expect(
      (await preflight('/oauth2/token', 'https://evil.example')).headers['access-control-allow-origin'],
    ).toBeUndefined();
    expect(
      (await preflight('/login', 'https://spa.example')).headers['access-control-allow-origin'],
    ).toBeUndefined();
    // A new registration is picked up at the next refresh; a failed refresh keeps the last list.
    auth.clientOrigins = ['https://spa.example', 'https://new-spa.example'];
    await gw.refreshClientOrigins();
    expect(
      (await preflight('/oauth2/token', 'https://new-spa.example')).headers['access-control-allow-origin'],
    ).toBe('https://new-spa.example');
    auth.clientOrigins = undefined;
    await gw.refreshClientOrigins();
    expect(
      (await preflight('/oauth2/token', 'https://new-spa.example')).headers['access-control-allow-origin'],
    ).toBe('https://new-spa.example');
    // A malformed answer is ignored too.
    auth.clientOrigins = ['javascript:alert(1)'];
    await gw.refreshClientOrigins();
    expect(
      (await preflight('/oauth2/token', 'https://new-spa.example')).headers['access-control-allow-origin'],
    ).toBe('https://new-spa.example');
    // Preflights never reach the upstream's API.
    expect(auth.hits).toHaveLength(0);
  });
});

describe('rate limiting', () => {
  it('answers 429 with Retry-After, RateLimit headers and problem+json once the limit is used', async () => {
    const users = await upstream('users');
    const base = defaultGatewayConfig({ pools: {} }).rateLimits;
    const gw = await gateway({
      pools: { users: { blue: [users.url] } },
      rateLimits: { ...base, perIp: { ...base.perIp, api: { name: 'api-ip', limit: 3, windowSeconds: 60 } } },
    });
    const responses = [];
    for (let i = 0; i < 5; i++) responses.push(await request(gw.app.server).get('/v1/users'));
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 429, 429]);
    const last = responses[4]!;
    expect(last.headers['retry-after']).toMatch(/^\d+$/);
    expect(last.headers['ratelimit-policy']).toBe('"api-ip";q=3;w=60');
    expect(last.headers['ratelimit']).toMatch(/^"api-ip";r=0;t=\d+$/);
    expect(last.body.code).toBe('rate_limited');
    expect(users.hits).toHaveLength(3);
  });

  /** A gateway in front of a stand-in auth that lets one request a minute through per listed route class. */
  async function authGatewayLimiting(routeClasses: Array<'login' | 'oauth' | 'token'>) {
    const auth = await upstream('auth');
    const base = defaultGatewayConfig({ pools: {} }).rateLimits;
    const perIp = { ...base.perIp };
    for (const routeClass of routeClasses)
      perIp[routeClass] = { name: `${routeClass}-ip`, limit: 1, windowSeconds: 60 };
    const gw = await gateway({ pools: { auth: { blue: [auth.url] } }, rateLimits: { ...base, perIp } });
    return { auth, gw };
  }

  it('shows a browser on the login pages a page when the edge refuses it, and keeps problem+json elsewhere', async () => {
    const { gw } = await authGatewayLimiting(['login', 'oauth']);
    const html = 'text/html,application/xhtml+xml';
    expect((await request(gw.app.server).get('/login').set('accept', html)).status).toBe(200);
    const page = await request(gw.app.server).get('/login').set('accept', html);
    expect(page.status).toBe(429);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['retry-after']).toMatch(/^\d+$/);
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.text).toContain('<h1>Too Many Requests</h1>');
    expect(page.text).toMatch(/Wait \d+ seconds and try again\./);
    // An API client on the same page gets the problem document; so does a browser on an API route.
    const api = await request(gw.app.server).get('/login').set('accept', 'application/json');
    expect(api.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(api.body.code).toBe('rate_limited');
    // The authorization endpoint is a page too; discovery (same route class) is not.
    expect((await request(gw.app.server).get('/oauth2/authorize').set('accept', html)).status).toBe(200);
    const authorize = await request(gw.app.server).get('/oauth2/authorize').set('accept', html);
    expect(authorize.status).toBe(429);
    expect(authorize.headers['content-type']).toMatch(/^text\/html/);
    const discovery = await request(gw.app.server)
      .get('/.well-known/openid-configuration')
      .set('accept', html);
    expect(discovery.status).toBe(429);
    expect(discovery.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('answers 429 on the token, introspection, revocation and userinfo endpoints as OAuth error JSON', async () => {
    // OAuth client libraries read RFC 6749 §5.2 JSON there; a problem document is an "unexpected response".
    const { auth, gw } = await authGatewayLimiting(['token', 'oauth']);
    const send = (path: string) => request(gw.app.server).post(path).type('form').send({ token: 'x' });
    expect((await send('/oauth2/token')).status).toBe(200);
    expect((await send('/oauth2/introspect')).status).toBe(200);
    for (const path of ['/oauth2/token', '/oauth2/introspect', '/oauth2/revoke', '/oauth2/userinfo']) {
      const res = await send(path);
      expect(res.status, path).toBe(429);
      expect(res.headers['content-type'], path).toMatch(/^application\/json/);
      expect(res.headers['cache-control'], path).toBe('no-store');
      expect(res.headers['retry-after'], path).toMatch(/^\d+$/);
      expect(res.headers['ratelimit'], path).toMatch(/^"(token|oauth)-ip";r=0;t=\d+$/);
      expect(res.body, path).toEqual({
        error: 'temporarily_unavailable',
        error_description: 'too many requests; retry later',
      });
    }
    expect(auth.hits).toHaveLength(2);
  });

  it('shares limits between two gateway instances through Redis', async () => {
    const users = await upstream('users');
    const prefix = testKeyPrefix('rl');
    const base = defaultGatewayConfig({ pools: {} }).rateLimits;
    const config = {
      pools: { users: { blue: [users.url] } },
      rateLimits: {
        ...base,
        perIp: { ...base.perIp, api: { name: 'api-ip', limit: 10, windowSeconds: 60 } },
      },
    };
    const r1 = await connectRedis(TEST_REDIS_URL);
    const r2 = await connectRedis(TEST_REDIS_URL);
    redisClients.push(r1, r2);
    const g1 = await gateway(config, { redis: r1, prefix });
    const g2 = await gateway(config, { redis: r2, prefix });
    let allowed = 0;
    for (let i = 0; i < 12; i++) {
      const res = await request((i % 2 ? g1 : g2).app.server).get('/v1/users');
      if (res.status === 200) allowed++;
    }
    expect(allowed).toBe(10);
  });

  it('fails open by default when Redis is down, and closed when configured', async () => {
    const users = await upstream('users');
    const dead = await connectRedis('redis://127.0.0.1:1', { readyTimeoutMs: 100 });
    redisClients.push(dead);
    const open = await gateway({ pools: { users: { blue: [users.url] } } }, { redis: dead });
    expect((await request(open.app.server).get('/v1/users')).status).toBe(200);
    expect((await request(open.app.server).get('/metrics')).text).toMatch(
      /tessera_rate_limiter_errors_total\{outcome="fail_open",service="gateway"\} [1-9]/,
    );
    const base = defaultGatewayConfig({ pools: {} }).rateLimits;
    const closed = await gateway(
      { pools: { users: { blue: [users.url] } }, rateLimits: { ...base, failOpen: false } },
      { redis: dead },
    );
    expect((await request(closed.app.server).get('/v1/users')).status).toBe(503);
  });
});

describe('edge protection', () => {
  it('checks the access token on /v1 at the edge', async () => {
    const users = await upstream('users');
    const gw = await gateway({ pools: { users: { blue: [users.url] } } }, { edge: true });
    const missing = await request(gw.app.server).get('/v1/users');
    expect(missing.status).toBe(401);
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="tessera"');
    expect(
      (await request(gw.app.server).get('/v1/users').set('authorization', 'Bearer not.a.jwt')).status,
    ).toBe(401);
    expect(users.hits).toHaveLength(0);
    const ok = await request(gw.app.server)
      .get('/v1/users')
      .set('authorization', `Bearer ${await issuer!.mint()}`);
    expect(ok.status).toBe(200);
    expect(users.hits[0]!.headers.authorization).toMatch(/^Bearer /);
  });

  it('lets a plain OPTIONS through without a token: the service answers it with Allow before any authentication', async () => {
    const users = await upstream('users');
    const gw = await gateway({ pools: { users: { blue: [users.url] } } }, { edge: true });
    const res = await request(gw.app.server).options('/v1/users');
    expect(res.status).not.toBe(401);
    expect(users.hits).toHaveLength(1);
    expect(users.hits[0]!.method).toBe('OPTIONS');
    // Every other method still needs the token.
    expect((await request(gw.app.server).delete('/v1/users')).status).toBe(401);
    expect(users.hits).toHaveLength(1);
  });

  it('charges requests refused for their token to the client address, so bad-token floods are limited', async () => {
    const users = await upstream('users');
    const base = defaultGatewayConfig({ pools: {} }).rateLimits;
    const gw = await gateway(
      {
        pools: { users: { blue: [users.url] } },
        rateLimits: {
          ...base,
          perIp: { ...base.perIp, api: { name: 'api-ip', limit: 3, windowSeconds: 60 } },
        },
      },
      { edge: true },
    );
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await request(gw.app.server).get('/v1/users').set('authorization', 'Bearer not.a.jwt');
      statuses.push(res.status);
      if (res.status === 401) expect(res.headers['ratelimit-policy']).toBe('"api-ip";q=3;w=60');
      else expect(res.headers['retry-after']).toBeDefined();
    }
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    expect(users.hits).toHaveLength(0);
  });

  it('limits each user and each client named by the verified token, independently of the address', async () => {
    const users = await upstream('users');
    const base = defaultGatewayConfig({ pools: {} }).rateLimits;
    const gw = await gateway(
      {
        pools: { users: { blue: [users.url] } },
        rateLimits: {
          ...base,
          perUser: { name: 'user', limit: 2, windowSeconds: 60 },
          perClient: { name: 'client', limit: 3, windowSeconds: 60 },
        },
      },
      { edge: true },
    );
    const get = async (claims: Record<string, unknown>) =>
      request(gw.app.server)
        .get('/v1/users')
        .set('authorization', `Bearer ${await issuer!.mint(claims)}`);
    const alice = { sub: 'user-alice', client_id: 'app-1' };
    expect((await get(alice)).status).toBe(200);
    expect((await get(alice)).status).toBe(200);
    const third = await get(alice);
    expect(third.status).toBe(429);
    expect(third.headers['ratelimit-policy']).toBe('"user";q=2;w=60');
    // Another user of the same client still passes, until the client's own limit (3: a refused
    // request is not charged to any of its keys).
    expect((await get({ sub: 'user-bob', client_id: 'app-1' })).status).toBe(200);
    const overClient = await get({ sub: 'user-carol', client_id: 'app-1' });
    expect(overClient.status).toBe(429);
    expect(overClient.headers['ratelimit-policy']).toBe('"client";q=3;w=60');
    // A different client is not affected.
    expect((await get({ sub: 'user-dave', client_id: 'app-2' })).status).toBe(200);
  });

  it('refuses several Authorization headers at the edge with 400 invalid_request', async () => {
    const users = await upstream('users');
    const gw = await gateway({ pools: { users: { blue: [users.url] } } }, { edge: true });
    await gw.app.listen({ host: '127.0.0.1', port: 0 });
    const token = await issuer!.mint();
    const host = `127.0.0.1:${(gw.app.server.address() as AddressInfo).port}`;
    const send = (...authorization: string[]) =>
      new Promise<{ status: number; wwwAuthenticate: string | undefined; body: string }>(
        (resolve, reject) => {
          // A flat header list (Node then adds no Host): one `Authorization` line per value, a
          // real duplicate on the wire.
          const headers = ['host', host, ...authorization.flatMap((value) => ['authorization', value])];
          const req = httpRequest(`http://${host}/v1/users`, { headers, agent: false }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => (body += c));
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 0,
                wwwAuthenticate: res.headers['www-authenticate'],
                body,
              }),
            );
          });
          req.on('error', reject);
          req.end();
        },
      );
    // The first header is a valid token: Node's `headers.authorization` alone would have let it through.
    const twice = await send(`Bearer ${token}`, 'Bearer another');
    expect(twice.status).toBe(400);
    expect(twice.wwwAuthenticate).toContain('error="invalid_request"');
    expect(JSON.parse(twice.body).code).toBe('invalid_request');
    const same = await send(`Bearer ${token}`, `Bearer ${token}`);
    expect(same.status).toBe(400);
    expect(users.hits).toHaveLength(0);
    expect((await send(`Bearer ${token}`)).status).toBe(200);
    expect(users.hits).toHaveLength(1);
  });

  it('refuses bodies over the route class limit before reaching the upstream', async () => {
    const auth = await upstream('auth');
    const gw = await gateway({ pools: { auth: { blue: [auth.url] } } });
    const res = await request(gw.app.server)
      .post('/oauth2/token')
      .type('form')
      .send('x='.padEnd(20_000, 'a'));
    expect(res.status).toBe(413);
    // The token endpoint's clients read RFC 6749 §5.2 JSON, so the edge answers in that form.
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({
      error: 'invalid_request',
      error_description: 'the request body is too large',
    });
    const userinfo = await request(gw.app.server)
      .post('/oauth2/userinfo')
      .type('form')
      .send('x='.padEnd(20_000, 'a'));
    expect(userinfo.status).toBe(413);
    expect(userinfo.headers['www-authenticate']).toContain('error="invalid_request"');
    expect(userinfo.body.error).toBe('invalid_request');
    // Elsewhere an edge refusal is a problem document.
    const login = await request(gw.app.server).post('/login').type('form').send('x='.padEnd(40_000, 'a'));
    expect(login.status).toBe(413);
    expect(login.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(login.body.code).toBe('payload_too_large');
    expect(auth.hits).toHaveLength(0);
  });

  it('refuses too many headers, oversized headers and ambiguous framing before any upstream sees them', async () => {
    const users = await upstream('users');
    const gw = await gateway({ pools: { users: { blue: [users.url] } } });
    await gw.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (gw.app.server.address() as AddressInfo).port;
    const raw = (text: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => socket.write(text));
        let got = '';
        const done = () => {
          socket.destroy();
          resolve(got.split('\r\n', 1)[0] ?? '');
        };
        socket.on('data', (chunk: Buffer) => {
          got += chunk.toString('latin1');
          if (got.includes('\r\n')) done();
        });
        socket.on('close', done);
        socket.on('error', reject);
        socket.setTimeout(5_000, () => socket.destroy(new Error('no answer')));
      });
    const many = Array.from({ length: 101 }, (_, i) => `x-h${i}: v\r\n`).join('');
    expect(await raw(`GET /v1/users HTTP/1.1\r\nhost: a\r\n${many}\r\n`)).toMatch(/^HTTP\/1\.1 431 /);
    expect(await raw(`GET /v1/users HTTP/1.1\r\nhost: a\r\nx-big: ${'b'.repeat(20_000)}\r\n\r\n`)).toMatch(
      /^HTTP\/1\.1 431 /,
    );
    expect(
      await raw(
        'POST /v1/users HTTP/1.1\r\nhost: a\r\ncontent-length: 4\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n',
      ),
    ).toMatch(/^HTTP\/1\.1 400 /);
    expect(users.hits).toHaveLength(0);
    // The same connection style with sane headers does reach the upstream (the probe above is real).
    expect(await raw('GET /v1/users HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n')).toMatch(
      /^HTTP\/1\.1 200 /,
    );
    expect(users.hits).toHaveLength(1);
  });

  it('reads a chunked body up to the limit before forwarding it: over it is a 413 the upstream never sees', async () => {
    const auth = await upstream('auth');
    const gw = await gateway({ pools: { auth: { blue: [auth.url] } } });
    await gw.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (gw.app.server.address() as AddressInfo).port;
    const postChunked = (bytes: number) =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest(
          {
            host: '127.0.0.1',
            port,
            method: 'POST',
            path: '/oauth2/token',
            headers: { 'content-type': 'application/x-www-form-urlencoded', 'transfer-encoding': 'chunked' },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        for (let sent = 0; sent < bytes; sent += 1_000) req.write('a'.repeat(Math.min(1_000, bytes - sent)));
        req.end();
      });
    expect(await postChunked(20_000)).toBe(413);
    expect(auth.hits).toHaveLength(0);
    expect(await postChunked(3_000)).toBe(200);
    expect(auth.hits).toHaveLength(1);
    expect(auth.hits[0]!.headers['content-length']).toBe('3000');
  });

  it('does not hold a client that leaves mid-body against the upstream: no error, no circuit strike, no report', async () => {
    const auth = await upstream('auth');
    const gw = await gateway({ pools: { auth: { blue: [auth.url] } } });
    await gw.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (gw.app.server.address() as AddressInfo).port;
    // Announces 3,000 bytes, sends a few, then goes away (a phone losing its network mid-upload);
    // chunked too, which the edge reads whole before forwarding. More than the breaker's threshold.
    const leave = (framing: string) =>
      new Promise<void>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => {
          socket.write(
            `POST /oauth2/token HTTP/1.1\r\nhost: a\r\ncontent-type: application/x-www-form-urlencoded\r\n${framing}\r\n`,
          );
          socket.write(framing.startsWith('content-length') ? 'grant_type=client' : '5\r\ngrant\r\n');
          setTimeout(() => socket.destroy(), 100);
        });
        socket.on('close', () => resolve());
        socket.on('error', () => resolve());
      });
    for (let i = 0; i < 4; i++) await leave('content-length: 3000\r\n');
    const hitsBefore = auth.hits.length;
    for (let i = 0; i < 2; i++) await leave('transfer-encoding: chunked\r\n');
    // An unfinished chunked body is never forwarded, not even truncated.
    expect(auth.hits.length).toBe(hitsBefore);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const metrics = (await request(gw.app.server).get('/metrics')).text;
    expect(metrics).not.toMatch(/tessera_upstream_errors_total\{upstream="auth"/);
    expect(metrics).not.toMatch(/tessera_errors_reported_total\{[^}]*\} [1-9]/);
    expect(metrics).toMatch(
      /tessera_upstream_requests_total\{upstream="auth",status="client_closed",service="gateway"\} 4/,
    );
    expect(metrics).toMatch(
      /tessera_upstream_circuit_state\{upstream="auth",instance="[^"]+",service="gateway"\} 0/,
    );
    // The instance still takes requests.
    const res = await request(gw.app.server).post('/oauth2/token').type('form').send({ grant_type: 'x' });
    expect(res.status).toBe(200);
    expect(res.body.from).toBe('auth');
  });

  it('forwards a body sent with Expect: 100-continue: the edge answers the 100, the upstream gets the body', async () => {
    const auth = await upstream('auth');
    const gw = await gateway({ pools: { auth: { blue: [auth.url] } } });
    await gw.app.listen({ host: '127.0.0.1', port: 0 });
    const port = (gw.app.server.address() as AddressInfo).port;
    // What curl does for a body over 1 KiB: send the headers, wait for 100 Continue, then the body.
    const answer = await new Promise<{ status: number; continued: boolean }>((resolve, reject) => {
      let continued = false;
      const body = `grant_type=client_credentials&pad=${'x'.repeat(3_000)}`;
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/oauth2/token',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'content-length': Buffer.byteLength(body),
            expect: '100-continue',
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, continued }));
        },
      );
      req.on('continue', () => {
        continued = true;
        req.end(body);
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    expect(answer).toEqual({ status: 200, continued: true });
    expect(auth.hits).toHaveLength(1);
    expect(auth.hits[0]!.headers.expect).toBeUndefined();
    expect(auth.hits[0]!.headers['content-length']).toBe(
      String(3_000 + 'grant_type=client_credentials&pad='.length),
    );
  });
});

describe('configuration reload and TLS', () => {
  it('moves traffic to the pools of a reloaded configuration (SIGHUP path)', async () => {
    const a = await upstream('a');
    const b = await upstream('b');
    const gw = await gateway({ pools: { users: { blue: [a.url] } } });
    expect((await request(gw.app.server).get('/v1/users')).body.from).toBe('a');
    await gw.reload(defaultGatewayConfig({ healthIntervalMs: 60_000, pools: { users: { blue: [b.url] } } }));
    expect((await request(gw.app.server).get('/v1/users')).body.from).toBe('b');
  });

  it('refuses a reload that would move traffic to a set with no healthy instance, and keeps serving', async () => {
    const blue = await upstream('blue');
    const green = await upstream('green');
    green.ready = false;
    const gw = await gateway({ pools: { users: { blue: [blue.url] } } });
    const next = defaultGatewayConfig({
      healthIntervalMs: 60_000,
      pools: { users: { blue: [blue.url], green: [green.url], active: 'green' } },
    });
    await expect(gw.reload(next)).rejects.toThrow(/no healthy instance/);
    expect((await request(gw.app.server).get('/v1/users')).body.from).toBe('blue');
    expect(gw.pools.get('users')!.active).toBe('blue');
    green.ready = true;
    await gw.reload(next);
    expect((await request(gw.app.server).get('/v1/users')).body.from).toBe('green');
    // A reload that leaves the active instances as they are applies even while they are down.
    green.ready = false;
    await gw.checkHealth();
    await expect(gw.reload(next)).resolves.toBeUndefined();
  });

  it('terminates HTTPS with the configured certificate and sends HSTS', async () => {
    const { execFileSync } = await import('node:child_process');
    const { mkdtempSync, readFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(`${tmpdir()}/tessera-tls-`);
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-keyout',
        `${dir}/key.pem`,
        '-out',
        `${dir}/cert.pem`,
      ],
      { stdio: 'ignore' },
    );
    const users = await upstream('users');
    const gw = await gateway({
      pools: { users: { blue: [users.url] } },
      https: { key: readFileSync(`${dir}/key.pem`), cert: readFileSync(`${dir}/cert.pem`) },
    });
    await gw.app.listen({ host: '127.0.0.1', port: 0 });
    const { Agent, request: undiciRequest } = await import('undici');
    const res = await undiciRequest(
      `https://127.0.0.1:${(gw.app.server.address() as AddressInfo).port}/v1/users`,
      {
        dispatcher: new Agent({ connect: { rejectUnauthorized: false } }),
      },
    );
    expect(res.statusCode).toBe(200);
    expect(res.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    expect(((await res.body.json()) as { from: string }).from).toBe('users');
    expect(users.hits[0]!.headers['x-forwarded-proto']).toBe('https');
  });
});

describe('blue/green', () => {
  it('switches blue→green→blue under continuous load with zero failed requests, new requests reaching only the active set', async () => {
    const blue = await upstream('blue');
    const green = await upstream('green');
    // The load (up to 2,000 requests from one address) must stay clear of the API's per-IP limit
    // (1,200 a minute by default), or a fast machine would count 429s as failed requests.
    const limits = defaultGatewayConfig({ pools: {} }).rateLimits;
    const gw = await gateway({
      pools: { users: { blue: [blue.url], green: [green.url] } },
      rateLimits: {
        ...limits,
        perIp: { ...limits.perIp, api: { name: 'api-ip', limit: 100_000, windowSeconds: 60 } },
      },
    });
    await gw.app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(gw.app.server.address() as AddressInfo).port}`;
    let failures = 0;
    let running = true;
    const load = (async () => {
      // Bounded client: 4 workers, stopped by the test, at most ~2000 requests.
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          for (let n = 0; running && n < 500; n++) {
            const res = await fetch(`${base}/v1/users`).catch(() => undefined);
            if (!res || res.status !== 200) failures++;
            await res?.arrayBuffer();
          }
        }),
      );
    })();
    const countAfterSwitch = async (target: 'blue' | 'green') => {
      await gw.switchPool('users', target);
      const snapshot = { blue: blue.hits.length, green: green.hits.length };
      await new Promise((resolve) => setTimeout(resolve, 150));
      // Requests already in flight at the switch may still land on the old set; allow those.
      const other = target === 'blue' ? 'green' : 'blue';
      const otherState = other === 'blue' ? blue : green;
      const otherLate = otherState.hits.length - snapshot[other];
      expect(otherLate).toBeLessThanOrEqual(4);
      return snapshot;
    };
    await new Promise((resolve) => setTimeout(resolve, 100));
    await countAfterSwitch('green');
    const greenBefore = green.hits.length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(green.hits.length).toBeGreaterThan(greenBefore);
    await countAfterSwitch('blue');
    running = false;
    await load;
    expect(failures).toBe(0);
  });

  it('refuses to switch to an unhealthy set', async () => {
    const blue = await upstream('blue');
    const green = await upstream('green');
    green.ready = false;
    const gw = await gateway({ pools: { users: { blue: [blue.url], green: [green.url] } } });
    await expect(gw.switchPool('users', 'green')).rejects.toThrow(/no healthy instance/);
    expect((await request(gw.app.server).get('/v1/users')).body.from).toBe('blue');
  });

  it('asks for METRICS_TOKEN on /metrics when it is set, never proxying /metrics', async () => {
    const users = await upstream('users');
    const config = gatewayConfigFromEnv(
      loadConfig(gatewayConfigSpec, { GATEWAY_USERS_UPSTREAMS: users.url, METRICS_TOKEN: 'm-token-5678' }),
    );
    expect(config.metricsToken).toBe('m-token-5678');
    const gw = await gateway({ pools: { users: { blue: [users.url] } }, metricsToken: config.metricsToken });
    expect((await request(gw.app.server).get('/metrics')).status).toBe(401);
    const scraped = await request(gw.app.server).get('/metrics').set('authorization', 'Bearer m-token-5678');
    expect(scraped.status).toBe(200);
    expect(scraped.text).toContain('tessera_upstream');
    expect(users.hits).toHaveLength(0);
  });

  it('protects the switch endpoint with the admin token', async () => {
    const blue = await upstream('blue');
    const green = await upstream('green');
    const gw = await gateway({
      pools: { users: { blue: [blue.url], green: [green.url] } },
      adminToken: 'a-long-admin-token',
    });
    expect((await request(gw.app.server).post('/_gateway/pools/users/switch?to=green')).status).toBe(401);
    expect(
      (
        await request(gw.app.server)
          .post('/_gateway/pools/users/switch?to=green')
          .set('authorization', 'Bearer wrong')
      ).status,
    ).toBe(401);
    const ok = await request(gw.app.server)
      .post('/_gateway/pools/users/switch?to=green')
      .set('authorization', 'Bearer a-long-admin-token');
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ pool: 'users', active: 'green' });
    expect((await request(gw.app.server).get('/v1/users')).body.from).toBe('green');
    // Parameters are schema-checked, after the token: nothing is learned without it.
    expect((await request(gw.app.server).post('/_gateway/pools/users/switch?to=purple')).status).toBe(401);
    for (const url of [
      '/_gateway/pools/users/switch?to=purple',
      '/_gateway/pools/users/switch',
      '/_gateway/pools/users/switch?to=blue&extra=1',
      `/_gateway/pools/${'p'.repeat(65)}/switch?to=blue`,
    ]) {
      const bad = await request(gw.app.server).post(url).set('authorization', 'Bearer a-long-admin-token');
      expect(bad.status, url).toBe(400);
      expect(bad.headers['content-type'], url).toContain('application/problem+json');
    }
    const unknown = await request(gw.app.server)
      .post('/_gateway/pools/nope/switch?to=blue')
      .set('authorization', 'Bearer a-long-admin-token');
    expect(unknown.status).toBe(404);
  });
});
