/**
 * Token introspection (RFC 7662). Only authenticated confidential clients may ask (§2.1,
 * SECURITY 14d); a public client's `none` is not authentication. A token that is unknown,
 * malformed, expired, revoked — or one the caller may not introspect — answers only
 * `{"active": false}` (§2.2), so the endpoint reveals nothing about tokens it does not vouch for.
 * Who may introspect what (§4): an access token, the client it was issued to, or a resource
 * server — a client registered with the `introspect` scope — for one of the token's audiences; a
 * refresh token, only its own client. Any other client sees another client's token, with its
 * roles and permissions, as `{"active": false}` (every client is registered for the default API
 * audience, so the audience alone does not make one a resource server).
 */
import { Type } from 'typebox';
import type { HttpServer } from '@tessera/kernel';
import type { AccessTokenDenylist, OAuthClient, RefreshTokenStore } from '../../contracts.ts';
import { LocalAccessTokenVerifier } from '../../tokens/verifier.ts';
import type { TesseraClientAuthenticator } from '../client-auth.ts';
import { OAuthError } from '../errors.ts';
import { readOAuthForm } from '../form.ts';
import { documentedForm, TokenHintRequest } from '../documented-params.ts';

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
 * RFC 7662 §2.2 answer: `active`, and for an active token the members describing it — an access
 * token's claims as signed (`AccessTokenClaimSet`) plus `token_type`, or a refresh token's summary.
 * The access token's claims are passed on as they are and §2.2 lets a server add service-specific
 * members, so the object is documented open: no claim is silently dropped by the response serializer.
 */
const IntrospectionResponse = Type.Object(
  {
    active: Type.Boolean(),
    token_type: Type.Optional(Type.Literal('Bearer')),
    iss: Type.Optional(Type.String()),
    sub: Type.Optional(Type.String()),
    aud: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])),
    client_id: Type.Optional(Type.String()),
    scope: Type.Optional(Type.String()),
    exp: Type.Optional(Type.Integer()),
    iat: Type.Optional(Type.Integer()),
    nbf: Type.Optional(Type.Integer()),
    jti: Type.Optional(Type.String()),
    auth_time: Type.Optional(Type.Integer()),
    org_id: Type.Optional(Type.String()),
    roles: Type.Optional(Type.Array(Type.String())),
    permissions: Type.Optional(Type.Array(Type.String())),
  },
  { additionalProperties: true },
);

/** The client scope that makes a client a resource server, allowed to introspect others' tokens. */
export const INTROSPECT_SCOPE = 'introspect';

/** The token's own client, or a resource server (`introspect` scope) for one of the token's audiences. */
function mayIntrospect(client: OAuthClient, claims: { client_id?: unknown; aud?: unknown }): boolean {
  if (claims.client_id === client.clientId) return true;
  if (!client.scopes.includes(INTROSPECT_SCOPE)) return false;
  const audiences = Array.isArray(claims.aud) ? (claims.aud as unknown[]) : [claims.aud];
  return audiences.some((aud) => typeof aud === 'string' && client.audiences.includes(aud));
}

/**
 * Registers `POST /oauth2/introspect` on an OAuth scope.
 *
 * @example
 * registerIntrospectionRoute(scope, { authenticator, verifier, denylist, refreshTokens, issuer });
 */
export function registerIntrospectionRoute(app: HttpServer, deps: IntrospectionRouteDeps): void {
  const options = {
    config: documentedForm(TokenHintRequest),
    schema: { response: { 200: IntrospectionResponse } },
  };
  app.post(INTROSPECTION_PATH, options, async (request) => {
    const { params } = readOAuthForm(request.body);
    const { client, method } = await deps.authenticator.authenticateWithMethod(request, params);
    if (method === 'none')
      throw OAuthError.invalidClient('introspection requires client authentication', { basic: false });
    const token = params.token;
    if (token === undefined) throw new OAuthError('invalid_request', 'token is missing');

    if (LocalAccessTokenVerifier.looksLikeJwt(token)) {
      const claims = await deps.verifier.verify(token);
      if (!claims || !mayIntrospect(client, claims) || (await deps.denylist.has(claims.jti))) return INACTIVE;
      return { active: true, token_type: 'Bearer' as const, ...claims };
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
