/**
 * Every operation of the user service refuses input its schema does not declare: a query
 * parameter on an operation that takes none, a body on one that takes none (400 problem+json),
 * instead of ignoring it. The operations come from the service's OpenAPI document, so a route
 * added later is covered without a change here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import type { OpenApiDocument } from '@tessera/kernel/testing';
import { startUsersHarness, type Harness } from './test-harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startUsersHarness();
});
afterAll(() => h.close());

const UUID = '0193a000-0000-7000-8000-000000000000';
const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

describe('undeclared input (user service)', () => {
  it('refuses a query parameter or a body that the operation does not declare, and accepts an empty body', async () => {
    const doc = (await request(h.url).get('/openapi.json')).body as OpenApiDocument;
    const admin = await h.bearer({ permissions: ['users:read', 'users:write', 'orgs:read', 'orgs:write'] });
    let queries = 0;
    let bodies = 0;
    for (const [template, operations] of Object.entries(doc.paths)) {
      if (!template.startsWith('/v1/')) continue;
      const path = template.replaceAll(/\{[^}]+\}/g, UUID);
      for (const method of METHODS) {
        const operation = operations[method] as
          { parameters?: Array<{ in: string }>; requestBody?: unknown } | undefined;
        if (!operation) continue;
        const label = `${method.toUpperCase()} ${template}`;
        if (!(operation.parameters ?? []).some((parameter) => parameter.in === 'query')) {
          const res = await request(h.url)[method](`${path}?unexpected=1`).set('authorization', admin);
          expect(res.status, label).toBe(400);
          expect(res.headers['content-type'], label).toMatch(/^application\/problem\+json/);
          expect(res.body.code, label).toBe('unknown_parameter');
          queries += 1;
        }
        if (method !== 'get' && operation.requestBody === undefined) {
          const res = await request(h.url)[method](path).set('authorization', admin).send({ unexpected: 1 });
          expect(res.status, label).toBe(400);
          expect(res.body.code, label).toBe('unexpected_body');
          const empty = await request(h.url)[method](path).set('authorization', admin).send({});
          expect(empty.body.code, label).not.toBe('unexpected_body');
          bodies += 1;
        }
      }
    }
    // Sanity: the document has such operations (enable/disable, deletes, single-resource reads).
    expect(queries).toBeGreaterThan(5);
    expect(bodies).toBeGreaterThan(5);
  });
});
