/** The claims of a verified access token (RFC 9068 §2.2 plus Tessera's authorization claims). */
export interface AccessTokenClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  nbf?: number;
  jti: string;
  client_id: string;
  /** The space-separated `scope` claim as issued. */
  scope: string;
  /** `scope` split into its values. */
  scopes: string[];
  org_id?: string;
  roles?: string[];
  permissions?: string[];
  auth_time?: number;
  [claim: string]: unknown;
}

/**
 * True when the token was granted every scope in `required`.
 *
 * @example
 * if (!hasScopes(claims, ['users:read'])) throw new TokenError('insufficient_scope', '...');
 */
export function hasScopes(claims: Pick<AccessTokenClaims, 'scopes'>, required: readonly string[]): boolean {
  return required.every((scope) => claims.scopes.includes(scope));
}

/**
 * True when the token's `permissions` claim holds every permission in `required`.
 *
 * @example
 * hasPermissions(claims, ['users:write']);
 */
export function hasPermissions(
  claims: Pick<AccessTokenClaims, 'permissions'>,
  required: readonly string[],
): boolean {
  const held = claims.permissions ?? [];
  return required.every((permission) => held.includes(permission));
}
