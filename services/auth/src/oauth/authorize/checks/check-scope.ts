/*
 * RFC 6749 §3.3 and OpenID Connect Core §3.1.2.1: the granted scope is the part of the requested
 * scope the client may request. A scope this server gives meaning to (OpenID Connect's own, an API
 * permission, or one registered for the client) but that the client may not request is
 * invalid_scope, never silently dropped. A scope it does not understand at all (`address`, `phone`,
 * another product's scope) is ignored, as OIDC Core asks; the token response's `scope` then says
 * what was granted. No scope left at all is invalid_scope.
 */
import { PERMISSION_SCOPE } from '../../token/grants/permission-scopes.ts';
import { AUTHORIZE_ERRORS, AuthorizeError } from '../errors.ts';
import { established, type RequestCheck } from '../context.ts';

/** scope-token = 1*NQCHAR (RFC 6749 §3.3). */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/;

/** The OpenID Connect scopes this server implements (claims, refresh tokens). */
const OIDC_SCOPES: ReadonlySet<string> = new Set(['openid', 'profile', 'email', 'offline_access']);

export const checkScope: RequestCheck = (draft) => {
  const client = established(draft.client, 'client');
  const raw = draft.params.scope;
  if (raw === undefined || raw.trim() === '')
    throw new AuthorizeError(AUTHORIZE_ERRORS.INVALID_SCOPE, 'scope is required');
  if (raw.length > 2048) throw new AuthorizeError(AUTHORIZE_ERRORS.INVALID_SCOPE, 'scope is too long');
  const scopes = [...new Set(raw.split(' ').filter((s) => s.length > 0))];
  if (scopes.some((scope) => !SCOPE_TOKEN.test(scope)))
    throw new AuthorizeError(AUTHORIZE_ERRORS.INVALID_SCOPE, 'a scope holds a character RFC 6749 forbids');
  const allowed = new Set(client.scopes);
  const refused = scopes.filter(
    (scope) => !allowed.has(scope) && (OIDC_SCOPES.has(scope) || PERMISSION_SCOPE.test(scope)),
  );
  if (refused.length > 0) {
    throw new AuthorizeError(AUTHORIZE_ERRORS.INVALID_SCOPE, 'the client may not request one of the scopes');
  }
  const granted = scopes.filter((scope) => allowed.has(scope));
  if (granted.length === 0)
    throw new AuthorizeError(AUTHORIZE_ERRORS.INVALID_SCOPE, 'none of the requested scopes is known here');
  draft.scopes = granted;
};
