import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, generateKeyPair } from 'jose';
import { rawQuery } from '@tessera/db';
import { csrfOf, startFlowServer, testClient, type FlowServer } from '../../flows/testing.ts';
import {
  authorizeParams,
  authorizeWithLogin,
  browser,
  redeem,
  refresh,
  tokens,
  type Browser,
  type Response,
} from '../../flows/testing-http.ts';

const PASSWORD = 'correct horse battery staple';
const POST_LOGOUT = 'http://127.0.0.1:5173/';

let server: FlowServer;
beforeAll(async () => {
  server = await startFlowServer();
});
afterAll(() => server.close());

interface SignedIn {
  agent: Browser;
  clientId: string;
  idToken: string;
  refreshToken: string;
}

async function signedIn(): Promise<SignedIn> {
  const clientId = `client-${randomUUID()}`;
  await server.clients.add(testClient({ clientId }));
  const email = `${randomUUID()}@example.com`;
  server.users.add(email, PASSWORD);
  const agent = browser(server);
  const result = await authorizeWithLogin(agent, server, { clientId, email, password: PASSWORD });
  const body = tokens(await redeem(server, clientId, result));
  return { agent, clientId, idToken: body.id_token ?? '', refreshToken: body.refresh_token ?? '' };
}

async function isSignedIn(s: SignedIn): Promise<boolean> {
  const res = await s.agent
    .get('/oauth2/authorize')
    .query(authorizeParams(s.clientId, { prompt: 'none' }).query);
  return new URL(res.headers.location as string).searchParams.has('code');
}

function expectNoRedirect(res: Response) {
  expect(res.status).toBe(400);
  expect(res.headers.location).toBeUndefined();
  expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
}

describe('RP-initiated logout', () => {
  it('ends the session with a valid id_token_hint and redirects to the registered URI with state', async () => {
    const s = await signedIn();
    const res = await s.agent
      .get('/oauth2/logout')
      .query({ id_token_hint: s.idToken, post_logout_redirect_uri: POST_LOGOUT, state: 'bye & back' });
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe(`${POST_LOGOUT}?state=bye+%26+back`);
    expect(String(res.headers['set-cookie'])).toMatch(/tessera_session=;.*Expires=Thu, 01 Jan 1970/);
    expect(await isSignedIn(s)).toBe(false);
    // Grants issued from the session die with it (SECURITY 14b).
    expect((await refresh(server, s.clientId, s.refreshToken)).body.error).toBe('invalid_grant');
  });

  it('invalidates the session server-side: the old cookie is worthless afterwards', async () => {
    const s = await signedIn();
    const cookies = await rawQuery<{ n: string }>(server.conn, 'select count(*) as n from auth.sessions');
    await s.agent
      .post('/oauth2/logout')
      .type('form')
      .send({ id_token_hint: s.idToken, client_id: s.clientId });
    const after = await rawQuery<{ n: string }>(server.conn, 'select count(*) as n from auth.sessions');
    expect(Number(after[0]?.n)).toBe(Number(cookies[0]?.n) - 1);
  });

  it('shows a signed-out page when no redirect is asked for', async () => {
    const s = await signedIn();
    const res = await s.agent.get('/oauth2/logout').query({ id_token_hint: s.idToken });
    expect(res.status).toBe(200);
    expect(res.text).toContain('You are signed out');
    expect(await isSignedIn(s)).toBe(false);
  });

  it('never redirects to a post_logout_redirect_uri that is not registered for the client', async () => {
    const s = await signedIn();
    const other = `client-${randomUUID()}`;
    await server.clients.add(
      testClient({ clientId: other, postLogoutRedirectUris: ['https://other.example/bye'] }),
    );
    for (const uri of [
      'https://evil.example/',
      '//evil.example/',
      `${POST_LOGOUT}?next=https://evil.example`,
      'http://127.0.0.1:5173',
      'https://other.example/bye',
      'javascript:alert(1)',
    ]) {
      expectNoRedirect(
        await s.agent
          .get('/oauth2/logout')
          .query({ id_token_hint: s.idToken, post_logout_redirect_uri: uri }),
      );
    }
    // Registered, but for another client than the hint's.
    expectNoRedirect(
      await s.agent
        .get('/oauth2/logout')
        .query({ client_id: other, id_token_hint: s.idToken, post_logout_redirect_uri: POST_LOGOUT }),
    );
    // No client identified at all.
    expectNoRedirect(await s.agent.get('/oauth2/logout').query({ post_logout_redirect_uri: POST_LOGOUT }));
    expect(await isSignedIn(s)).toBe(true);
  });

  it('refuses an id_token_hint not signed by this server', async () => {
    const s = await signedIn();
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT({ sub: 'x', aud: s.clientId })
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer(server.url)
      .sign(privateKey);
    expectNoRedirect(
      await s.agent
        .get('/oauth2/logout')
        .query({ id_token_hint: forged, post_logout_redirect_uri: POST_LOGOUT }),
    );
    expect(await isSignedIn(s)).toBe(true);
  });

  it('asks for confirmation without an id_token_hint, and logs out on the confirmed, CSRF-protected POST', async () => {
    const s = await signedIn();
    const page = await s.agent
      .get('/oauth2/logout')
      .query({ client_id: s.clientId, post_logout_redirect_uri: POST_LOGOUT, state: 'st' });
    expect(page.status).toBe(200);
    expect(page.text).toContain('Sign out?');
    expect(await isSignedIn(s)).toBe(true);
    const forged = await s.agent
      .post('/logout')
      .type('form')
      .send({ client_id: s.clientId, post_logout_redirect_uri: POST_LOGOUT });
    expect(forged.status).toBe(403);
    const foreign = await s.agent
      .post('/logout')
      .set('origin', 'https://evil.example')
      .type('form')
      .send({ csrf: csrfOf(page.text), client_id: s.clientId });
    expect(foreign.status).toBe(403);
    expect(await isSignedIn(s)).toBe(true);
    const confirmed = await s.agent
      .post('/logout')
      .type('form')
      .send({
        csrf: csrfOf(page.text),
        client_id: s.clientId,
        post_logout_redirect_uri: POST_LOGOUT,
        state: 'st',
      });
    expect(confirmed.status).toBe(303);
    expect(confirmed.headers.location).toBe(`${POST_LOGOUT}?state=st`);
    expect(await isSignedIn(s)).toBe(false);
  });

  it('re-checks the redirect on the confirmation POST', async () => {
    const s = await signedIn();
    const page = await s.agent.get('/logout');
    const res = await s.agent
      .post('/logout')
      .type('form')
      .send({
        csrf: csrfOf(page.text),
        client_id: s.clientId,
        post_logout_redirect_uri: 'https://evil.example/',
      });
    expectNoRedirect(res);
    expect(await isSignedIn(s)).toBe(true);
  });

  it('serves GET /logout as the same endpoint', async () => {
    const s = await signedIn();
    const res = await s.agent
      .get('/logout')
      .query({ id_token_hint: s.idToken, post_logout_redirect_uri: POST_LOGOUT });
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe(POST_LOGOUT);
    expect(await isSignedIn(s)).toBe(false);
  });
});
