/**
 * The claims of a verified access token: RFC 9068 §2.2 plus Tessera's authorization claims for the
 * organization the user signed in to. Objects handed out by the verifier are frozen (a cached
 * token's claims are shared between requests).
 *
 * @example
 * const claims: AccessTokenClaims = await verifier.verify(token);
 * claims.scopes; // ['openid', 'users:read']
 */
export interface AccessTokenClaims {
  readonly iss: string;
  readonly sub: string;
  readonly aud: string | readonly string[];
  readonly exp: number;
  readonly iat: number;
  readonly nbf?: number;
  readonly jti: string;
  readonly client_id: string;
  /** The space-separated `scope` claim as issued (empty when the token has none). */
  readonly scope: string;
  /** `scope` split into its values. */
  readonly scopes: readonly string[];
  readonly org_id?: string;
  readonly roles?: readonly string[];
  readonly permissions?: readonly string[];
  readonly auth_time?: number;
  readonly [claim: string]: unknown;
}

/**
 * True when the token was granted every scope in `required` (an empty list is always satisfied).
 *
 * @example
 * if (!hasScopes(claims, ['users:read'])) {
 *   throw new TokenError('insufficient_scope', 'the token lacks a required scope');
 * }
 */
export function hasScopes(claims: Pick<AccessTokenClaims, 'scopes'>, required: readonly string[]): boolean {
  return required.every((scope) => claims.scopes.includes(scope));
}

/**
 * True when the token's `permissions` claim holds every permission in `required` (an empty list is
 * always satisfied).
 *
 * @example
 * const mayReadOthers = hasPermissions(claims, ['users:read']);
 */
export function hasPermissions(
  claims: Pick<AccessTokenClaims, 'permissions'>,
  required: readonly string[],
): boolean {
  const held = claims.permissions ?? [];
  return required.every((permission) => held.includes(permission));
}
