/*
 * RFC 6749 §6: a refresh token is bound to the client it was issued to; another client's attempt
 * fails without touching the token or its family.
 */
import { OAuthError } from '../../../errors.ts';
import type { RefreshCheck } from './context.ts';

export const checkRefreshClient: RefreshCheck = ({ client, stored }) => {
  if (stored.family.clientId !== client.clientId) {
    throw new OAuthError('invalid_grant', 'the refresh token was not issued to this client');
  }
};
