import type { FastifyReply } from 'fastify';
import { entityTag } from '@tessera/kernel';

/**
 * Serializes cached, never-mutated views once per cached object: an L1 cache hit hands back the
 * same object every time, so its JSON (made by the route's response schema, exactly as Fastify
 * would) is kept beside it in a WeakMap and dies with the cache entry, and so is its entity tag
 * (conditional requests, ADR 0016), so a hit hashes nothing either. One instance per route,
 * because the JSON depends on the route's response schema.
 *
 * @example
 * const sendView = serializeOnce();
 * app.get('/v1/users/:id', opts, async (request, reply) => {
 *   sendView(reply, await cachedView(id));
 * });
 */
export function serializeOnce(): (reply: FastifyReply, view: object) => void {
  const serialized = new WeakMap<object, { json: string; tag: string }>();
  return (reply, view) => {
    let sent = serialized.get(view);
    if (sent === undefined) {
      const json = reply.serialize(view) as string;
      sent = { json, tag: entityTag(json) };
      serialized.set(view, sent);
    }
    void reply
      .header('content-type', 'application/json; charset=utf-8')
      .header('etag', sent.tag)
      .send(sent.json);
  };
}
