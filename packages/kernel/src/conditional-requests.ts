/**
 * Conditional requests (RFC 9110 §13) for an API scope, so that two administrators editing the
 * same user cannot silently overwrite each other's change ("lost update", §13.1.1):
 *
 * - every 200 answer to GET/HEAD carries a strong `ETag`: a digest of the representation sent;
 *   `If-None-Match` naming it gets 304 without a body;
 * - a POST, PUT, PATCH or DELETE with `If-Match` or `If-None-Match` first reads the resource at
 *   the same URL, as the caller (same credentials, the route's own GET). The change is refused
 *   with 412 `precondition_failed`, nothing written, when that representation's tag is not one
 *   `If-Match` names (or, for `*`, there is none), or when `If-None-Match` names it (or is `*` and
 *   it exists). A resource that has no GET at its URL has no current representation, so a change
 *   with `If-Match` there always fails.
 *
 * The check and the write are two steps, not one transaction: a change landing between them is
 * not caught. It stops the common case, a stale form submitted minutes later.
 *
 * @example
 * handleConditionalRequests(api);
 * await api.register(userRoutes, { db });
 */
import { hash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { AppError } from './errors.ts';
import { problemResponse } from './problem-schema.ts';
import { appendedHandlers, routeMethods } from './route-hooks.ts';

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * The strong entity tag of a representation. A route that sends the same cached representation
 * again and again may compute it once and set `ETag` itself; the scope's hook then keeps it.
 *
 * @example
 * void reply.header('etag', entityTag(json)).send(json);
 */
export function entityTag(payload: string | Buffer): string {
  return `"${hash('sha256', payload, 'base64url').slice(0, 27)}"`;
}

/** The entity tags listed in an If-Match / If-None-Match value (`*` stays `*`). */
function listedTags(value: string): string[] {
  return value
    .split(',')
    .map((tag) => tag.trim())
    .filter((tag) => tag.length > 0);
}

/** RFC 9110 §13.1.2: whether `If-None-Match: value` is `*` or names `tag` (weak comparison). */
function noneMatchNames(value: string, tag: string): boolean {
  const listed = listedTags(value).map((listedTag) => listedTag.replace(/^W\//, ''));
  return listed.includes('*') || listed.includes(tag);
}

const preconditionFailed = () =>
  new AppError('precondition_failed', 412, 'Precondition Failed', {
    detail: 'the resource has changed (or does not exist) since the version named in If-Match',
  });

const checkPreconditions: preHandlerAsyncHookHandler = async (
  request: FastifyRequest,
  _reply: FastifyReply,
) => {
  const ifMatch = request.headers['if-match'];
  const ifNoneMatch = request.headers['if-none-match'];
  if (ifMatch === undefined && ifNoneMatch === undefined) return;
  const current = await request.server.inject({
    method: 'GET',
    url: request.url,
    headers: request.headers.authorization ? { authorization: request.headers.authorization } : {},
  });
  const tag = current.statusCode === 200 ? current.headers.etag : undefined;
  // RFC 9110 §13.1.1: strong comparison, so a weak tag (W/"…") never matches.
  if (ifMatch !== undefined) {
    const listed = listedTags(ifMatch);
    if (typeof tag !== 'string' || !(listed.includes('*') || listed.includes(tag)))
      throw preconditionFailed();
  }
  // §13.1.2 on a change: refused when the resource exists (`*`) or is at a listed version (weak).
  if (ifNoneMatch !== undefined && typeof tag === 'string' && noneMatchNames(ifNoneMatch, tag))
    throw preconditionFailed();
};

export function handleConditionalRequests(app: FastifyInstance): void {
  app.addHook('onSend', (request, reply, payload, done) => {
    const read = request.method === 'GET' || request.method === 'HEAD';
    if (!read || reply.statusCode !== 200 || !(typeof payload === 'string' || Buffer.isBuffer(payload))) {
      done(null, payload);
      return;
    }
    const own = reply.getHeader('etag');
    const tag = typeof own === 'string' ? own : entityTag(payload);
    if (tag !== own) void reply.header('etag', tag);
    const none = request.headers['if-none-match'];
    if (none !== undefined && noneMatchNames(none, tag)) {
      void reply.code(304);
      done(null, '');
      return;
    }
    done(null, payload);
  });
  app.addHook('onRoute', (route) => {
    if (!routeMethods(route).some((method) => WRITES.has(method))) return;
    route.preHandler = appendedHandlers(route.preHandler, checkPreconditions);
    // The document names the refusal (and validates nothing more: 412 is a problem document).
    if (route.schema?.response)
      route.schema = {
        ...route.schema,
        response: { ...route.schema.response, 412: problemResponse },
      };
  });
}
