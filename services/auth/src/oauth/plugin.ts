/**
 * The OAuth endpoints that take client credentials — token, introspection, revocation — in one
 * encapsulated scope: it accepts only form bodies, renders every error as RFC 6749 §5.2 JSON, and
 * marks every response `Cache-Control: no-store` / `Pragma: no-cache` (RFC 6749 §5.1).
 */
import formbody from '@fastify/formbody';
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
 * The headers of these JSON endpoints (SECURITY 13, 34), fixed once: `no-store` on every OAuth
 * response and a CSP that fits JSON, on top of the kernel's precomputed security headers.
 */
export function oauthSecurityHeaders(hsts: boolean): Record<string, string> {
  return {
    'cache-control': 'no-store',
    pragma: 'no-cache',
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-site',
    'origin-agent-cluster': '?1',
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'x-dns-prefetch-control': 'off',
    'x-download-options': 'noopen',
    'x-frame-options': 'SAMEORIGIN',
    'x-permitted-cross-domain-policies': 'none',
    'x-xss-protection': '0',
    ...(hsts ? { 'strict-transport-security': 'max-age=31536000; includeSubDomains' } : {}),
  };
}

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
  await scope.register(formbody);
  scope.setErrorHandler(oauthErrorHandler);
  const headers = oauthSecurityHeaders(deps.issuer.startsWith('https:'));
  scope.addHook('onRequest', (_request, reply, done) => {
    void reply.headers(headers);
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
