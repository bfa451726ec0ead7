/** How the consent page describes a scope to the user. */
const DESCRIPTIONS: Record<string, string> = {
  openid: 'Know who you are (your user id)',
  profile: 'See your name',
  email: 'See your email address and whether it is verified',
  offline_access: 'Stay connected when you are not using it',
};

/**
 * The description shown for `scope`; API scopes (`users:read`...) are shown by name.
 *
 * @example
 * describeScope('email') // 'See your email address and whether it is verified'
 */
export function describeScope(scope: string): string {
  return DESCRIPTIONS[scope] ?? `Use the permission “${scope}”`;
}
