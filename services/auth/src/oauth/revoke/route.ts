/**
 * Token revocation (RFC 7009). Confidential clients authenticate, public clients identify
 * themselves (§2.1). A refresh token revokes its whole family (RFC 9700 §4.14.2); an access
 * token's `jti` goes on the denylist until its `exp`. A client can only revoke its own tokens: a
 * valid token issued to another client is refused with `invalid_request` and left active (§2.1:
 * "the request is refused and the client is informed of the error"); unknown or already invalid
 * tokens answer 200 (§2.2).
 */
import type { HttpServer } from '@tessera/kernel';
import type { AuthMetrics } from '../../metrics.ts';
import type { AccessTokenDenylist, RefreshTokenStore } from '../../contracts.ts';
import { LocalAccessTokenVerifier } from '../../tokens/verifier.ts';
import type { TesseraClientAuthenticator } from '../client-auth.ts';
import { OAuthError } from '../errors.ts';
import { readOAuthForm } from '../form.ts';
import { documentedForm, TokenHintRequest } from '../documented-params.ts';

export const REVOCATION_PATH = '/oauth2/revoke';

/** Dependencies of the revocation route. */
export interface RevocationRouteDeps {
  authenticator: TesseraClientAuthenticator;
  verifier: LocalAccessTokenVerifier;
  denylist: AccessTokenDenylist;
  refreshTokens: RefreshTokenStore | undefined;
  metrics?: AuthMetrics | undefined;
}

const notYours = () => new OAuthError('invalid_request', 'the token was not issued to this client');

/**
 * Registers `POST /oauth2/revoke` on an OAuth scope.
 *
 * @example
 * registerRevocationRoute(scope, { authenticator, verifier, denylist, refreshTokens });
 */
export function registerRevocationRoute(app: HttpServer, deps: RevocationRouteDeps): void {
  app.post(REVOCATION_PATH, { config: documentedForm(TokenHintRequest) }, async (request, reply) => {
    const { params } = readOAuthForm(request.body);
    const client = await deps.authenticator.authenticate(request, params);
    const token = params.token;
    if (token === undefined) throw new OAuthError('invalid_request', 'token is missing');

    if (LocalAccessTokenVerifier.looksLikeJwt(token)) {
      const claims = await deps.verifier.verify(token);
      if (claims && claims.client_id !== client.clientId) throw notYours();
      if (claims) {
        await deps.denylist.add(claims.jti, claims.exp);
        deps.metrics?.tokensRevoked.inc({ reason: 'revocation_request' });
      }
    } else if (token.length <= 512 && deps.refreshTokens) {
      const outcome = await deps.refreshTokens.revokeFamily(token, client.clientId);
      if (outcome === 'foreign') throw notYours();
      if (outcome === 'revoked') deps.metrics?.tokensRevoked.inc({ reason: 'revocation_request' });
    }
    return reply.code(200).send();
  });
}
