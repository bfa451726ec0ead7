/*
 * RFC 6749 §4.1.2, SECURITY 8: a code lives at most 60 seconds (the configured lifetime is
 * stamped on it when issued); an expired code is invalid_grant.
 */
import { OAuthError } from '../../../errors.ts';
import type { CodeCheck } from './context.ts';

export const checkCodeExpiry: CodeCheck = ({ stored, now }) => {
  if (stored.code.expiresAt.getTime() <= now) throw new OAuthError('invalid_grant', 'the code has expired');
};
