/*
 * RFC 6749 §3.3: the requested scope must be a subset of what the client may request; an
 * unknown or unallowed scope (or none at all) is invalid_scope rather than silently dropped.
 */
import { AUTHORIZE_ERRORS, AuthorizeError } from '../errors.ts';
import { established, type RequestCheck } from '../context.ts';

/** scope-token = 1*NQCHAR (RFC 6749 §3.3). */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/;

export const checkScope: RequestCheck = (draft) => {
  const client = established(draft.client, 'client');
  const raw = draft.params.scope;
  if (raw === undefined || raw.trim() === '')
    throw new AuthorizeError(AUTHORIZE_ERRORS.INVALID_SCOPE, 'scope is required');
  if (raw.length > 2048) throw new AuthorizeError(AUTHORIZE_ERRORS.INVALID_SCOPE, 'scope is too long');
  const scopes = [...new Set(raw.split(' ').filter((s) => s.length > 0))];
  const allowed = new Set(client.scopes);
  const refused = scopes.filter((scope) => !SCOPE_TOKEN.test(scope) || !allowed.has(scope));
  if (refused.length > 0) {
    throw new AuthorizeError(AUTHORIZE_ERRORS.INVALID_SCOPE, 'the client may not request one of the scopes');
  }
  draft.scopes = scopes;
};
