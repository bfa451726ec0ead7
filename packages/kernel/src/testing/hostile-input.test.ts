import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { hostileRequests, problemDocumentExpected, sampleJsonValue, sendHostile } from './hostile-input.ts';
import type { OpenApiDocument } from './openapi-strict.ts';

const uuid = '0193a000-0000-7000-8000-000000000000';
const doc: OpenApiDocument = {
  paths: {
    '/things/{id}': {
      get: {
        parameters: [{ in: 'path', name: 'id', required: true, schema: { type: 'string', format: 'uuid' } }],
      },
      put: {
        parameters: [{ in: 'path', name: 'id', required: true, schema: { type: 'string' } }],
        requestBody: {
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['name', 'email'],
                properties: { name: { type: 'string' }, email: { type: 'string', format: 'email' } },
              },
            },
          },
        },
      },
    },
    '/things': {
      get: { parameters: [{ in: 'query', name: 'limit', schema: { type: 'integer', minimum: 1 } }] },
    },
  },
};

let app: FastifyInstance;
let origin: string;
beforeAll(async () => {
  // A careless service: no schema, trusts the body's shape, crashes on anything else (a 500).
  app = Fastify();
  app.put('/things/:id', async (request) => ({
    upper: (request.body as { name: string }).name.toUpperCase(),
  }));
  app.get('/things/:id', async () => ({}));
  app.get('/things', async (request) => ({
    limit: Number((request.query as { limit?: string }).limit ?? 1),
  }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});
afterAll(() => app.close());

describe('hostileRequests', () => {
  it('makes path, query and body variants for each operation, with a plausible rest of the body', () => {
    const requests = hostileRequests(doc, { uuid, headers: { authorization: 'Bearer x' } });
    const labels = requests.map((r) => r.label);
    expect(labels).toContain('GET /things/{id} path.id = %00');
    expect(labels).toContain('GET /things query.limit = 1e309');
    expect(labels).toContain('GET /things query.limit repeated');
    expect(labels).toContain('PUT /things/{id} body.name = 123');
    expect(labels).toContain('PUT /things/{id} body.unexpected = null');
    const wrongName = requests.find((r) => r.label === 'PUT /things/{id} body.name = 123')!;
    expect(JSON.parse(wrongName.body!)).toEqual({ email: 'hostile@example.com', name: 123 });
    expect(wrongName.path).toBe(`/things/${uuid}`);
    expect(requests.every((r) => r.headers.authorization === 'Bearer x')).toBe(true);
    expect(
      sampleJsonValue({ type: 'object', required: ['a'], properties: { a: { enum: ['x', 'y'] } } }, uuid),
    ).toEqual({ a: 'x' });
  });

  it('finds the 500s and the answers that are not problem documents of a careless service', async () => {
    const report = await sendHostile(origin, hostileRequests(doc, { uuid }), problemDocumentExpected);
    expect(
      report.findings.some((f) => f.startsWith('PUT /things/{id} body.name = 123 -> a server error: 500')),
    ).toBe(true);
    // Fastify's own 400s (bad JSON) are not problem documents either.
    expect(report.findings.some((f) => f.includes('-> not a problem document: 400'))).toBe(true);
    expect(report.statuses[500]).toBeGreaterThan(0);
  });
});
