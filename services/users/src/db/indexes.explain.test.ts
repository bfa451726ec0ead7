import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyMigrations,
  closeConnection,
  createDrizzle,
  openConnection,
  rawQuery,
  type SqlConnection,
} from '@tessera/db';
import { createTestDatabase } from '@tessera/db/testing';
import { drizzle } from 'drizzle-orm/node-postgres';
import { schema } from './schema.ts';
import { usersMigrations } from '../migrations.ts';
import { deleteUser, findUserByEmail, findUserById, listUsersQuery } from '../users/repository.ts';
import { addMember, assignRole, listMembers, unassignRole } from '../orgs/repository.ts';
import { loadMemberships } from '../authz/memberships.ts';
import type { UsersDb } from './database.ts';

let conn: SqlConnection;
let db: UsersDb;
let drop: () => Promise<void>;
let sampleUser: string;
let sampleOrg: string;

beforeAll(async () => {
  const database = await createTestDatabase();
  drop = database.drop;
  conn = await openConnection({ url: database.url, statementTimeoutMs: 120_000 });
  await applyMigrations(conn, usersMigrations);
  db = createDrizzle(conn, schema);
  // 100,000 users, 200 organizations with 2 roles each, every user a member of 2 orgs with a role.
  await rawQuery(
    conn,
    `
    insert into users.organizations (id, slug, name)
    select (lpad(to_hex(g), 8, '0') || '-0000-7000-8000-000000000000')::uuid, 'org-' || g, 'Org ' || g
    from generate_series(1, 200) g`,
  );
  await rawQuery(
    conn,
    `
    insert into users.roles (id, org_id, name)
    select gen_random_uuid(), o.id, r.name from users.organizations o cross join (values ('admin'), ('viewer')) r(name)`,
  );
  await rawQuery(conn, `insert into users.permissions (name) values ('users:read'), ('users:write')`);
  await rawQuery(
    conn,
    `insert into users.role_permissions (role_id, permission) select id, 'users:read' from users.roles`,
  );
  await rawQuery(
    conn,
    `
    insert into users.users (id, email, status)
    select (lpad(to_hex(g), 8, '0') || '-0000-7000-8000-' || lpad(to_hex(g), 12, '0'))::uuid,
           'user' || g || '@example.com', case when g % 10 = 0 then 'disabled' else 'active' end
    from generate_series(1, 100000) g`,
  );
  await rawQuery(
    conn,
    `
    insert into users.memberships (id, user_id, org_id)
    select gen_random_uuid(), u.id, o.id
    from users.users u
    join users.organizations o on o.slug in ('org-' || (1 + (('x' || substr(u.id::text, 1, 8))::bit(32)::int % 200)),
                                               'org-' || (1 + ((('x' || substr(u.id::text, 1, 8))::bit(32)::int + 7) % 200)))`,
  );
  await rawQuery(
    conn,
    `
    insert into users.membership_roles (membership_id, role_id)
    select m.id, r.id from users.memberships m join users.roles r on r.org_id = m.org_id and r.name = 'viewer'`,
  );
  await rawQuery(conn, 'analyze');
  sampleUser = (
    await rawQuery<{ id: string }>(conn, `select id from users.users where email = 'user54321@example.com'`)
  )[0]!.id;
  sampleOrg = (
    await rawQuery<{ id: string }>(
      conn,
      `select org_id as id from users.memberships where user_id = $1 limit 1`,
      [sampleUser],
    )
  )[0]!.id;
}, 120_000);

afterAll(async () => {
  await closeConnection(conn);
  await drop();
});

async function plan(query: { toSQL(): { sql: string; params: unknown[] } }): Promise<string> {
  const { sql: text, params } = query.toSQL();
  const rows = await rawQuery<{ 'QUERY PLAN': string }>(conn, `explain ${text}`, params);
  return rows.map((r) => r['QUERY PLAN']).join('\n');
}

/** A Drizzle database on the same pool that records every statement (not begin/commit) with its parameters. */
function capturing(): { db: UsersDb; statements: Statement[] } {
  if (conn.kind !== 'pg') throw new Error('the EXPLAIN suite runs on PostgreSQL');
  const statements: Statement[] = [];
  const db = drizzle({
    client: conn.pool,
    schema,
    logger: {
      logQuery: (text, params) => {
        if (!/^(begin|commit|rollback)\b/i.test(text)) statements.push({ sql: text, params });
      },
    },
  });
  return { db, statements };
}

interface Statement {
  sql: string;
  params: unknown[];
}

async function explain(statement: Statement): Promise<string> {
  const rows = await rawQuery<{ 'QUERY PLAN': string }>(conn, `explain ${statement.sql}`, statement.params);
  return rows.map((r) => r['QUERY PLAN']).join('\n');
}

const SEQ_SCAN = /Seq Scan on (users|memberships|membership_roles)\b/;

describe('every lookup and filter path is served by an index (100,000 users)', () => {
  it.each([
    ['first page', () => listUsersQuery(db, { limit: 51 })],
    ['next page', () => listUsersQuery(db, { limit: 51, after: sampleUser })],
    ['email prefix', () => listUsersQuery(db, { limit: 51, emailPrefix: 'user5432' })],
    ['status', () => listUsersQuery(db, { limit: 51, status: 'disabled' })],
    ['organization', () => listUsersQuery(db, { limit: 51, orgId: sampleOrg })],
    ['organization and status', () => listUsersQuery(db, { limit: 51, orgId: sampleOrg, status: 'active' })],
  ])('list users by %s', async (_label, build) => {
    const text = await plan(build());
    expect(text).not.toMatch(SEQ_SCAN);
  });

  it('looks users up by id and by email (the statements findUserById and findUserByEmail issue)', async () => {
    const { db: spy, statements } = capturing();
    expect((await findUserById(spy, sampleUser))?.email).toBe('user54321@example.com');
    expect((await findUserByEmail(spy, 'USER54321@example.com'))?.id).toBe(sampleUser);
    expect(statements).toHaveLength(2);
    for (const statement of statements) expect(await explain(statement)).not.toMatch(SEQ_SCAN);
  });

  it('loads memberships and authz without a sequential scan', async () => {
    const { db: spy, statements } = capturing();
    expect(await loadMemberships(spy, sampleUser)).toHaveLength(2);
    expect(await loadMemberships(spy, sampleUser, sampleOrg)).toHaveLength(1);
    expect(statements).toHaveLength(2);
    for (const statement of statements) expect(await explain(statement)).not.toMatch(SEQ_SCAN);
  });

  it('lists the members of an organization, first and next page (listMembers)', async () => {
    const { db: spy, statements } = capturing();
    const first = await listMembers(spy, sampleOrg, 51);
    expect(first).toHaveLength(51);
    const next = await listMembers(spy, sampleOrg, 51, first.at(-1)!.user.id);
    expect(next[0]!.user.id > first.at(-1)!.user.id).toBe(true);
    expect(statements).toHaveLength(2);
    for (const statement of statements) expect(await explain(statement)).not.toMatch(SEQ_SCAN);
  });

  it('finds the membership of a user in an organization (assignRole, unassignRole, addMember)', async () => {
    const roleIds = await rawQuery<{ id: string; name: string }>(
      conn,
      `select id, name from users.roles where org_id = $1 order by name`,
      [sampleOrg],
    );
    const [admin, viewer] = roleIds;
    expect([admin?.name, viewer?.name]).toEqual(['admin', 'viewer']);
    const { db: spy, statements } = capturing();
    // The sample user is a member holding `viewer` only: these read the membership, change nothing.
    await assignRole(spy, sampleOrg, sampleUser, viewer!.id);
    await expect(unassignRole(spy, sampleOrg, sampleUser, admin!.id)).rejects.toMatchObject({
      code: 'role_assignment_not_found',
    });
    await addMember(spy, sampleOrg, sampleUser);
    const lookups = statements.filter((s) => /^select .* from "users"\."memberships" /i.test(s.sql));
    expect(lookups).toHaveLength(3);
    for (const lookup of lookups)
      expect(lookup.sql).toMatch(/"org_id" = \$1 and "users"\."memberships"\."user_id" = \$2/);
    expect(statements.length).toBeGreaterThan(lookups.length);
    for (const statement of statements) expect(await explain(statement)).not.toMatch(SEQ_SCAN);
  });

  it('deletes a user: memberships by user, the delete, and the cascades it sets off', async () => {
    const [doomed] = await rawQuery<{ id: string }>(
      conn,
      `select id from users.users where email = 'user77777@example.com'`,
    );
    const { db: spy, statements } = capturing();
    expect(await deleteUser(spy, doomed!.id)).toHaveLength(2);
    expect(statements.map((s) => s.sql.split(' ')[0])).toEqual(['select', 'delete']);
    expect(statements[0]!.sql).toMatch(
      /from "users"\."memberships" where "users"\."memberships"\."user_id" = \$1 for update/,
    );
    for (const statement of statements) expect(await explain(statement)).not.toMatch(SEQ_SCAN);
    // For every deleted row, PostgreSQL's ON DELETE CASCADE triggers run this statement on the
    // referencing table: without an index on the referencing column each one scans the table.
    const [membership] = await rawQuery<{ id: string; role: string }>(
      conn,
      `select m.id, r.role_id as role from users.memberships m
       join users.membership_roles r on r.membership_id = m.id where m.user_id = $1 limit 1`,
      [sampleUser],
    );
    const cascades = [
      ['memberships', 'user_id', sampleUser], // deleteUser
      ['memberships', 'org_id', sampleOrg], // deleteOrganization
      ['membership_roles', 'membership_id', membership!.id], // deleteUser, removeMember, deleteOrganization
      ['membership_roles', 'role_id', membership!.role], // deleteRole, deleteOrganization
    ] as const;
    for (const [table, column, value] of cascades) {
      const text = await explain({
        sql: `delete from only "users"."${table}" where $1::uuid operator(pg_catalog.=) "${column}"`,
        params: [value],
      });
      expect(text, `${table}.${column}`).not.toMatch(SEQ_SCAN);
    }
  });
});
