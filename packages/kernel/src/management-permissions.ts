/**
 * Resources of Tessera's own management APIs (`users:write`, `clients:write`, `keys:write`, …;
 * `internal` is the scope of the services' calls to each other). Permissions on these resources
 * act on the whole platform, so two rules guard them: only roles of the administration
 * organization hold them (docs/adr/0006-management-permissions.md), and a caller registering an
 * OAuth client can give it only those it holds itself (docs/adr/0015-client-scopes-held-by-caller.md).
 */
export const MANAGEMENT_RESOURCES: ReadonlySet<string> = new Set([
  'users',
  'orgs',
  'clients',
  'keys',
  'internal',
]);

/**
 * True for a permission (or scope) on one of Tessera's management resources.
 *
 * @example
 * isManagementPermission('clients:write'); // true
 * isManagementPermission('invoices:approve'); // false
 */
export function isManagementPermission(permission: string): boolean {
  const colon = permission.indexOf(':');
  return MANAGEMENT_RESOURCES.has(colon < 0 ? permission : permission.slice(0, colon));
}
