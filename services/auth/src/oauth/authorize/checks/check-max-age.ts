/*
 * OIDC Core §3.1.2.1: max_age is a non-negative number of seconds; when the user's last login is
 * older, they must log in again (enforced by requireLogin). max_age=0 behaves as prompt=login.
 */
import { AUTHORIZE_ERRORS, AuthorizeError } from '../errors.ts';
import type { RequestCheck } from '../context.ts';

export const checkMaxAge: RequestCheck = (draft) => {
  const raw = draft.params.max_age;
  if (raw === undefined) return;
  if (!/^\d{1,10}$/.test(raw))
    throw new AuthorizeError(AUTHORIZE_ERRORS.INVALID_REQUEST, 'max_age must be a non-negative integer');
  draft.maxAge = Number(raw);
};
