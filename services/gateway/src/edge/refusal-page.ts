/**
 * The edge's own refusals (429 from the rate limit, 413 over the body limit…) on the pages a
 * person sees — the hosted login, consent and logout pages and the authorization endpoint — are
 * answered to a browser (it asks for HTML) as a small page, not a JSON problem document shown raw.
 * Same status and headers (`Retry-After` included); no script, no style, no external asset.
 * API clients and every other route keep problem+json.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { escapeHtml, type AppError } from '@tessera/kernel';
import type { RouteClass } from '../routes.ts';

/** Browser pages outside the login route class. */
const PAGE_PATHS = ['/oauth2/authorize', '/oauth2/logout'];

/** Whether `path` is a page a person sees (and a browser asking for HTML should get one). */
export function isBrowserPage(path: string, routeClass: RouteClass): boolean {
  return routeClass === 'login' || PAGE_PATHS.some((page) => path === page || path.startsWith(`${page}/`));
}

/**
 * Sends `refusal` (a 4xx of the edge) as a page.
 *
 * @example
 * if (isBrowserPage(path, route.routeClass) && acceptsHtml(request)) return sendRefusalPage(request, reply, err);
 */
export function sendRefusalPage(
  request: FastifyRequest,
  reply: FastifyReply,
  refusal: AppError,
): FastifyReply {
  request.log.info({ code: refusal.code, status: refusal.status }, 'page request refused at the edge');
  if (refusal.headers) void reply.headers(refusal.headers);
  const retry = refusal.headers?.['retry-after'];
  const advice = retry ? `Wait ${retry} seconds and try again.` : 'Return to the application and try again.';
  const title = escapeHtml(refusal.title);
  const page =
    '<!doctype html><html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width,initial-scale=1">' +
    `<title>${title}</title></head><body><main><h1>${title}</h1>` +
    `<p role="alert">${escapeHtml(refusal.detail ?? refusal.title)}</p><p>${escapeHtml(advice)}</p>` +
    '</main></body></html>';
  return reply
    .code(refusal.status)
    .header('content-security-policy', "default-src 'none'; frame-ancestors 'none'; base-uri 'none'")
    .header('x-frame-options', 'DENY')
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(page);
}
