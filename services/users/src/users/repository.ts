import { and, asc, eq, gt, inArray, like, sql, type SQL } from 'drizzle-orm';
import { isUniqueViolation } from '@tessera/db';
import { ConflictError, NotFoundError, uuidv7 } from '@tessera/kernel';
import type { UsersDb } from '../db/database.ts';
import { memberships, users, type UserRow } from '../db/schema.ts';

/** Filters and page of {@link listUsers}. */
export interface UserListQuery {
  limit: number;
  after?: string | undefined;
  emailPrefix?: string | undefined;
  status?: 'active' | 'disabled' | undefined;
  orgId?: string | undefined;
}

/** Fields an administrator may set on create. */
export interface NewUser {
  email: string;
  name?: string | null | undefined;
  passwordHash?: string | null | undefined;
  emailVerified?: boolean | undefined;
}

/** Fields that may change (which ones a caller may set is decided by the route schema). */
export type UserChanges = Partial<
  Pick<UserRow, 'email' | 'name' | 'emailVerified' | 'status' | 'passwordHash' | 'passwordChangedAt'>
>;

const emailTaken = () => new ConflictError('email_taken', 'a user with this email already exists');

/**
 * Inserts a user; a duplicate email (case-insensitive) is a 409.
 *
 * @example
 * const user = await insertUser(db, { email: 'a@example.com', passwordHash });
 */
export async function insertUser(db: UsersDb, input: NewUser): Promise<UserRow> {
  try {
    const [row] = await db
      .insert(users)
      .values({
        id: uuidv7(),
        email: input.email,
        name: input.name ?? null,
        passwordHash: input.passwordHash ?? null,
        passwordChangedAt: input.passwordHash ? new Date() : null,
        emailVerified: input.emailVerified ?? false,
      })
      .returning();
    return row!;
  } catch (err) {
    if (isUniqueViolation(err)) throw emailTaken();
    throw err;
  }
}

/**
 * The user with this id, or undefined.
 *
 * @example
 * const user = await findUserById(db, id);
 */
export async function findUserById(db: UsersDb, id: string): Promise<UserRow | undefined> {
  const [row] = await db.select().from(users).where(eq(users.id, id)).limit(1);
  return row;
}

/**
 * The user with this email (case-insensitive), or undefined. Served by `users_email_lower_key`.
 *
 * @example
 * const user = await findUserByEmail(db, 'Alice@Example.com');
 */
export async function findUserByEmail(db: UsersDb, email: string): Promise<UserRow | undefined> {
  const [row] = await db
    .select()
    .from(users)
    .where(sql`lower(${users.email}) = lower(${email})`)
    .limit(1);
  return row;
}

/**
 * Applies `changes` and bumps `updated_at`; 404 when the user does not exist, 409 on a taken email.
 *
 * @example
 * await updateUser(db, id, { name: 'Alice' });
 */
export async function updateUser(db: UsersDb, id: string, changes: UserChanges): Promise<UserRow> {
  try {
    const [row] = await db
      .update(users)
      .set({ ...changes, updatedAt: new Date() })
      .where(eq(users.id, id))
      .returning();
    if (!row) throw new NotFoundError('user_not_found', 'no user with this id');
    return row;
  } catch (err) {
    if (isUniqueViolation(err)) throw emailTaken();
    throw err;
  }
}

/**
 * Deletes a user (memberships and role assignments cascade); 404 when absent. Returns the
 * organizations the user belonged to, read in the same transaction (for cache invalidation).
 *
 * @example
 * const orgIds = await deleteUser(db, id);
 */
export async function deleteUser(db: UsersDb, id: string): Promise<string[]> {
  return db.transaction(async (tx) => {
    const orgIds = (
      await tx
        .select({ orgId: memberships.orgId })
        .from(memberships)
        .where(eq(memberships.userId, id))
        .for('update')
    ).map((r) => r.orgId);
    const deleted = await tx.delete(users).where(eq(users.id, id)).returning({ id: users.id });
    if (deleted.length === 0) throw new NotFoundError('user_not_found', 'no user with this id');
    return orgIds;
  });
}

/**
 * One page of users in id order (UUIDv7 = creation order), after the cursor id, filtered.
 * Each filter is served by an index: email prefix by `users_email_lower_key` (text_pattern_ops),
 * status by `users_status_id_idx`, organization by `memberships_org_user_idx`.
 *
 * @example
 * const page = await listUsers(db, { limit: 50, emailPrefix: 'ali' });
 */
export function listUsersQuery(db: UsersDb, query: UserListQuery) {
  const conditions: SQL[] = [];
  if (query.after) conditions.push(gt(users.id, query.after));
  if (query.emailPrefix)
    conditions.push(like(sql`lower(${users.email})`, `${escapeLike(query.emailPrefix.toLowerCase())}%`));
  if (query.status) conditions.push(eq(users.status, query.status));
  if (query.orgId) {
    conditions.push(
      inArray(
        users.id,
        db.select({ id: memberships.userId }).from(memberships).where(eq(memberships.orgId, query.orgId)),
      ),
    );
  }
  return db
    .select()
    .from(users)
    .where(conditions.length ? and(...conditions) : undefined)
    .orderBy(asc(users.id))
    .limit(query.limit);
}

/** Runs {@link listUsersQuery}. */
export async function listUsers(db: UsersDb, query: UserListQuery): Promise<UserRow[]> {
  return listUsersQuery(db, query);
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (ch) => `\\${ch}`);
}
