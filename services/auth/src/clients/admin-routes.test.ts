import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { eq } from 'drizzle-orm';
import {
  createTestAuthDatabase,
  startAuthServer,
  type StartedAuthServer,
  type TestAuthDatabase,
} from '../testing.ts';
import { MemoryUsers } from '../flows/testing.ts';
import { hashClientSecret } from './secrets.ts';
import { oauthClients } from './table.ts';

let database: TestAuthDatabase;
let server: StartedAuthServer;
let adminToken: string;
let readerToken: string;
const users = new MemoryUsers();

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

async function credentialsFor(
  clientId: string,
  scopes: string[],
): Promise<{ token: string; secret: string }> {
  const { secret } = await server.auth.clients.create({
    clientId,
    name: clientId,
    type: 'confidential',
    scopes,
  });
  const res = await request(server.url)
    .post('/oauth2/token')
    .type('form')
    .set('authorization', basic(clientId, secret!))
    .send({ grant_type: 'client_credentials' });
  return { token: res.body.access_token as string, secret: secret! };
}
const tokenFor = async (clientId: string, scopes: string[]) => (await credentialsFor(clientId, scopes)).token;

beforeAll(async () => {
  database = await createTestAuthDatabase();
  server = await startAuthServer({ db: database.db, conn: database.conn, features: [], users });
  adminToken = await tokenFor('admin-tool', [
    'clients:read',
    'clients:write',
    'keys:read',
    'keys:write',
    'users:read',
  ]);
  readerToken = await tokenFor('auditor', ['clients:read']);
});

afterAll(async () => {
  await server?.close();
  await database?.drop();
});

const api = () => request(server.url);

describe('/v1/clients', () => {
  it('answers a request without a token with 401 and a Bearer challenge', async () => {
    const res = await api().get('/v1/clients');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="tessera"');
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('answers a token without clients:write with 403 and creates nothing', async () => {
    const res = await api()
      .post('/v1/clients')
      .set('authorization', `Bearer ${readerToken}`)
      .send({ name: 'Sneaky', type: 'confidential', clientId: 'sneaky' });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('insufficient_scope');
    expect(await database.db.select().from(oauthClients).where(eq(oauthClients.clientId, 'sneaky'))).toEqual(
      [],
    );
  });

  it('creates a confidential client and shows its secret only in that response', async () => {
    const res = await api()
      .post('/v1/clients')
      .set('authorization', `Bearer ${adminToken}`)
      .send({ clientId: 'billing', name: 'Billing', type: 'confidential', scopes: ['users:read'] });
    expect(res.status).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body.client).toMatchObject({
      clientId: 'billing',
      type: 'confidential',
      tokenEndpointAuthMethod: 'client_secret_basic',
      grantTypes: ['client_credentials'],
      audiences: ['tessera-api'],
    });
    const secret = res.body.clientSecret as string;
    expect(secret).toMatch(/^[\w-]{43}$/);
    const [row] = await database.db.select().from(oauthClients).where(eq(oauthClients.clientId, 'billing'));
    expect(row!.secretHash).toBe(hashClientSecret(secret));
    expect(row!.secretHash).not.toContain(secret);
    const read = await api().get('/v1/clients/billing').set('authorization', `Bearer ${readerToken}`);
    expect(read.status).toBe(200);
    expect(JSON.stringify(read.body)).not.toContain(secret);
    expect(read.body).not.toHaveProperty('secretHash');
    const token = await api()
      .post('/oauth2/token')
      .type('form')
      .set('authorization', basic('billing', secret))
      .send({ grant_type: 'client_credentials' });
    expect(token.status).toBe(200);
  });

  it('creates a public client without a secret', async () => {
    const res = await api()
      .post('/v1/clients')
      .set('authorization', `Bearer ${adminToken}`)
      .send({
        clientId: 'mobile',
        name: 'Mobile',
        type: 'public',
        redirectUris: ['com.example.app:/callback', 'http://127.0.0.1/callback'],
        scopes: ['openid'],
      });
    expect(res.status).toBe(201);
    expect(res.body.clientSecret).toBeUndefined();
    expect(res.body.client.grantTypes).toEqual(['authorization_code', 'refresh_token']);
  });

  it('registers an ID-token signing algorithm among those the issuer offers, and refuses others', async () => {
    const auth = { authorization: `Bearer ${adminToken}` };
    const rs = await api()
      .post('/v1/clients')
      .set(auth)
      .send({
        clientId: 'rp-rs256',
        name: 'RP',
        type: 'public',
        redirectUris: ['https://rp.example/cb'],
        scopes: ['openid'],
        idTokenSignedResponseAlg: 'RS256',
      });
    expect(rs.status).toBe(201);
    expect(rs.body.client.idTokenSignedResponseAlg).toBe('RS256');
    // This issuer signs with ES256 and offers RS256 for ID tokens, not EdDSA.
    const ed = await api()
      .post('/v1/clients')
      .set(auth)
      .send({
        name: 'RP',
        type: 'public',
        redirectUris: ['https://rp.example/cb'],
        idTokenSignedResponseAlg: 'EdDSA',
      });
    expect(ed.status).toBe(400);
    expect(ed.body.code).toBe('invalid_client_metadata');
    const bogus = await api()
      .post('/v1/clients')
      .set(auth)
      .send({
        name: 'RP',
        type: 'public',
        redirectUris: ['https://rp.example/cb'],
        idTokenSignedResponseAlg: 'none',
      });
    expect(bogus.status).toBe(400);
  });

  it('lists the web origins of browser apps (public code-flow clients) for the gateway, and nothing else', async () => {
    const auth = { authorization: `Bearer ${adminToken}` };
    await api()
      .post('/v1/clients')
      .set(auth)
      .send({
        clientId: 'spa-origins',
        name: 'SPA',
        type: 'public',
        redirectUris: ['https://spa.example/cb', 'https://spa.example/other', 'com.example.app:/cb'],
      });
    await api()
      .post('/v1/clients')
      .set(auth)
      .send({
        clientId: 'web-backend',
        name: 'Backend',
        type: 'confidential',
        grantTypes: ['authorization_code'],
        redirectUris: ['https://backend.example/cb'],
      });
    const res = await api().get('/internal/client-origins');
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const origins = res.body.origins as string[];
    expect(origins).toContain('https://spa.example');
    expect(origins.filter((o) => o === 'https://spa.example')).toHaveLength(1);
    expect(origins).not.toContain('https://backend.example');
    expect(origins.every((o) => /^https?:\/\/[^/]+$/.test(o))).toBe(true);
  });

  it('refuses unknown fields, bad redirect URIs and duplicate ids with 400/409 problem+json', async () => {
    const auth = { authorization: `Bearer ${adminToken}` };
    const extra = await api()
      .post('/v1/clients')
      .set(auth)
      .send({ name: 'X', type: 'public', redirectUris: ['https://a.example/cb'], secretHash: 'x' });
    expect(extra.status).toBe(400);
    const fragment = await api()
      .post('/v1/clients')
      .set(auth)
      .send({ name: 'X', type: 'public', redirectUris: ['https://a.example/cb#frag'] });
    expect(fragment.status).toBe(400);
    expect(fragment.body.code).toBe('invalid_client_metadata');
    // The name is shown on the consent page: no control or bidirectional-override characters.
    for (const name of ['Bell\u0007', 'Line\nbreak', 'Evil\u202eelgooG', '   ']) {
      const res = await api().post('/v1/clients').set(auth).send({ name, type: 'confidential' });
      expect(res.status, JSON.stringify(name)).toBe(400);
      expect(res.body.code).toBe('validation_failed');
    }
    const publicCc = await api()
      .post('/v1/clients')
      .set(auth)
      .send({ name: 'X', type: 'public', grantTypes: ['client_credentials'] });
    expect(publicCc.status).toBe(400);
    // A client with no grant type could never obtain a token: refused, not stored as a dead entry.
    const before = (await api().get('/v1/clients').set(auth)).body.clients.length as number;
    const noGrant = await api()
      .post('/v1/clients')
      .set(auth)
      .send({ name: 'X', type: 'public', grantTypes: [] });
    expect(noGrant.status).toBe(400);
    expect(noGrant.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(noGrant.body.code).toBe('invalid_client_metadata');
    expect((await api().get('/v1/clients').set(auth)).body.clients).toHaveLength(before);
    const duplicate = await api()
      .post('/v1/clients')
      .set(auth)
      .send({ clientId: 'billing', name: 'Again', type: 'confidential' });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.code).toBe('client_exists');
  });

  it('refuses query parameters and bodies the operation does not declare instead of ignoring them', async () => {
    const auth = { authorization: `Bearer ${adminToken}` };
    const query = await api().get('/v1/clients?limit=1').set(auth);
    expect(query.status).toBe(400);
    expect(query.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(query.body.code).toBe('unknown_parameter');
    for (const path of ['/v1/keys/rotate', '/v1/clients/billing/rotate-secret']) {
      const res = await api().post(path).set(auth).send({ force: true });
      expect(res.status, path).toBe(400);
      expect(res.body.code, path).toBe('unexpected_body');
    }
    const remove = await api().delete('/v1/clients/billing').set(auth).send({ cascade: true });
    expect(remove.body.code).toBe('unexpected_body');
    expect(await server.auth.clients.get('billing')).toBeDefined();
  });

  it('keeps every answer of the admin API out of caches', async () => {
    for (const path of ['/v1/clients', '/v1/clients/billing', '/v1/keys']) {
      const res = await api().get(path).set('authorization', `Bearer ${adminToken}`);
      expect(res.status, path).toBe(200);
      expect(res.headers['cache-control'], path).toBe('no-store');
    }
  });

  it('refuses a private_key_jwt client whose keys are private, or are not keys at all', async () => {
    const auth = { authorization: `Bearer ${adminToken}` };
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const register = (keys: object[]) =>
      api().post('/v1/clients').set(auth).send({
        name: 'Signer',
        type: 'confidential',
        tokenEndpointAuthMethod: 'private_key_jwt',
        jwks: { keys },
      });
    for (const keys of [
      [privateKey.export({ format: 'jwk' })],
      [{ kty: 'EC', crv: 'P-256', x: '!!', y: '!!' }],
      [{ kty: 'RSA', n: 'AQAB', e: 'AQAB' }],
      [{ kty: 'nonsense' }],
    ]) {
      const res = await register(keys);
      expect(res.status, JSON.stringify(keys)).toBe(400);
      expect(res.body.code).toBe('invalid_client_metadata');
    }
    expect(
      (await register([{ ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'ES256' }])).status,
    ).toBe(201);
  });

  it('lists clients for a reader without any secret material', async () => {
    const res = await api().get('/v1/clients').set('authorization', `Bearer ${readerToken}`);
    expect(res.status).toBe(200);
    const ids = (res.body.clients as Array<{ clientId: string }>).map((client) => client.clientId);
    expect(ids).toEqual(expect.arrayContaining(['admin-tool', 'auditor', 'billing']));
    expect(JSON.stringify(res.body)).not.toMatch(/secretHash|clientSecret/);
  });

  it('refuses to give a client management scopes the caller does not hold, at creation and by secret rotation', async () => {
    // clients:write alone must not become users:write (or the services' `internal` scope) through
    // a client registered, or taken over, by the caller.
    const { token: clientsOnly } = await credentialsFor('clients-only', ['clients:read', 'clients:write']);
    for (const scopes of [['users:write'], ['orgs:read', 'invoices:approve'], ['internal'], ['keys:write']]) {
      const res = await api()
        .post('/v1/clients')
        .set('authorization', `Bearer ${clientsOnly}`)
        .send({ clientId: 'escalated', name: 'Escalated', type: 'confidential', scopes });
      expect(res.status, scopes.join(' ')).toBe(403);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body.code).toBe('scope_not_held');
      expect(res.body.detail).toContain(scopes[0]);
    }
    expect(await server.auth.clients.get('escalated')).toBeUndefined();
    // Application scopes and the caller's own permissions are its to hand out.
    const allowed = await api()
      .post('/v1/clients')
      .set('authorization', `Bearer ${clientsOnly}`)
      .send({
        clientId: 'invoicing',
        name: 'Invoicing',
        type: 'confidential',
        scopes: ['invoices:approve', 'clients:read'],
      });
    expect(allowed.status).toBe(201);

    const { secret: powerfulSecret } = await credentialsFor('powerful', ['users:write']);
    const takeover = await api()
      .post('/v1/clients/powerful/rotate-secret')
      .set('authorization', `Bearer ${clientsOnly}`);
    expect(takeover.status).toBe(403);
    expect(takeover.body.code).toBe('scope_not_held');
    expect(JSON.stringify(takeover.body)).not.toMatch(/clientSecret/);
    const stillWorks = await api()
      .post('/oauth2/token')
      .type('form')
      .set('authorization', basic('powerful', powerfulSecret))
      .send({ grant_type: 'client_credentials' });
    expect(stillWorks.status).toBe(200);
    const rotatedOwn = await api()
      .post('/v1/clients/invoicing/rotate-secret')
      .set('authorization', `Bearer ${clientsOnly}`);
    expect(rotatedOwn.status).toBe(200);
  });

  it('rotates a secret: the new one works at once and the old one stops working', async () => {
    const created = await api()
      .post('/v1/clients')
      .set('authorization', `Bearer ${adminToken}`)
      .send({ clientId: 'rotating', name: 'Rotating', type: 'confidential' });
    const oldSecret = created.body.clientSecret as string;
    const rotated = await api()
      .post('/v1/clients/rotating/rotate-secret')
      .set('authorization', `Bearer ${adminToken}`);
    expect(rotated.status).toBe(200);
    const newSecret = rotated.body.clientSecret as string;
    expect(newSecret).not.toBe(oldSecret);
    expect(rotated.body.client.secretRotatedAt).toEqual(expect.any(String));
    const form = { grant_type: 'client_credentials' };
    expect(
      (
        await api()
          .post('/oauth2/token')
          .type('form')
          .set('authorization', basic('rotating', oldSecret))
          .send(form)
      ).status,
    ).toBe(401);
    expect(
      (
        await api()
          .post('/oauth2/token')
          .type('form')
          .set('authorization', basic('rotating', newSecret))
          .send(form)
      ).status,
    ).toBe(200);
  });

  it('deletes a client, after which it can no longer authenticate', async () => {
    const created = await api()
      .post('/v1/clients')
      .set('authorization', `Bearer ${adminToken}`)
      .send({ clientId: 'doomed', name: 'Doomed', type: 'confidential' });
    const secret = created.body.clientSecret as string;
    expect(
      (
        await api()
          .post('/oauth2/token')
          .type('form')
          .set('authorization', basic('doomed', secret))
          .send({ grant_type: 'client_credentials' })
      ).status,
    ).toBe(200);
    const res = await api().delete('/v1/clients/doomed').set('authorization', `Bearer ${adminToken}`);
    expect(res.status).toBe(204);
    expect(await database.db.select().from(oauthClients).where(eq(oauthClients.clientId, 'doomed'))).toEqual(
      [],
    );
    expect(
      (
        await api()
          .post('/oauth2/token')
          .type('form')
          .set('authorization', basic('doomed', secret))
          .send({ grant_type: 'client_credentials' })
      ).status,
    ).toBe(401);
    expect(
      (await api().delete('/v1/clients/doomed').set('authorization', `Bearer ${adminToken}`)).status,
    ).toBe(404);
  });

  it('refuses the token of an administrator disabled or deleted since it was issued, on every write', async () => {
    const userToken = async (userId: string) =>
      (
        await server.auth.core.signer.signAccessToken({
          sub: userId,
          clientId: 'console',
          aud: 'tessera-api',
          scope: 'clients:write keys:write',
          permissions: ['clients:write', 'keys:write'],
          ttlSeconds: 600,
        })
      ).token;
    const admin = users.add('admin-to-remove@example.com', 'irrelevant');
    const token = await userToken(admin.profile.id);
    const create = (clientId: string) =>
      api()
        .post('/v1/clients')
        .set('authorization', `Bearer ${token}`)
        .send({ clientId, name: clientId, type: 'confidential' });
    expect((await create('while-active')).status).toBe(201);

    admin.profile.status = 'disabled';
    const refused = await create('after-disable');
    expect(refused.status).toBe(401);
    expect(refused.headers['www-authenticate']).toContain('error="invalid_token"');
    expect(refused.body.detail).toBe('the user of this token is disabled or deleted');
    expect(await server.auth.clients.get('after-disable')).toBeUndefined();
    for (const write of [
      api().post('/v1/clients/while-active/rotate-secret'),
      api().delete('/v1/clients/while-active'),
      api().post('/v1/keys/rotate'),
    ]) {
      expect((await write.set('authorization', `Bearer ${token}`)).status).toBe(401);
    }
    expect(await server.auth.clients.get('while-active')).toBeDefined();

    users.byId.delete(admin.profile.id);
    expect((await create('after-delete')).status).toBe(401);
    // Reads are left to the token's expiry; tokens a client obtained for itself have no user.
    expect((await api().get('/v1/clients').set('authorization', `Bearer ${adminToken}`)).status).toBe(200);
  });

  it('refuses a revoked admin token', async () => {
    const { token, secret } = await credentialsFor('short-lived-admin', ['clients:read']);
    expect((await api().get('/v1/clients').set('authorization', `Bearer ${token}`)).status).toBe(200);
    await api()
      .post('/oauth2/revoke')
      .type('form')
      .set('authorization', basic('short-lived-admin', secret))
      .send({ token });
    const res = await api().get('/v1/clients').set('authorization', `Bearer ${token}`);
    expect(res.status).toBe(401);
  });
});

describe('/v1/keys', () => {
  it('requires keys:write to rotate', async () => {
    const res = await api().post('/v1/keys/rotate').set('authorization', `Bearer ${readerToken}`);
    expect(res.status).toBe(403);
    expect((await server.auth.keys.list()).length).toBe(1);
  });

  it('rotates: the next key appears in /jwks.json while the current one keeps signing', async () => {
    const before = await api().get('/jwks.json');
    const res = await api().post('/v1/keys/rotate').set('authorization', `Bearer ${adminToken}`);
    expect(res.status).toBe(200);
    expect(res.body.current.kid).toBe(before.body.keys[0].kid);
    expect(res.body.next).toMatchObject({ state: 'next', alg: 'ES256' });
    expect(res.body.idToken.next).toMatchObject({ state: 'next', alg: 'RS256' });
    const after = await api().get('/jwks.json');
    expect(after.body.keys.map((key: { kid: string }) => key.kid)).toEqual([
      res.body.current.kid,
      res.body.next.kid,
      res.body.idToken.current.kid,
      res.body.idToken.next.kid,
    ]);
    const listed = await api().get('/v1/keys').set('authorization', `Bearer ${adminToken}`);
    expect(
      listed.body.keys.map((key: { keySet: string; state: string }) => `${key.keySet}:${key.state}`),
    ).toEqual(['primary:current', 'primary:next', 'id-token-rs256:current', 'id-token-rs256:next']);
  });
});
