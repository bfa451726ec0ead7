/*
 * RFC 6749 §6, SECURITY 11: a refresh may ask for a narrower scope, never for one the user did
 * not grant originally; without `scope` the original grant applies.
 */
import { OAuthError } from '../../../errors.ts';
import type { RefreshCheck } from './context.ts';

export const checkRefreshScope: RefreshCheck = (attempt) => {
  const granted = attempt.stored.family.scope.split(' ').filter((s) => s.length > 0);
  const raw = attempt.params.scope;
  if (raw === undefined) {
    attempt.scopes = granted;
    return;
  }
  const requested = [...new Set(raw.split(' ').filter((s) => s.length > 0))];
  const allowed = new Set(granted);
  if (requested.length === 0 || requested.some((scope) => !allowed.has(scope))) {
    throw new OAuthError('invalid_scope', 'the requested scope exceeds the original grant');
  }
  attempt.scopes = requested;
};
