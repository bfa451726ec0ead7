/*
 * RFC 7636 §4.3, RFC 9700 §2.1.1: every client sends a PKCE challenge with method S256; `plain`
 * (or no method, which means plain) and a missing challenge are refused; the challenge is
 * 43-128 base64url characters (a SHA-256 digest encodes to 43).
 */
import { AUTHORIZE_ERRORS, AuthorizeError } from '../errors.ts';
import type { RequestCheck } from '../context.ts';

const CHALLENGE = /^[A-Za-z0-9_-]{43,128}$/;

export const checkPkce: RequestCheck = (draft) => {
  const { code_challenge: challenge, code_challenge_method: method } = draft.params;
  if (challenge === undefined)
    throw new AuthorizeError(AUTHORIZE_ERRORS.INVALID_REQUEST, 'code_challenge is required (PKCE)');
  if (method !== 'S256')
    throw new AuthorizeError(AUTHORIZE_ERRORS.INVALID_REQUEST, 'code_challenge_method must be S256');
  if (!CHALLENGE.test(challenge)) {
    throw new AuthorizeError(
      AUTHORIZE_ERRORS.INVALID_REQUEST,
      'code_challenge must be 43-128 base64url characters',
    );
  }
  draft.codeChallenge = challenge;
};
