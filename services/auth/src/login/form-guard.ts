import type { FastifyRequest } from 'fastify';
import type { BrowserSessions, CurrentSession } from '../sessions/browser.ts';
import { isValidCsrf } from '../sessions/csrf.ts';

/**
 * True when a form POST comes from another site (SECURITY 24). Our pages send
 * `Referrer-Policy: no-referrer`, under which browsers send `Origin: null` even for same-origin
 * form posts, so an opaque origin is judged by Fetch Metadata (`Sec-Fetch-Site` must be
 * `same-origin`); any other Origin must be ours; without either header (non-browser clients)
 * the CSRF token alone decides.
 */
export function isForeignOrigin(request: FastifyRequest, ownOrigin: string): boolean {
  const origin = request.headers.origin;
  const site = request.headers['sec-fetch-site'];
  if (origin !== undefined && origin !== 'null') return origin !== ownOrigin;
  if (origin === 'null') return site !== 'same-origin';
  return site !== undefined && site !== 'same-origin' && site !== 'none';
}

/** Why a form post was refused. */
export type FormRejection = 'foreign_origin' | 'csrf';

/**
 * Checks a hosted form's POST: same origin, a live session, and the CSRF token bound to that
 * session (SECURITY 21). Returns the session, or why the post must be answered 403.
 */
export async function checkFormPost(
  request: FastifyRequest,
  sessions: BrowserSessions,
  ownOrigin: string,
  csrf: unknown,
): Promise<{ ok: true; current: CurrentSession } | { ok: false; reason: FormRejection }> {
  if (isForeignOrigin(request, ownOrigin)) return { ok: false, reason: 'foreign_origin' };
  const current = await sessions.current(request);
  if (!current || !isValidCsrf(current.token, csrf)) return { ok: false, reason: 'csrf' };
  return { ok: true, current };
}
