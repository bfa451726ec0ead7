/*
 * RFC 7636 §4.6, SECURITY 9: the code_verifier (43-128 unreserved characters) must hash with
 * SHA-256 to the challenge the code is bound to; a missing, malformed or wrong verifier is
 * invalid_grant.
 */
import { safeEqual, sha256 } from '../../../../flows/crypto.ts';
import { OAuthError } from '../../../errors.ts';
import type { CodeCheck } from './context.ts';

const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

export const checkCodeVerifier: CodeCheck = ({ params, stored }) => {
  const verifier = params.code_verifier;
  if (verifier === undefined || !VERIFIER.test(verifier)) {
    throw new OAuthError('invalid_grant', 'a valid code_verifier is required');
  }
  // The verifier is ASCII (checked above), so its UTF-8 bytes are its ASCII bytes (§4.6).
  if (!safeEqual(sha256(verifier), stored.code.codeChallenge))
    throw new OAuthError('invalid_grant', 'code_verifier does not match');
};
