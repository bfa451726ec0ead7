import type { FastifyReply, FastifyRequest } from 'fastify';
import { html, sendPage } from '../../login/html.ts';
import { appendQuery } from '../../flows/paths.ts';
import type { AuthorizeError } from './errors.ts';
import { MAX_STATE_LENGTH } from './checks/check-state-and-nonce.ts';

/** Where and how an authorization response goes back to the client. */
export interface ResponseTarget {
  redirectUri: string;
  state: string | undefined;
  issuer: string;
}

function echoedState(state: string | undefined): string | undefined {
  return state !== undefined && state.length <= MAX_STATE_LENGTH ? state : undefined;
}

/**
 * 302 for a GET, 303 for a POST: never 307, which would make the browser re-post credentials
 * to the client (RFC 9700 §4.12, SECURITY 7b).
 */
export function redirectStatus(request: FastifyRequest): 302 | 303 {
  return request.method === 'GET' ? 302 : 303;
}

/** RFC 6749 §4.1.2 success: code and state, plus `iss` (RFC 9207). */
export function successLocation(target: ResponseTarget, code: string): string {
  return appendQuery(target.redirectUri, { code, state: echoedState(target.state), iss: target.issuer });
}

/** RFC 6749 §4.1.2.1 error: error, error_description, state, plus `iss` (RFC 9207). */
export function errorLocation(target: ResponseTarget, error: AuthorizeError): string {
  return appendQuery(target.redirectUri, {
    error: error.error,
    error_description: error.description,
    state: echoedState(target.state),
    iss: target.issuer,
  });
}

/** Sends the redirect to `location` with no caching (it carries a code or an error). */
export function sendRedirect(request: FastifyRequest, reply: FastifyReply, location: string): FastifyReply {
  // Registration refuses such redirect URIs; one stored before that rule must not become a 500.
  if (/[^\x21-\x7e]/.test(location))
    return sendAuthorizeErrorPage(reply, 'The application’s registered redirect URI is not valid.');
  return reply.header('cache-control', 'no-store').redirect(location, redirectStatus(request));
}

/** The page shown when the client or redirect_uri cannot be trusted (RFC 6749 §4.1.2.1: no redirect). */
export function sendAuthorizeErrorPage(reply: FastifyReply, description: string): FastifyReply {
  return sendPage(
    reply,
    { title: 'Sign-in request rejected', status: 400 },
    html`<h1>Sign-in request rejected</h1>
      <p role="alert">${description}</p>
      <p>Return to the application and try again. If this keeps happening, contact its developer.</p>`,
  );
}
