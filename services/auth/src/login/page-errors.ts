/**
 * Refusals on the hosted pages, for the browser showing them. A request the pages refuse before
 * their own checks run (a query or form that fails its schema, a NUL character, a body over the
 * limit, a content type no form sends) is answered by the service's error handler with a problem
 * document: right for an API client, raw JSON on screen for a person. In the pages' scope, a
 * client that asks for HTML gets the same refusal (same status, same detail) as a page instead.
 * Everything else — server errors, clients that do not ask for HTML — goes on to the service's
 * handler unchanged.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { acceptsHtml, toAppError } from '@tessera/kernel';
import { sendMessagePage } from './html.ts';

/**
 * The error handler of the pages' scope (see the module comment).
 *
 * @example
 * pages.setErrorHandler(pageErrorHandler);
 */
export function pageErrorHandler(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const refusal = toAppError(error);
  if (refusal.status < 400 || refusal.status >= 500 || !acceptsHtml(request)) throw error;
  request.log.info({ code: refusal.code, status: refusal.status }, 'page request rejected');
  if (refusal.headers) void reply.headers(refusal.headers);
  const detail = refusal.expose ? (refusal.detail ?? refusal.title) : refusal.title;
  return sendMessagePage(
    reply,
    refusal.status,
    'Request refused',
    detail,
    'Return to the application and start again. If this keeps happening, contact its developer.',
  );
}
