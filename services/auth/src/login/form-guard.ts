import type { FastifyReply, FastifyRequest } from 'fastify';
import type { PendingRequest, PendingRequests } from '../oauth/authorize/pending.ts';
import type { BrowserSessions, CurrentSession } from '../sessions/browser.ts';
import { isValidCsrf } from '../sessions/csrf.ts';
import { isSignedIn } from '../sessions/store.ts';
import { sendExpiredRequest, sendForbiddenForm } from './pages.ts';

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

/** A signed-in user's form post that continues a pending authorization request. */
export interface PendingFormPost {
  current: CurrentSession;
  userId: string;
  pending: PendingRequest;
}

/**
 * The prelude of the pages that continue an authorization request for a signed-in user
 * (consent, organization choice): {@link checkFormPost}, a signed-in session, and the pending
 * request the form names. Undefined when the answer has been sent: 403 for a refused post or no
 * sign-in, the expired-request page for a request that is gone.
 *
 * @example
 * const post = await checkPendingFormPost(request, reply, deps, request.body);
 * if (!post) return reply;
 */
export async function checkPendingFormPost(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: { sessions: BrowserSessions; ownOrigin: string; pending: PendingRequests },
  form: { csrf?: string | undefined; interaction?: string | undefined },
): Promise<PendingFormPost | undefined> {
  const check = await checkFormPost(request, deps.sessions, deps.ownOrigin, form.csrf);
  if (!check.ok || !isSignedIn(check.current.session)) {
    sendForbiddenForm(reply);
    return undefined;
  }
  const { current } = check;
  const pending = await deps.pending.load(current, form.interaction);
  if (!pending) {
    sendExpiredRequest(reply);
    return undefined;
  }
  return { current, userId: check.current.session.userId, pending };
}
