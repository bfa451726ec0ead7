/*
 * RFC 9700 §4.14.2, SECURITY 14b: a disabled or deleted user, or a password changed after the
 * login the grant came from, ends the grant: invalid_grant and the family is revoked.
 */
import { OAuthError } from '../../../errors.ts';
import type { RefreshCheck } from './context.ts';

export const checkRefreshUser: RefreshCheck = async (attempt, deps) => {
  const { family } = attempt.stored;
  const user = await deps.users.getUser(family.userId);
  const changed = user?.passwordChangedAt ? Date.parse(user.passwordChangedAt) : Number.NaN;
  if (!user || user.status !== 'active' || changed > family.authTime.getTime()) {
    await deps.families.revoke(family.id, 'user_inactive');
    throw new OAuthError('invalid_grant', 'the grant is no longer valid');
  }
  attempt.user = user;
};
