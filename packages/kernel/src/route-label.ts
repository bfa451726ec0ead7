import type { FastifyRequest } from 'fastify';

/**
 * The route a request is counted under: the app's own name for it, else Fastify's template, else
 * `unmatched` (404s for unknown paths must not create one series per URL).
 *
 * @example
 * metrics.requests.inc({ route: routeLabel(request), ... });
 */
export function routeLabel(request: FastifyRequest): string {
  return request.metricsRoute ?? request.routeOptions.url ?? 'unmatched';
}
