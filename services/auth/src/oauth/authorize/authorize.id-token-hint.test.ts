import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, decodeJwt, generateKeyPair } from 'jose';
import { startFlowServer, testClient, type FlowServer, type TestUser } from '../../flows/testing.ts';
import {
  REDIRECT_URI,
  authorizeParams,
  authorizeWithLogin,
  browser,
  redeem,
  submitLogin,
  tokens,
  type Browser,
  type Response,
} from '../../flows/testing-http.ts';

let server: FlowServer;
beforeAll(async () => {
  server = await startFlowServer();
});
afterAll(() => server.close());

const PASSWORD = 'correct horse battery staple';

async function newClient(idTokenSignedResponseAlg?: 'RS256'): Promise<string> {
  const clientId = `client-${randomUUID()}`;
  await server.clients.add(
    testClient({ clientId, ...(idTokenSignedResponseAlg ? { idTokenSignedResponseAlg } : {}) }),
  );
  return clientId;
}

interface SignedIn {
  agent: Browser;
  user: TestUser;
  email: string;
  idToken: string;
  accessToken: string;
}

/** A browser in which a new user signed in at `clientId`, with the tokens the client received. */
async function signIn(clientId: string): Promise<SignedIn> {
  const email = `${randomUUID()}@example.com`;
  const user = server.users.add(email, PASSWORD);
  const agent = browser(server);
  const result = await authorizeWithLogin(agent, server, { clientId, email, password: PASSWORD });
  const body = tokens(await redeem(server, clientId, result));
  return { agent, user, email, idToken: body.id_token ?? '', accessToken: body.access_token };
}

function authorize(agent: Browser, clientId: string, overrides: Record<string, string | undefined>) {
  return agent.get('/oauth2/authorize').query(authorizeParams(clientId, overrides).query);
}

function redirectParams(response: Response): URLSearchParams {
  expect(response.status).toBe(302);
  const url = new URL(response.headers.location as string);
  expect(url.origin + url.pathname).toBe(REDIRECT_URI);
  return url.searchParams;
}

function expectRedirectError(response: Response, error: string): URLSearchParams {
  const params = redirectParams(response);
  expect(params.get('error')).toBe(error);
  expect(params.get('error_description')).toBeTruthy();
  expect(params.get('state')).toBe('state-123');
  expect(params.get('iss')).toBe(server.url);
  expect(params.get('code')).toBeNull();
  return params;
}

describe('GET /oauth2/authorize: id_token_hint names the signed-in user', () => {
  it('issues a code to prompt=none when the hint is the signed-in user’s ID token', async () => {
    const clientId = await newClient();
    const alice = await signIn(clientId);
    const res = await authorize(alice.agent, clientId, { prompt: 'none', id_token_hint: alice.idToken });
    const params = redirectParams(res);
    expect(params.get('code')).toBeTruthy();
    expect(params.get('state')).toBe('state-123');
  });

  it('accepts an RS256 ID token as the hint for a client registered for RS256 ID tokens', async () => {
    const clientId = await newClient('RS256');
    const alice = await signIn(clientId);
    expect(JSON.parse(Buffer.from(alice.idToken.split('.')[0]!, 'base64url').toString()).alg).toBe('RS256');
    const res = await authorize(alice.agent, clientId, { prompt: 'none', id_token_hint: alice.idToken });
    expect(redirectParams(res).get('code')).toBeTruthy();
  });

  it('accepts an expired hint, as OIDC Core §3.1.2.1 allows', async () => {
    const clientId = await newClient();
    const alice = await signIn(clientId);
    server.clock.advance(2 * 3600 * 1000);
    expect((decodeJwt(alice.idToken).exp ?? Infinity) * 1000).toBeLessThan(server.clock.now());
    const res = await authorize(alice.agent, clientId, { prompt: 'none', id_token_hint: alice.idToken });
    expect(redirectParams(res).get('code')).toBeTruthy();
  });
});

describe('GET /oauth2/authorize: id_token_hint names another user than the signed-in one', () => {
  it('answers login_required to prompt=none instead of a code for the signed-in user', async () => {
    const clientId = await newClient();
    const alice = await signIn(clientId);
    const bob = await signIn(clientId);
    const res = await authorize(bob.agent, clientId, { prompt: 'none', id_token_hint: alice.idToken });
    expectRedirectError(res, 'login_required');
  });

  it('asks for a login rather than using the session, and answers login_required when the same user logs in again', async () => {
    const clientId = await newClient();
    const alice = await signIn(clientId);
    const bob = await signIn(clientId);
    const res = await authorize(bob.agent, clientId, { id_token_hint: alice.idToken });
    expect(res.status).toBe(303);
    expect(res.headers.location).toMatch(/^\/login\?interaction=/);
    const login = await submitLogin(bob.agent, res.headers.location as string, bob.email, PASSWORD);
    expect(login.status).toBe(303);
    const resumed = await bob.agent.get(login.headers.location as string);
    expectRedirectError(resumed, 'login_required');
  });

  it('issues the code for the hinted user once they log in over the other user’s session', async () => {
    const clientId = await newClient();
    const alice = await signIn(clientId);
    const bob = await signIn(clientId);
    const { query, verifier } = authorizeParams(clientId, { id_token_hint: alice.idToken });
    const res = await bob.agent.get('/oauth2/authorize').query(query);
    expect(res.headers.location).toMatch(/^\/login\?interaction=/);
    const login = await submitLogin(bob.agent, res.headers.location as string, alice.email, PASSWORD);
    const resumed = await bob.agent.get(login.headers.location as string);
    const code = redirectParams(resumed).get('code') ?? '';
    const body = tokens(await redeem(server, clientId, { code, verifier }));
    expect(decodeJwt(body.id_token ?? '').sub).toBe(alice.user.profile.id);
  });
});

describe('GET /oauth2/authorize: an id_token_hint that is not our ID token for this client', () => {
  it('answers invalid_request to a hint that is not a JWT, with state and iss', async () => {
    const clientId = await newClient();
    const alice = await signIn(clientId);
    const res = await authorize(alice.agent, clientId, { prompt: 'none', id_token_hint: 'garbage.x.y' });
    expectRedirectError(res, 'invalid_request');
  });

  it('answers invalid_request to a hint issued to another client (aud mismatch)', async () => {
    const clientA = await newClient();
    const clientB = await newClient();
    const alice = await signIn(clientA);
    const res = await authorize(alice.agent, clientB, { prompt: 'none', id_token_hint: alice.idToken });
    expectRedirectError(res, 'invalid_request');
  });

  it('answers invalid_request to a hint signed by a key that is not ours', async () => {
    const clientId = await newClient();
    const alice = await signIn(clientId);
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT({ sub: alice.user.profile.id, aud: clientId })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT' })
      .setIssuer(server.url)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(privateKey);
    const res = await authorize(alice.agent, clientId, { prompt: 'none', id_token_hint: forged });
    expectRedirectError(res, 'invalid_request');
  });

  it('answers invalid_request to an access token given as the hint', async () => {
    const clientId = await newClient();
    const alice = await signIn(clientId);
    const res = await authorize(alice.agent, clientId, {
      prompt: 'none',
      id_token_hint: alice.accessToken,
    });
    expectRedirectError(res, 'invalid_request');
  });

  it('answers invalid_request to a hint longer than 8 KB', async () => {
    const clientId = await newClient();
    const alice = await signIn(clientId);
    const res = await authorize(alice.agent, clientId, {
      prompt: 'none',
      id_token_hint: `${alice.idToken}.${'a'.repeat(8 * 1024)}`,
    });
    expect(expectRedirectError(res, 'invalid_request').get('error_description')).toMatch(/too long/);
  });

  it('answers invalid_request to a repeated id_token_hint', async () => {
    const clientId = await newClient();
    const alice = await signIn(clientId);
    const hint = encodeURIComponent(alice.idToken);
    const res = await alice.agent
      .get(`/oauth2/authorize?id_token_hint=${hint}&id_token_hint=${hint}`)
      .query(authorizeParams(clientId, { prompt: 'none' }).query);
    expectRedirectError(res, 'invalid_request');
  });

  it('shows an error page, never a redirect, when the redirect_uri is not registered', async () => {
    const clientId = await newClient();
    const res = await authorize(browser(server), clientId, {
      redirect_uri: 'https://evil.example/cb',
      id_token_hint: 'garbage.x.y',
    });
    expect(res.status).toBe(400);
    expect(res.headers.location).toBeUndefined();
    expect(res.text).toMatch(/redirect_uri is not registered/);
  });
});
