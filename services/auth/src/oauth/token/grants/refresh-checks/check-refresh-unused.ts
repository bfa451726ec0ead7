/*
 * RFC 9700 §4.14.2, SECURITY 10: refresh tokens rotate; presenting one that was already
 * rotated means two parties hold it, so the whole family (refresh and access tokens) is revoked.
 */
import { OAuthError } from '../../../errors.ts';
import type { RefreshCheck } from './context.ts';

export const checkRefreshUnused: RefreshCheck = async ({ stored }, deps) => {
  if (stored.token.rotatedAt === null) return;
  await deps.families.revoke(stored.family.id, 'refresh_token_reuse');
  throw new OAuthError('invalid_grant', 'the refresh token has already been used');
};
