import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request as httpRequest } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import request from 'supertest';
import { createTestIssuer, type TestIssuer } from './testing.ts';
import { createTokenVerifier, type TokenVerifier } from './verifier.ts';
import { authenticate, fastifyAuth, requirePermissions, requireScopes } from './fastify.ts';

let issuer: TestIssuer;
let app: FastifyInstance;
let verifyCalls = 0;

beforeAll(async () => {
  issuer = await createTestIssuer();
  const verifier = createTokenVerifier({
    jwksUrl: issuer.jwksUrl,
    issuer: issuer.issuer,
    audience: 'tessera-api',
  });
  const counting: TokenVerifier = {
    verify: (token) => {
      verifyCalls++;
      return verifier.verify(token);
    },
  };
  app = Fastify();
  await app.register(fastifyAuth, { verifier: counting });
  app.get('/open', async (req) => ({ auth: req.auth ?? null }));
  app.get('/me', { preHandler: authenticate }, async (req) => ({
    sub: req.auth?.sub,
    scopes: req.auth?.scopes,
  }));
  app.get('/reports', { preHandler: requireScopes('reports:read', 'reports:export') }, async () => ({
    ok: true,
  }));
  app.get('/admin', { preHandler: requirePermissions('users:write') }, async () => ({ ok: true }));
  app.get('/both', { preHandler: [authenticate, requireScopes('a'), requirePermissions('p')] }, async () => ({
    ok: true,
  }));
  // Routes in a child plugin use the instance decorators.
  await app.register(async (child) => {
    child.get('/child/me', { preHandler: child.requireAuth() }, async (req) => ({ sub: req.auth?.sub }));
    child.get('/child/scoped', { preHandler: child.requireScopes('a') }, async () => ({ ok: true }));
    child.get('/child/admin', { preHandler: child.requirePermissions('p') }, async () => ({ ok: true }));
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await app.close();
  await issuer.close();
});

const bearer = async (claims: Record<string, unknown> = {}) => `Bearer ${await issuer.mint(claims)}`;

/** GET with raw header lines, so one header can be sent twice (supertest merges them). Node adds no Host then. */
function rawGet(path: string, headers: string[]): Promise<{ status: number; challenge: string | undefined }> {
  const { port } = app.server.address() as { port: number };
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, path, headers: ['host', '127.0.0.1', ...headers] },
      (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, challenge: res.headers['www-authenticate'] });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('fastifyAuth guards', () => {
  it('answers a request without a token with 401, a bare Bearer challenge and a problem body', async () => {
    const res = await request(app.server).get('/me');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="tessera"');
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toEqual({
      type: 'https://tessera.dev/problems/missing-token',
      title: 'Unauthorized',
      status: 401,
      detail: 'an access token is required',
      code: 'missing_token',
      // The request's id, as in every other problem document, so a report can be traced.
      requestId: expect.any(String),
    });
  });

  it('accepts a valid token and exposes its claims on request.auth', async () => {
    const res = await request(app.server)
      .get('/me')
      .set('authorization', await bearer({ sub: 'u-1', scope: 'a b' }));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ sub: 'u-1', scopes: ['a', 'b'] });
  });

  it('accepts the scheme name in any case', async () => {
    const token = await issuer.mint({ sub: 'u-2' });
    for (const scheme of ['bearer', 'BEARER']) {
      const res = await request(app.server).get('/me').set('authorization', `${scheme} ${token}`);
      expect(res.status).toBe(200);
    }
  });

  it('never takes a token from the query string', async () => {
    const token = await issuer.mint();
    const res = await request(app.server).get(`/me?access_token=${token}`);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="tessera"');
  });

  it('treats another scheme like no token at all', async () => {
    const res = await request(app.server).get('/me').set('authorization', 'Basic dXNlcjpwYXNz');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="tessera"');
  });

  it('answers malformed Bearer credentials with 400 invalid_request', async () => {
    const res = await request(app.server).get('/me').set('authorization', 'Bearer a b');
    expect(res.status).toBe(400);
    expect(res.headers['www-authenticate']).toContain('error="invalid_request"');
    expect(res.body.code).toBe('invalid_request');
  });

  it('answers two Authorization headers with 400 invalid_request', async () => {
    const token = await issuer.mint();
    const res = await rawGet('/me', ['authorization', `Bearer ${token}`, 'authorization', `Bearer ${token}`]);
    expect(res.status).toBe(400);
    expect(res.challenge).toContain('error="invalid_request"');
  });

  it('answers an invalid token with 401 invalid_token and never echoes the token', async () => {
    const token = (await issuer.mint()).slice(0, -4) + 'AAAA';
    const res = await request(app.server).get('/me').set('authorization', `Bearer ${token}`);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="tessera", error="invalid_token", error_description="the token signature is invalid"',
    );
    expect(res.body).toMatchObject({ type: 'https://tessera.dev/problems/invalid-token', status: 401 });
    expect(res.text + res.headers['www-authenticate']).not.toContain(token.split('.')[1]);
  });

  it('answers an expired token with 401 and says so', async () => {
    const now = Math.floor(Date.now() / 1000);
    const res = await request(app.server)
      .get('/me')
      .set('authorization', await bearer({ iat: now - 900, nbf: now - 900, exp: now - 600 }));
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toContain('error_description="the token has expired"');
  });

  it('answers hostile kids and oversized tokens with 401, never 500', async () => {
    for (const kid of ['../../etc/passwd', "' OR '1'='1", 'k'.repeat(10 * 1024)]) {
      const token = await issuer.mint({}, { header: { kid } });
      const res = await request(app.server).get('/me').set('authorization', `Bearer ${token}`);
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('invalid_token');
    }
  });

  it('answers a missing scope with 403 insufficient_scope naming the required scopes', async () => {
    const res = await request(app.server)
      .get('/reports')
      .set('authorization', await bearer({ scope: 'reports:read' }));
    expect(res.status).toBe(403);
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="tessera", error="insufficient_scope", error_description="the token lacks the scope reports:export", scope="reports:read reports:export"',
    );
    expect(res.body).toEqual({
      type: 'https://tessera.dev/problems/insufficient-scope',
      title: 'Forbidden',
      status: 403,
      detail: 'the token lacks the scope reports:export',
      code: 'insufficient_scope',
      requestId: expect.any(String),
    });
  });

  it('lets a token with every required scope through', async () => {
    const res = await request(app.server)
      .get('/reports')
      .set('authorization', await bearer({ scope: 'openid reports:export reports:read' }));
    expect(res.status).toBe(200);
  });

  it('answers a missing permission with 403 insufficient_scope', async () => {
    const res = await request(app.server)
      .get('/admin')
      .set('authorization', await bearer({ scope: 'users:write', permissions: ['users:read'] }));
    expect(res.status).toBe(403);
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="tessera", error="insufficient_scope", error_description="the token lacks the permission users:write"',
    );
    expect(res.body.code).toBe('insufficient_scope');
  });

  it('lets a token holding the permission through', async () => {
    const res = await request(app.server)
      .get('/admin')
      .set('authorization', await bearer({ permissions: ['users:read', 'users:write'] }));
    expect(res.status).toBe(200);
  });

  it('answers 401 rather than 403 on a permission route when the token is missing', async () => {
    const res = await request(app.server).get('/admin');
    expect(res.status).toBe(401);
  });

  it('verifies the token once when several guards protect one route', async () => {
    const before = verifyCalls;
    const res = await request(app.server)
      .get('/both')
      .set('authorization', await bearer({ scope: 'a', permissions: ['p'] }));
    expect(res.status).toBe(200);
    expect(verifyCalls - before).toBe(1);
  });

  it('leaves request.auth undefined on unguarded routes, even with a token', async () => {
    const res = await request(app.server)
      .get('/open')
      .set('authorization', await bearer());
    expect(res.body).toEqual({ auth: null });
  });

  it('offers the guards as instance decorators usable in child plugins', async () => {
    expect((await request(app.server).get('/child/me')).status).toBe(401);
    const ok = await request(app.server)
      .get('/child/me')
      .set('authorization', await bearer({ sub: 'c' }));
    expect(ok.body).toEqual({ sub: 'c' });
    const scoped = await request(app.server)
      .get('/child/scoped')
      .set('authorization', await bearer());
    expect(scoped.status).toBe(403);
    const admin = await request(app.server)
      .get('/child/admin')
      .set('authorization', await bearer({ permissions: ['p'] }));
    expect(admin.status).toBe(200);
  });
});

describe('fastifyAuth configuration', () => {
  it('uses the configured realm in challenges, also for routes in child plugins', async () => {
    const other = Fastify();
    await other.register(fastifyAuth, {
      verifier: createTokenVerifier({ ...verifierOptions(), cache: { max: 0 } }),
      realm: 'orders',
    });
    await other.register(async (child) => {
      child.get('/x', { preHandler: authenticate }, async () => ({}));
    });
    const res = await other.inject({ url: '/x' });
    expect(res.headers['www-authenticate']).toBe('Bearer realm="orders"');
    await other.close();
  });

  it('answers 503 with Retry-After and no challenge when the issuer keys are unreachable', async () => {
    const other = Fastify();
    const verifier = createTokenVerifier({ ...verifierOptions(), jwksUrl: 'http://127.0.0.1:1/jwks.json' });
    await other.register(fastifyAuth, { verifier });
    other.get('/x', { preHandler: authenticate }, async () => ({}));
    const res = await other.inject({ url: '/x', headers: { authorization: await bearer() } });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect(res.json()).toMatchObject({ code: 'temporarily_unavailable', status: 503 });
    await other.close();
  });

  it('refuses a realm that could break the header, and scope names with spaces or quotes', async () => {
    const other = Fastify();
    await expect(
      other.register(fastifyAuth, { verifier: createTokenVerifier(verifierOptions()), realm: 'a"b' }),
    ).rejects.toThrow(TypeError);
    expect(() => requireScopes('users:read users:write')).toThrow(TypeError);
    expect(() => requirePermissions('a"b')).toThrow(TypeError);
    expect(() => requireScopes('')).toThrow(TypeError);
  });
});

function verifierOptions() {
  return { jwksUrl: issuer.jwksUrl, issuer: issuer.issuer, audience: 'tessera-api' };
}
