import { and, eq, type SQL } from 'drizzle-orm';
import type { UsersDb } from '../db/database.ts';
import { membershipRoles, memberships, organizations, rolePermissions, roles } from '../db/schema.ts';

/** One organization a user belongs to, with the roles held there and the permissions they add up to. */
export interface MembershipView {
  organization: { id: string; slug: string; name: string };
  roles: Array<{ id: string; name: string }>;
  permissions: string[];
}

/**
 * Loads every membership of a user (or the one in `orgId`) with roles and effective permissions
 * in ONE statement: a join over memberships → organizations → membership_roles → roles →
 * role_permissions, folded in memory. The statement count does not grow with the number of
 * memberships, roles or permissions (no N+1).
 *
 * @example
 * const memberships = await loadMemberships(db, userId);
 */
export async function loadMemberships(
  db: UsersDb,
  userId: string,
  orgId?: string,
): Promise<MembershipView[]> {
  const where: SQL | undefined = orgId
    ? and(eq(memberships.userId, userId), eq(memberships.orgId, orgId))
    : eq(memberships.userId, userId);
  const rows = await db
    .select({
      orgId: organizations.id,
      slug: organizations.slug,
      orgName: organizations.name,
      roleId: roles.id,
      roleName: roles.name,
      permission: rolePermissions.permission,
    })
    .from(memberships)
    .innerJoin(organizations, eq(organizations.id, memberships.orgId))
    .leftJoin(membershipRoles, eq(membershipRoles.membershipId, memberships.id))
    .leftJoin(roles, eq(roles.id, membershipRoles.roleId))
    .leftJoin(rolePermissions, eq(rolePermissions.roleId, roles.id))
    .where(where)
    .orderBy(organizations.slug, roles.name, rolePermissions.permission);
  const byOrg = new Map<
    string,
    { view: MembershipView; roles: Map<string, string>; permissions: Set<string> }
  >();
  for (const row of rows) {
    let entry = byOrg.get(row.orgId);
    if (!entry) {
      entry = {
        view: {
          organization: { id: row.orgId, slug: row.slug, name: row.orgName },
          roles: [],
          permissions: [],
        },
        roles: new Map(),
        permissions: new Set(),
      };
      byOrg.set(row.orgId, entry);
    }
    if (row.roleId && row.roleName) entry.roles.set(row.roleId, row.roleName);
    if (row.permission) entry.permissions.add(row.permission);
  }
  return [...byOrg.values()].map(({ view, roles: held, permissions: perms }) => ({
    ...view,
    roles: [...held].map(([id, name]) => ({ id, name })),
    permissions: [...perms].sort(),
  }));
}
