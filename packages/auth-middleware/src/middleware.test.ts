import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import express from 'express';
import request from 'supertest';
import { createTestIssuer, type TestIssuer } from './testing.ts';
import { createTokenVerifier } from './verifier.ts';
import { authenticate, fastifyAuth, requirePermissions, requireScopes } from './fastify.ts';
import { expressAuth } from './express.ts';

let issuer: TestIssuer;
let fastify: FastifyInstance;
let expressApp: express.Express;

beforeAll(async () => {
  issuer = await createTestIssuer();
  const verifier = createTokenVerifier({
    jwksUrl: issuer.jwksUrl,
    issuer: issuer.issuer,
    audience: 'tessera-api',
  });
  fastify = Fastify();
  await fastify.register(fastifyAuth, { verifier });
  fastify.get('/me', { preHandler: authenticate }, async (req) => ({ sub: req.auth?.sub }));
  fastify.get('/scoped', { preHandler: requireScopes('users:read') }, async () => ({ ok: true }));
  fastify.get('/admin', { preHandler: requirePermissions('users:write') }, async () => ({ ok: true }));
  await fastify.listen({ host: '127.0.0.1', port: 0 });
  expressApp = express();
  expressApp.get('/admin', expressAuth({ verifier, permissions: ['users:write'] }), (req, res) => {
    res.json({ sub: (res.locals.auth as { sub: string }).sub });
  });
});
afterAll(async () => {
  await fastify.close();
  await issuer.close();
});

describe('Fastify guards', () => {
  it('answers a request without a token with 401 and a bare Bearer challenge', async () => {
    const res = await request(fastify.server).get('/me');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="tessera"');
    expect(res.headers['content-type']).toContain('application/problem+json');
  });

  it('accepts the scheme name case-insensitively', async () => {
    const token = await issuer.mint({ sub: 'u-1' });
    const res = await request(fastify.server).get('/me').set('authorization', `bearer ${token}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ sub: 'u-1' });
  });

  it('never accepts a token in the query string', async () => {
    const token = await issuer.mint();
    const res = await request(fastify.server).get(`/me?access_token=${token}`);
    expect(res.status).toBe(401);
  });

  it('answers an invalid token with 401 invalid_token and never echoes the token', async () => {
    const token = (await issuer.mint()).slice(0, -4) + 'AAAA';
    const res = await request(fastify.server).get('/me').set('authorization', `Bearer ${token}`);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(
      /^Bearer realm="tessera", error="invalid_token", error_description="/,
    );
    expect(JSON.stringify(res.body) + res.headers['www-authenticate']).not.toContain(token);
  });

  it('answers a missing scope with 403 insufficient_scope naming the scope', async () => {
    const token = await issuer.mint({ scope: 'openid' });
    const res = await request(fastify.server).get('/scoped').set('authorization', `Bearer ${token}`);
    expect(res.status).toBe(403);
    expect(res.headers['www-authenticate']).toContain('error="insufficient_scope"');
    expect(res.headers['www-authenticate']).toContain('scope="users:read"');
    const ok = await request(fastify.server)
      .get('/scoped')
      .set('authorization', `Bearer ${await issuer.mint({ scope: 'users:read' })}`);
    expect(ok.status).toBe(200);
  });

  it('requires every listed permission', async () => {
    const denied = await request(fastify.server)
      .get('/admin')
      .set('authorization', `Bearer ${await issuer.mint({ permissions: ['users:read'] })}`);
    expect(denied.status).toBe(403);
    const allowed = await request(fastify.server)
      .get('/admin')
      .set('authorization', `Bearer ${await issuer.mint({ permissions: ['users:write'] })}`);
    expect(allowed.status).toBe(200);
  });
});

describe('Express middleware', () => {
  it('applies the same 401, 403 and success semantics', async () => {
    expect((await request(expressApp).get('/admin')).status).toBe(401);
    const denied = await request(expressApp)
      .get('/admin')
      .set('authorization', `Bearer ${await issuer.mint({ permissions: [] })}`);
    expect(denied.status).toBe(403);
    expect(denied.headers['www-authenticate']).toContain('insufficient_scope');
    const allowed = await request(expressApp)
      .get('/admin')
      .set('authorization', `Bearer ${await issuer.mint({ sub: 'u-9', permissions: ['users:write'] })}`);
    expect(allowed.status).toBe(200);
    expect(allowed.body).toEqual({ sub: 'u-9' });
  });
});
