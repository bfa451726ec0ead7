import type { FastifyReply } from 'fastify';

/**
 * Serializes cached, never-mutated views once per cached object: an L1 cache hit hands back the
 * same object every time, so its JSON (made by the route's response schema, exactly as Fastify
 * would) is kept beside it in a WeakMap and dies with the cache entry. One instance per route,
 * because the JSON depends on the route's response schema.
 *
 * @example
 * const sendView = serializeOnce();
 * app.get('/v1/users/:id', opts, async (request, reply) => {
 *   sendView(reply, await cachedView(id));
 * });
 */
export function serializeOnce(): (reply: FastifyReply, view: object) => void {
  const serialized = new WeakMap<object, string>();
  return (reply, view) => {
    let json = serialized.get(view);
    if (json === undefined) {
      json = reply.serialize(view) as string;
      serialized.set(view, json);
    }
    void reply.header('content-type', 'application/json; charset=utf-8').send(json);
  };
}
