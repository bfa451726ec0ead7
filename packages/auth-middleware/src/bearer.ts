import { TokenError } from './errors.ts';

const SCHEME = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * Extracts the bearer token from an `Authorization` header value (RFC 6750 §2.1). The scheme is
 * matched case-insensitively; tokens in the query string or body are never looked at (§2.3 is
 * not supported on purpose). Returns undefined when there is no header.
 *
 * @example
 * const token = extractBearer(request.headers.authorization);
 */
export function extractBearer(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (Array.isArray(header)) throw new TokenError('invalid_request', 'more than one authorization header');
  const match = SCHEME.exec(header);
  if (!match?.[1]) {
    if (/^bearer\b/i.test(header)) throw new TokenError('invalid_request', 'malformed bearer credentials');
    return undefined;
  }
  return match[1];
}
