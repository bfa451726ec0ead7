/*
 * RFC 6749 §4.1.2 and §10.5, SECURITY 8: a code is single use. A second redemption means the code
 * leaked, so every token already issued from it is revoked along with the grant.
 */
import { OAuthError } from '../../../errors.ts';
import type { CodeCheck } from './context.ts';

export const checkCodeUnused: CodeCheck = async ({ stored }, deps) => {
  if (stored.code.usedAt === null) return;
  await deps.families.revoke(stored.family.id, 'code_reuse');
  throw new OAuthError('invalid_grant', 'the code has already been used');
};
