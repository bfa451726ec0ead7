/**
 * The client_credentials grant (RFC 6749 §4.4): confidential clients only (SECURITY 12); scopes
 * limited to the client's; `aud` chosen among the client's audiences by `resource` (RFC 8707) or
 * `audience`, else the first; `sub` is `client:<client_id>`, which can never equal a user's
 * UUID (SECURITY 14c, RFC 9700 §4.15). No refresh token (§4.4.3).
 */
import type { GrantHandler, OAuthClient, TokenResponse, TokenSigner } from '../../../contracts.ts';
import { OAuthError } from '../../errors.ts';
import { audienceClaim, requestedAudiences } from '../route.ts';
import { PERMISSION_SCOPE } from './permission-scopes.ts';

/** Scopes that only make sense with a user; never granted to a client acting for itself. */
const USER_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);

/** The `sub` of a token a client obtained for itself. */
export function clientSubject(clientId: string): string {
  return `client:${clientId}`;
}

function grantedScopes(client: OAuthClient, requested: string | undefined): string[] {
  if (requested === undefined) return client.scopes.filter((scope) => !USER_SCOPES.has(scope));
  const scopes: string[] = [];
  for (const scope of requested.split(' ')) {
    if (scope === '' || scopes.includes(scope)) continue;
    if (USER_SCOPES.has(scope) || !client.scopes.includes(scope)) {
      throw new OAuthError('invalid_scope', 'a requested scope is not allowed for this client');
    }
    scopes.push(scope);
  }
  return scopes;
}

function audiences(
  client: OAuthClient,
  params: Record<string, string | undefined>,
  fallback: string,
): string | string[] {
  const requested = requestedAudiences(params);
  if (requested.length === 0) return client.audiences[0] ?? fallback;
  for (const audience of requested) {
    if (!client.audiences.includes(audience)) {
      throw new OAuthError('invalid_target', 'the requested resource is not available to this client');
    }
  }
  return audienceClaim(requested);
}

/**
 * Builds the client_credentials handler.
 *
 * @example
 * const grant = createClientCredentialsGrant({ signer, defaultAudience: 'tessera-api' });
 */
export function createClientCredentialsGrant(deps: {
  signer: TokenSigner;
  defaultAudience: string;
}): GrantHandler {
  return {
    grantType: 'client_credentials',
    async handle(client, params): Promise<TokenResponse> {
      if (client.type !== 'confidential') {
        throw new OAuthError('unauthorized_client', 'public clients cannot use client_credentials');
      }
      const scopes = grantedScopes(client, params.scope);
      const aud = audiences(client, params, deps.defaultAudience);
      const scope = scopes.join(' ');
      const { token } = await deps.signer.signAccessToken({
        sub: clientSubject(client.clientId),
        clientId: client.clientId,
        aud,
        scope,
        ttlSeconds: client.accessTokenTtlSeconds,
        // A scope shaped like a permission (`users:read`) is also put in the `permissions` claim.
        permissions: scopes.filter((candidate) => PERMISSION_SCOPE.test(candidate)),
      });
      const response: TokenResponse = {
        access_token: token,
        token_type: 'Bearer',
        expires_in: client.accessTokenTtlSeconds,
      };
      if (scope) response.scope = scope;
      return response;
    },
  };
}
