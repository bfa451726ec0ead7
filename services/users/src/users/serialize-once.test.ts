import Fastify from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { serializeOnce } from './serialize-once.ts';

describe('serializeOnce', () => {
  const app = Fastify();
  const cached = { id: 'u1', name: 'Ada', secretField: 'not in the schema' };
  const send = serializeOnce();
  app.get(
    '/view',
    {
      schema: {
        response: {
          200: {
            type: 'object',
            properties: { id: { type: 'string' }, name: { type: 'string' } },
            additionalProperties: false,
          },
        },
      },
    },
    async (_request, reply) => {
      send(reply, cached);
    },
  );
  afterAll(() => app.close());

  it("sends the route schema's JSON, made once per cached object", async () => {
    const first = await app.inject('/view');
    expect(first.statusCode).toBe(200);
    expect(first.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(first.body).toBe('{"id":"u1","name":"Ada"}');
    // Cached views are never mutated in place; if one were, the JSON made for it would still be served.
    cached.name = 'changed';
    expect((await app.inject('/view')).body).toBe('{"id":"u1","name":"Ada"}');
  });

  it('serializes a different object (a reloaded cache entry) afresh', async () => {
    const other = serializeOnce();
    const local = Fastify();
    let view = { id: 'u2', name: 'Grace' };
    local.get('/v', async (_request, reply) => {
      other(reply, view);
    });
    expect((await local.inject('/v')).body).toBe('{"id":"u2","name":"Grace"}');
    view = { id: 'u2', name: 'Grace Hopper' };
    expect((await local.inject('/v')).body).toBe('{"id":"u2","name":"Grace Hopper"}');
    await local.close();
  });
});
