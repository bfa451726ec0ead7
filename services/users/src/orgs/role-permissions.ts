import { eq } from 'drizzle-orm';
import type { UsersDb } from '../db/database.ts';
import { permissions, rolePermissions } from '../db/schema.ts';

/**
 * Replaces a role's permission set (registering new permission names). Run inside the caller's
 * transaction so the role never shows a half-replaced set.
 *
 * @example
 * await db.transaction((tx) => setRolePermissionsFor(tx, roleId, ['users:read']));
 */
export async function setRolePermissionsFor(tx: UsersDb, roleId: string, names: string[]): Promise<void> {
  await tx.delete(rolePermissions).where(eq(rolePermissions.roleId, roleId));
  if (names.length === 0) return;
  await tx
    .insert(permissions)
    .values(names.map((name) => ({ name })))
    .onConflictDoNothing();
  await tx.insert(rolePermissions).values(names.map((permission) => ({ roleId, permission })));
}
