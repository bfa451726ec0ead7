import { and, asc, eq, gt } from 'drizzle-orm';
import { isForeignKeyViolation, isUniqueViolation } from '@tessera/db';
import { ConflictError, NotFoundError, uuidv7 } from '@tessera/kernel';
import type { UsersDb } from '../db/database.ts';
import {
  membershipRoles,
  memberships,
  organizations,
  rolePermissions,
  roles,
  users,
  type OrganizationRow,
  type RoleRow,
} from '../db/schema.ts';
import { setRolePermissionsFor } from './role-permissions.ts';

const orgNotFound = () => new NotFoundError('organization_not_found', 'no organization with this id');
const roleNotFound = () => new NotFoundError('role_not_found', 'no role with this id in this organization');

/**
 * Creates an organization; a taken slug is a 409.
 *
 * @example
 * const org = await insertOrganization(db, { slug: 'acme', name: 'Acme' });
 */
export async function insertOrganization(
  db: UsersDb,
  input: { slug: string; name: string },
): Promise<OrganizationRow> {
  try {
    const [row] = await db
      .insert(organizations)
      .values({ id: uuidv7(), ...input })
      .returning();
    return row!;
  } catch (err) {
    if (isUniqueViolation(err))
      throw new ConflictError('slug_taken', 'an organization with this slug already exists');
    throw err;
  }
}

/** The organization with this id, or 404. */
export async function getOrganization(db: UsersDb, id: string): Promise<OrganizationRow> {
  const [row] = await db.select().from(organizations).where(eq(organizations.id, id)).limit(1);
  if (!row) throw orgNotFound();
  return row;
}

/** The organization with this slug, or undefined. */
export async function findOrganizationBySlug(
  db: UsersDb,
  slug: string,
): Promise<OrganizationRow | undefined> {
  const [row] = await db.select().from(organizations).where(eq(organizations.slug, slug)).limit(1);
  return row;
}

/** One page of organizations in id order after `after`. */
export async function listOrganizations(
  db: UsersDb,
  limit: number,
  after?: string,
): Promise<OrganizationRow[]> {
  return db
    .select()
    .from(organizations)
    .where(after ? gt(organizations.id, after) : undefined)
    .orderBy(asc(organizations.id))
    .limit(limit);
}

/** Renames an organization or changes its slug (409 when taken, 404 when absent). */
export async function updateOrganization(
  db: UsersDb,
  id: string,
  changes: { slug?: string | undefined; name?: string | undefined },
): Promise<OrganizationRow> {
  try {
    const [row] = await db
      .update(organizations)
      .set({ ...changes, updatedAt: new Date() })
      .where(eq(organizations.id, id))
      .returning();
    if (!row) throw orgNotFound();
    return row;
  } catch (err) {
    if (isUniqueViolation(err))
      throw new ConflictError('slug_taken', 'an organization with this slug already exists');
    throw err;
  }
}

/** Deletes an organization with its roles and memberships (cascade). */
export async function deleteOrganization(db: UsersDb, id: string): Promise<void> {
  const deleted = await db
    .delete(organizations)
    .where(eq(organizations.id, id))
    .returning({ id: organizations.id });
  if (deleted.length === 0) throw orgNotFound();
}

/**
 * Adds a user to an organization (idempotent); 404 when either is missing.
 *
 * @example
 * await addMember(db, orgId, userId);
 */
export async function addMember(db: UsersDb, orgId: string, userId: string): Promise<string> {
  try {
    const [inserted] = await db
      .insert(memberships)
      .values({ id: uuidv7(), orgId, userId })
      .onConflictDoNothing({ target: [memberships.userId, memberships.orgId] })
      .returning({ id: memberships.id });
    if (inserted) return inserted.id;
    return (await membershipId(db, orgId, userId))!;
  } catch (err) {
    if (isForeignKeyViolation(err)) throw new NotFoundError('not_found', 'no such organization or user');
    throw err;
  }
}

/** Removes a membership (its role assignments cascade); 404 when not a member. */
export async function removeMember(db: UsersDb, orgId: string, userId: string): Promise<void> {
  const deleted = await db
    .delete(memberships)
    .where(and(eq(memberships.orgId, orgId), eq(memberships.userId, userId)))
    .returning({ id: memberships.id });
  if (deleted.length === 0)
    throw new NotFoundError('membership_not_found', 'the user is not a member of this organization');
}

/** Members of an organization with their user record, in user id order. */
export async function listMembers(db: UsersDb, orgId: string, limit: number, after?: string) {
  return db
    .select({ user: users })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(and(eq(memberships.orgId, orgId), after ? gt(memberships.userId, after) : undefined))
    .orderBy(asc(memberships.userId))
    .limit(limit);
}

async function membershipId(db: UsersDb, orgId: string, userId: string): Promise<string | undefined> {
  const [row] = await db
    .select({ id: memberships.id })
    .from(memberships)
    .where(and(eq(memberships.orgId, orgId), eq(memberships.userId, userId)))
    .limit(1);
  return row?.id;
}

/** A role with its permissions. */
export interface RoleWithPermissions extends RoleRow {
  permissions: string[];
}

/**
 * Creates a role with its permissions in one transaction (all or nothing); 409 on a taken name.
 *
 * @example
 * await createRole(db, orgId, { name: 'admin', permissions: ['users:read'] });
 */
export async function createRole(
  db: UsersDb,
  orgId: string,
  input: { name: string; description?: string | undefined; permissions: string[] },
): Promise<RoleWithPermissions> {
  const unique = [...new Set(input.permissions)].sort();
  try {
    return await db.transaction(async (tx) => {
      const [role] = await tx
        .insert(roles)
        .values({ id: uuidv7(), orgId, name: input.name, description: input.description ?? null })
        .returning();
      await setRolePermissionsFor(tx, role!.id, unique);
      return { ...role!, permissions: unique };
    });
  } catch (err) {
    if (isUniqueViolation(err))
      throw new ConflictError('role_name_taken', 'a role with this name already exists in this organization');
    if (isForeignKeyViolation(err)) throw orgNotFound();
    throw err;
  }
}

/**
 * Renames a role and/or replaces its permission set in one transaction.
 *
 * @example
 * await updateRole(db, orgId, roleId, { permissions: ['users:read', 'users:write'] });
 */
export async function updateRole(
  db: UsersDb,
  orgId: string,
  roleId: string,
  changes: {
    name?: string | undefined;
    description?: string | null | undefined;
    permissions?: string[] | undefined;
  },
): Promise<RoleWithPermissions> {
  try {
    return await db.transaction(async (tx) => {
      const { permissions: perms, ...fields } = changes;
      const [role] = await tx
        .update(roles)
        .set({ ...fields, updatedAt: new Date() })
        .where(and(eq(roles.id, roleId), eq(roles.orgId, orgId)))
        .returning();
      if (!role) throw roleNotFound();
      if (perms) await setRolePermissionsFor(tx, roleId, [...new Set(perms)].sort());
      const current = await tx
        .select({ name: rolePermissions.permission })
        .from(rolePermissions)
        .where(eq(rolePermissions.roleId, roleId))
        .orderBy(rolePermissions.permission);
      return { ...role, permissions: current.map((p) => p.name) };
    });
  } catch (err) {
    if (isUniqueViolation(err))
      throw new ConflictError('role_name_taken', 'a role with this name already exists in this organization');
    throw err;
  }
}

/** Deletes a role (its assignments cascade). */
export async function deleteRole(db: UsersDb, orgId: string, roleId: string): Promise<void> {
  const deleted = await db
    .delete(roles)
    .where(and(eq(roles.id, roleId), eq(roles.orgId, orgId)))
    .returning({ id: roles.id });
  if (deleted.length === 0) throw roleNotFound();
}

/** Every role of an organization with its permissions, in two statements whatever the count. */
export async function listRoles(db: UsersDb, orgId: string): Promise<RoleWithPermissions[]> {
  const rows = await db
    .select({ role: roles, permission: rolePermissions.permission })
    .from(roles)
    .leftJoin(rolePermissions, eq(rolePermissions.roleId, roles.id))
    .where(eq(roles.orgId, orgId))
    .orderBy(roles.name, rolePermissions.permission);
  const byId = new Map<string, RoleWithPermissions>();
  for (const row of rows) {
    const entry = byId.get(row.role.id) ?? { ...row.role, permissions: [] };
    if (row.permission) entry.permissions.push(row.permission);
    byId.set(row.role.id, entry);
  }
  return [...byId.values()];
}

/**
 * Assigns a role of the organization to a member (idempotent). The role must belong to the same
 * organization as the membership; otherwise 404.
 *
 * @example
 * await assignRole(db, orgId, userId, roleId);
 */
export async function assignRole(db: UsersDb, orgId: string, userId: string, roleId: string): Promise<void> {
  await db.transaction(async (tx) => {
    const mid = await membershipId(tx, orgId, userId);
    if (!mid)
      throw new NotFoundError('membership_not_found', 'the user is not a member of this organization');
    const [role] = await tx
      .select({ id: roles.id })
      .from(roles)
      .where(and(eq(roles.id, roleId), eq(roles.orgId, orgId)))
      .limit(1);
    if (!role) throw roleNotFound();
    await tx.insert(membershipRoles).values({ membershipId: mid, roleId }).onConflictDoNothing();
  });
}

/** Removes a role from a member; 404 when the assignment does not exist. */
export async function unassignRole(
  db: UsersDb,
  orgId: string,
  userId: string,
  roleId: string,
): Promise<void> {
  const mid = await membershipId(db, orgId, userId);
  if (!mid) throw new NotFoundError('membership_not_found', 'the user is not a member of this organization');
  const deleted = await db
    .delete(membershipRoles)
    .where(and(eq(membershipRoles.membershipId, mid), eq(membershipRoles.roleId, roleId)))
    .returning({ roleId: membershipRoles.roleId });
  if (deleted.length === 0)
    throw new NotFoundError('role_assignment_not_found', 'the member does not hold this role');
}
