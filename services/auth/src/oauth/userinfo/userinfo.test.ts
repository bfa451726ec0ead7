import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { SignJWT, decodeJwt, generateKeyPair } from 'jose';
import { startFlowServer, testClient, type FlowServer, type TestUser } from '../../flows/testing.ts';
import { authorizeWithLogin, browser, redeem, tokens } from '../../flows/testing-http.ts';

const PASSWORD = 'correct horse battery staple';

let server: FlowServer;
beforeAll(async () => {
  server = await startFlowServer();
});
afterAll(() => server.close());

async function accessToken(scope: string): Promise<{ token: string; user: TestUser }> {
  const clientId = `client-${randomUUID()}`;
  await server.clients.add(testClient({ clientId }));
  const email = `${randomUUID()}@example.com`;
  const user = server.users.add(email, PASSWORD);
  const result = await authorizeWithLogin(browser(server), server, {
    clientId,
    email,
    password: PASSWORD,
    overrides: { scope },
  });
  return { token: tokens(await redeem(server, clientId, result)).access_token, user };
}

const userinfo = (token?: string) => {
  const req = request(server.url).get('/oauth2/userinfo');
  return token === undefined ? req : req.set('authorization', `Bearer ${token}`);
};

describe('GET /oauth2/userinfo', () => {
  it('returns sub with email and name as the scopes allow', async () => {
    const { token, user } = await accessToken('openid profile email');
    const res = await userinfo(token);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({
      sub: user.profile.id,
      email: user.profile.email,
      email_verified: true,
      name: user.profile.name,
    });
  });

  it('returns only sub for the openid scope alone', async () => {
    const { token, user } = await accessToken('openid');
    expect((await userinfo(token)).body).toEqual({ sub: user.profile.id });
  });

  it('also answers POST', async () => {
    const { token, user } = await accessToken('openid email');
    const res = await request(server.url).post('/oauth2/userinfo').set('authorization', `bearer ${token}`);
    expect(res.status).toBe(200);
    expect(res.body.email).toBe(user.profile.email);
  });

  it('answers 401 with a Bearer challenge without a token, and ignores a token in the query string', async () => {
    const { token } = await accessToken('openid');
    const res = await request(server.url).get('/oauth2/userinfo').query({ access_token: token });
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="tessera"');
  });

  it('answers a request without any credentials with a bare challenge and no error code (RFC 6750 §3.1)', async () => {
    for (const res of [
      await request(server.url).get('/oauth2/userinfo'),
      await request(server.url).post('/oauth2/userinfo'),
      await request(server.url).post('/oauth2/userinfo').type('form').send({ scope: 'openid' }),
    ]) {
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="tessera"');
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.text).toBe('');
    }
  });

  it('answers a malformed Authorization header with 400 invalid_request', async () => {
    const { token } = await accessToken('openid');
    for (const header of ['Bearer', 'Bearer ', `Basic ${token}`, `Bearer ${token} extra`]) {
      const res = await request(server.url).get('/oauth2/userinfo').set('authorization', header);
      expect(res.status, header).toBe(400);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="tessera", error="invalid_request"/);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body.error).toBe('invalid_request');
    }
    // Node keeps only the first Authorization header in `headers`; both must be noticed.
    const twice = await new Promise<number | undefined>((resolve, reject) => {
      const req = httpRequest(`${server.url}/oauth2/userinfo`, (res) => resolve(res.resume().statusCode));
      req.setHeader('authorization', [`Bearer ${token}`, `Bearer ${token}`]);
      req.on('error', reject).end();
    });
    expect(twice).toBe(400);
  });

  it('answers 403 insufficient_scope for a token without openid', async () => {
    const { token } = await accessToken('users:read');
    const res = await userinfo(token);
    expect(res.status).toBe(403);
    expect(res.headers['www-authenticate']).toContain('error="insufficient_scope"');
  });

  it('answers 401 invalid_token for a forged, expired or revoked token', async () => {
    const { token } = await accessToken('openid');
    const { privateKey } = await generateKeyPair('ES256');
    const claims = decodeJwt(token);
    const forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt' })
      .sign(privateKey);
    const forgedRes = await userinfo(forged);
    expect(forgedRes.status).toBe(401);
    expect(forgedRes.headers['www-authenticate']).toContain('error="invalid_token"');
    const unsigned = `${Buffer.from('{"alg":"none","typ":"at+jwt"}').toString('base64url')}.${token.split('.')[1]}.`;
    expect((await userinfo(unsigned)).status).toBe(401);
    await server.denylist.add(claims.jti as string, claims.exp as number);
    expect((await userinfo(token)).status).toBe(401);
    const { token: later } = await accessToken('openid');
    server.clock.advance(11 * 60 * 1000);
    expect((await userinfo(later)).status).toBe(401);
  });

  it('refuses an ID token used as an access token', async () => {
    const clientId = `client-${randomUUID()}`;
    await server.clients.add(testClient({ clientId }));
    const email = `${randomUUID()}@example.com`;
    server.users.add(email, PASSWORD);
    const result = await authorizeWithLogin(browser(server), server, { clientId, email, password: PASSWORD });
    const idToken = tokens(await redeem(server, clientId, result)).id_token ?? '';
    expect((await userinfo(idToken)).status).toBe(401);
  });

  it('answers 401 once the user is disabled', async () => {
    const { token, user } = await accessToken('openid');
    user.profile.status = 'disabled';
    expect((await userinfo(token)).status).toBe(401);
  });
});

describe('POST /oauth2/userinfo with a form body (RFC 6750 §2.2)', () => {
  const post = () => request(server.url).post('/oauth2/userinfo').type('form');

  it('accepts the access token as the access_token form parameter', async () => {
    const { token, user } = await accessToken('openid email');
    const res = await post().send({ access_token: token });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({ sub: user.profile.id, email: user.profile.email, email_verified: true });
  });

  it('ignores unknown form parameters', async () => {
    const { token, user } = await accessToken('openid');
    const res = await post().send({ access_token: token, claims: 'whatever' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ sub: user.profile.id });
  });

  it('validates a body token like a header token', async () => {
    const { token } = await accessToken('users:read');
    const scope = await post().send({ access_token: token });
    expect(scope.status).toBe(403);
    expect(scope.headers['www-authenticate']).toContain('error="insufficient_scope"');
    const forged = await post().send({ access_token: `${token.slice(0, -4)}AAAA` });
    expect(forged.status).toBe(401);
    expect(forged.headers['www-authenticate']).toContain('error="invalid_token"');
    const malformed = await post().send({ access_token: 'not a b64token' });
    expect(malformed.status).toBe(400);
    expect(malformed.headers['www-authenticate']).toContain('error="invalid_request"');
    expect(malformed.body.error).toBe('invalid_request');
  });

  it('refuses a token sent both in the header and in the body with 400 invalid_request', async () => {
    const { token } = await accessToken('openid');
    const res = await post().set('authorization', `Bearer ${token}`).send({ access_token: token });
    expect(res.status).toBe(400);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="tessera", error="invalid_request"/);
    expect(res.body.error).toBe('invalid_request');
  });

  it('refuses a repeated access_token parameter with 400 invalid_request', async () => {
    const { token } = await accessToken('openid');
    const res = await post().send(`access_token=${token}&access_token=${token}`);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
  });

  it('does not read a token from a JSON body', async () => {
    const { token } = await accessToken('openid');
    const res = await request(server.url).post('/oauth2/userinfo').send({ access_token: token });
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="tessera"');
  });

  it('refuses an oversized body', async () => {
    const res = await post().send({ access_token: 'a'.repeat(20 * 1024) });
    expect(res.status).toBe(413);
    expect(res.body.error).toBe('invalid_request');
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="tessera", error="invalid_request"/);
  });

  it('answers a NUL in the form with a Bearer invalid_request (WWW-Authenticate), not a problem document', async () => {
    const res = await post().send('access_token=abc%00def');
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body.error).toBe('invalid_request');
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="tessera", error="invalid_request"/);
  });
});
