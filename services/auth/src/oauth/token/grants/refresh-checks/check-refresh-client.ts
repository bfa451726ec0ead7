/*
 * RFC 6749 §6: a refresh token is bound to the client it was issued to; another client's attempt
 * fails without touching the token or its family. A client deleted and registered again under the
 * same id is another client: the grants of the first are revoked when it presents them.
 */
import type { OAuthClient } from '../../../../contracts.ts';
import type { GrantFamily } from '../../../../grants/families.ts';
import { OAuthError } from '../../../errors.ts';
import type { RefreshCheck } from './context.ts';

/** True when the grant was made before `client` was registered (to an earlier client with its id). */
export function grantPredatesClient(family: Pick<GrantFamily, 'createdAt'>, client: OAuthClient): boolean {
  return client.registeredAt !== undefined && family.createdAt.getTime() < client.registeredAt.getTime();
}

export const checkRefreshClient: RefreshCheck = async ({ client, stored }, deps) => {
  if (stored.family.clientId !== client.clientId) {
    throw new OAuthError('invalid_grant', 'the refresh token was not issued to this client');
  }
  if (grantPredatesClient(stored.family, client)) {
    await deps.families.revoke(stored.family.id, 'revocation');
    throw new OAuthError('invalid_grant', 'the refresh token was issued to an earlier client with this id');
  }
};
