/**
 * Token introspection (RFC 7662). Only authenticated confidential clients may ask (§2.1,
 * SECURITY 14d); a public client's `none` is not authentication. A token that is unknown,
 * malformed, expired, revoked — or a refresh token of another client — answers only
 * `{"active": false}` (§2.2), so the endpoint reveals nothing about tokens it does not vouch for.
 */
import type { HttpServer } from '@tessera/kernel';
import type { AccessTokenDenylist, RefreshTokenStore } from '../../contracts.ts';
import { LocalAccessTokenVerifier } from '../../tokens/verifier.ts';
import type { TesseraClientAuthenticator } from '../client-auth.ts';
import { OAuthError } from '../errors.ts';
import { readOAuthForm } from '../form.ts';

export const INTROSPECTION_PATH = '/oauth2/introspect';

/** Dependencies of the introspection route. */
export interface IntrospectionRouteDeps {
  authenticator: TesseraClientAuthenticator;
  verifier: LocalAccessTokenVerifier;
  denylist: AccessTokenDenylist;
  refreshTokens: RefreshTokenStore | undefined;
  issuer: string;
}

const INACTIVE = Object.freeze({ active: false });

/**
 * Registers `POST /oauth2/introspect` on an OAuth scope.
 *
 * @example
 * registerIntrospectionRoute(scope, { authenticator, verifier, denylist, refreshTokens, issuer });
 */
export function registerIntrospectionRoute(app: HttpServer, deps: IntrospectionRouteDeps): void {
  app.post(INTROSPECTION_PATH, async (request) => {
    const { params } = readOAuthForm(request.body);
    const { client, method } = await deps.authenticator.authenticateWithMethod(request, params);
    if (method === 'none')
      throw OAuthError.invalidClient('introspection requires client authentication', { basic: false });
    const token = params.token;
    if (token === undefined) throw new OAuthError('invalid_request', 'token is missing');

    if (LocalAccessTokenVerifier.looksLikeJwt(token)) {
      const claims = await deps.verifier.verify(token);
      if (!claims || (await deps.denylist.has(claims.jti))) return INACTIVE;
      return { active: true, token_type: 'Bearer', ...claims };
    }
    const info = await deps.refreshTokens?.inspect(token);
    if (!info?.active || info.clientId !== client.clientId) return INACTIVE;
    // No token_type: §2.2 means an RFC 6749 §7.1 access token type, which a refresh token has not.
    return {
      active: true,
      iss: deps.issuer,
      client_id: info.clientId,
      sub: info.sub,
      scope: info.scope,
      exp: info.exp,
      iat: info.iat,
      ...(info.orgId ? { org_id: info.orgId } : {}),
    };
  });
}
