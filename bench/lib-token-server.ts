/**
 * One server of the token benchmark, started as its own process by `bench/token.ts`:
 * `node bench/lib-token-server.ts <tessera|oidc|limit> <ES256|EdDSA> [client_credentials|refresh_token]`.
 * It prints one JSON line `{ tokenUrl, clientId, clientSecret, refreshTokens }` once listening and
 * runs until killed. Every server issues the same thing: an access token JWT (600 s, audience
 * `tessera-api`, scope `users:read`) — for `client_credentials` to a confidential client with
 * client_secret_basic; for `refresh_token` to a public client (`none`) holding `openid
 * offline_access users:read`, with rotation and an ID token, from refresh tokens obtained before
 * the run (Tessera: through its real authorize → login → code flow; oidc-provider: through its
 * Grant/RefreshToken models, its in-memory adapter).
 */
// Every server kind runs with libuv's pool sized as Tessera's entry points size it (one thread per
// core the event loop leaves free: 1 on 2 cores, ADR 0014), so the signer's pool is the same for the
// three and the ratios compare the servers, not their pool settings.
import '@tessera/kernel/size-thread-pool';
import { generateKeyPairSync, hash, randomBytes, randomUUID, sign, timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import Fastify from 'fastify';
import formbody from '@fastify/formbody';
import { exportJWK, generateKeyPair } from 'jose';
import { createLogger } from '@tessera/kernel';
import { applyMigrations, closeConnection, createDrizzle, openConnection } from '@tessera/db';
import { createTestDatabase } from '@tessera/db/testing';
import {
  authMigrations,
  authTables,
  buildAuthApp,
  defaultAuthConfig,
  type AuthDatabase,
} from '@tessera/auth-service';
import { MemoryUsers, type FlowServer } from '../services/auth/src/flows/testing.ts';
import { authorizeWithLogin, browser, redeem, tokens } from '../services/auth/src/flows/testing-http.ts';

type Kind = 'tessera' | 'oidc' | 'limit';
type Alg = 'ES256' | 'EdDSA';

const [kind, alg, grant = 'client_credentials'] = process.argv.slice(2) as [Kind, Alg, string?];
const CLIENT_ID = 'bench-client';
const SPA_ID = 'bench-spa';
const REDIRECT_URI = 'http://127.0.0.1:5173/callback';
/** Refresh tokens handed to the load generator: more than its connections, so a failed chain can restart. */
const REFRESH_TOKENS = 192;
const SCOPE = 'users:read';
const AUDIENCE = 'tessera-api';
const TTL = 600;

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function announce(tokenUrl: string, clientSecret: string, refreshTokens: string[] = []): void {
  const clientId = grant === 'refresh_token' ? SPA_ID : CLIENT_ID;
  process.stdout.write(`${JSON.stringify({ tokenUrl, clientId, clientSecret, refreshTokens })}\n`);
}

async function startTessera(): Promise<void> {
  const testDb = await createTestDatabase();
  const conn = await openConnection({ url: testDb.url, poolMax: 10 });
  await applyMigrations(conn, authMigrations);
  const db = createDrizzle(conn, authTables) as unknown as AuthDatabase;
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const users = new MemoryUsers();
  users.add('bench@example.com', 'correct horse battery', [
    { id: randomUUID(), slug: 'acme', name: 'Acme', roles: ['member'], permissions: [SCOPE] },
  ]);
  const auth = await buildAuthApp({
    config: defaultAuthConfig({ publicUrl: url, port, signingAlg: alg, accessTokenTtlSeconds: TTL }),
    db,
    conn,
    logger: createLogger({ name: 'auth', level: 'warn' }),
    masterKey: randomBytes(32),
    users,
  });
  const { secret } = await auth.clients.create({
    clientId: CLIENT_ID,
    name: 'bench',
    type: 'confidential',
    scopes: [SCOPE],
    audiences: [AUDIENCE],
  });
  await auth.clients.create({
    clientId: SPA_ID,
    name: 'bench spa',
    type: 'public',
    redirectUris: [REDIRECT_URI],
    scopes: ['openid', 'offline_access', SCOPE],
    audiences: [AUDIENCE],
    firstParty: true,
  });
  await auth.app.listen({ host: '127.0.0.1', port });
  const refreshTokens: string[] = [];
  if (grant === 'refresh_token') {
    const server = { url } as unknown as FlowServer;
    const obtain = async () => {
      const code = await authorizeWithLogin(browser(server), server, {
        clientId: SPA_ID,
        email: 'bench@example.com',
        password: 'correct horse battery',
        overrides: { scope: `openid offline_access ${SCOPE}`, redirect_uri: REDIRECT_URI },
      });
      refreshTokens.push(tokens(await redeem(server, SPA_ID, code)).refresh_token as string);
    };
    for (let i = 0; i < REFRESH_TOKENS; i += 8) await Promise.all(Array.from({ length: 8 }, obtain));
  }
  const stop = async () => {
    await auth.close();
    await closeConnection(conn);
    await testDb.drop();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  announce(`${url}/oauth2/token`, secret as string, refreshTokens);
}

async function startOidcProvider(): Promise<void> {
  const { default: Provider } = await import('oidc-provider');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const secret = randomBytes(32).toString('base64url');
  const { privateKey } = await generateKeyPair(
    alg,
    alg === 'EdDSA' ? { extractable: true, crv: 'Ed25519' } : { extractable: true },
  );
  const jwk = { ...(await exportJWK(privateKey)), kid: 'bench', alg, use: 'sig' };
  const provider = new Provider(url, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: secret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
        id_token_signed_response_alg: alg,
        scope: SCOPE,
      },
      {
        client_id: SPA_ID,
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: [REDIRECT_URI],
        token_endpoint_auth_method: 'none',
        id_token_signed_response_alg: alg,
        scope: `openid offline_access ${SCOPE}`,
      },
    ],
    findAccount: (_ctx: unknown, id: string) => ({ accountId: id, claims: () => ({ sub: id }) }),
    rotateRefreshToken: true,
    ttl: { AccessToken: TTL, IdToken: 3600, RefreshToken: 14 * 86_400, Grant: 14 * 86_400 },
    jwks: { keys: [jwk] },
    scopes: ['openid', 'offline_access', SCOPE],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => 'urn:tessera:api',
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: SCOPE,
          audience: AUDIENCE,
          accessTokenTTL: TTL,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg } },
        }),
      },
    },
  });
  const server = provider.listen(port, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const refreshTokens: string[] = [];
  if (grant === 'refresh_token') {
    const client = await provider.Client.find(SPA_ID);
    for (let i = 0; i < REFRESH_TOKENS; i++) {
      const accountId = randomUUID();
      const oidcGrant = new provider.Grant({ accountId, clientId: SPA_ID });
      oidcGrant.addOIDCScope('openid offline_access');
      oidcGrant.addResourceScope('urn:tessera:api', SCOPE);
      const grantId = await oidcGrant.save();
      const refreshToken = new provider.RefreshToken({
        accountId,
        client,
        grantId,
        scope: `openid offline_access ${SCOPE}`,
        gty: 'authorization_code',
        authTime: Math.floor(Date.now() / 1000),
        resource: 'urn:tessera:api',
      });
      refreshTokens.push(await refreshToken.save());
    }
  }
  process.once('SIGTERM', () => server.close(() => process.exit(0)));
  announce(`${url}/token`, secret, refreshTokens);
}

/**
 * The physical limit: bare Fastify, Basic check, the same claims, signed with a prepared header and
 * the fastest signer measured (`node:crypto` `sign` with a callback, on the thread pool; the same
 * signer as Tessera's).
 */
async function startLimit(): Promise<void> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const secret = randomBytes(32).toString('base64url');
  const secretHash = Buffer.from(hash('sha256', secret, 'base64url'), 'latin1');
  const { privateKey } =
    alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
  const signKey = { key: privateKey, dsaEncoding: 'ieee-p1363' as const };
  const hashName = alg === 'ES256' ? 'sha256' : null;
  const header = Buffer.from(JSON.stringify({ alg, kid: 'limit', typ: 'at+jwt' })).toString('base64url');
  const app = Fastify({ logger: false });
  await app.register(formbody);
  app.post('/oauth2/token', async (request, reply) => {
    const auth = request.headers.authorization ?? '';
    const [id, presented] = Buffer.from(auth.slice(6), 'base64').toString().split(':');
    // The same one-shot hash and comparison as Tessera's client-secret check (clients/secrets.ts).
    const digest = Buffer.from(hash('sha256', presented ?? '', 'base64url'), 'latin1');
    if (id !== CLIENT_ID || !timingSafeEqual(digest, secretHash))
      return reply.code(401).send({ error: 'invalid_client' });
    const body = request.body as Record<string, string>;
    if (body.grant_type !== 'client_credentials')
      return reply.code(400).send({ error: 'unsupported_grant_type' });
    const iat = Math.floor(Date.now() / 1000);
    const claims = {
      iss: url,
      sub: `client:${CLIENT_ID}`,
      aud: AUDIENCE,
      exp: iat + TTL,
      iat,
      nbf: iat,
      jti: randomUUID(),
      client_id: CLIENT_ID,
      scope: SCOPE,
      permissions: [SCOPE],
    };
    const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    const signature = await new Promise<Buffer>((resolve, reject) => {
      sign(hashName, Buffer.from(input, 'latin1'), signKey, (err, result) =>
        err ? reject(err) : resolve(result),
      );
    });
    void reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    return {
      access_token: `${input}.${signature.toString('base64url')}`,
      token_type: 'Bearer',
      expires_in: TTL,
      scope: SCOPE,
    };
  });
  await app.listen({ host: '127.0.0.1', port });
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
  announce(`${url}/oauth2/token`, secret);
}

if (kind === 'tessera') await startTessera();
else if (kind === 'oidc') await startOidcProvider();
else if (kind === 'limit') await startLimit();
else throw new Error(`unknown server kind ${String(kind)}`);
