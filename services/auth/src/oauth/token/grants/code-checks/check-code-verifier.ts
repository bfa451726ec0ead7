/*
 * RFC 7636 §4.6, SECURITY 9: the code_verifier (43-128 unreserved characters) must hash with
 * SHA-256 to the challenge the code is bound to; a missing, malformed or wrong verifier is
 * invalid_grant.
 */
import { createHash } from 'node:crypto';
import { safeEqual } from '../../../../flows/crypto.ts';
import { OAuthError } from '../../../errors.ts';
import type { CodeCheck } from './context.ts';

const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

export const checkCodeVerifier: CodeCheck = ({ params, stored }) => {
  const verifier = params.code_verifier;
  if (verifier === undefined || !VERIFIER.test(verifier)) {
    throw new OAuthError('invalid_grant', 'a valid code_verifier is required');
  }
  const challenge = createHash('sha256').update(verifier, 'ascii').digest('base64url');
  if (!safeEqual(challenge, stored.code.codeChallenge))
    throw new OAuthError('invalid_grant', 'code_verifier does not match');
};
