import { hmac, safeEqual } from '../flows/crypto.ts';

const PURPOSE = 'tessera:csrf:v1';

/**
 * The CSRF token of a session's forms (SECURITY 21): an HMAC of a fixed purpose under the
 * session's cookie token. It is bound to the session (another session's token never matches),
 * needs no storage, and cannot be computed without the cookie, which other sites cannot read.
 *
 * @example
 * const csrf = csrfToken(cookieToken); // put in a hidden field
 */
export function csrfToken(sessionToken: string): string {
  return hmac(sessionToken, PURPOSE);
}

/** True when `presented` is the CSRF token of the session whose cookie token is `sessionToken`. */
export function isValidCsrf(sessionToken: string | undefined, presented: unknown): boolean {
  if (!sessionToken || typeof presented !== 'string' || presented.length === 0 || presented.length > 128)
    return false;
  return safeEqual(csrfToken(sessionToken), presented);
}
