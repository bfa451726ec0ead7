import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RouteClass } from '../routes.ts';

/** An allowlist of exact `scheme://host[:port]` origins. */
export interface OriginAllowlist {
  has(origin: string): boolean;
}

/** Allowed origins per route class. */
export type CorsPolicy = Partial<Record<RouteClass, OriginAllowlist>>;

const ALLOW_HEADERS = 'authorization, content-type, x-request-id, traceparent, tracestate';
const EXPOSE_HEADERS = 'x-request-id, www-authenticate, retry-after, ratelimit, ratelimit-policy';

/**
 * Applies CORS for a route class. Returns true when the request was a preflight and has been
 * answered (204, cached by the browser for 10 minutes). Foreign origins get no allow headers;
 * credentials are allowed only for listed origins, never with `*` (SECURITY 33).
 *
 * @example
 * if (applyCors(request, reply, policy.api)) return reply;
 */
export function applyCors(
  request: FastifyRequest,
  reply: FastifyReply,
  allowed: OriginAllowlist | undefined,
): boolean {
  const origin = request.headers.origin;
  const preflight =
    request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined;
  void reply.header('vary', 'Origin');
  if (origin && allowed?.has(origin)) {
    void reply.header('access-control-allow-origin', origin);
    void reply.header('access-control-allow-credentials', 'true');
    if (preflight) {
      void reply
        .header('access-control-allow-methods', 'GET, HEAD, POST, PUT, PATCH, DELETE')
        .header('access-control-allow-headers', ALLOW_HEADERS)
        .header('access-control-max-age', '600');
    } else {
      void reply.header('access-control-expose-headers', EXPOSE_HEADERS);
    }
  }
  if (preflight) {
    void reply.code(204).send();
    return true;
  }
  return false;
}
