import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMigrations, createDrizzle, rawQuery, sqlState, type SqlConnection } from '@tessera/db';
import { testDrivers } from '@tessera/db/testing';
import type { UsersDb } from './db/database.ts';
import { schema } from './db/schema.ts';
import { usersMigrations } from './migrations.ts';
import {
  addMember,
  assignRole,
  createRole,
  insertOrganization,
  listRoles,
  updateRole,
  type RoleWithPermissions,
} from './orgs/repository.ts';
import { applyUsersSeed } from './seed.ts';
import { deleteUser, findUserByEmail, findUserById, insertUser } from './users/repository.ts';
import type { OrganizationRow, UserRow } from './db/schema.ts';

/**
 * Multi-row writes are all or nothing: in each case the database (or the seed applier) refuses a
 * LATER row of the write, after earlier rows were accepted inside the transaction, and every table
 * the write touches must be left exactly as it was.
 */
const TABLES = [
  'organizations',
  'roles',
  'permissions',
  'role_permissions',
  'users',
  'memberships',
  'membership_roles',
] as const;

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** The rejection of `promise`; fails the test when it resolves. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.unreachable('the write should have been refused'),
    (err: unknown) => err,
  );
}

describe.each(testDrivers(cleanups))('multi-row writes are atomic on %s', (_name, open) => {
  let conn: SqlConnection;
  let db: UsersDb;
  let org: OrganizationRow;
  let reader: RoleWithPermissions;
  let member: UserRow;

  beforeAll(async () => {
    conn = await open();
    await applyMigrations(conn, usersMigrations);
    db = createDrizzle(conn, schema);
    // Something in every table, so "unchanged" is not trivially "still empty".
    org = await insertOrganization(db, { slug: 'acme', name: 'Acme' });
    reader = await createRole(db, org.id, { name: 'reader', permissions: ['docs:read'] });
    member = await insertUser(db, { email: 'member@example.com' });
    await addMember(db, org.id, member.id);
    await assignRole(db, org.id, member.id, reader.id);
  }, 60_000);

  async function counts(): Promise<Record<string, number>> {
    const result: Record<string, number> = {};
    for (const table of TABLES) {
      const [row] = await rawQuery<{ n: string }>(conn, `select count(*) as n from users.${table}`);
      result[table] = Number(row!.n);
    }
    return result;
  }

  it('createRole: a permission the CHECK constraint refuses undoes the role row already inserted', async () => {
    const before = await counts();
    expect(before.roles).toBeGreaterThan(0);
    const err = await rejection(
      createRole(db, org.id, { name: 'half', permissions: ['docs:write', 'NOT VALID'] }),
    );
    expect(sqlState(err)).toBe('23514'); // check_violation (permissions_name_format)
    expect(await counts()).toEqual(before);
    expect((await listRoles(db, org.id)).map((r) => r.name)).toEqual(['reader']);
  });

  it('updateRole: a refused permission undoes the rename and the deletion of the old permission set', async () => {
    const before = await counts();
    const err = await rejection(
      updateRole(db, org.id, reader.id, { name: 'renamed', permissions: ['docs:admin', 'Bad Name'] }),
    );
    expect(sqlState(err)).toBe('23514');
    expect(await counts()).toEqual(before);
    const [role] = await listRoles(db, org.id);
    expect(role).toMatchObject({ id: reader.id, name: 'reader', permissions: ['docs:read'] });
  });

  it('deleteUser: a row the cascade may not delete keeps the user, memberships and role assignments', async () => {
    // A test-only table whose foreign key (no cascade) pins the member's membership: deleting the
    // user cascades to memberships, and there the database refuses.
    await rawQuery(
      conn,
      `create table users.pinned (membership_id uuid not null references users.memberships(id))`,
    );
    await rawQuery(conn, `insert into users.pinned select id from users.memberships where user_id = $1`, [
      member.id,
    ]);
    const before = await counts();
    const err = await rejection(deleteUser(db, member.id));
    expect(sqlState(err)).toBe('23503'); // foreign_key_violation
    expect(await counts()).toEqual(before);
    expect((await findUserById(db, member.id))?.email).toBe('member@example.com');

    await rawQuery(conn, 'drop table users.pinned');
    const doomed = await insertUser(db, { email: 'doomed@example.com' });
    await addMember(db, org.id, doomed.id);
    await assignRole(db, org.id, doomed.id, reader.id);
    const withDoomed = await counts();
    expect(await deleteUser(db, doomed.id)).toEqual([org.id]);
    expect(await counts()).toEqual({
      ...withDoomed,
      users: withDoomed.users! - 1,
      memberships: withDoomed.memberships! - 1,
      membership_roles: withDoomed.membership_roles! - 1,
    });
  });

  it('applyUsersSeed: a permission refused by the database in the last role undoes the earlier organizations and roles', async () => {
    const before = await counts();
    const err = await rejection(
      applyUsersSeed(db, {
        organizations: [
          { slug: 'acme', name: 'Acme renamed', roles: [{ name: 'auditor', permissions: ['audit:read'] }] },
          { slug: 'globex', name: 'Globex', roles: [{ name: 'admin', permissions: ['globex:write'] }] },
          { slug: 'initech', name: 'Initech', roles: [{ name: 'broken', permissions: ['NOT:VALID'] }] },
        ],
        users: [{ email: 'never@example.com', memberships: [{ org: 'globex', roles: ['admin'] }] }],
      }),
    );
    expect(sqlState(err)).toBe('23514');
    expect(await counts()).toEqual(before);
    expect(
      (await rawQuery<{ name: string }>(conn, `select name from users.organizations`)).map((r) => r.name),
    ).toEqual(['Acme']);
  });

  it('applyUsersSeed: a membership naming an unknown organization undoes every user, membership and role written before it', async () => {
    const before = await counts();
    const err = await rejection(
      applyUsersSeed(db, {
        organizations: [
          { slug: 'globex', name: 'Globex', roles: [{ name: 'admin', permissions: ['globex:write'] }] },
        ],
        users: [
          { email: 'first@example.com', memberships: [{ org: 'globex', roles: ['admin'] }] },
          { email: 'second@example.com', memberships: [{ org: 'acme', roles: ['reader'] }] },
          { email: 'third@example.com', memberships: [{ org: 'nowhere' }] },
        ],
      }),
    );
    expect(String(err)).toContain('unknown organization "nowhere"');
    expect(await counts()).toEqual(before);
    expect(await findUserByEmail(db, 'first@example.com')).toBeUndefined();
  });

  it('applyUsersSeed: a membership naming an unknown role undoes the memberships and users written before it', async () => {
    const before = await counts();
    const err = await rejection(
      applyUsersSeed(db, {
        users: [
          { email: 'first@example.com', memberships: [{ org: 'acme', roles: ['reader'] }] },
          { email: 'member@example.com', memberships: [{ org: 'acme', roles: ['reader', 'ghost'] }] },
        ],
      }),
    );
    expect(String(err)).toContain('unknown role "ghost"');
    expect(await counts()).toEqual(before);
  });

  it('applyUsersSeed: the same organization, role, user and membership named twice in one seed are written once', async () => {
    const before = await counts();
    await applyUsersSeed(db, {
      organizations: [
        { slug: 'twice', name: 'Twice', roles: [{ name: 'r', permissions: ['twice:read', 'twice:read'] }] },
        { slug: 'twice', name: 'Twice again', roles: [{ name: 'r', permissions: ['twice:read'] }] },
      ],
      users: [
        { email: 'twice@example.com', memberships: [{ org: 'twice', roles: ['r', 'r'] }] },
        { email: 'TWICE@example.com', memberships: [{ org: 'twice', roles: ['r'] }] },
      ],
    });
    const after = await counts();
    expect(after).toEqual({
      organizations: before.organizations! + 1,
      roles: before.roles! + 1,
      permissions: before.permissions! + 1,
      role_permissions: before.role_permissions! + 1,
      users: before.users! + 1,
      memberships: before.memberships! + 1,
      membership_roles: before.membership_roles! + 1,
    });
  });
});
