import { sql } from 'drizzle-orm';
import {
  boolean,
  check,
  index,
  pgSchema,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

/** Every table of the user service lives in the `users` schema, which only this service writes. */
export const usersSchema = pgSchema('users');

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const users = usersSchema.table(
  'users',
  {
    id: uuid('id').primaryKey(),
    email: text('email').notNull(),
    emailVerified: boolean('email_verified').notNull().default(false),
    name: text('name'),
    status: text('status', { enum: ['active', 'disabled'] })
      .notNull()
      .default('active'),
    passwordHash: text('password_hash'),
    passwordChangedAt: at('password_changed_at'),
    createdAt: at('created_at').notNull().defaultNow(),
    updatedAt: at('updated_at').notNull().defaultNow(),
  },
  (t) => [
    // Case-insensitive uniqueness; text_pattern_ops also serves `lower(email) LIKE 'prefix%'`
    // whatever the database collation is.
    uniqueIndex('users_email_lower_key').using('btree', sql`lower(${t.email}) text_pattern_ops`),
    index('users_status_id_idx').on(t.status, t.id),
    check('users_status_check', sql`${t.status} in ('active', 'disabled')`),
  ],
);

export const organizations = usersSchema.table('organizations', {
  id: uuid('id').primaryKey(),
  slug: text('slug').notNull().unique('organizations_slug_key'),
  name: text('name').notNull(),
  createdAt: at('created_at').notNull().defaultNow(),
  updatedAt: at('updated_at').notNull().defaultNow(),
});

export const memberships = usersSchema.table(
  'memberships',
  {
    id: uuid('id').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    createdAt: at('created_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('memberships_user_org_key').on(t.userId, t.orgId),
    index('memberships_org_user_idx').on(t.orgId, t.userId),
  ],
);

export const roles = usersSchema.table(
  'roles',
  {
    id: uuid('id').primaryKey(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    description: text('description'),
    createdAt: at('created_at').notNull().defaultNow(),
    updatedAt: at('updated_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('roles_org_name_key').on(t.orgId, t.name)],
);

/** Permission names are `resource:action` strings; the table is their registry. */
export const permissions = usersSchema.table(
  'permissions',
  {
    name: text('name').primaryKey(),
    createdAt: at('created_at').notNull().defaultNow(),
  },
  (t) => [check('permissions_name_format', sql`${t.name} ~ '^[a-z][a-z0-9_-]*:[a-z][a-z0-9_-]*$'`)],
);

export const rolePermissions = usersSchema.table(
  'role_permissions',
  {
    roleId: uuid('role_id')
      .notNull()
      .references(() => roles.id, { onDelete: 'cascade' }),
    permission: text('permission')
      .notNull()
      .references(() => permissions.name, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.roleId, t.permission] })],
);

export const membershipRoles = usersSchema.table(
  'membership_roles',
  {
    membershipId: uuid('membership_id')
      .notNull()
      .references(() => memberships.id, { onDelete: 'cascade' }),
    roleId: uuid('role_id')
      .notNull()
      .references(() => roles.id, { onDelete: 'cascade' }),
  },
  (t) => [
    primaryKey({ columns: [t.membershipId, t.roleId] }),
    index('membership_roles_role_idx').on(t.roleId),
  ],
);

export const schema = {
  users,
  organizations,
  memberships,
  roles,
  permissions,
  rolePermissions,
  membershipRoles,
};
export type UsersSchema = typeof schema;
export type UserRow = typeof users.$inferSelect;
export type OrganizationRow = typeof organizations.$inferSelect;
export type RoleRow = typeof roles.$inferSelect;
