import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { createTokenVerifier, fastifyAuth, requireScopes } from '@tessera/auth-middleware';
import {
  createTestAuthDatabase,
  startAuthServer,
  type StartedAuthServer,
  type TestAuthDatabase,
} from './testing.ts';
import { HttpUsersGateway, SERVICE_SUBJECT } from './users-gateway.ts';

let database: TestAuthDatabase;
let auth: StartedAuthServer;
let users: FastifyInstance;
let gateway: HttpUsersGateway;
const seen: Array<{ path: string; sub: string; token: string }> = [];
const USER_ID = '0191f0c2-6a1e-7b3c-8d4e-5f6a7b8c9d0e';
const ORG_ID = '0191f0c2-6a1e-7b3c-8d4e-000000000001';

beforeAll(async () => {
  database = await createTestAuthDatabase();
  auth = await startAuthServer({ db: database.db, features: [] });
  // A stand-in for the user service's internal API, protected like the real one: @tessera/auth-middleware
  // verifying against the auth service's own /jwks.json, scope `internal` required.
  users = Fastify();
  const verifier = createTokenVerifier({
    jwksUrl: `${auth.url}/jwks.json`,
    issuer: auth.url,
    audience: 'tessera-api',
  });
  await users.register(fastifyAuth, { verifier });
  const record = (path: string, request: { auth?: { sub: string }; headers: { authorization?: string } }) =>
    seen.push({ path, sub: request.auth?.sub ?? '', token: request.headers.authorization ?? '' });
  users.post(
    '/internal/credentials/verify',
    { preHandler: requireScopes('internal') },
    async (request, reply) => {
      record('verify', request);
      const body = request.body as { email: string; password: string };
      if (body.email === 'ada@example.com' && body.password === 'correct horse') return { userId: USER_ID };
      return reply.code(401).type('application/problem+json').send({ code: 'invalid_credentials' });
    },
  );
  users.get(
    '/internal/users/:id/authz',
    { preHandler: requireScopes('internal') },
    async (request, reply) => {
      record('authz', request);
      const { id } = request.params as { id: string };
      const { org } = request.query as { org: string };
      if (id !== USER_ID || org !== ORG_ID) return reply.code(404).send({ code: 'not_found' });
      return {
        userId: id,
        orgId: org,
        orgSlug: 'acme',
        roles: ['admin'],
        permissions: ['users:read', 'users:write'],
      };
    },
  );
  users.get('/internal/users/:id', { preHandler: requireScopes('internal') }, async (request, reply) => {
    record('user', request);
    return reply.code(404).send({ code: 'not_found' });
  });
  await users.listen({ host: '127.0.0.1', port: 0 });
  const address = users.server.address() as { port: number };
  gateway = new HttpUsersGateway({
    baseUrl: `http://127.0.0.1:${address.port}`,
    signer: auth.auth.core.signer,
    audience: 'tessera-api',
    clock: auth.auth.core.clock,
  });
});

afterAll(async () => {
  await gateway?.close();
  await users?.close();
  await auth?.close();
  await database?.drop();
});

describe('HttpUsersGateway', () => {
  it('calls the user service with a service token of this issuer that the middleware accepts', async () => {
    expect(await gateway.verifyCredentials('ada@example.com', 'correct horse')).toEqual({ userId: USER_ID });
    expect(seen.at(-1)?.sub).toBe(SERVICE_SUBJECT);
  });

  it('answers undefined for credentials the user service refuses', async () => {
    expect(await gateway.verifyCredentials('ada@example.com', 'wrong')).toBeUndefined();
  });

  it('reuses one service token across calls', async () => {
    await gateway.getUser(USER_ID);
    const tokens = new Set(seen.map((call) => call.token));
    expect(tokens.size).toBe(1);
  });

  it('asks the user service for every authorization context (its cache is the one its writes invalidate)', async () => {
    const before = seen.filter((call) => call.path === 'authz').length;
    const first = await gateway.getAuthz(USER_ID, ORG_ID);
    const second = await gateway.getAuthz(USER_ID, ORG_ID);
    expect(first).toEqual({
      userId: USER_ID,
      orgId: ORG_ID,
      orgSlug: 'acme',
      roles: ['admin'],
      permissions: ['users:read', 'users:write'],
    });
    expect(second).toEqual(first);
    expect(await gateway.getAuthz(USER_ID, 'another-org')).toBeUndefined();
    expect(await gateway.getAuthz(USER_ID, 'another-org')).toBeUndefined();
    expect(seen.filter((call) => call.path === 'authz').length - before).toBe(4);
  });

  it('answers undefined for an unknown user', async () => {
    expect(await gateway.getUser('0191f0c2-0000-7000-8000-000000000000')).toBeUndefined();
  });
});
