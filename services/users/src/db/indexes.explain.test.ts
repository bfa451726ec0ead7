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
import { sql } from 'drizzle-orm';
import { schema } from './schema.ts';
import { usersMigrations } from '../migrations.ts';
import { listUsersQuery } from '../users/repository.ts';
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

  it('looks users up by id and by email without a sequential scan', async () => {
    const byId = db
      .select()
      .from(schema.users)
      .where(sql`${schema.users.id} = ${sampleUser}`);
    const byEmail = db
      .select()
      .from(schema.users)
      .where(sql`lower(${schema.users.email}) = lower(${'USER54321@example.com'})`);
    expect(await plan(byId)).not.toMatch(SEQ_SCAN);
    expect(await plan(byEmail)).not.toMatch(SEQ_SCAN);
  });

  it('loads memberships and authz without a sequential scan', async () => {
    let captured: string[] = [];
    const spy = createDrizzle(conn, schema, { onQuery: (q) => captured.push(q) });
    await loadMemberships(spy, sampleUser);
    await loadMemberships(spy, sampleUser, sampleOrg);
    expect(captured).toHaveLength(2);
    for (const [i, text] of captured.entries()) {
      const params = i === 0 ? [sampleUser] : [sampleUser, sampleOrg];
      const rows = await rawQuery<{ 'QUERY PLAN': string }>(conn, `explain ${text}`, params);
      expect(rows.map((r) => r['QUERY PLAN']).join('\n')).not.toMatch(SEQ_SCAN);
    }
    captured = [];
  });
});
