/*
 * RFC 6749 §4.1.3, SECURITY 14a: redirect_uri must be identical to the one the code was issued
 * for; it may be omitted only if the authorization request omitted it too.
 */
import { OAuthError } from '../../../errors.ts';
import type { CodeCheck } from './context.ts';

export const checkCodeRedirectUri: CodeCheck = ({ params, stored }) => {
  const given = params.redirect_uri;
  if (given === undefined && !stored.code.redirectUriProvided) return;
  if (given !== stored.code.redirectUri)
    throw new OAuthError('invalid_grant', 'redirect_uri does not match the authorization request');
};
