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
    // The admin API: bearer tokens, problem documents for its errors, the statuses it really sends.
    const admin = Object.entries(doc.paths)
      .filter(([path]) => path.startsWith('/v1/'))
      .flatMap(([path, ops]) =>
        Object.entries(ops).map(([method, op]) => ({ name: `${method} ${path}`, op })),
      );
    expect(admin.length).toBeGreaterThanOrEqual(7);
    for (const { name, op } of admin) {
      const operation = op as { security?: unknown; responses?: Record<string, { content?: object }> };
      expect(operation.security, name).toEqual([{ bearer: [] }]);
      for (const status of ['400', '401', '403', '404']) {
        expect(Object.keys(operation.responses?.[status]?.content ?? {}), `${name} ${status}`).toEqual([
          'application/problem+json',
        ]);
      }
    }
    expect(Object.keys(doc.paths['/v1/clients/{clientId}']!.delete!.responses ?? {})).toContain('204');
    expect(Object.keys(doc.paths['/v1/clients/{clientId}']!.delete!.responses ?? {})).not.toContain('200');
    // The document itself is not an API operation.
    expect(documented).not.toContain('get /openapi.json');
  });

  it('shows the parameters of the protocol endpoints, which read them by hand (documented-params.ts)', async () => {
    interface Operation {
      parameters?: Array<{ in: string; name: string }>;
      requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> };
    }
    const doc = (await request(server.url).get('/openapi.json')).body as {
      paths: Record<string, Record<string, Operation>>;
    };
    const formFields = (path: string, method: string) =>
      Object.keys(
        doc.paths[path]?.[method]?.requestBody?.content?.['application/x-www-form-urlencoded']?.schema
          ?.properties ?? {},
      );
    const queryNames = (path: string) =>
      (doc.paths[path]?.get?.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
    expect(formFields('/oauth2/token', 'post')).toEqual(
      expect.arrayContaining([
        'grant_type',
        'code',
        'code_verifier',
        'refresh_token',
        'resource',
        'client_assertion',
      ]),
    );
    expect(formFields('/oauth2/introspect', 'post')).toEqual(
      expect.arrayContaining(['token', 'token_type_hint']),
    );
    expect(formFields('/oauth2/revoke', 'post')).toEqual(
      expect.arrayContaining(['token', 'token_type_hint']),
    );
    expect(formFields('/oauth2/authorize', 'post')).toContain('code_challenge');
    expect(queryNames('/oauth2/authorize')).toEqual(
      expect.arrayContaining([
        'response_type',
        'client_id',
        'redirect_uri',
        'code_challenge',
        'state',
        'nonce',
      ]),
    );
    expect(queryNames('/oauth2/logout')).toEqual(
      expect.arrayContaining(['id_token_hint', 'post_logout_redirect_uri']),
    );
    // Documentation only: the token endpoint still answers a form it reads by hand with RFC 6749 JSON.
    const res = await request(server.url).post('/oauth2/token').type('form').send({ grant_type: 'password' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'unsupported_grant_type', error_description: expect.any(String) });
  });
});
