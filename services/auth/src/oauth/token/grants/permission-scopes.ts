/**
 * API permissions as OAuth scopes: a permission (`users:read`) reaches an access token only when a
 * scope of the same name was granted (RFC 6749 §3.3: the scope bounds what the token may do). A
 * user's roles may hold many permissions; an application gets those it asked for and the user
 * consented to, never more.
 */

/** A scope shaped like a permission: `resource:action`, or `resource:*` for every action. */
export const PERMISSION_SCOPE = /^[a-z][a-z0-9_-]*:[a-z*][a-z0-9_.*-]*$/;

/**
 * The permissions a user's token carries: those of `held` that a granted scope names exactly, or
 * whose resource a granted `resource:*` scope covers.
 *
 * @example
 * permissionsForScopes(['users:read', 'users:write', 'keys:write'], ['openid', 'users:read']); // ['users:read']
 */
export function permissionsForScopes(held: readonly string[], scopes: readonly string[]): string[] {
  const granted = new Set(scopes.filter((scope) => PERMISSION_SCOPE.test(scope)));
  if (granted.size === 0) return [];
  return held.filter((permission) => {
    if (granted.has(permission)) return true;
    const colon = permission.indexOf(':');
    return colon > 0 && granted.has(`${permission.slice(0, colon)}:*`);
  });
}
