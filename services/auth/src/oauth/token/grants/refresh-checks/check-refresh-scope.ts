/*
 * RFC 6749 §6, SECURITY 11: a refresh may ask for a narrower scope, never for one the user did
 * not grant originally; without `scope` the original grant applies. Either way only what the
 * client may still request: a scope taken from the client since is not refreshed.
 */
import { OAuthError } from '../../../errors.ts';
import type { RefreshCheck } from './context.ts';

export const checkRefreshScope: RefreshCheck = (attempt) => {
  const allowedNow = new Set(attempt.client.scopes);
  const granted = attempt.stored.family.scope.split(' ').filter((s) => s.length > 0 && allowedNow.has(s));
  if (granted.length === 0)
    throw new OAuthError('invalid_grant', 'the client may no longer request any scope of this grant');
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
