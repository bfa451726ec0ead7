import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { Redis } from 'ioredis';
import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { createTokenVerifier } from '@tessera/auth-middleware';
import { testKeyPrefix, TEST_REDIS_URL } from '@tessera/db/testing';
import {
  createTestAuthDatabase,
  startAuthServer,
  type StartedAuthServer,
  type TestAuthDatabase,
} from '../../testing.ts';

let database: TestAuthDatabase;
let server: StartedAuthServer;
let redis: Redis;
let serviceSecret: string;
let postSecret: string;
let jwtKey: CryptoKey;

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

beforeAll(async () => {
  database = await createTestAuthDatabase();
  redis = new Redis(TEST_REDIS_URL);
  server = await startAuthServer({
    db: database.db,
    conn: database.conn,
    features: [],
    redis,
    redisKeyPrefix: testKeyPrefix('auth-token'),
  });
  const clients = server.auth.clients;
  serviceSecret = (
    await clients.create({
      clientId: 'reports',
      name: 'Reports',
      type: 'confidential',
      scopes: ['users:read', 'orgs:read', 'reports', 'openid'],
      audiences: ['tessera-api', 'https://reports.example.com/', 'billing'],
    })
  ).secret as string;
  postSecret = (
    await clients.create({
      clientId: 'poster',
      name: 'Poster',
      type: 'confidential',
      tokenEndpointAuthMethod: 'client_secret_post',
      scopes: ['users:read'],
    })
  ).secret as string;
  const pair = await generateKeyPair('ES256');
  jwtKey = pair.privateKey;
  await clients.create({
    clientId: 'signer',
    name: 'Signer',
    type: 'confidential',
    tokenEndpointAuthMethod: 'private_key_jwt',
    scopes: ['users:read'],
    jwks: { keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' }] },
  });
  await clients.create({
    clientId: 'spa',
    name: 'SPA',
    type: 'public',
    redirectUris: ['http://127.0.0.1:5173/callback'],
    scopes: ['openid'],
  });
});

afterAll(async () => {
  await server?.close();
  redis?.disconnect();
  await database?.drop();
});

const token = () => request(server.url).post('/oauth2/token').type('form');

function assertion(overrides: Record<string, unknown> = {}, audience = `${server.url}/oauth2/token`) {
  return new SignJWT({ jti: crypto.randomUUID(), ...overrides })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .setIssuer('signer')
    .setSubject('signer')
    .setAudience(audience)
    .setIssuedAt()
    .setExpirationTime('2m')
    .sign(jwtKey);
}

describe('client_credentials', () => {
  it('issues an RFC 9068 access token to a client authenticating with client_secret_basic', async () => {
    const res = await token()
      .set('authorization', basic('reports', serviceSecret))
      .send({ grant_type: 'client_credentials', scope: 'users:read reports' });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers.pragma).toBe('no-cache');
    expect(res.body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 600,
      scope: 'users:read reports',
    });
    const header = decodeProtectedHeader(res.body.access_token);
    expect(header).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: expect.any(String) });
    const claims = decodeJwt(res.body.access_token);
    expect(claims).toMatchObject({
      iss: server.url,
      sub: 'client:reports',
      aud: 'tessera-api',
      client_id: 'reports',
      scope: 'users:read reports',
      permissions: ['users:read'],
    });
    expect(claims.exp! - claims.iat!).toBe(600);
    expect(claims.nbf).toBe(claims.iat);
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('grants every non-OpenID scope of the client when no scope is requested', async () => {
    const res = await token()
      .set('authorization', basic('reports', serviceSecret))
      .send({ grant_type: 'client_credentials' });
    expect(res.status).toBe(200);
    expect(res.body.scope).toBe('users:read orgs:read reports');
    expect(decodeJwt(res.body.access_token).permissions).toEqual(['users:read', 'orgs:read']);
  });

  it('gives a client token a subject that cannot collide with a user id', async () => {
    const res = await token()
      .set('authorization', basic('reports', serviceSecret))
      .send({ grant_type: 'client_credentials' });
    const sub = decodeJwt(res.body.access_token).sub!;
    expect(sub).toBe('client:reports');
    expect(sub).not.toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('authenticates a client_secret_post client from the form body', async () => {
    const res = await token().send({
      grant_type: 'client_credentials',
      client_id: 'poster',
      client_secret: postSecret,
    });
    expect(res.status).toBe(200);
    expect(decodeJwt(res.body.access_token).client_id).toBe('poster');
  });

  it('refuses a client_secret_post client that authenticates with Basic instead', async () => {
    const res = await token()
      .set('authorization', basic('poster', postSecret))
      .send({ grant_type: 'client_credentials' });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'invalid_client', error_description: 'client authentication failed' });
  });

  it('authenticates a private_key_jwt client whose assertion is addressed to the token endpoint', async () => {
    const res = await token().send({
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await assertion(),
    });
    expect(res.status).toBe(200);
    expect(decodeJwt(res.body.access_token).sub).toBe('client:signer');
  });

  it('accepts a private_key_jwt assertion addressed to the issuer', async () => {
    const res = await token().send({
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await assertion({}, server.url),
    });
    expect(res.status).toBe(200);
  });

  it('rejects an assertion addressed to another endpoint of this server (RFC 7523 §3 item 3)', async () => {
    for (const path of ['/oauth2/introspect', '/oauth2/revoke']) {
      const res = await token().send({
        grant_type: 'client_credentials',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await assertion({}, `${server.url}${path}`),
      });
      expect(res.status, path).toBe(401);
      expect(res.body.error).toBe('invalid_client');
    }
  });

  it('accepts an assertion at introspection when it is addressed there, not when addressed to the token endpoint', async () => {
    const introspect = async (audience: string) =>
      request(server.url)
        .post('/oauth2/introspect')
        .type('form')
        .send({
          token: 'not-a-token',
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: await assertion({}, audience),
        });
    expect((await introspect(`${server.url}/oauth2/introspect`)).status).toBe(200);
    expect((await introspect(`${server.url}/oauth2/token`)).status).toBe(401);
  });

  it('rejects a replayed client assertion with invalid_client', async () => {
    const used = await assertion();
    const form = {
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: used,
    };
    expect((await token().send(form)).status).toBe(200);
    const replay = await token().send(form);
    expect(replay.status).toBe(401);
    expect(replay.body.error).toBe('invalid_client');
    expect(replay.headers['www-authenticate']).toBeUndefined();
  });

  it('rejects an assertion addressed to another server', async () => {
    const res = await token().send({
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await assertion({}, 'https://other.example.com/token'),
    });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
  });

  it('rejects an assertion signed by a key the client did not register', async () => {
    const stranger = await generateKeyPair('ES256');
    const forged = await new SignJWT({ jti: crypto.randomUUID() })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer('signer')
      .setSubject('signer')
      .setAudience(`${server.url}/oauth2/token`)
      .setExpirationTime('2m')
      .sign(stranger.privateKey);
    const res = await token().send({
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: forged,
    });
    expect(res.status).toBe(401);
  });

  it('answers a wrong Basic secret with 401 invalid_client and a Basic challenge', async () => {
    const res = await token()
      .set('authorization', basic('reports', 'wrong-secret'))
      .send({ grant_type: 'client_credentials' });
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Basic realm="tessera"/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual({ error: 'invalid_client', error_description: 'client authentication failed' });
  });

  it('answers an Authorization header without valid Basic credentials with the Basic challenge too', async () => {
    // RFC 6749 §5.2: the client tried the Authorization header, so the 401 names the scheme it takes.
    for (const header of ['Basic', 'Basic !!!', 'Bearer abc.def.ghi', 'Digest username="reports"']) {
      const res = await token().set('authorization', header).send({ grant_type: 'client_credentials' });
      expect(res.status, header).toBe(401);
      expect(res.headers['www-authenticate'], header).toMatch(/^Basic realm="tessera"/);
      expect(res.body.error, header).toBe('invalid_client');
    }
    const withClientId = await token()
      .set('authorization', 'Bearer abc')
      .send({ grant_type: 'client_credentials', client_id: 'reports' });
    expect(withClientId.status).toBe(401);
    expect(withClientId.headers['www-authenticate']).toMatch(/^Basic realm="tessera"/);
  });

  it('answers an unknown client like a wrong secret', async () => {
    const res = await token()
      .set('authorization', basic('nobody', serviceSecret))
      .send({ grant_type: 'client_credentials' });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'invalid_client', error_description: 'client authentication failed' });
  });

  it('refuses a confidential client that sends no credentials', async () => {
    const res = await token().send({ grant_type: 'client_credentials', client_id: 'reports' });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
  });

  it('refuses two client authentication methods in one request', async () => {
    const res = await token()
      .set('authorization', basic('reports', serviceSecret))
      .send({ grant_type: 'client_credentials', client_id: 'reports', client_secret: serviceSecret });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
  });

  it('answers a public client asking for client_credentials with unauthorized_client', async () => {
    const res = await token().send({ grant_type: 'client_credentials', client_id: 'spa' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('unauthorized_client');
  });

  it('refuses a scope the client is not allowed', async () => {
    const res = await token()
      .set('authorization', basic('reports', serviceSecret))
      .send({ grant_type: 'client_credentials', scope: 'users:write' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_scope');
  });

  it('refuses user scopes such as openid in a client_credentials request', async () => {
    const res = await token()
      .set('authorization', basic('reports', serviceSecret))
      .send({ grant_type: 'client_credentials', scope: 'openid' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_scope');
  });
});

describe('audience selection (RFC 8707)', () => {
  it('sets aud to the requested resource when the client may use it', async () => {
    const res = await token()
      .set('authorization', basic('reports', serviceSecret))
      .send({ grant_type: 'client_credentials', resource: 'https://reports.example.com/' });
    expect(res.status).toBe(200);
    expect(decodeJwt(res.body.access_token).aud).toBe('https://reports.example.com/');
  });

  it('accepts several resource parameters and puts every one in aud', async () => {
    const res = await token()
      .set('authorization', basic('reports', serviceSecret))
      .send('grant_type=client_credentials&resource=https%3A%2F%2Freports.example.com%2F&audience=billing');
    expect(res.status).toBe(200);
    expect(decodeJwt(res.body.access_token).aud).toEqual(['https://reports.example.com/', 'billing']);
  });

  it('sets aud from the audience parameter', async () => {
    const res = await token()
      .set('authorization', basic('reports', serviceSecret))
      .send({ grant_type: 'client_credentials', audience: 'billing' });
    expect(res.status).toBe(200);
    expect(decodeJwt(res.body.access_token).aud).toBe('billing');
  });

  it('answers a resource outside the client audiences with invalid_target', async () => {
    const res = await token()
      .set('authorization', basic('reports', serviceSecret))
      .send({ grant_type: 'client_credentials', resource: 'https://evil.example.com/' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_target');
  });

  it('answers a resource that is not an absolute URI with invalid_target', async () => {
    const res = await token()
      .set('authorization', basic('reports', serviceSecret))
      .send({ grant_type: 'client_credentials', resource: 'billing' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_target');
  });
});

describe('request checks', () => {
  it('answers an unknown grant type with unsupported_grant_type', async () => {
    const res = await token()
      .set('authorization', basic('reports', serviceSecret))
      .send({ grant_type: 'password', username: 'a', password: 'b' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: 'unsupported_grant_type',
      error_description: 'this grant type is not supported',
    });
  });

  it('answers a missing grant_type with invalid_request', async () => {
    const res = await token()
      .set('authorization', basic('reports', serviceSecret))
      .send({ scope: 'users:read' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
  });

  it('answers a repeated parameter with invalid_request', async () => {
    const res = await token()
      .set('authorization', basic('reports', serviceSecret))
      .send('grant_type=client_credentials&scope=users:read&scope=reports');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'invalid_request', error_description: 'scope is repeated' });
  });

  it('refuses a NUL character in a form value or a Basic client id with 400/401, never a 500', async () => {
    const form = await request(server.url)
      .post('/oauth2/token')
      .type('form')
      .send('grant_type=client_credentials&client_id=a%00b&client_secret=x');
    expect(form.status).toBe(400);
    expect(form.body.error).toBe('invalid_request');
    const basicNul = await request(server.url)
      .post('/oauth2/token')
      .set('authorization', `Basic ${Buffer.from('a%00b:x').toString('base64')}`)
      .type('form')
      .send('grant_type=client_credentials');
    expect(basicNul.status).toBe(401);
    expect(basicNul.body.error).toBe('invalid_client');
  });

  it('refuses a JSON body with 400 and an RFC 6749 error, never problem+json or 415', async () => {
    const res = await request(server.url)
      .post('/oauth2/token')
      .set('authorization', basic('reports', serviceSecret))
      .send({ grant_type: 'client_credentials' });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body.error).toBe('invalid_request');
  });
});

describe('verification by resource servers', () => {
  it('issues tokens that @tessera/auth-middleware verifies against this server’s /jwks.json', async () => {
    const res = await token()
      .set('authorization', basic('reports', serviceSecret))
      .send({ grant_type: 'client_credentials', scope: 'users:read' });
    const verifier = createTokenVerifier({
      jwksUrl: `${server.url}/jwks.json`,
      issuer: server.url,
      audience: 'tessera-api',
    });
    const claims = await verifier.verify(res.body.access_token);
    expect(claims).toMatchObject({
      sub: 'client:reports',
      client_id: 'reports',
      scopes: ['users:read'],
      permissions: ['users:read'],
    });
  });
});
