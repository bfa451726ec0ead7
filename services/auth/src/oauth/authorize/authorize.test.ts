import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { rawQuery } from '@tessera/db';
import { startFlowServer, testClient, type FlowServer, type TestClient } from '../../flows/testing.ts';
import {
  REDIRECT_URI,
  authorizeParams,
  authorizeWithLogin,
  browser,
  redeem,
  submitLogin,
  tokens,
  type Response,
} from '../../flows/testing-http.ts';

let server: FlowServer;
beforeAll(async () => {
  server = await startFlowServer();
});
afterAll(() => server.close());

const PASSWORD = 'correct horse battery staple';

async function setup(overrides: Partial<TestClient> = {}) {
  const clientId = `client-${randomUUID()}`;
  await server.clients.add(testClient({ clientId, ...overrides }));
  const email = `${randomUUID()}@example.com`;
  const user = server.users.add(email, PASSWORD);
  return { clientId, email, user };
}

function redirectParams(response: Response): URLSearchParams {
  const location = response.headers.location;
  expect(typeof location).toBe('string');
  const url = new URL(location as string);
  expect(url.origin + url.pathname).toBe(REDIRECT_URI);
  return url.searchParams;
}

function expectErrorPage(response: Response, text: RegExp) {
  expect(response.status).toBe(400);
  expect(response.headers.location).toBeUndefined();
  expect(response.headers['content-type']).toMatch(/^text\/html/);
  expect(response.headers['content-security-policy']).toContain("frame-ancestors 'none'");
  expect(response.text).toMatch(text);
}

describe('GET /oauth2/authorize: the client and its redirect_uri', () => {
  it('answers an error page, not a 500, for a redirect URI stored before registration refused control characters', async () => {
    const clientId = `client-${randomUUID()}`;
    await server.clients.add(testClient({ clientId }));
    const stored = `${REDIRECT_URI}\r\nSet-Cookie: x=1`;
    await rawQuery(server.conn, 'update auth.oauth_clients set redirect_uris = $1 where client_id = $2', [
      [stored],
      clientId,
    ]);
    const { query } = authorizeParams(clientId, { redirect_uri: stored, response_type: 'token' });
    const res = await browser(server).get('/oauth2/authorize').query(query);
    expectErrorPage(res, /redirect URI is not valid/);
    expect(res.headers['set-cookie'] ?? []).not.toContainEqual(expect.stringMatching(/^x=1/));
  });

  it('shows an error page, never a redirect, for an unknown client', async () => {
    const { query } = authorizeParams('no-such-client');
    const res = await browser(server).get('/oauth2/authorize').query(query);
    expectErrorPage(res, /not registered/);
  });

  it('shows an error page for a missing client_id', async () => {
    const { query } = authorizeParams('x', { client_id: undefined });
    expectErrorPage(await browser(server).get('/oauth2/authorize').query(query), /client_id is missing/);
  });

  it('shows an error page, never a redirect, for a redirect_uri that is not registered exactly', async () => {
    const { clientId } = await setup();
    for (const redirect of [
      'https://evil.example/callback',
      `${REDIRECT_URI}/`,
      `${REDIRECT_URI}?x=1`,
      'http://127.0.0.1:5173/CALLBACK',
      'http://localhost:5173/callback',
      'http://127.0.0.1:5173/callback#frag',
    ]) {
      const { query } = authorizeParams(clientId, { redirect_uri: redirect });
      expectErrorPage(
        await browser(server).get('/oauth2/authorize').query(query),
        /redirect_uri is not registered/,
      );
    }
  });

  it('requires redirect_uri in an OpenID request, and lets a plain OAuth request omit it when one is registered', async () => {
    const { clientId } = await setup();
    const openid = authorizeParams(clientId, { redirect_uri: undefined });
    expectErrorPage(
      await browser(server).get('/oauth2/authorize').query(openid.query),
      /redirect_uri is missing/,
    );
    const oauth = authorizeParams(clientId, { redirect_uri: undefined, scope: 'offline_access' });
    const res = await browser(server).get('/oauth2/authorize').query(oauth.query);
    expect(res.status).toBe(303);
    expect(res.headers.location).toMatch(/^\/login\?interaction=/);
  });

  it('shows an error page when redirect_uri is given twice', async () => {
    const { clientId } = await setup();
    const { query } = authorizeParams(clientId, { redirect_uri: undefined });
    const res = await browser(server)
      .get(
        `/oauth2/authorize?redirect_uri=${encodeURIComponent(REDIRECT_URI)}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}`,
      )
      .query(query);
    expectErrorPage(res, /more than once/);
  });

  it('accepts a registered loopback redirect on any port but not on another path or host (RFC 8252)', async () => {
    const { clientId } = await setup({
      redirectUris: ['http://127.0.0.1/native/cb', 'http://[::1]:80/native/cb'],
    });
    const ok = await browser(server)
      .get('/oauth2/authorize')
      .query(authorizeParams(clientId, { redirect_uri: 'http://127.0.0.1:49152/native/cb' }).query);
    expect(ok.status).toBe(303);
    expect(ok.headers.location).toMatch(/^\/login\?interaction=/);
    const v6 = await browser(server)
      .get('/oauth2/authorize')
      .query(authorizeParams(clientId, { redirect_uri: 'http://[::1]:6000/native/cb' }).query);
    expect(v6.status).toBe(303);
    for (const bad of [
      'http://127.0.0.1:49152/native/other',
      'http://127.0.0.2:49152/native/cb',
      'https://127.0.0.1:49152/native/cb',
    ]) {
      const res = await browser(server)
        .get('/oauth2/authorize')
        .query(authorizeParams(clientId, { redirect_uri: bad }).query);
      expectErrorPage(res, /redirect_uri is not registered/);
    }
  });
});

describe('GET /oauth2/authorize: errors redirected to the client', () => {
  async function expectRedirectError(
    overrides: Record<string, string | undefined>,
    error: string,
    client: Partial<TestClient> = {},
  ) {
    const { clientId } = await setup(client);
    const { query } = authorizeParams(clientId, overrides);
    const res = await browser(server).get('/oauth2/authorize').query(query);
    expect(res.status).toBe(302);
    const params = redirectParams(res);
    expect(params.get('error')).toBe(error);
    expect(params.get('error_description')).toBeTruthy();
    expect(params.get('iss')).toBe(server.url);
    if (query.state !== undefined) expect(params.get('state')).toBe(query.state);
    expect(params.get('code')).toBeNull();
    return params;
  }

  it('rejects code_challenge_method=plain', async () => {
    const params = await expectRedirectError({ code_challenge_method: 'plain' }, 'invalid_request');
    expect(params.get('error_description')).toMatch(/S256/);
  });

  it('rejects a missing code_challenge_method (it would mean plain)', async () => {
    await expectRedirectError({ code_challenge_method: undefined }, 'invalid_request');
  });

  it('rejects a missing code_challenge', async () => {
    const params = await expectRedirectError({ code_challenge: undefined }, 'invalid_request');
    expect(params.get('error_description')).toMatch(/code_challenge/);
  });

  it('rejects a code_challenge that is too short, too long or not base64url', async () => {
    await expectRedirectError({ code_challenge: 'a'.repeat(42) }, 'invalid_request');
    await expectRedirectError({ code_challenge: 'a'.repeat(129) }, 'invalid_request');
    await expectRedirectError({ code_challenge: `${'a'.repeat(42)}+` }, 'invalid_request');
    await expectRedirectError({ code_challenge: `${'a'.repeat(42)}=` }, 'invalid_request');
  });

  it('offers only response_type=code', async () => {
    await expectRedirectError({ response_type: 'token' }, 'unsupported_response_type');
    await expectRedirectError({ response_type: 'code id_token' }, 'unsupported_response_type');
    await expectRedirectError({ response_type: undefined }, 'invalid_request');
  });

  it('answers invalid_scope for a scope this server knows but the client may not request', async () => {
    // An API permission and an OpenID Connect scope the client is not registered for.
    await expectRedirectError({ scope: 'openid admin:everything' }, 'invalid_scope');
    await expectRedirectError({ scope: 'openid profile' }, 'invalid_scope', { scopes: ['openid'] });
    await expectRedirectError({ scope: undefined }, 'invalid_scope');
    await expectRedirectError({ scope: 'openid bad"quote' }, 'invalid_scope');
    // Nothing left once the scopes this server does not understand are set aside.
    await expectRedirectError({ scope: 'address phone' }, 'invalid_scope');
  });

  it('ignores scopes this server does not understand (OIDC Core §3.1.2.1) and grants the rest', async () => {
    const { clientId, email } = await setup();
    const result = await authorizeWithLogin(browser(server), server, {
      clientId,
      email,
      password: PASSWORD,
      overrides: { scope: 'openid address email phone urn:example:other' },
    });
    const body = tokens(await redeem(server, clientId, result));
    expect(body.scope).toBe('openid email');
    expect(decodeJwt(body.access_token).scope).toBe('openid email');
  });

  it('answers request_not_supported and request_uri_not_supported without fetching anything', async () => {
    await expectRedirectError({ request: 'eyJhbGciOiJub25lIn0.e30.' }, 'request_not_supported');
    await expectRedirectError({ request_uri: 'https://attacker.example/req' }, 'request_uri_not_supported');
  });

  it('rejects unsupported prompt values and prompt=none combined with another', async () => {
    await expectRedirectError({ prompt: 'create' }, 'invalid_request');
    await expectRedirectError({ prompt: 'none login' }, 'invalid_request');
    await expectRedirectError({ prompt: 'none select_account' }, 'invalid_request');
  });

  it('rejects a repeated parameter with invalid_request', async () => {
    const { clientId } = await setup();
    const { query } = authorizeParams(clientId, { scope: undefined });
    const res = await browser(server).get('/oauth2/authorize?scope=openid&scope=email').query(query);
    expect(res.status).toBe(302);
    expect(redirectParams(res).get('error')).toBe('invalid_request');
  });

  it('treats parameters sent without a value as omitted (RFC 6749 §3.1)', async () => {
    const { clientId } = await setup();
    const { query } = authorizeParams(clientId, { state: 'kept' });
    const blanks = '&state=&max_age=&response_mode=&request=&request_uri=&scope=&client_id=&redirect_uri=';
    const res = await browser(server).get(`/oauth2/authorize?x=1${blanks}`).query(query);
    expect(res.status).toBe(303);
    expect(res.headers.location).toMatch(/^\/login\?interaction=/);
  });

  it('ignores unknown parameters', async () => {
    const { clientId } = await setup();
    const { query } = authorizeParams(clientId, { foo: 'bar', ui_locales: 'de' });
    const res = await browser(server).get('/oauth2/authorize').query(query);
    expect(res.status).toBe(303);
    expect(res.headers.location).toMatch(/^\/login\?interaction=/);
  });

  it('answers login_required to prompt=none without a session', async () => {
    await expectRedirectError({ prompt: 'none' }, 'login_required');
  });
});

describe('GET /oauth2/authorize: state and iss', () => {
  it('echoes state byte for byte and adds iss on success', async () => {
    const { clientId, email } = await setup();
    const state = `a b+c&d=é%20/?#"<>\u{1F600}${'x'.repeat(1500)}`;
    const result = await authorizeWithLogin(browser(server), server, {
      clientId,
      email,
      password: PASSWORD,
      overrides: { state },
    });
    expect(result.params.get('state')).toBe(state);
    expect(result.params.get('iss')).toBe(server.url);
    expect(result.location.startsWith(`${REDIRECT_URI}?`)).toBe(true);
  });

  it('echoes state and adds iss on an error', async () => {
    const { clientId } = await setup();
    const state = '  spaced & "quoted" ✓ ';
    const res = await browser(server)
      .get('/oauth2/authorize')
      .query(authorizeParams(clientId, { state, prompt: 'none' }).query);
    const params = redirectParams(res);
    expect(params.get('state')).toBe(state);
    expect(params.get('iss')).toBe(server.url);
  });

  it('omits state when none was sent', async () => {
    const { clientId } = await setup();
    const res = await browser(server)
      .get('/oauth2/authorize')
      .query(authorizeParams(clientId, { state: undefined, prompt: 'none' }).query);
    const params = redirectParams(res);
    expect(params.has('state')).toBe(false);
    expect(params.get('iss')).toBe(server.url);
  });

  it('refuses a state longer than 2048 characters without echoing it', async () => {
    const { clientId } = await setup();
    const res = await browser(server)
      .get('/oauth2/authorize')
      .query(authorizeParams(clientId, { state: 's'.repeat(2049) }).query);
    const params = redirectParams(res);
    expect(params.get('error')).toBe('invalid_request');
    expect(params.has('state')).toBe(false);
  });

  it('keeps a query already present in the registered redirect_uri', async () => {
    const redirect = 'http://127.0.0.1:5173/callback?tenant=a%20b';
    const { clientId } = await setup({ redirectUris: [redirect] });
    const res = await browser(server)
      .get('/oauth2/authorize')
      .query(authorizeParams(clientId, { redirect_uri: redirect, prompt: 'none' }).query);
    expect(res.headers.location).toMatch(
      /^http:\/\/127\.0\.0\.1:5173\/callback\?tenant=a%20b&error=login_required&/,
    );
  });
});

describe('GET /oauth2/authorize: sessions, prompt and max_age', () => {
  it('issues a code without a page when the browser is already signed in', async () => {
    const { clientId, email } = await setup();
    const agent = browser(server);
    await authorizeWithLogin(agent, server, { clientId, email, password: PASSWORD });
    const again = await agent
      .get('/oauth2/authorize')
      .query(authorizeParams(clientId, { prompt: 'none' }).query);
    expect(again.status).toBe(302);
    expect(redirectParams(again).get('code')).toBeTruthy();
  });

  it.each(['login', 'select_account'])(
    'forces a new login for prompt=%s and then issues the code',
    async (prompt) => {
      const { clientId, email } = await setup();
      const agent = browser(server);
      await authorizeWithLogin(agent, server, { clientId, email, password: PASSWORD });
      const res = await agent.get('/oauth2/authorize').query(authorizeParams(clientId, { prompt }).query);
      expect(res.status).toBe(303);
      expect(res.headers.location).toMatch(/^\/login\?interaction=/);
      const login = await submitLogin(agent, res.headers.location as string, email, PASSWORD);
      expect(login.status).toBe(303);
      const resumed = await agent.get(login.headers.location as string);
      expect(redirectParams(resumed).get('code')).toBeTruthy();
    },
  );

  it('forces a new login when max_age is exceeded, and not before', async () => {
    const { clientId, email } = await setup();
    const agent = browser(server);
    await authorizeWithLogin(agent, server, { clientId, email, password: PASSWORD });
    server.clock.advance(30_000);
    const fresh = await agent
      .get('/oauth2/authorize')
      .query(authorizeParams(clientId, { max_age: '60' }).query);
    expect(fresh.status).toBe(302);
    expect(redirectParams(fresh).get('code')).toBeTruthy();
    server.clock.advance(60_000);
    const stale = await agent
      .get('/oauth2/authorize')
      .query(authorizeParams(clientId, { max_age: '60' }).query);
    expect(stale.status).toBe(303);
    expect(stale.headers.location).toMatch(/^\/login\?interaction=/);
    const noneStale = await agent
      .get('/oauth2/authorize')
      .query(authorizeParams(clientId, { max_age: '60', prompt: 'none' }).query);
    expect(redirectParams(noneStale).get('error')).toBe('login_required');
    const login = await submitLogin(agent, stale.headers.location as string, email, PASSWORD);
    const resumed = await agent.get(login.headers.location as string);
    expect(redirectParams(resumed).get('code')).toBeTruthy();
  });

  it('rejects a malformed max_age', async () => {
    const { clientId } = await setup();
    const res = await browser(server)
      .get('/oauth2/authorize')
      .query(authorizeParams(clientId, { max_age: '-1' }).query);
    expect(redirectParams(res).get('error')).toBe('invalid_request');
  });

  it('needs a new login once the session lifetime has passed', async () => {
    const { clientId, email } = await setup();
    const agent = browser(server);
    await authorizeWithLogin(agent, server, { clientId, email, password: PASSWORD });
    server.clock.advance(8 * 3600 * 1000 + 1000);
    const res = await agent
      .get('/oauth2/authorize')
      .query(authorizeParams(clientId, { prompt: 'none' }).query);
    expect(redirectParams(res).get('error')).toBe('login_required');
  });

  it('answers consent_required to prompt=none for a third-party client the user has not consented to', async () => {
    const first = await setup();
    const thirdParty = `client-${randomUUID()}`;
    await server.clients.add(testClient({ clientId: thirdParty, firstParty: false }));
    const agent = browser(server);
    await authorizeWithLogin(agent, server, {
      clientId: first.clientId,
      email: first.email,
      password: PASSWORD,
    });
    const res = await agent
      .get('/oauth2/authorize')
      .query(authorizeParams(thirdParty, { prompt: 'none' }).query);
    const params = redirectParams(res);
    expect(params.get('error')).toBe('consent_required');
    expect(params.get('state')).toBe('state-123');
    expect(params.get('iss')).toBe(server.url);
  });

  it('treats a disabled user’s session as signed out', async () => {
    const { clientId, email, user } = await setup();
    const agent = browser(server);
    await authorizeWithLogin(agent, server, { clientId, email, password: PASSWORD });
    user.profile.status = 'disabled';
    const res = await agent
      .get('/oauth2/authorize')
      .query(authorizeParams(clientId, { prompt: 'none' }).query);
    expect(redirectParams(res).get('error')).toBe('login_required');
  });

  it('treats a session older than the last password change as signed out', async () => {
    const { clientId, email, user } = await setup();
    const agent = browser(server);
    await authorizeWithLogin(agent, server, { clientId, email, password: PASSWORD });
    user.profile.passwordChangedAt = new Date(server.clock.now() + 1000).toISOString();
    server.clock.advance(2000);
    const res = await agent
      .get('/oauth2/authorize')
      .query(authorizeParams(clientId, { prompt: 'none' }).query);
    expect(redirectParams(res).get('error')).toBe('login_required');
  });

  it('answers 400 for a resume link from another browser', async () => {
    const { clientId } = await setup();
    const res = await browser(server).get('/oauth2/authorize').query(authorizeParams(clientId).query);
    const interaction = new URL(res.headers.location as string, server.url).searchParams.get('interaction');
    const other = await browser(server).get('/oauth2/authorize/resume').query({ interaction });
    expect(other.status).toBe(400);
    expect(other.headers.location).toBeUndefined();
    expect(other.text).toMatch(/expired or was started in another browser/);
  });

  it('accepts the authorization request as a POST form too', async () => {
    const { clientId } = await setup();
    const res = await browser(server)
      .post('/oauth2/authorize')
      .type('form')
      .send(authorizeParams(clientId, { prompt: 'none' }).query);
    expect(res.status).toBe(303);
    expect(redirectParams(res).get('error')).toBe('login_required');
  });
});
