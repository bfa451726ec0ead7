import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import { createTestIssuer, type TestIssuer } from './testing.ts';
import { createTokenVerifier } from './verifier.ts';
import { expressAuth, type AuthenticatedRequest } from './express.ts';

let issuer: TestIssuer;
let app: express.Express;

beforeAll(async () => {
  issuer = await createTestIssuer();
  const verifier = createTokenVerifier({
    jwksUrl: issuer.jwksUrl,
    issuer: issuer.issuer,
    audience: 'tessera-api',
  });
  app = express();
  app.get('/me', expressAuth({ verifier }), (req, res) => {
    res.json({
      sub: (req as AuthenticatedRequest).auth?.sub,
      locals: (res.locals.auth as { sub: string }).sub,
    });
  });
  app.get('/reports', expressAuth({ verifier, scopes: ['reports:read'] }), (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/admin', expressAuth({ verifier, permissions: ['users:write'] }), (_req, res) => {
    res.json({ ok: true });
  });
  app.get(
    '/failing',
    expressAuth({ verifier: { verify: () => Promise.reject(new Error('bug')) } }),
    (_req, res) => {
      res.json({ ok: true });
    },
  );
  app.use((_err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(500).json({ handled: true });
  });
});
afterAll(() => issuer.close());

const bearer = async (claims: Record<string, unknown> = {}) => `Bearer ${await issuer.mint(claims)}`;

describe('expressAuth', () => {
  it('answers a request without a token with 401, a bare Bearer challenge and a problem body', async () => {
    const res = await request(app).get('/me');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="tessera"');
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(res.text)).toMatchObject({ code: 'missing_token', status: 401 });
  });

  it('puts the claims of a valid token on req.auth and res.locals.auth', async () => {
    const res = await request(app)
      .get('/me')
      .set('authorization', await bearer({ sub: 'u-9' }));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ sub: 'u-9', locals: 'u-9' });
  });

  it('accepts the scheme name in lower case', async () => {
    const res = await request(app)
      .get('/me')
      .set('authorization', `bearer ${await issuer.mint()}`);
    expect(res.status).toBe(200);
  });

  it('never takes a token from the query string', async () => {
    const res = await request(app).get(`/me?access_token=${await issuer.mint()}`);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="tessera"');
  });

  it('answers an invalid token with 401 invalid_token', async () => {
    const res = await request(app).get('/me').set('authorization', 'Bearer not.a.jwt');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(
      /^Bearer realm="tessera", error="invalid_token", error_description="/,
    );
    expect(JSON.parse(res.text)).toMatchObject({
      type: 'https://tessera.dev/problems/invalid-token',
      status: 401,
    });
  });

  it('answers a missing scope with 403 insufficient_scope and the scope attribute', async () => {
    const res = await request(app)
      .get('/reports')
      .set('authorization', await bearer({ scope: 'openid' }));
    expect(res.status).toBe(403);
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="tessera", error="insufficient_scope", error_description="the token lacks the scope reports:read", scope="reports:read"',
    );
    const ok = await request(app)
      .get('/reports')
      .set('authorization', await bearer({ scope: 'reports:read' }));
    expect(ok.status).toBe(200);
  });

  it('answers a missing permission with 403 insufficient_scope and lets the holder through', async () => {
    const denied = await request(app)
      .get('/admin')
      .set('authorization', await bearer({ permissions: [] }));
    expect(denied.status).toBe(403);
    expect(JSON.parse(denied.text)).toMatchObject({ code: 'insufficient_scope', status: 403 });
    const allowed = await request(app)
      .get('/admin')
      .set('authorization', await bearer({ permissions: ['users:write'] }));
    expect(allowed.status).toBe(200);
  });

  it('answers two Authorization headers with 400 invalid_request', async () => {
    const server: Server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const token = await issuer.mint();
    const res = await new Promise<{ status?: number; challenge?: string }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: (server.address() as AddressInfo).port,
          path: '/me',
          // Raw header lines, so the header can be sent twice; Node then adds no Host.
          headers: ['host', '127.0.0.1', 'authorization', `Bearer ${token}`, 'authorization', 'Bearer other'],
        },
        (response) => {
          response.resume();
          resolve({ status: response.statusCode, challenge: response.headers['www-authenticate'] });
        },
      );
      req.on('error', reject);
      req.end();
    });
    await new Promise((resolve) => server.close(resolve));
    expect(res.status).toBe(400);
    expect(res.challenge).toContain('error="invalid_request"');
  });

  it('hands errors other than token errors to the Express error handler', async () => {
    const res = await request(app).get('/failing').set('authorization', 'Bearer a.b.c');
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ handled: true });
  });

  it('refuses options that would break the challenge header', () => {
    const verifier = createTokenVerifier({
      jwksUrl: issuer.jwksUrl,
      issuer: issuer.issuer,
      audience: 'tessera-api',
    });
    expect(() => expressAuth({ verifier, scopes: ['a b'] })).toThrow(TypeError);
    expect(() => expressAuth({ verifier, realm: 'x"y' })).toThrow(TypeError);
  });
});
