/*
 * RFC 9700 §4.14.2, SECURITY 10/14b: once a family is revoked (reuse, logout, disabled user,
 * revocation request) none of its refresh tokens works again.
 */
import { OAuthError } from '../../../errors.ts';
import type { RefreshCheck } from './context.ts';

export const checkFamilyActive: RefreshCheck = ({ stored }) => {
  if (stored.family.revokedAt !== null)
    throw new OAuthError('invalid_grant', 'the refresh token has been revoked');
};
