/**
 * The complete OAuth 2.1 / OpenID Connect flow, driven by a certified relying party library
 * (`openid-client`) against the running auth and user services over HTTP: discovery → authorize
 * → the hosted login form (fetched, CSRF extracted, credentials posted, redirects followed) →
 * code → token with PKCE → userinfo → refresh (rotates) → reuse of the old refresh token (the
 * family is revoked) → introspection says inactive → revocation.
 */
import { randomBytes } from 'node:crypto';
import type net from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import * as oidc from 'openid-client';
import { decodeJwt } from 'jose';
import { createTokenVerifier } from '@tessera/auth-middleware';
import { applyMigrations, closeConnection, createDrizzle, openConnection } from '@tessera/db';
import { createTestDatabase } from '@tessera/db/testing';
import { createLogger, type Logger } from '@tessera/kernel';
import {
  authMigrations,
  authTables,
  buildAuthApp,
  defaultAuthConfig,
  type AuthApp,
} from '@tessera/auth-service';
import {
  applyUsersSeed,
  buildUsersApp,
  usersMigrations,
  usersTables,
  type UsersApp,
} from '@tessera/users-service';
import { freePort } from './support/platform.ts';

const CALLBACK = 'http://127.0.0.1:5173/callback';
const EMAIL = 'ada@example.com';
const PASSWORD = 'correct horse battery staple';
const RS_SECRET = randomBytes(32).toString('base64url');

const quiet = (): Logger =>
  createLogger({ name: 'flow', level: 'warn', destination: new Writable({ write: (_c, _e, cb) => cb() }) });

async function migratedDatabase(migrations: typeof authMigrations) {
  const testDb = await createTestDatabase();
  const conn = await openConnection({ url: testDb.url });
  await applyMigrations(conn, migrations);
  return { conn, drop: () => closeConnection(conn).then(() => testDb.drop()) };
}

let authUrl = '';
let auth: AuthApp;
let users: UsersApp;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  // The issuer must be known before either service is built: users verify auth's tokens
  // (JWKS of the issuer), auth calls users' internal API.
  const authPort = await freePort();
  authUrl = `http://127.0.0.1:${authPort}`;

  const usersDb = await migratedDatabase(usersMigrations);
  cleanups.push(usersDb.drop);
  const usersDrizzle = createDrizzle(usersDb.conn, usersTables);
  await applyUsersSeed(usersDrizzle, {
    organizations: [{ slug: 'acme', name: 'Acme', roles: [{ name: 'member', permissions: ['users:read'] }] }],
    users: [
      {
        email: EMAIL,
        name: 'Ada Lovelace',
        password: PASSWORD,
        emailVerified: true,
        memberships: [{ org: 'acme', roles: ['member'] }],
      },
    ],
  });
  users = await buildUsersApp({
    db: usersDrizzle,
    conn: usersDb.conn,
    logger: quiet(),
    verifier: createTokenVerifier({
      jwksUrl: `${authUrl}/jwks.json`,
      issuer: authUrl,
      audience: 'tessera-api',
    }),
    cache: { l2: false },
    // acme administers this platform, so its role's users:read reaches the token.
    adminOrg: 'acme',
  });
  await users.app.listen({ host: '127.0.0.1', port: 0 });
  cleanups.unshift(() => users.app.close());
  const usersUrl = `http://127.0.0.1:${(users.app.server.address() as net.AddressInfo).port}`;

  const authDb = await migratedDatabase(authMigrations);
  cleanups.push(authDb.drop);
  auth = await buildAuthApp({
    config: defaultAuthConfig({ publicUrl: authUrl, port: authPort, host: '127.0.0.1', usersUrl }),
    db: createDrizzle(authDb.conn, authTables),
    conn: authDb.conn,
    logger: quiet(),
    masterKey: randomBytes(32),
  });
  await auth.app.listen({ host: '127.0.0.1', port: authPort });
  cleanups.unshift(() => auth.close());

  await auth.clients.create({
    clientId: 'flow-spa',
    name: 'Flow SPA',
    type: 'public',
    redirectUris: [CALLBACK],
    postLogoutRedirectUris: ['http://127.0.0.1:5173/'],
    grantTypes: ['authorization_code', 'refresh_token'],
    scopes: ['openid', 'profile', 'email', 'offline_access', 'users:read'],
    firstParty: true,
  });
  await auth.clients.create({
    clientId: 'flow-api',
    name: 'Flow resource server',
    type: 'confidential',
    tokenEndpointAuthMethod: 'client_secret_basic',
    grantTypes: ['client_credentials'],
    // A resource server: the `introspect` scope lets it introspect tokens other clients present to it.
    scopes: ['introspect'],
    secret: RS_SECRET,
  });
});

afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

/** Signs in through the hosted login page like a browser and returns the URL the client lands on. */
async function signInThroughLoginPage(authorizationUrl: URL): Promise<URL> {
  const browser = request.agent(authUrl);
  let response = await browser.get(authorizationUrl.pathname + authorizationUrl.search);
  for (let hop = 0; hop < 6; hop++) {
    expect([302, 303]).toContain(response.status);
    const location = new URL(response.headers.location as string, authUrl);
    if (location.origin !== authUrl) return location;
    if (location.pathname === '/login') {
      const page = await browser.get(location.pathname + location.search);
      expect(page.status).toBe(200);
      const csrf = /name="csrf" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
      const interaction = /name="interaction" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
      response = await browser
        .post('/login')
        .set('origin', authUrl)
        .type('form')
        .send({ csrf, interaction, email: EMAIL, password: PASSWORD });
      expect(response.status).toBe(303);
    } else {
      response = await browser.get(location.pathname + location.search);
    }
  }
  throw new Error('the authorization did not come back to the client');
}

describe('OAuth 2.1 / OIDC flow with openid-client against the running services', () => {
  it('signs in with PKCE, reads userinfo, rotates refresh tokens and revokes the family on reuse', async () => {
    // Discovery (openid-client checks that the issuer equals the URL it was given).
    const spa = await oidc.discovery(new URL(authUrl), 'flow-spa', undefined, oidc.None(), {
      execute: [oidc.allowInsecureRequests],
    });
    const metadata = spa.serverMetadata();
    expect(metadata.issuer).toBe(authUrl);
    expect(metadata.code_challenge_methods_supported).toEqual(['S256']);
    expect(metadata.authorization_response_iss_parameter_supported).toBe(true);

    // Authorization request with PKCE, state and nonce; login through the hosted form.
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const authorizationUrl = oidc.buildAuthorizationUrl(spa, {
      redirect_uri: CALLBACK,
      scope: 'openid profile email offline_access users:read',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    const callback = await signInThroughLoginPage(authorizationUrl);
    expect(callback.origin + callback.pathname).toBe(CALLBACK);
    expect(callback.searchParams.get('iss')).toBe(authUrl);

    // Code → tokens (openid-client validates state, iss, the ID token signature, nonce, at_hash).
    const tokens = await oidc.authorizationCodeGrant(spa, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
      idTokenExpected: true,
    });
    const idClaims = tokens.claims();
    expect(idClaims?.email).toBe(EMAIL);
    expect(idClaims?.azp).toBe('flow-spa');
    const access = decodeJwt(tokens.access_token);
    expect(access.client_id).toBe('flow-spa');
    expect(access.roles).toEqual(['member']);
    expect(access.permissions).toEqual(['users:read']);
    expect(typeof access.org_id).toBe('string');
    expect(tokens.refresh_token).toBeTruthy();

    // Userinfo, answered from the user service.
    const userinfo = await oidc.fetchUserInfo(spa, tokens.access_token, idClaims?.sub ?? '');
    expect(userinfo).toMatchObject({
      sub: idClaims?.sub,
      email: EMAIL,
      email_verified: true,
      name: 'Ada Lovelace',
    });

    // Refresh rotates.
    const refreshed = await oidc.refreshTokenGrant(spa, tokens.refresh_token ?? '');
    expect(refreshed.refresh_token).toBeTruthy();
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(decodeJwt(refreshed.access_token).roles).toEqual(['member']);

    // The resource server introspects the access token: active so far (another client's refresh
    // token is never described to it).
    const api = await oidc.discovery(
      new URL(authUrl),
      'flow-api',
      undefined,
      oidc.ClientSecretBasic(RS_SECRET),
      {
        execute: [oidc.allowInsecureRequests],
      },
    );
    const live = await oidc.tokenIntrospection(api, refreshed.access_token);
    expect(live).toMatchObject({ active: true, client_id: 'flow-spa', sub: idClaims?.sub });
    expect(await oidc.tokenIntrospection(api, refreshed.refresh_token ?? '')).toEqual({ active: false });

    // Reusing the rotated refresh token fails and revokes the whole family.
    const reuse = await oidc.refreshTokenGrant(spa, tokens.refresh_token ?? '').then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(reuse).toBeInstanceOf(oidc.ResponseBodyError);
    expect((reuse as oidc.ResponseBodyError).error).toBe('invalid_grant');
    await expect(oidc.refreshTokenGrant(spa, refreshed.refresh_token ?? '')).rejects.toMatchObject({
      error: 'invalid_grant',
    });

    // Introspection now says inactive for every access token of the family.
    for (const token of [refreshed.access_token, tokens.access_token]) {
      expect(await oidc.tokenIntrospection(api, token)).toEqual({ active: false });
    }
    await expect(oidc.fetchUserInfo(spa, refreshed.access_token, idClaims?.sub ?? '')).rejects.toBeInstanceOf(
      oidc.WWWAuthenticateChallengeError,
    );

    // Revocation of an already revoked (and of an unknown) token answers 200.
    await oidc.tokenRevocation(spa, refreshed.refresh_token ?? '');
    await oidc.tokenRevocation(spa, 'not-a-token-this-server-issued');
  });

  it('revokes a fresh refresh token through the revocation endpoint', async () => {
    const spa = await oidc.discovery(new URL(authUrl), 'flow-spa', undefined, oidc.None(), {
      execute: [oidc.allowInsecureRequests],
    });
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const callback = await signInThroughLoginPage(
      oidc.buildAuthorizationUrl(spa, {
        redirect_uri: CALLBACK,
        scope: 'openid offline_access',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
      }),
    );
    const tokens = await oidc.authorizationCodeGrant(spa, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
    });
    await oidc.tokenRevocation(spa, tokens.refresh_token ?? '');
    await expect(oidc.refreshTokenGrant(spa, tokens.refresh_token ?? '')).rejects.toMatchObject({
      error: 'invalid_grant',
    });
    const api = await oidc.discovery(
      new URL(authUrl),
      'flow-api',
      undefined,
      oidc.ClientSecretBasic(RS_SECRET),
      {
        execute: [oidc.allowInsecureRequests],
      },
    );
    expect(await oidc.tokenIntrospection(api, tokens.access_token)).toEqual({ active: false });
  });

  it('ends the session with RP-initiated logout and redirects to the registered URI', async () => {
    const spa = await oidc.discovery(new URL(authUrl), 'flow-spa', undefined, oidc.None(), {
      execute: [oidc.allowInsecureRequests],
    });
    const verifier = oidc.randomPKCECodeVerifier();
    const callback = await signInThroughLoginPage(
      oidc.buildAuthorizationUrl(spa, {
        redirect_uri: CALLBACK,
        scope: 'openid',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      }),
    );
    const tokens = await oidc.authorizationCodeGrant(spa, callback, { pkceCodeVerifier: verifier });
    const endSession = oidc.buildEndSessionUrl(spa, {
      id_token_hint: tokens.id_token ?? '',
      post_logout_redirect_uri: 'http://127.0.0.1:5173/',
      state: 'bye',
    });
    const res = await request(authUrl).get(endSession.pathname + endSession.search);
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('http://127.0.0.1:5173/?state=bye');
  });
});
