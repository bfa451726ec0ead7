import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { rawQuery } from '@tessera/db';
import {
  pkcePair,
  startFlowServer,
  testClient,
  type FlowServer,
  type TestClient,
} from '../../../flows/testing.ts';
import {
  REDIRECT_URI,
  authorizeParams,
  authorizeWithLogin,
  browser,
  redeem,
  refresh,
  tokenRequest,
  tokens,
  type Response,
} from '../../../flows/testing-http.ts';

const PASSWORD = 'correct horse battery staple';

let server: FlowServer;
beforeAll(async () => {
  server = await startFlowServer();
});
afterAll(() => server.close());

async function codeFor(
  overrides: Partial<TestClient> = {},
  authorize: Record<string, string | undefined> = {},
) {
  const clientId = `client-${randomUUID()}`;
  const client = await server.clients.add(testClient({ clientId, ...overrides }));
  const email = `${randomUUID()}@example.com`;
  const user = server.users.add(email, PASSWORD);
  const result = await authorizeWithLogin(browser(server), server, {
    clientId,
    email,
    password: PASSWORD,
    overrides: authorize,
  });
  return { clientId, client, user, result };
}

function expectGrantError(response: Response, error = 'invalid_grant') {
  expect(response.status).toBe(400);
  expect(response.headers['cache-control']).toBe('no-store');
  expect(response.body.error).toBe(error);
  expect(response.body.access_token).toBeUndefined();
}

async function codeRow(code: string): Promise<{ used_at: Date | null } | undefined> {
  const hash = createHash('sha256').update(code).digest('base64url');
  const [row] = await rawQuery<{ used_at: Date | null }>(
    server.conn,
    'select used_at from auth.authorization_codes where code_hash = $1',
    [hash],
  );
  return row;
}

describe('authorization_code grant', () => {
  it('issues access, ID and refresh tokens for a valid code, verifier and redirect_uri', async () => {
    const { clientId, user, result } = await codeFor();
    const res = await redeem(server, clientId, result);
    expect(res.status).toBe(200);
    const body = tokens(res);
    expect(body.token_type).toBe('Bearer');
    expect(body.expires_in).toBe(600);
    expect(body.scope).toBe('openid profile email offline_access');
    expect(body.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const access = decodeJwt(body.access_token);
    expect(decodeProtectedHeader(body.access_token).typ).toBe('at+jwt');
    expect(access.sub).toBe(user.profile.id);
    expect(access.client_id).toBe(clientId);
    expect(access.aud).toBe('tessera-api');
    const id = decodeJwt(body.id_token ?? '');
    expect(id.aud).toBe(clientId);
    expect(id.azp).toBe(clientId);
    expect(id.nonce).toBe('nonce-456');
    expect(typeof id.auth_time).toBe('number');
    const digest = createHash('sha256').update(body.access_token).digest();
    expect(id.at_hash).toBe(digest.subarray(0, 16).toString('base64url'));
    expect(id.email).toBe(user.profile.email);
    expect((await codeRow(result.code))?.used_at).toBeInstanceOf(Date);
  });

  it('signs the ID token with RS256 for a client registered with idTokenSignedResponseAlg RS256 (OIDC Core §15.1)', async () => {
    const { clientId, result } = await codeFor({ idTokenSignedResponseAlg: 'RS256' });
    const body = tokens(await redeem(server, clientId, result));
    expect(decodeProtectedHeader(body.id_token ?? '').alg).toBe('RS256');
    // The access token keeps the issuer's algorithm; both keys are in the JWKS.
    expect(decodeProtectedHeader(body.access_token).alg).toBe('ES256');
    const jwks = createLocalJWKSet((await request(server.url).get('/jwks.json')).body as JSONWebKeySet);
    const { payload } = await jwtVerify(body.id_token ?? '', jwks, {
      issuer: server.url,
      audience: clientId,
    });
    const digest = createHash('sha256').update(body.access_token).digest();
    expect(payload.at_hash).toBe(digest.subarray(0, 16).toString('base64url'));
    // A refreshed ID token keeps the registered algorithm.
    const refreshed = tokens(await refresh(server, clientId, body.refresh_token ?? ''));
    expect(decodeProtectedHeader(refreshed.id_token ?? '').alg).toBe('RS256');
  });

  it('stores codes and refresh tokens only as hashes', async () => {
    const { clientId, result } = await codeFor();
    const body = tokens(await redeem(server, clientId, result));
    const codes = await rawQuery<{ code_hash: string }>(
      server.conn,
      'select code_hash from auth.authorization_codes',
    );
    const refreshes = await rawQuery<{ token_hash: string }>(
      server.conn,
      'select token_hash from auth.refresh_tokens',
    );
    expect(codes.some((r) => r.code_hash === result.code)).toBe(false);
    expect(refreshes.some((r) => r.token_hash === body.refresh_token)).toBe(false);
    expect(result.code).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('omits nonce from the ID token when none was sent, and the ID token without openid', async () => {
    const noNonce = await codeFor({}, { nonce: undefined });
    expect(
      decodeJwt(tokens(await redeem(server, noNonce.clientId, noNonce.result)).id_token ?? '').nonce,
    ).toBeUndefined();
    const noOpenid = await codeFor({}, { scope: 'users:read' });
    const body = tokens(await redeem(server, noOpenid.clientId, noOpenid.result));
    expect(body.id_token).toBeUndefined();
    expect(body.refresh_token).toBeUndefined();
  });

  it('issues no refresh token when the client may not use the refresh grant', async () => {
    const { clientId, result } = await codeFor({ grantTypes: ['authorization_code'] });
    expect(tokens(await redeem(server, clientId, result)).refresh_token).toBeUndefined();
  });

  it('rejects a wrong code_verifier without consuming the code', async () => {
    const { clientId, result } = await codeFor();
    expectGrantError(await redeem(server, clientId, { code: result.code, verifier: pkcePair().verifier }));
    expect((await codeRow(result.code))?.used_at).toBeNull();
  });

  it('rejects a missing or malformed code_verifier', async () => {
    const { clientId, result } = await codeFor();
    expectGrantError(
      await tokenRequest(server, {
        grant_type: 'authorization_code',
        client_id: clientId,
        code: result.code,
        redirect_uri: REDIRECT_URI,
      }),
    );
    expectGrantError(await redeem(server, clientId, { code: result.code, verifier: 'short' }));
    // The challenge itself is not a verifier.
    const challenge = createHash('sha256').update(result.verifier).digest('base64url');
    expectGrantError(await redeem(server, clientId, { code: result.code, verifier: challenge }));
  });

  it('rejects the verifier of another code', async () => {
    const first = await codeFor();
    const second = await codeFor();
    expectGrantError(
      await redeem(server, first.clientId, { code: first.result.code, verifier: second.result.verifier }),
    );
  });

  it('rejects a redirect_uri other than the one the code was issued for', async () => {
    const { clientId, result } = await codeFor({
      redirectUris: [REDIRECT_URI, 'http://127.0.0.1:5173/other'],
    });
    expectGrantError(await redeem(server, clientId, result, { redirect_uri: 'http://127.0.0.1:5173/other' }));
    expectGrantError(
      await tokenRequest(server, {
        grant_type: 'authorization_code',
        client_id: clientId,
        code: result.code,
        code_verifier: result.verifier,
      }),
    );
    expect(tokens(await redeem(server, clientId, result)).access_token).toBeTruthy();
  });

  it('rejects a code presented by another client, which can then still be redeemed by its own', async () => {
    const { clientId, result } = await codeFor();
    const otherId = `client-${randomUUID()}`;
    await server.clients.add(testClient({ clientId: otherId }));
    expectGrantError(await redeem(server, otherId, result));
    const confidentialId = `conf-${randomUUID()}`;
    await server.clients.add(
      testClient({
        clientId: confidentialId,
        type: 'confidential',
        tokenEndpointAuthMethod: 'client_secret_basic',
        secret: 'a-confidential-secret-of-at-least-32-chars',
      }),
    );
    expectGrantError(
      await tokenRequest(
        server,
        {
          grant_type: 'authorization_code',
          code: result.code,
          code_verifier: result.verifier,
          redirect_uri: REDIRECT_URI,
        },
        [confidentialId, 'a-confidential-secret-of-at-least-32-chars'],
      ),
    );
    expect((await codeRow(result.code))?.used_at).toBeNull();
    expect((await redeem(server, clientId, result)).status).toBe(200);
  });

  it('rejects an expired code (older than 60 s)', async () => {
    const { clientId, result } = await codeFor();
    server.clock.advance(60_001);
    expectGrantError(await redeem(server, clientId, result));
  });

  it('accepts a code just before it expires', async () => {
    const { clientId, result } = await codeFor();
    server.clock.advance(59_000);
    expect((await redeem(server, clientId, result)).status).toBe(200);
  });

  it('rejects an unknown code and a missing one', async () => {
    const { clientId } = await codeFor();
    expectGrantError(await redeem(server, clientId, { code: 'not-a-code', verifier: pkcePair().verifier }));
    expectGrantError(
      await tokenRequest(server, {
        grant_type: 'authorization_code',
        client_id: clientId,
        code_verifier: pkcePair().verifier,
      }),
      'invalid_request',
    );
  });

  it('rejects a reused code and revokes every token issued from it', async () => {
    const { clientId, result } = await codeFor();
    const first = tokens(await redeem(server, clientId, result));
    const jti = decodeJwt(first.access_token).jti as string;
    expect(await server.denylist.has(jti)).toBe(false);
    expectGrantError(await redeem(server, clientId, result));
    expect(await server.denylist.has(jti)).toBe(true);
    expectGrantError(await refresh(server, clientId, first.refresh_token ?? ''));
    const userinfo = await request(server.url)
      .get('/oauth2/userinfo')
      .set('authorization', `Bearer ${first.access_token}`);
    expect(userinfo.status).toBe(401);
    const [family] = await rawQuery<{ revoke_reason: string }>(
      server.conn,
      'select f.revoke_reason from auth.grant_families f join auth.grant_access_tokens t on t.family_id = f.id where t.jti = $1',
      [jti],
    );
    expect(family?.revoke_reason).toBe('code_reuse');
  });

  it('lets exactly one of two concurrent redemptions succeed and, the other being a reuse, revokes what it got', async () => {
    for (let round = 0; round < 3; round++) {
      const { clientId, result } = await codeFor();
      const responses = await Promise.all([
        redeem(server, clientId, result),
        redeem(server, clientId, result),
      ]);
      const statuses = responses.map((r) => r.status).sort();
      expect(statuses).toEqual([200, 400]);
      const loser = responses.find((r) => r.status === 400)!;
      expect(loser.body.error).toBe('invalid_grant');
      // The loser is a reuse: the winner's tokens are revoked too.
      const winner = tokens(responses.find((r) => r.status === 200)!);
      expect(await server.denylist.has(decodeJwt(winner.access_token).jti as string)).toBe(true);
      expectGrantError(await refresh(server, clientId, winner.refresh_token ?? ''));
    }
  });

  it('refuses the code of a user disabled since the login', async () => {
    const { clientId, user, result } = await codeFor();
    user.profile.status = 'disabled';
    expectGrantError(await redeem(server, clientId, result));
  });
});

describe('resource indicators (RFC 8707)', () => {
  const REPORTS = 'https://reports.example.com/';
  const BILLING = 'https://billing.example.com/';
  const audiences = ['tessera-api', REPORTS, BILLING];

  it('binds the resource of the authorization request to the grant: the code and every refresh get that audience', async () => {
    const { clientId, result } = await codeFor({ audiences }, { resource: REPORTS });
    const body = tokens(await redeem(server, clientId, result));
    expect(decodeJwt(body.access_token).aud).toBe(REPORTS);
    // The refresh token may not leave the resources of the authorization request (§2.2).
    const outside = await refresh(server, clientId, body.refresh_token ?? '', { resource: BILLING });
    expectGrantError(outside, 'invalid_target');
    const again = tokens(await refresh(server, clientId, body.refresh_token ?? ''));
    expect(decodeJwt(again.access_token).aud).toBe(REPORTS);
  });

  it('lets a token request without an earlier resource pick one of the client’s audiences, and refuses any other without burning the code', async () => {
    const { clientId, result } = await codeFor({ audiences });
    const unknown = await redeem(server, clientId, result, { resource: 'https://elsewhere.example.com/' });
    expectGrantError(unknown, 'invalid_target');
    expect((await codeRow(result.code))?.used_at).toBeNull();
    const body = tokens(await redeem(server, clientId, result, { resource: BILLING }));
    expect(decodeJwt(body.access_token).aud).toBe(BILLING);
    const refreshed = tokens(
      await refresh(server, clientId, body.refresh_token ?? '', { resource: REPORTS }),
    );
    expect(decodeJwt(refreshed.access_token).aud).toBe(REPORTS);
  });

  it('keeps several resources, which the token request may narrow', async () => {
    const clientId = `client-${randomUUID()}`;
    await server.clients.add(testClient({ clientId, audiences }));
    const email = `${randomUUID()}@example.com`;
    server.users.add(email, PASSWORD);
    // A first authorization signs the browser in; the second, with two resources, answers at once.
    const agent = browser(server);
    await authorizeWithLogin(agent, server, { clientId, email, password: PASSWORD });
    const pkce = pkcePair();
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: REDIRECT_URI,
      scope: 'openid offline_access',
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
    });
    query.append('resource', REPORTS);
    query.append('resource', BILLING);
    const answer = await agent.get(`/oauth2/authorize?${query.toString()}`);
    const code = new URL(answer.headers.location as string).searchParams.get('code');
    expect(code).toBeTruthy();
    const both = tokens(await redeem(server, clientId, { code: code!, verifier: pkce.verifier }));
    expect(decodeJwt(both.access_token).aud).toEqual([REPORTS, BILLING]);
    const narrowed = tokens(await refresh(server, clientId, both.refresh_token ?? '', { resource: BILLING }));
    expect(decodeJwt(narrowed.access_token).aud).toBe(BILLING);
    expectGrantError(
      await refresh(server, clientId, narrowed.refresh_token ?? '', { resource: 'tessera-api' }),
      'invalid_target',
    );
  });

  it('answers a resource the client may not use, or that is not an absolute URI, with an invalid_target redirect', async () => {
    for (const resource of ['https://elsewhere.example.com/', 'reports', `${REPORTS}#fragment`]) {
      const clientId = `client-${randomUUID()}`;
      await server.clients.add(testClient({ clientId, audiences }));
      const { query } = authorizeParams(clientId, { resource });
      const res = await browser(server).get('/oauth2/authorize').query(query);
      expect(res.status, resource).toBe(302);
      const location = new URL(res.headers.location as string);
      expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
      expect(location.searchParams.get('error'), resource).toBe('invalid_target');
      expect(location.searchParams.get('state')).toBe('state-123');
      expect(location.searchParams.get('iss')).toBe(server.url);
      expect(location.searchParams.get('code')).toBeNull();
    }
  });
});

describe('which tokens userinfo takes', () => {
  const REPORTS = 'https://reports.example.com/';
  const userinfo = (token: string) =>
    request(server.url).get('/oauth2/userinfo').set('authorization', `Bearer ${token}`);

  it('names userinfo in an unrestricted token whose audience would not reach it, and refuses one the client restricted to another resource', async () => {
    // A client whose only API is its own: its tokens also name userinfo, so the RP can call it.
    const own = await codeFor({ audiences: [REPORTS] });
    const body = tokens(await redeem(server, own.clientId, own.result));
    expect(decodeJwt(body.access_token).aud).toEqual([REPORTS, `${server.url}/oauth2/userinfo`]);
    expect((await userinfo(body.access_token)).status).toBe(200);

    // Restricted with `resource` (RFC 8707): for that API only, so not for userinfo (RFC 9068 §4).
    const restricted = await codeFor({ audiences: ['tessera-api', REPORTS] }, { resource: REPORTS });
    const narrow = tokens(await redeem(server, restricted.clientId, restricted.result));
    expect(decodeJwt(narrow.access_token).aud).toBe(REPORTS);
    const refused = await userinfo(narrow.access_token);
    expect(refused.status).toBe(401);
    expect(refused.headers['www-authenticate']).toContain('error="invalid_token"');

    // `audience` names an API that is not a URI, like the platform's own.
    const named = await codeFor({ audiences: ['tessera-api', REPORTS] });
    const platform = tokens(await redeem(server, named.clientId, named.result, { audience: 'tessera-api' }));
    expect(decodeJwt(platform.access_token).aud).toBe('tessera-api');
    expect((await userinfo(platform.access_token)).status).toBe(200);
  });
});
