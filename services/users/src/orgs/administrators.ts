import { and, countDistinct, eq } from 'drizzle-orm';
import { ConflictError } from '@tessera/kernel';
import type { UsersDb } from '../db/database.ts';
import { membershipRoles, memberships, organizations, rolePermissions, users } from '../db/schema.ts';

/**
 * The permission that can repair the administration organization: whoever holds it there can
 * give roles (and so every other management permission) back to someone.
 */
export const ADMINISTRATOR_PERMISSION = 'orgs:write';

/** Active members of the administration organization whose roles there hold {@link ADMINISTRATOR_PERMISSION}. */
async function countAdministrators(tx: UsersDb, adminOrg: string): Promise<number> {
  const [row] = await tx
    .select({ n: countDistinct(memberships.userId) })
    .from(organizations)
    .innerJoin(memberships, eq(memberships.orgId, organizations.id))
    .innerJoin(users, eq(users.id, memberships.userId))
    .innerJoin(membershipRoles, eq(membershipRoles.membershipId, memberships.id))
    .innerJoin(rolePermissions, eq(rolePermissions.roleId, membershipRoles.roleId))
    .where(
      and(
        eq(organizations.slug, adminOrg),
        eq(users.status, 'active'),
        eq(rolePermissions.permission, ADMINISTRATOR_PERMISSION),
      ),
    );
  return Number(row?.n ?? 0);
}

/**
 * Runs `change` in one transaction and refuses it (409, nothing written) when it would leave the
 * administration organization `adminOrg` without an active member holding `orgs:write` where it
 * had one: otherwise removing the last administrator's role, membership or account, or that
 * role's permission, would lock everyone out of the platform's management API. Such changes are
 * serialised on the organization's row, so two administrators removing each other at once cannot
 * both succeed.
 *
 * With `inOrg`, the change only touches that organization: when it is not the administration
 * organization the change runs as it is, with no transaction or lock added.
 *
 * @example
 * await keepingAnAdministrator(db, 'demo', (tx) => unassignRole(tx, orgId, userId, roleId), orgId);
 */
export async function keepingAnAdministrator<T>(
  db: UsersDb,
  adminOrg: string,
  change: (tx: UsersDb) => Promise<T>,
  inOrg?: string,
): Promise<T> {
  if (inOrg !== undefined) {
    const [admin] = await db
      .select({ id: organizations.id })
      .from(organizations)
      .where(eq(organizations.slug, adminOrg));
    if (admin?.id !== inOrg) return change(db);
  }
  return db.transaction(async (tx) => {
    const [org] = await tx
      .select({ id: organizations.id })
      .from(organizations)
      .where(eq(organizations.slug, adminOrg))
      .for('no key update');
    const before = org ? await countAdministrators(tx, adminOrg) : 0;
    const result = await change(tx);
    if (before > 0 && (await countAdministrators(tx, adminOrg)) === 0) {
      throw new ConflictError(
        'last_administrator',
        `this would leave the administration organization "${adminOrg}" without an active member holding ${ADMINISTRATOR_PERMISSION}; give that permission to another member first`,
      );
    }
    return result;
  });
}
