import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { startUsersHarness, type Harness } from './test-harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startUsersHarness();
});
afterAll(() => h.close());

describe('OpenAPI document', () => {
  it('describes every /v1 route with its parameters and responses', async () => {
    const res = await request(h.url).get('/openapi.json');
    expect(res.status).toBe(200);
    const doc = res.body as {
      openapi: string;
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    expect(doc.openapi).toBe('3.1.0');
    const routes = h.app
      .printRoutes({ commonPrefix: false })
      .split('\n')
      .filter((line) => line.includes('/v1/'));
    expect(routes.length).toBeGreaterThan(0);
    const expected = [
      ['get', '/v1/users'],
      ['post', '/v1/users'],
      ['get', '/v1/users/me'],
      ['patch', '/v1/users/me'],
      ['get', '/v1/users/{id}'],
      ['patch', '/v1/users/{id}'],
      ['delete', '/v1/users/{id}'],
      ['post', '/v1/users/{id}/disable'],
      ['post', '/v1/users/{id}/enable'],
      ['get', '/v1/orgs'],
      ['post', '/v1/orgs'],
      ['get', '/v1/orgs/{orgId}'],
      ['patch', '/v1/orgs/{orgId}'],
      ['delete', '/v1/orgs/{orgId}'],
      ['get', '/v1/orgs/{orgId}/members'],
      ['put', '/v1/orgs/{orgId}/members/{userId}'],
      ['delete', '/v1/orgs/{orgId}/members/{userId}'],
      ['get', '/v1/orgs/{orgId}/roles'],
      ['post', '/v1/orgs/{orgId}/roles'],
      ['patch', '/v1/orgs/{orgId}/roles/{roleId}'],
      ['delete', '/v1/orgs/{orgId}/roles/{roleId}'],
      ['put', '/v1/orgs/{orgId}/members/{userId}/roles/{roleId}'],
      ['delete', '/v1/orgs/{orgId}/members/{userId}/roles/{roleId}'],
    ] as const;
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m} ${path}`),
    );
    for (const [method, path] of expected)
      expect(documented, `${method} ${path}`).toContain(`${method} ${path}`);
    expect(documented.filter((d) => d.includes(' /v1/')).sort()).toEqual(
      expected.map(([m, p]) => `${m} ${p}`).sort(),
    );
    expect(Object.keys(doc.paths['/v1/users']!.get!.responses)).toEqual(
      expect.arrayContaining(['200', '400', '401', '403']),
    );
    // Errors are documented as what they are: problem documents (RFC 9457).
    const badRequest = doc.paths['/v1/users']!.post!.responses['400'] as { content: Record<string, unknown> };
    expect(Object.keys(badRequest.content)).toEqual(['application/problem+json']);
    // A new password is documented with the policy's bounds.
    const create = doc.paths['/v1/users']!.post! as unknown as {
      requestBody: { content: { 'application/json': { schema: { properties: { password: object } } } } };
    };
    expect(create.requestBody.content['application/json'].schema.properties.password).toMatchObject({
      minLength: 8,
      maxLength: 128,
    });
  });
});
