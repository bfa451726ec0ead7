import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createHttpServer, createLogger } from '@tessera/kernel';
import cookie from '@fastify/cookie';
import { csrfOf, startFlowServer, testClient, type FlowServer } from '../flows/testing.ts';
import { authorizeParams, browser } from '../flows/testing-http.ts';
import { SessionCookie } from '../sessions/cookie.ts';

const PASSWORD = 'correct horse battery staple';
const servers: FlowServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function start(options: Parameters<typeof startFlowServer>[0]): Promise<FlowServer> {
  const server = await startFlowServer(options);
  servers.push(server);
  return server;
}

async function loginForm(server: FlowServer) {
  const clientId = `client-${randomUUID()}`;
  await server.clients.add(testClient({ clientId }));
  const agent = browser(server);
  const startRes = await agent.get('/oauth2/authorize').query(authorizeParams(clientId).query);
  const page = await agent.get(startRes.headers.location as string);
  const interaction =
    new URL(startRes.headers.location as string, server.url).searchParams.get('interaction') ?? '';
  const post = (email: string, password: string) =>
    agent
      .post('/login')
      .type('form')
      .send({ csrf: csrfOf(page.text), interaction, email, password });
  return { post };
}

describe('login brute-force guard', () => {
  it('delays attempts once an account has failed repeatedly', async () => {
    const server = await start({
      config: { loginGuard: { accountDelayAfter: 2, baseDelayMs: 300, maxDelayMs: 300 } },
    });
    const email = `${randomUUID()}@example.com`;
    server.users.add(email, PASSWORD);
    const { post } = await loginForm(server);
    const timed = async () => {
      const started = performance.now();
      const res = await post(email, 'wrong');
      return { status: res.status, ms: performance.now() - started };
    };
    const first = await timed();
    await timed();
    const delayed = await timed();
    expect(first.status).toBe(401);
    expect(first.ms).toBeLessThan(250);
    expect(delayed.status).toBe(401);
    expect(delayed.ms).toBeGreaterThanOrEqual(290);
  });

  it('locks an IP that fails across many accounts, whatever the account', async () => {
    const server = await start({ config: { loginGuard: { ipLockAfter: 5, accountLockAfter: 100 } } });
    const email = `${randomUUID()}@example.com`;
    server.users.add(email, PASSWORD);
    const { post } = await loginForm(server);
    for (let i = 0; i < 5; i++) expect((await post(`${randomUUID()}@example.com`, 'guess')).status).toBe(401);
    const locked = await post(email, PASSWORD);
    expect(locked.status).toBe(429);
    // Only the visible message is checked: random nonces and CSRF values elsewhere in the page may spell "ip".
    const message = /<p class="error"[^>]*>([^<]*)<\/p>/.exec(locked.text)?.[1];
    expect(message).toContain('Too many failed sign-in attempts');
    expect(message).not.toMatch(/\bIP\b|address|account/i);
  });

  it('keeps the counters in Redis when Redis is configured', async () => {
    const server = await start({ redis: true, config: { loginGuard: { accountLockAfter: 3 } } });
    const email = `${randomUUID()}@example.com`;
    server.users.add(email, PASSWORD);
    const { post } = await loginForm(server);
    for (let i = 0; i < 3; i++) expect((await post(email, 'wrong')).status).toBe(401);
    expect((await post(email, PASSWORD)).status).toBe(429);
    const keys = await server.redis!.keys(`${server.redisKeyPrefix}*`);
    expect(
      keys.sort().map((k) => k.slice(server.redisKeyPrefix!.length).split(':').slice(0, 2).join(':')),
    ).toEqual(['login:account', 'login:ip']);
    const ttl = await server.redis!.pttl(keys[0]!);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(15 * 60 * 1000);
    // The stored key names never contain the email itself.
    expect(keys.some((k) => k.includes(email))).toBe(false);
  });
});

describe('session cookie on an https issuer', () => {
  const app = createHttpServer({
    name: 'cookie-test',
    logger: createLogger({ name: 'cookie-test', level: 'silent' }),
  });
  afterAll(() => app.close());

  it('is Secure, HttpOnly, SameSite=Lax, Path=/ and uses the __Host- prefix', async () => {
    const sessionCookie = new SessionCookie('https://id.example.com');
    await app.register(cookie);
    app.get('/set', (_request, reply) => {
      sessionCookie.set(reply, 'token-value', 3600);
      return reply.send({ ok: true });
    });
    const res = await app.inject({ url: '/set' });
    const header = String(res.headers['set-cookie']);
    expect(header).toMatch(/^__Host-tessera_session=token-value;/);
    expect(header).toContain('Secure');
    expect(header).toContain('HttpOnly');
    expect(header).toContain('SameSite=Lax');
    expect(header).toContain('Path=/');
    expect(header).not.toContain('Domain');
    expect(header).toContain('Max-Age=3600');
  });
});
