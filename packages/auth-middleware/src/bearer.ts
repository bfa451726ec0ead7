/**
 * RFC 6750 §2.1: the access token comes only from the `Authorization` header. The query string
 * (§2.3) and form bodies (§2.2) are never looked at: URLs end up in logs, Referer headers and
 * browser history. More than one header is `invalid_request` (§3.1).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { AccessTokenClaims } from './claims.ts';
import { TokenError } from './errors.ts';
import type { TokenVerifier } from './verifier.ts';

/** `Bearer` (any case), one or more spaces, a b64token (RFC 6750 §2.1), optional trailing spaces. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const BEARER_SCHEME = /^Bearer(?:\s|$)/i;

/**
 * Extracts the bearer token from `Authorization` header value(s). The scheme is matched
 * case-insensitively; another scheme (e.g. Basic) or no header gives undefined; a malformed
 * Bearer credential or several headers throw `invalid_request`.
 *
 * @example
 * extractBearer('bearer eyJhbGciOi…'); // 'eyJhbGciOi…'
 * extractBearer('Basic dXNlcjpwYXNz'); // undefined
 */
export function extractBearer(header: string | readonly string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (typeof header !== 'string') {
    if (header.length > 1) throw new TokenError('invalid_request', 'more than one authorization header');
    return extractBearer(header[0]);
  }
  const match = BEARER.exec(header);
  if (match?.[1]) return match[1];
  if (BEARER_SCHEME.test(header)) throw new TokenError('invalid_request', 'malformed bearer credentials');
  return undefined;
}

/**
 * The part of a Node request {@link extractBearerFromRequest} reads: Express's `req`, Fastify's
 * `request.raw`, or any `IncomingMessage`.
 *
 * @example
 * const source: HeaderSource = { headers: { authorization: 'Bearer abc' } };
 */
export interface HeaderSource {
  headers: IncomingHttpHeaders;
  /** Node keeps only the first of duplicate `Authorization` headers in `headers`; this has them all. */
  headersDistinct?: Record<string, string[] | undefined>;
}

/**
 * Extracts the bearer token from a Node request, noticing duplicate `Authorization` headers (which
 * `headers.authorization` silently drops).
 *
 * @example
 * const token = extractBearerFromRequest(req); // Express
 * const token = extractBearerFromRequest(request.raw); // Fastify
 */
export function extractBearerFromRequest(request: HeaderSource): string | undefined {
  return extractBearer(request.headersDistinct?.authorization ?? request.headers.authorization);
}

/**
 * Framework-neutral authentication: extracts the bearer token from the request and verifies it.
 * Throws `missing_token` when there is none (the challenge then carries no error, RFC 6750 §3.1).
 *
 * @example
 * const claims = await authenticateRequest(verifier, req); // throws TokenError
 */
export async function authenticateRequest(
  verifier: TokenVerifier,
  request: HeaderSource,
): Promise<AccessTokenClaims> {
  const token = extractBearerFromRequest(request);
  if (token === undefined) throw new TokenError('missing_token', 'an access token is required');
  return verifier.verify(token);
}
