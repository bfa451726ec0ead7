import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { UsersGateway } from './contracts.ts';
import {
  createTestAuthDatabase,
  startAuthServer,
  type StartedAuthServer,
  type TestAuthDatabase,
} from './testing.ts';

const noUsers: UsersGateway = {
  verifyCredentials: () => Promise.resolve(undefined),
  getUser: () => Promise.resolve(undefined),
  listOrganizations: () => Promise.resolve([]),
  getAuthz: () => Promise.resolve(undefined),
};

let database: TestAuthDatabase;
let server: StartedAuthServer;

beforeAll(async () => {
  database = await createTestAuthDatabase();
  server = await startAuthServer({ db: database.db, users: noUsers, masterKey: randomBytes(32) });
});

afterAll(async () => {
  await server?.close();
  await database?.drop();
});

describe('auth OpenAPI document', () => {
  it('describes the protocol endpoints and the admin API, each with its responses', async () => {
    const res = await request(server.url).get('/openapi.json');
    expect(res.status).toBe(200);
    const doc = res.body as {
      openapi: string;
      paths: Record<string, Record<string, { responses?: Record<string, unknown> }>>;
    };
    expect(doc.openapi).toBe('3.1.0');
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method} ${path}`),
    );
    for (const operation of [
      'get /.well-known/openid-configuration',
      'get /.well-known/oauth-authorization-server',
      'get /jwks.json',
      'get /oauth2/authorize',
      'post /oauth2/token',
      'post /oauth2/revoke',
      'post /oauth2/introspect',
      'get /oauth2/userinfo',
      'get /oauth2/logout',
      'get /v1/clients',
      'post /v1/clients',
    ]) {
      expect(documented, operation).toContain(operation);
    }
    expect(Object.keys(doc.paths['/oauth2/token']!.post!.responses ?? {})).toContain('200');
    // The document itself is not an API operation.
    expect(documented).not.toContain('get /openapi.json');
  });
});
