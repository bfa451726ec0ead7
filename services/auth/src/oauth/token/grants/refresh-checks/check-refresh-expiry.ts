/*
 * RFC 9700 §4.14.2: refresh tokens expire after the client's idle lifetime without use and,
 * whatever the use, at the family's absolute lifetime.
 */
import { refreshTokenExpiry } from '../../../../grants/refresh-tokens.ts';
import { OAuthError } from '../../../errors.ts';
import type { RefreshCheck } from './context.ts';

export const checkRefreshExpiry: RefreshCheck = ({ stored, now }) => {
  if (refreshTokenExpiry(stored).getTime() <= now)
    throw new OAuthError('invalid_grant', 'the refresh token has expired');
};
