import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { UsersGateway } from '../../contracts.ts';
import {
  createTestAuthDatabase,
  startAuthServer,
  type StartedAuthServer,
  type TestAuthDatabase,
} from '../../testing.ts';

/** The flows need a user service; discovery never calls it. */
const noUsers: UsersGateway = {
  verifyCredentials: () => Promise.resolve(undefined),
  getUser: () => Promise.resolve(undefined),
  listOrganizations: () => Promise.resolve([]),
  getAuthz: () => Promise.resolve(undefined),
};

let database: TestAuthDatabase;
let full: StartedAuthServer;
let coreOnly: StartedAuthServer;

beforeAll(async () => {
  database = await createTestAuthDatabase();
  const masterKey = randomBytes(32);
  full = await startAuthServer({ db: database.db, users: noUsers, masterKey });
  coreOnly = await startAuthServer({ db: database.db, masterKey, features: [] });
});

afterAll(async () => {
  await full?.close();
  await coreOnly?.close();
  await database?.drop();
});

describe('/.well-known/openid-configuration', () => {
  it('describes the issuer, its endpoints and exactly the supported features', async () => {
    const res = await request(full.url).get('/.well-known/openid-configuration');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['cache-control']).toBe('public, max-age=300');
    const issuer = full.url;
    expect(res.body).toEqual({
      issuer,
      authorization_endpoint: `${issuer}/oauth2/authorize`,
      token_endpoint: `${issuer}/oauth2/token`,
      userinfo_endpoint: `${issuer}/oauth2/userinfo`,
      end_session_endpoint: `${issuer}/oauth2/logout`,
      jwks_uri: `${issuer}/jwks.json`,
      introspection_endpoint: `${issuer}/oauth2/introspect`,
      revocation_endpoint: `${issuer}/oauth2/revoke`,
      grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      code_challenge_methods_supported: ['S256'],
      prompt_values_supported: ['none', 'login', 'consent', 'select_account'],
      scopes_supported: [
        'openid',
        'profile',
        'email',
        'offline_access',
        'users:read',
        'users:write',
        'orgs:read',
        'orgs:write',
      ],
      subject_types_supported: ['public'],
      // RS256 is mandatory for ID tokens (OIDC Discovery §3, Core §15.1).
      id_token_signing_alg_values_supported: ['ES256', 'RS256'],
      token_endpoint_auth_methods_supported: [
        'client_secret_basic',
        'client_secret_post',
        'private_key_jwt',
        'none',
      ],
      token_endpoint_auth_signing_alg_values_supported: expect.arrayContaining(['ES256', 'EdDSA', 'RS256']),
      introspection_endpoint_auth_methods_supported: [
        'client_secret_basic',
        'client_secret_post',
        'private_key_jwt',
      ],
      introspection_endpoint_auth_signing_alg_values_supported: expect.arrayContaining(['ES256']),
      revocation_endpoint_auth_methods_supported: [
        'client_secret_basic',
        'client_secret_post',
        'private_key_jwt',
        'none',
      ],
      revocation_endpoint_auth_signing_alg_values_supported: expect.arrayContaining(['ES256']),
      authorization_response_iss_parameter_supported: true,
      request_parameter_supported: false,
      request_uri_parameter_supported: false,
      claims_parameter_supported: false,
      claims_supported: expect.arrayContaining([
        'sub',
        'email',
        'email_verified',
        'name',
        'org_id',
        'nonce',
        'at_hash',
        'auth_time',
      ]),
    });
    expect(res.body.token_endpoint_auth_signing_alg_values_supported).not.toContain('HS256');
    expect(res.body.grant_types_supported).not.toContain('implicit');
    expect(res.body.grant_types_supported).not.toContain('password');
  });

  it('serves the same document as RFC 8414 authorization server metadata', async () => {
    const oidc = await request(full.url).get('/.well-known/openid-configuration');
    const oauth = await request(full.url).get('/.well-known/oauth-authorization-server');
    expect(oauth.status).toBe(200);
    expect(oauth.body).toEqual(oidc.body);
  });

  it('advertises only the client_credentials grant and no authorization endpoint when the flows are not installed', async () => {
    const res = await request(coreOnly.url).get('/.well-known/openid-configuration');
    expect(res.body.grant_types_supported).toEqual(['client_credentials']);
    expect(res.body.authorization_endpoint).toBeUndefined();
    expect(res.body.response_types_supported).toEqual([]);
  });
});

describe('/jwks.json', () => {
  it('publishes the public signing keys with cache headers and no private members', async () => {
    const res = await request(full.url).get('/jwks.json');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/jwk-set\+json/);
    expect(res.headers['cache-control']).toBe('public, max-age=300, stale-while-revalidate=60');
    expect(res.headers.etag).toMatch(/^"[\w-]+"$/);
    const body = JSON.parse(res.text) as { keys: Array<Record<string, unknown>> };
    // The primary ES256 key, and the RS256 key that signs ID tokens for clients asking for RS256.
    expect(body.keys).toHaveLength(2);
    expect(body.keys[0]).toMatchObject({
      kty: 'EC',
      crv: 'P-256',
      alg: 'ES256',
      use: 'sig',
      kid: expect.any(String),
    });
    expect(body.keys[1]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: expect.any(String) });
    for (const key of body.keys)
      for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) expect(key).not.toHaveProperty(member);
  });

  it('answers a matching If-None-Match with 304', async () => {
    const first = await request(full.url).get('/jwks.json');
    const again = await request(full.url)
      .get('/jwks.json')
      .set('if-none-match', first.headers.etag as string);
    expect(again.status).toBe(304);
    expect(again.text).toBe('');
  });
});
