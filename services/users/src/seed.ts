import { randomBytes } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { Type, type Static } from 'typebox';
import { uuidv7 } from '@tessera/kernel';
import type { UsersDb } from './db/database.ts';
import { membershipRoles, memberships, organizations, roles } from './db/schema.ts';
import { hashPassword } from './passwords/passwords.ts';
import { Email, Name, Permission, RoleName, Slug } from './schemas.ts';
import { findUserByEmail, insertUser } from './users/repository.ts';
import { setRolePermissionsFor } from './orgs/role-permissions.ts';

/** Every permission Tessera's own APIs check; the demo `admin` role holds them all. */
export const ALL_PERMISSIONS = [
  'users:read',
  'users:write',
  'orgs:read',
  'orgs:write',
  'clients:read',
  'clients:write',
  'keys:read',
  'keys:write',
] as const;

/** The users part of the declarative seed file (`TESSERA_SEED`). */
export const UsersSeed = Type.Object(
  {
    organizations: Type.Optional(
      Type.Array(
        Type.Object(
          {
            slug: Slug,
            name: Name,
            roles: Type.Optional(
              Type.Array(
                Type.Object(
                  {
                    name: RoleName,
                    description: Type.Optional(Type.String({ maxLength: 500 })),
                    permissions: Type.Array(Permission, { maxItems: 200 }),
                  },
                  { additionalProperties: false },
                ),
                { maxItems: 200 },
              ),
            ),
          },
          { additionalProperties: false },
        ),
        { maxItems: 1000 },
      ),
    ),
    users: Type.Optional(
      Type.Array(
        Type.Object(
          {
            email: Email,
            name: Type.Optional(Name),
            password: Type.Optional(Type.String({ minLength: 8, maxLength: 128 })),
            emailVerified: Type.Optional(Type.Boolean()),
            memberships: Type.Optional(
              Type.Array(
                Type.Object(
                  { org: Slug, roles: Type.Optional(Type.Array(RoleName, { maxItems: 100 })) },
                  { additionalProperties: false },
                ),
                { maxItems: 100 },
              ),
            ),
          },
          { additionalProperties: false },
        ),
        { maxItems: 10_000 },
      ),
    ),
  },
  { additionalProperties: true },
);
export type UsersSeed = Static<typeof UsersSeed>;

/**
 * Applies the seed idempotently in one transaction: organizations by slug (name updated), roles
 * by name (permission set replaced), users by email (created with their password when missing;
 * an existing user's password is left alone), memberships and role assignments added.
 *
 * @example
 * await applyUsersSeed(db, JSON.parse(await readFile(process.env.TESSERA_SEED!, 'utf8')));
 */
export async function applyUsersSeed(
  db: UsersDb,
  seed: UsersSeed,
): Promise<{ organizations: number; users: number }> {
  const hashes = new Map<string, string>();
  for (const user of seed.users ?? [])
    if (user.password) hashes.set(user.email, await hashPassword(user.password));
  await db.transaction(async (tx) => {
    const orgIds = new Map<string, string>();
    const roleIds = new Map<string, string>();
    for (const org of seed.organizations ?? []) {
      const [row] = await tx
        .insert(organizations)
        .values({ id: uuidv7(), slug: org.slug, name: org.name })
        .onConflictDoUpdate({ target: organizations.slug, set: { name: org.name, updatedAt: new Date() } })
        .returning();
      orgIds.set(org.slug, row!.id);
      for (const role of org.roles ?? []) {
        const [roleRow] = await tx
          .insert(roles)
          .values({ id: uuidv7(), orgId: row!.id, name: role.name, description: role.description ?? null })
          .onConflictDoUpdate({
            target: [roles.orgId, roles.name],
            set: { description: role.description ?? null, updatedAt: new Date() },
          })
          .returning();
        await setRolePermissionsFor(tx, roleRow!.id, [...new Set(role.permissions)].sort());
        roleIds.set(`${org.slug}/${role.name}`, roleRow!.id);
      }
    }
    const orgId = async (slug: string) => {
      const known = orgIds.get(slug);
      if (known) return known;
      const [row] = await tx.select().from(organizations).where(eq(organizations.slug, slug)).limit(1);
      if (!row) throw new Error(`seed: user membership names unknown organization "${slug}"`);
      orgIds.set(slug, row.id);
      return row.id;
    };
    const roleId = async (slug: string, name: string) => {
      const known = roleIds.get(`${slug}/${name}`);
      if (known) return known;
      const [row] = await tx
        .select()
        .from(roles)
        .where(and(eq(roles.orgId, await orgId(slug)), eq(roles.name, name)))
        .limit(1);
      if (!row) throw new Error(`seed: unknown role "${name}" in organization "${slug}"`);
      return row.id;
    };
    for (const user of seed.users ?? []) {
      const existing = await findUserByEmail(tx, user.email);
      const row =
        existing ??
        (await insertUser(tx, {
          email: user.email,
          name: user.name,
          passwordHash: hashes.get(user.email),
          emailVerified: user.emailVerified,
        }));
      for (const membership of user.memberships ?? []) {
        const oid = await orgId(membership.org);
        await tx
          .insert(memberships)
          .values({ id: uuidv7(), userId: row.id, orgId: oid })
          .onConflictDoNothing();
        const [m] = await tx
          .select({ id: memberships.id })
          .from(memberships)
          .where(and(eq(memberships.userId, row.id), eq(memberships.orgId, oid)));
        for (const name of membership.roles ?? []) {
          await tx
            .insert(membershipRoles)
            .values({ membershipId: m!.id, roleId: await roleId(membership.org, name) })
            .onConflictDoNothing();
        }
      }
    }
  });
  return { organizations: seed.organizations?.length ?? 0, users: seed.users?.length ?? 0 };
}

/**
 * First start: the organization `demo`, its role `admin` holding every permission, and an admin
 * user in it with that role. Returns the generated password only when it created the user with
 * one (so it can be printed once).
 *
 * @example
 * const { generatedPassword } = await ensureDemoData(db, { adminEmail: 'admin@example.com' });
 */
export async function ensureDemoData(
  db: UsersDb,
  options: { adminEmail: string; adminPassword?: string | undefined },
): Promise<{ adminEmail: string; created: boolean; generatedPassword?: string }> {
  const existed = await findUserByEmail(db, options.adminEmail);
  const generated = options.adminPassword ? undefined : randomBytes(12).toString('base64url');
  await applyUsersSeed(db, {
    organizations: [
      {
        slug: 'demo',
        name: 'Demo',
        roles: [{ name: 'admin', description: 'Every permission', permissions: [...ALL_PERMISSIONS] }],
      },
    ],
    users: [
      {
        email: options.adminEmail,
        name: 'Administrator',
        password: options.adminPassword ?? generated!,
        emailVerified: true,
        memberships: [{ org: 'demo', roles: ['admin'] }],
      },
    ],
  });
  if (existed) return { adminEmail: options.adminEmail, created: false };
  return {
    adminEmail: options.adminEmail,
    created: true,
    ...(generated ? { generatedPassword: generated } : {}),
  };
}
