/**
 * Every schema the user service documents is closed and bounded: objects refuse unknown
 * properties (requests and responses), and on the request side every string has a maxLength
 * and every array a maxItems. Problem documents (error responses) are the one intended
 * exception: RFC 9457 lets them carry extension members, so they stay open.
 * The checker (and its own tests, which show it can fail) is in `@tessera/kernel/testing`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { documentViolations, sampleQueryValue, type OpenApiDocument } from '@tessera/kernel/testing';
import { startUsersHarness, type Harness } from './test-harness.ts';

let h: Harness;
let doc: OpenApiDocument;
beforeAll(async () => {
  h = await startUsersHarness();
  const res = await request(h.url).get('/openapi.json');
  expect(res.status).toBe(200);
  doc = res.body as OpenApiDocument;
});
afterAll(() => h.close());

describe('OpenAPI strictness (user service)', () => {
  it('closes every request and response object and bounds every request string and array', () => {
    const { walked, problems, found } = documentViolations(doc);
    // Sanity: the walk saw the whole API (23 /v1 operations and the internal ones), not an empty document.
    expect(walked).toBeGreaterThan(40);
    expect(problems).toBeGreaterThan(40);
    expect(found).toEqual([]);
  });

  it('refuses an unknown query parameter on every operation that documents a query string', async () => {
    // The document lists query parameters one by one, so the query object's own
    // additionalProperties: false is checked by behaviour: an extra parameter is a 400.
    const admin = await h.bearer({
      permissions: ['users:read', 'users:write', 'orgs:read', 'orgs:write'],
      scope: 'internal',
    });
    const someId = '0193a000-0000-7000-8000-000000000000';
    const probed: string[] = [];
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const query = (operation.parameters ?? []).filter((p) => p.in === 'query');
        if (query.length === 0) continue;
        const op = `${method.toUpperCase()} ${path}`;
        expect(method, `${op}: only GETs take query strings`).toBe('get');
        const params = new URLSearchParams();
        for (const p of query.filter((q) => q.required))
          params.set(p.name, sampleQueryValue(p.schema ?? {}, someId));
        params.set('unexpected_param', '1');
        const url = `${path.replaceAll(/\{[^}]+\}/g, someId)}?${params.toString()}`;
        const res = await request(h.url).get(url).set('authorization', admin);
        expect(res.status, `${op}: ${res.text}`).toBe(400);
        expect(res.headers['content-type'], op).toMatch(/^application\/problem\+json/);
        expect((res.body as { detail?: string }).detail, op).toContain('unknown property "unexpected_param"');
        probed.push(op);
      }
    }
    expect(probed).toEqual(
      expect.arrayContaining([
        'GET /v1/users',
        'GET /v1/users/{id}',
        'GET /v1/orgs',
        'GET /v1/orgs/{orgId}/members',
        'GET /internal/users/{id}/authz',
      ]),
    );
  });
});
