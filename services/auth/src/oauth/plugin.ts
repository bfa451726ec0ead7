/**
 * The OAuth endpoints that take client credentials — token, introspection, revocation — in one
 * encapsulated scope: it accepts only form bodies, renders every error as RFC 6749 §5.2 JSON, and
 * marks every response `Cache-Control: no-store` / `Pragma: no-cache` (RFC 6749 §5.1).
 */
import formbody from '@fastify/formbody';
import { parseForm } from './form-parser.ts';
import type { HttpServer } from '@tessera/kernel';
import type { AccessTokenDenylist, GrantHandler, RefreshTokenStore } from '../contracts.ts';
import type { AuthMetrics } from '../metrics.ts';
import type { LocalAccessTokenVerifier } from '../tokens/verifier.ts';
import type { TesseraClientAuthenticator } from './client-auth.ts';
import { oauthErrorHandler } from './errors.ts';
import { registerIntrospectionRoute } from './introspect/route.ts';
import { registerRevocationRoute } from './revoke/route.ts';
import { registerTokenRoute } from './token/route.ts';

/**
 * What these JSON endpoints add to the kernel's API security headers: `no-store` on every OAuth
 * response (RFC 6749 §5.1, SECURITY 13) and `Pragma: no-cache` for HTTP/1.0 caches.
 */
const OAUTH_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'cache-control': 'no-store',
  pragma: 'no-cache',
});

/** Dependencies of {@link registerOAuthEndpoints}. */
export interface OAuthEndpointsDeps {
  authenticator: TesseraClientAuthenticator;
  grants: readonly GrantHandler[];
  verifier: LocalAccessTokenVerifier;
  denylist: AccessTokenDenylist;
  refreshTokens: RefreshTokenStore | undefined;
  issuer: string;
  metrics?: AuthMetrics | undefined;
}

/**
 * Registers `/oauth2/token`, `/oauth2/introspect` and `/oauth2/revoke` in their own scope.
 *
 * @example
 * await app.register(async (scope) => registerOAuthEndpoints(scope, deps));
 */
export async function registerOAuthEndpoints(scope: HttpServer, deps: OAuthEndpointsDeps): Promise<void> {
  scope.removeAllContentTypeParsers();
  await scope.register(formbody, { parser: parseForm });
  scope.setErrorHandler(oauthErrorHandler);
  scope.addHook('onRequest', (_request, reply, done) => {
    void reply.headers(OAUTH_HEADERS);
    done();
  });
  registerTokenRoute(scope, {
    authenticator: deps.authenticator,
    grants: deps.grants,
    metrics: deps.metrics,
  });
  registerIntrospectionRoute(scope, deps);
  registerRevocationRoute(scope, deps);
}
