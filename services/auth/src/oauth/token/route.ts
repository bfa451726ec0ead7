/**
 * The token endpoint (RFC 6749 §3.2, §4, §5): parse the form, check the grant type is one this
 * server offers, authenticate the client, check the client may use that grant, and hand over to
 * the grant's handler. Errors are §5.2 JSON; every response carries `Cache-Control: no-store`
 * (set by the OAuth scope in `oauth/plugin.ts`).
 */
import { Type } from 'typebox';
import type { AuthMetrics } from '../../metrics.ts';
import type { HttpServer } from '@tessera/kernel';
import type { GrantHandler, GrantType } from '../../contracts.ts';
import type { TesseraClientAuthenticator } from '../client-auth.ts';
import { OAuthError } from '../errors.ts';
import { checkResources, readOAuthForm } from '../form.ts';
import { documentedForm, TokenRequest } from '../documented-params.ts';

export const TOKEN_PATH = '/oauth2/token';

/** Dependencies of the token route. */
export interface TokenRouteDeps {
  authenticator: TesseraClientAuthenticator;
  grants: readonly GrantHandler[];
  /** Counts `tessera_tokens_issued_total{grant_type,client_id}`. */
  metrics?: AuthMetrics | undefined;
}

/** RFC 6749 §5.1 (and OIDC Core §3.1.3.3 `id_token`): exactly the members of `TokenResponse`. */
const TokenResponseSchema = Type.Object(
  {
    access_token: Type.String(),
    token_type: Type.Literal('Bearer'),
    expires_in: Type.Integer(),
    scope: Type.Optional(Type.String()),
    refresh_token: Type.Optional(Type.String()),
    id_token: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

/**
 * `resource` values (RFC 8707), already checked as absolute URIs, arrive at the grant handlers
 * joined by single spaces in `params.resource` (a valid URI holds no space); split them with
 * {@link resourcesOf}.
 *
 * @example
 * const resources = resourcesOf(params); // ['https://api.example.com/']
 */
export function resourcesOf(params: Record<string, string | undefined>): string[] {
  return params.resource ? params.resource.split(' ') : [];
}

/**
 * The audiences a token request names, once each: its RFC 8707 `resource` values (absolute URIs)
 * and its `audience` (an API named otherwise, such as `tessera-api`).
 *
 * @example
 * requestedAudiences({ resource: 'https://a.example/', audience: 'billing' }); // ['https://a.example/', 'billing']
 */
export function requestedAudiences(params: Record<string, string | undefined>): string[] {
  return [...new Set([...resourcesOf(params), ...(params.audience ? [params.audience] : [])])];
}

/** The `aud` claim for `audiences`: one value as a string (RFC 7519 §4.1.3), several as an array. */
export function audienceClaim(audiences: readonly string[]): string | string[] {
  return audiences.length === 1 ? (audiences[0] as string) : [...audiences];
}

/**
 * Registers `POST /oauth2/token` on an OAuth scope.
 *
 * @example
 * registerTokenRoute(scope, { authenticator, grants: [clientCredentials, ...flows.grantHandlers] });
 */
export function registerTokenRoute(app: HttpServer, deps: TokenRouteDeps): void {
  const handlers = new Map<string, GrantHandler>();
  for (const grant of deps.grants) {
    if (handlers.has(grant.grantType))
      throw new TypeError(`token route: two handlers for ${grant.grantType}`);
    handlers.set(grant.grantType, grant);
  }

  const options = {
    config: documentedForm(TokenRequest),
    schema: { response: { 200: TokenResponseSchema } },
  };
  app.post(TOKEN_PATH, options, async (request) => {
    const { params, resources } = readOAuthForm(request.body);
    const grantType = params.grant_type;
    if (grantType === undefined) throw new OAuthError('invalid_request', 'grant_type is missing');
    const handler = handlers.get(grantType);
    if (!handler) throw new OAuthError('unsupported_grant_type', 'this grant type is not supported');
    if (resources.length > 0) params.resource = checkResources(resources).join(' ');
    const client = await deps.authenticator.authenticate(request, params);
    if (!client.grantTypes.includes(grantType as GrantType)) {
      throw new OAuthError('unauthorized_client', 'the client may not use this grant type');
    }
    const response = await handler.handle(client, params, request);
    deps.metrics?.tokensIssued.inc({ grant_type: grantType, client_id: client.clientId });
    return response;
  });
}
