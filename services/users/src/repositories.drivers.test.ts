import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMigrations, createDrizzle, rawQuery, type SqlConnection } from '@tessera/db';
import { testDrivers } from '@tessera/db/testing';
import { ConflictError, NotFoundError } from '@tessera/kernel';
import { loadMemberships } from './authz/memberships.ts';
import type { UsersDb } from './db/database.ts';
import { schema } from './db/schema.ts';
import { usersMigrations } from './migrations.ts';
import {
  addMember,
  assignRole,
  createRole,
  deleteOrganization,
  insertOrganization,
  listMembers,
  listOrganizations,
  listRoles,
  unassignRole,
  updateOrganization,
} from './orgs/repository.ts';
import {
  deleteUser,
  findUserByEmail,
  insertUser,
  listUsers,
  updateUser,
  type UserListQuery,
} from './users/repository.ts';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** A lowercase token that makes emails and slugs of one test unique within the shared database. */
const token = () => `t${randomBytes(5).toString('hex')}`;

/** Reads every page of `listUsers` with `limit` rows each, following the last id as the cursor. */
async function allPages(db: UsersDb, query: Omit<UserListQuery, 'after'>): Promise<string[][]> {
  const pages: string[][] = [];
  let after: string | undefined;
  for (;;) {
    const rows = await listUsers(db, { ...query, after });
    if (rows.length === 0) return pages;
    pages.push(rows.map((r) => r.id));
    after = rows.at(-1)!.id;
  }
}

// HOUSE-STYLE rule 12: one repository suite, run against both drivers.
describe.each(testDrivers(cleanups))('users and organizations repositories on %s', (_name, open) => {
  let conn: SqlConnection;
  let db: UsersDb;

  beforeAll(async () => {
    conn = await open();
    await applyMigrations(conn, usersMigrations);
    db = createDrizzle(conn, schema);
  }, 60_000);

  const count = async (table: string, where = 'true', params: unknown[] = []) =>
    Number(
      (
        await rawQuery<{ n: string }>(conn, `select count(*) as n from users.${table} where ${where}`, params)
      )[0]!.n,
    );

  it('refuses an email differing only in case with the 409 email_taken, on insert and on update', async () => {
    const t = token();
    const alice = await insertUser(db, { email: `${t}.Alice@Example.com` });
    const before = await count('users');
    const duplicate = insertUser(db, { email: `${t}.alice@EXAMPLE.COM` });
    await expect(duplicate).rejects.toBeInstanceOf(ConflictError);
    await expect(duplicate).rejects.toMatchObject({ status: 409, code: 'email_taken' });
    expect(await count('users')).toBe(before);

    const bob = await insertUser(db, { email: `${t}.bob@example.com` });
    await expect(updateUser(db, bob.id, { email: `${t}.ALICE@example.com` })).rejects.toMatchObject({
      status: 409,
      code: 'email_taken',
    });
    expect((await findUserByEmail(db, `${t}.bob@example.com`))?.id).toBe(bob.id);
    expect((await findUserByEmail(db, `${t.toUpperCase()}.ALICE@EXAMPLE.COM`))?.id).toBe(alice.id);
  });

  it('refuses a taken organization slug with the 409 slug_taken, on insert and on update', async () => {
    const t = token();
    const acme = await insertOrganization(db, { slug: `${t}-acme`, name: 'Acme' });
    const before = await count('organizations');
    const duplicate = insertOrganization(db, { slug: `${t}-acme`, name: 'Acme again' });
    await expect(duplicate).rejects.toBeInstanceOf(ConflictError);
    await expect(duplicate).rejects.toMatchObject({ status: 409, code: 'slug_taken' });
    expect(await count('organizations')).toBe(before);

    const other = await insertOrganization(db, { slug: `${t}-other`, name: 'Other' });
    await expect(updateOrganization(db, other.id, { slug: acme.slug })).rejects.toMatchObject({
      status: 409,
      code: 'slug_taken',
    });
    expect(await count('organizations', 'id = $1 and slug = $2', [other.id, `${t}-other`])).toBe(1);
  });

  it('creates users with UUIDv7 ids that sort in creation order', async () => {
    const t = token();
    const created: string[] = [];
    for (let i = 0; i < 40; i++) created.push((await insertUser(db, { email: `${t}.${i}@example.com` })).id);
    for (const id of created) expect(id).toMatch(UUID_V7);
    expect([...created].sort()).toEqual(created);
    const listed = await listUsers(db, { limit: 100, emailPrefix: `${t}.` });
    expect(listed.map((u) => u.id)).toEqual(created);
    expect((await insertOrganization(db, { slug: `${t}-org`, name: 'Org' })).id).toMatch(UUID_V7);
  });

  it('pages through users in a stable id order with the last id as cursor', async () => {
    const t = token();
    const created: string[] = [];
    for (let i = 0; i < 8; i++) created.push((await insertUser(db, { email: `${t}.p${i}@example.com` })).id);
    const pages = await allPages(db, { limit: 3, emailPrefix: `${t}.` });
    expect(pages.map((p) => p.length)).toEqual([3, 3, 2]);
    expect(pages.flat()).toEqual([...created].sort());
    // The same cursor returns the same page; a user created meanwhile lands after every earlier id.
    const second = await listUsers(db, { limit: 3, emailPrefix: `${t}.`, after: pages[0]!.at(-1) });
    expect(second.map((u) => u.id)).toEqual(pages[1]);
    const late = await insertUser(db, { email: `${t}.late@example.com` });
    const again = await allPages(db, { limit: 3, emailPrefix: `${t}.` });
    expect(again.flat()).toEqual([...pages.flat(), late.id]);
  });

  it('pages through organizations and members in id order', async () => {
    const t = token();
    const org = await insertOrganization(db, { slug: `${t}-members`, name: 'Members' });
    const members: string[] = [];
    for (let i = 0; i < 5; i++) {
      const user = await insertUser(db, { email: `${t}.m${i}@example.com` });
      await addMember(db, org.id, user.id);
      members.push(user.id);
    }
    await insertUser(db, { email: `${t}.outsider@example.com` });
    const first = await listMembers(db, org.id, 2);
    const second = await listMembers(db, org.id, 2, first.at(-1)!.user.id);
    const third = await listMembers(db, org.id, 2, second.at(-1)!.user.id);
    const fourth = await listMembers(db, org.id, 2, third.at(-1)!.user.id);
    expect([first, second, third, fourth].map((p) => p.length)).toEqual([2, 2, 1, 0]);
    expect([...first, ...second, ...third].map((r) => r.user.id)).toEqual([...members].sort());

    const orgs: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await listOrganizations(db, 2, after);
      if (page.length === 0) break;
      expect(page.length).toBeLessThanOrEqual(2);
      orgs.push(...page.map((o) => o.id));
      after = page.at(-1)!.id;
    }
    expect(orgs).toEqual([...orgs].sort());
    expect(new Set(orgs).size).toBe(await count('organizations'));
    expect(orgs).toContain(org.id);
  });

  it('filters users by email prefix (case-insensitive, wildcards literal), status and organization', async () => {
    const t = token();
    const ann = await insertUser(db, { email: `${t}.ann@example.com` });
    const andy = await insertUser(db, { email: `${t}.Andy@example.com` });
    const under = await insertUser(db, { email: `${t}_bob@example.com` });
    const plain = await insertUser(db, { email: `${t}xbob@example.com` });
    await updateUser(db, andy.id, { status: 'disabled' });
    const org = await insertOrganization(db, { slug: `${t}-filter`, name: 'Filter' });
    await addMember(db, org.id, ann.id);
    await addMember(db, org.id, andy.id);
    await addMember(db, org.id, under.id);
    const ids = async (query: Omit<UserListQuery, 'limit'>) =>
      (await listUsers(db, { limit: 50, ...query })).map((u) => u.id);

    expect(await ids({ emailPrefix: `${t}.an` })).toEqual([ann.id, andy.id]);
    expect(await ids({ emailPrefix: `${t.toUpperCase()}.AN` })).toEqual([ann.id, andy.id]);
    expect(await ids({ emailPrefix: `${t}_` })).toEqual([under.id]);
    expect(await ids({ emailPrefix: `${t}%` })).toEqual([]);
    expect(await ids({ emailPrefix: t })).toEqual([ann.id, andy.id, under.id, plain.id]);
    expect(await ids({ emailPrefix: t, status: 'disabled' })).toEqual([andy.id]);
    expect(await ids({ emailPrefix: t, status: 'active' })).toEqual([ann.id, under.id, plain.id]);
    const disabled = await listUsers(db, { limit: 1000, status: 'disabled' });
    expect(disabled.every((u) => u.status === 'disabled')).toBe(true);
    expect(disabled.map((u) => u.id)).toContain(andy.id);
    expect(await ids({ orgId: org.id })).toEqual([ann.id, andy.id, under.id]);
    expect(await ids({ orgId: org.id, status: 'active' })).toEqual([ann.id, under.id]);
    expect(await ids({ orgId: org.id, emailPrefix: `${t}.` })).toEqual([ann.id, andy.id]);
    expect(await ids({ orgId: org.id, after: ann.id })).toEqual([andy.id, under.id]);
  });

  it('deleting an organization removes its memberships, roles, role permissions and assignments only', async () => {
    const t = token();
    const doomed = await insertOrganization(db, { slug: `${t}-doomed`, name: 'Doomed' });
    const kept = await insertOrganization(db, { slug: `${t}-kept`, name: 'Kept' });
    const user = await insertUser(db, { email: `${t}.member@example.com` });
    const doomedRole = await createRole(db, doomed.id, { name: 'editor', permissions: [`${t}:write`] });
    const keptRole = await createRole(db, kept.id, { name: 'editor', permissions: [`${t}:read`] });
    for (const [org, role] of [
      [doomed, doomedRole],
      [kept, keptRole],
    ] as const) {
      await addMember(db, org.id, user.id);
      await assignRole(db, org.id, user.id, role.id);
    }
    const assignments = 'role_id = $1';
    expect(await count('membership_roles', assignments, [doomedRole.id])).toBe(1);

    await deleteOrganization(db, doomed.id);

    expect(await count('organizations', 'id = $1', [doomed.id])).toBe(0);
    expect(await count('memberships', 'org_id = $1', [doomed.id])).toBe(0);
    expect(await count('roles', 'org_id = $1', [doomed.id])).toBe(0);
    expect(await count('role_permissions', 'role_id = $1', [doomedRole.id])).toBe(0);
    expect(await count('membership_roles', assignments, [doomedRole.id])).toBe(0);
    // The user, the other organization and everything in it stay; the permission name stays registered.
    expect(await count('users', 'id = $1', [user.id])).toBe(1);
    expect(await count('permissions', 'name = $1', [`${t}:write`])).toBe(1);
    expect(await count('membership_roles', assignments, [keptRole.id])).toBe(1);
    expect((await listRoles(db, kept.id)).map((r) => r.permissions)).toEqual([[`${t}:read`]]);
    const left = await loadMemberships(db, user.id);
    expect(left.map((m) => [m.organization.id, m.permissions])).toEqual([[kept.id, [`${t}:read`]]]);
    await expect(deleteOrganization(db, doomed.id)).rejects.toMatchObject({
      status: 404,
      code: 'organization_not_found',
    });
  });

  it('deleting a user removes their memberships and assignments and returns their organizations', async () => {
    const t = token();
    const one = await insertOrganization(db, { slug: `${t}-one`, name: 'One' });
    const two = await insertOrganization(db, { slug: `${t}-two`, name: 'Two' });
    const role = await createRole(db, one.id, { name: 'viewer', permissions: [`${t}:read`] });
    const leaving = await insertUser(db, { email: `${t}.leaving@example.com` });
    const staying = await insertUser(db, { email: `${t}.staying@example.com` });
    for (const user of [leaving, staying]) {
      await addMember(db, one.id, user.id);
      await addMember(db, two.id, user.id);
      await assignRole(db, one.id, user.id, role.id);
    }

    expect((await deleteUser(db, leaving.id)).sort()).toEqual([one.id, two.id].sort());

    expect(await count('users', 'id = $1', [leaving.id])).toBe(0);
    expect(await count('memberships', 'user_id = $1', [leaving.id])).toBe(0);
    expect(await count('membership_roles', 'role_id = $1', [role.id])).toBe(1);
    expect(await count('memberships', 'user_id = $1', [staying.id])).toBe(2);
    expect(await count('roles', 'id = $1', [role.id])).toBe(1);
    expect((await listMembers(db, one.id, 10)).map((r) => r.user.id)).toEqual([staying.id]);
    const again = deleteUser(db, leaving.id);
    await expect(again).rejects.toBeInstanceOf(NotFoundError);
    await expect(again).rejects.toMatchObject({ status: 404, code: 'user_not_found' });
  });

  it('assigns a role of the same organization idempotently and unassigns it', async () => {
    const t = token();
    const org = await insertOrganization(db, { slug: `${t}-assign`, name: 'Assign' });
    const elsewhere = await insertOrganization(db, { slug: `${t}-elsewhere`, name: 'Elsewhere' });
    const role = await createRole(db, org.id, { name: 'writer', permissions: [`${t}:write`, `${t}:read`] });
    const foreign = await createRole(db, elsewhere.id, { name: 'writer', permissions: [`${t}:admin`] });
    const member = await insertUser(db, { email: `${t}.member@example.com` });
    const stranger = await insertUser(db, { email: `${t}.stranger@example.com` });
    await addMember(db, org.id, member.id);
    const held = 'role_id = $1 or role_id = $2';

    await assignRole(db, org.id, member.id, role.id);
    await assignRole(db, org.id, member.id, role.id);
    expect(await count('membership_roles', held, [role.id, foreign.id])).toBe(1);
    const [view] = await loadMemberships(db, member.id, org.id);
    expect(view!.roles).toEqual([{ id: role.id, name: 'writer' }]);
    expect(view!.permissions).toEqual([`${t}:read`, `${t}:write`]);

    await expect(assignRole(db, org.id, member.id, foreign.id)).rejects.toMatchObject({
      status: 404,
      code: 'role_not_found',
    });
    await expect(assignRole(db, org.id, stranger.id, role.id)).rejects.toMatchObject({
      status: 404,
      code: 'membership_not_found',
    });
    await expect(unassignRole(db, org.id, member.id, foreign.id)).rejects.toMatchObject({
      status: 404,
      code: 'role_assignment_not_found',
    });
    expect(await count('membership_roles', held, [role.id, foreign.id])).toBe(1);

    await unassignRole(db, org.id, member.id, role.id);
    expect(await count('membership_roles', held, [role.id, foreign.id])).toBe(0);
    expect((await loadMemberships(db, member.id, org.id))[0]!.roles).toEqual([]);
    await expect(unassignRole(db, org.id, member.id, role.id)).rejects.toMatchObject({
      status: 404,
      code: 'role_assignment_not_found',
    });
    await expect(unassignRole(db, org.id, stranger.id, role.id)).rejects.toMatchObject({
      status: 404,
      code: 'membership_not_found',
    });
  });
});
