/**
 * CORS (Fetch standard, "CORS protocol") for every Tessera server: an exact-origin allowlist,
 * preflights answered before any route runs, `Vary: Origin` on every response (an answer depends
 * on the origin, and a shared cache must not hand one origin's answer to another), and
 * credentials only for listed origins. One synchronous call per request: a request without an
 * `Origin` header (every server-to-server call) costs one header.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Exact `scheme://host[:port]` origins a policy allows. */
export interface OriginAllowlist {
  has(origin: string): boolean;
}

/** What an allowed origin is told. */
export interface CorsPolicy {
  /** The allowed origins; undefined: none. */
  allowed: OriginAllowlist | undefined;
  /** Send `Access-Control-Allow-Credentials: true` (cookies, `Authorization`) to allowed origins. */
  credentials: boolean;
}

/** Every method a Tessera API serves (a preflight for PATCH or DELETE must name them). */
export const CORS_ALLOW_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE';
/** Request headers a browser may send cross-origin beyond the CORS-safelisted ones. */
export const CORS_ALLOW_HEADERS =
  'authorization, content-type, if-match, if-none-match, x-request-id, traceparent, tracestate';
/** Response headers a cross-origin script may read beyond the CORS-safelisted ones. */
export const CORS_EXPOSE_HEADERS =
  'x-request-id, www-authenticate, retry-after, ratelimit, ratelimit-policy, location, etag';
/** Seconds a browser may cache a preflight answer. */
export const CORS_MAX_AGE_SECONDS = '600';

/**
 * An allowlist from configured origins; `*` allows every origin (refused with credentials:
 * a wildcard that also carries cookies is every site acting as the user, SECURITY 33).
 *
 * @example
 * const policy = { allowed: originAllowlist(['https://app.example']), credentials: true };
 */
export function originAllowlist(origins: readonly string[], credentials = false): OriginAllowlist {
  if (origins.includes('*')) {
    if (credentials)
      throw new TypeError('CORS: "*" cannot be combined with credentials; list the allowed origins');
    return { has: () => true };
  }
  return new Set(origins);
}

/**
 * Applies `policy` to a request. Returns true when the request was a preflight (`OPTIONS` with
 * `Access-Control-Request-Method`) and has been answered: 204, with the allow headers when the
 * origin is allowed, without them otherwise (the browser then refuses the real request). The
 * allowed origin is echoed, never `*`.
 *
 * @example
 * if (applyCors(request, reply, policy)) return; // the preflight is answered
 */
export function applyCors(request: FastifyRequest, reply: FastifyReply, policy: CorsPolicy): boolean {
  void reply.header('vary', 'Origin');
  const origin = request.headers.origin;
  const preflight =
    request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined;
  if (origin !== undefined && policy.allowed?.has(origin)) {
    void reply.header('access-control-allow-origin', origin);
    if (policy.credentials) void reply.header('access-control-allow-credentials', 'true');
    if (preflight) {
      void reply
        .header('access-control-allow-methods', CORS_ALLOW_METHODS)
        .header('access-control-allow-headers', CORS_ALLOW_HEADERS)
        .header('access-control-max-age', CORS_MAX_AGE_SECONDS);
    } else {
      void reply.header('access-control-expose-headers', CORS_EXPOSE_HEADERS);
    }
  }
  if (!preflight) return false;
  // Safari waits for a body on a 204 without a length.
  void reply.code(204).header('content-length', '0').send();
  return true;
}
