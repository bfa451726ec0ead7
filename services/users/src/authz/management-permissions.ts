import { BadRequestError, isManagementPermission } from '@tessera/kernel';
import type { MembershipView } from './memberships.ts';

// Management permissions (`users:*`, `orgs:*`, `clients:*`, `keys:*`, `internal`) act on the whole
// platform, so they take effect only in the administration organization (`TESSERA_ADMIN_ORG`,
// default `demo`); without this, an organization's own admin could grant herself platform-wide
// rights (docs/adr/0006-management-permissions.md). The predicate lives in the kernel: the auth
// service applies the same list to the scopes of the clients it registers.

/**
 * The membership with the permissions that take effect: all of them in the administration
 * organization, the non-management ones elsewhere (also for roles created before this rule).
 *
 * @example
 * const effective = effectiveMembership(membership, 'demo');
 */
export function effectiveMembership(membership: MembershipView, adminOrg: string): MembershipView {
  if (membership.organization.slug === adminOrg) return membership;
  if (!membership.permissions.some(isManagementPermission)) return membership;
  return { ...membership, permissions: membership.permissions.filter((p) => !isManagementPermission(p)) };
}

/**
 * Refuses a role outside the administration organization that would hold management permissions.
 *
 * @example
 * assertRolePermissionsAllowed(org.slug, body.permissions, 'demo');
 */
export function assertRolePermissionsAllowed(orgSlug: string, permissions: string[], adminOrg: string): void {
  if (orgSlug === adminOrg) return;
  const reserved = permissions.filter(isManagementPermission);
  if (reserved.length > 0) {
    throw new BadRequestError(
      'reserved_permission',
      `${reserved.slice(0, 5).join(', ')}: permissions on Tessera's own resources (users, orgs, clients, keys, internal) can only be held by roles of the administration organization "${adminOrg}"`,
    );
  }
}
