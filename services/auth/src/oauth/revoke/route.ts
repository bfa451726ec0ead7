/**
 * Token revocation (RFC 7009). Confidential clients authenticate, public clients identify
 * themselves (§2.1). A refresh token revokes its whole family (RFC 9700 §4.14.2); an access
 * token's `jti` goes on the denylist until its `exp`. A client can only revoke its own tokens;
 * unknown, foreign or already invalid tokens still answer 200 (§2.2), so the answer reveals nothing.
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
      if (claims && claims.client_id === client.clientId) {
        await deps.denylist.add(claims.jti, claims.exp);
        deps.metrics?.tokensRevoked.inc({ reason: 'revocation_request' });
      }
    } else if (token.length <= 512) {
      const revoked = await deps.refreshTokens?.revokeFamily(token, client.clientId);
      if (revoked) deps.metrics?.tokensRevoked.inc({ reason: 'revocation_request' });
    }
    return reply.code(200).send();
  });
}
