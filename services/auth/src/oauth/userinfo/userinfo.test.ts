import { randomUUID } from 'node:crypto';
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
