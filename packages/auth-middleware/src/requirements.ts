/**
 * What a route requires of a verified token (scopes, permissions), checked the same way for every
 * framework adapter. A missing requirement is `insufficient_scope` (RFC 6750 §3.1, 403).
 */
import { hasPermissions, hasScopes, type AccessTokenClaims } from './claims.ts';
import { TokenError } from './errors.ts';

/**
 * Scopes and permissions a route requires; every listed value must be present.
 *
 * @example
 * const needs: Requirements = { scopes: ['users:read'], permissions: ['users:write'] };
 */
export interface Requirements {
  scopes?: readonly string[];
  permissions?: readonly string[];
}

/** RFC 6749 §3.3 scope-token: printable ASCII without space, `"` and `\`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/**
 * Checks route requirements once, when the route is declared: each must be a non-empty RFC 6749
 * §3.3 scope-token, since it may be echoed in a `WWW-Authenticate` header. Throws TypeError.
 *
 * @example
 * checkRequirementNames('requireScopes', 'the scopes', ['users:read']);
 */
export function checkRequirementNames(owner: string, kind: string, names: readonly string[]): void {
  for (const name of names as unknown[]) {
    if (typeof name !== 'string' || !SCOPE_TOKEN.test(name)) {
      throw new TypeError(`${owner}: each of ${kind} must be a non-empty string without spaces or quotes`);
    }
  }
}

/**
 * Throws `insufficient_scope` unless the claims satisfy every requirement. Missing scopes are
 * named in the challenge's `scope` attribute (RFC 6750 §3); missing permissions are not, because
 * they are not scope values a client could ask for, only in the problem detail.
 *
 * @example
 * assertAuthorized(claims, { permissions: ['users:write'] }); // throws TokenError (403)
 */
export function assertAuthorized(claims: AccessTokenClaims, requirements: Requirements): void {
  const scopes = requirements.scopes ?? [];
  if (!hasScopes(claims, scopes)) {
    const missing = scopes.filter((scope) => !claims.scopes.includes(scope)).join(' ');
    throw new TokenError('insufficient_scope', `the token lacks the scope ${missing}`, {
      requiredScope: scopes.join(' '),
    });
  }
  const permissions = requirements.permissions ?? [];
  if (!hasPermissions(claims, permissions)) {
    const held = claims.permissions ?? [];
    const missing = permissions.filter((permission) => !held.includes(permission)).join(' ');
    throw new TokenError('insufficient_scope', `the token lacks the permission ${missing}`);
  }
}
