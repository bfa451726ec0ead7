/*
 * RFC 6749 §4.1.3, SECURITY 14a: a code is redeemable only by the client it was issued to.
 * Another client's attempt fails without touching the code or its grant (it must not be able
 * to revoke someone else's tokens).
 */
import { OAuthError } from '../../../errors.ts';
import { grantPredatesClient } from '../refresh-checks/check-refresh-client.ts';
import type { CodeCheck } from './context.ts';

export const checkCodeClient: CodeCheck = ({ client, stored }) => {
  if (stored.family.clientId !== client.clientId || grantPredatesClient(stored.family, client))
    throw new OAuthError('invalid_grant', 'the code was not issued to this client');
};
