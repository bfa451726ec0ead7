/**
 * The declarative seed (`TESSERA_SEED`, users part) and the demo data of a first start, on real
 * PostgreSQL: what they write, that applying them again duplicates nothing, that a changed role
 * replaces its permission set, and that an invalid seed writes nothing.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { Compile } from 'typebox/compile';
import { rawQuery } from '@tessera/db';
import { ALL_PERMISSIONS, applyUsersSeed, ensureDemoData, UsersSeed } from './seed.ts';
import { startUsersHarness, type Harness } from './test-harness.ts';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const TABLES = [
  'users',
  'organizations',
  'roles',
  'permissions',
  'role_permissions',
  'memberships',
  'membership_roles',
] as const;

let h: Harness;
let admin: string;
beforeAll(async () => {
  h = await startUsersHarness();
  admin = await h.bearer({ permissions: ['users:read'] });
});
afterAll(() => h.close());

/** docs/seed.example.json, users part, checked against the seed schema like the platform does. */
async function exampleSeed(): Promise<UsersSeed> {
  const parsed: unknown = JSON.parse(await readFile(path.join(root, 'docs/seed.example.json'), 'utf8'));
  const check = Compile(UsersSeed);
  if (!check.Check(parsed))
    throw new Error(`seed.example.json: ${JSON.stringify([...check.Errors(parsed)][0])}`);
  return { organizations: parsed.organizations, users: parsed.users };
}

async function counts(): Promise<Record<(typeof TABLES)[number], number>> {
  const entries = await Promise.all(TABLES.map(async (table) => [table, await h.count(table)] as const));
  return Object.fromEntries(entries) as Record<(typeof TABLES)[number], number>;
}

/** `slug/role` → its permissions, sorted, for the organizations given. */
async function rolePermissions(slugs: string[]): Promise<Record<string, string[]>> {
  const rows = await rawQuery<{ role: string; permissions: string | null }>(
    h.conn,
    `select o.slug || '/' || r.name as role, string_agg(rp.permission, ',' order by rp.permission) as permissions
       from users.roles r
       join users.organizations o on o.id = r.org_id
       left join users.role_permissions rp on rp.role_id = r.id
      where o.slug = any($1)
      group by o.slug, r.name`,
    [slugs],
  );
  return Object.fromEntries(rows.map((r) => [r.role, r.permissions ? r.permissions.split(',') : []]));
}

/** Every id the seed's rows have, to prove a second application reuses them. */
async function ids(): Promise<string[]> {
  const rows = await rawQuery<{ id: string }>(
    h.conn,
    `select id::text from users.organizations union all select id::text from users.roles
     union all select id::text from users.users union all select id::text from users.memberships order by 1`,
  );
  return rows.map((r) => r.id);
}

async function userIdOf(email: string): Promise<string> {
  const [row] = await rawQuery<{ id: string }>(h.conn, 'select id from users.users where email = $1', [
    email,
  ]);
  if (!row) throw new Error(`no user ${email}`);
  return row.id;
}

interface MembershipBody {
  organization: { slug: string; name: string };
  roles: Array<{ name: string }>;
  permissions: string[];
}

async function membershipsOf(email: string) {
  const res = await request(h.url)
    .get(`/v1/users/${await userIdOf(email)}`)
    .query({ include: 'memberships' })
    .set('authorization', admin);
  expect(res.status, res.text).toBe(200);
  const body = res.body as {
    email: string;
    name: string;
    emailVerified: boolean;
    memberships: MembershipBody[];
  };
  return {
    ...body,
    memberships: body.memberships.map((m) => ({
      org: m.organization.slug,
      roles: m.roles.map((r) => r.name).sort(),
      permissions: [...m.permissions].sort(),
    })),
  };
}

describe('the users seed (docs/seed.example.json)', () => {
  it('writes organizations, roles with exactly their permissions, users and memberships, and nothing twice', async () => {
    const seed = await exampleSeed();
    expect(await applyUsersSeed(h.db, seed)).toEqual({ organizations: 1, users: 2 });
    const once = await counts();
    const idsOnce = await ids();
    await applyUsersSeed(h.db, seed);
    expect(await counts()).toEqual(once);
    expect(await ids()).toEqual(idsOnce);
    expect(once).toMatchObject({
      users: 2,
      organizations: 1,
      roles: 2,
      role_permissions: 4,
      memberships: 2,
      membership_roles: 2,
    });

    expect(await rolePermissions(['acme'])).toEqual({
      'acme/admin': ['billing:manage', 'projects:read', 'projects:write'],
      'acme/viewer': ['projects:read'],
    });
    const [org] = await rawQuery<{ name: string }>(
      h.conn,
      `select name from users.organizations where slug = 'acme'`,
    );
    expect(org?.name).toBe('Acme Inc.');

    const alice = await membershipsOf('alice@acme.example');
    expect(alice).toMatchObject({ name: 'Alice', emailVerified: true });
    expect(alice.memberships).toEqual([
      { org: 'acme', roles: ['admin'], permissions: ['billing:manage', 'projects:read', 'projects:write'] },
    ]);
    const bob = await membershipsOf('bob@acme.example');
    expect(bob).toMatchObject({ name: 'Bob', emailVerified: false });
    expect(bob.memberships).toEqual([{ org: 'acme', roles: ['viewer'], permissions: ['projects:read'] }]);
  });

  it("replaces a role's permission set when the seed changes it, and leaves an existing user's password alone", async () => {
    const seed = await exampleSeed();
    await applyUsersSeed(h.db, seed);
    const before = await counts();
    const [aliceHash] = await rawQuery<{ password_hash: string }>(
      h.conn,
      `select password_hash from users.users where email = 'alice@acme.example'`,
    );
    const changed: UsersSeed = {
      ...seed,
      organizations: seed.organizations!.map((org) => ({
        ...org,
        roles: org.roles!.map((role) =>
          role.name === 'admin'
            ? { ...role, permissions: ['projects:read', 'reports:export'] }
            : { ...role, permissions: [] },
        ),
      })),
      users: seed.users!.map((u) => ({ ...u, password: 'a different passphrase' })),
    };
    await applyUsersSeed(h.db, changed);
    expect(await rolePermissions(['acme'])).toEqual({
      'acme/admin': ['projects:read', 'reports:export'],
      'acme/viewer': [],
    });
    expect(await counts()).toMatchObject({
      users: before.users,
      organizations: before.organizations,
      roles: before.roles,
      memberships: before.memberships,
      membership_roles: before.membership_roles,
      role_permissions: 2,
    });
    const [aliceAfter] = await rawQuery<{ password_hash: string }>(
      h.conn,
      `select password_hash from users.users where email = 'alice@acme.example'`,
    );
    expect(aliceAfter?.password_hash).toBe(aliceHash?.password_hash);
    // Back to the file: the original sets again.
    await applyUsersSeed(h.db, seed);
    expect(await rolePermissions(['acme'])).toEqual({
      'acme/admin': ['billing:manage', 'projects:read', 'projects:write'],
      'acme/viewer': ['projects:read'],
    });
  });

  it('an invalid users seed writes nothing', async () => {
    const before = await counts();
    const idsBefore = await ids();
    const unknownRole: UsersSeed = {
      organizations: [
        { slug: 'beta', name: 'Beta', roles: [{ name: 'member', permissions: ['beta:read'] }] },
        { slug: 'acme', name: 'Acme renamed', roles: [{ name: 'auditor', permissions: ['audit:read'] }] },
      ],
      users: [
        {
          email: 'carol@beta.example',
          password: 'carol passphrase',
          memberships: [{ org: 'beta', roles: ['member'] }],
        },
        { email: 'dave@beta.example', memberships: [{ org: 'beta', roles: ['ghost'] }] },
      ],
    };
    await expect(applyUsersSeed(h.db, unknownRole)).rejects.toThrow(
      'seed: unknown role "ghost" in organization "beta"',
    );
    const unknownOrg: UsersSeed = {
      users: [{ email: 'erin@nowhere.example', memberships: [{ org: 'nowhere', roles: [] }] }],
    };
    await expect(applyUsersSeed(h.db, unknownOrg)).rejects.toThrow(
      'seed: user membership names unknown organization "nowhere"',
    );
    expect(await counts()).toEqual(before);
    expect(await ids()).toEqual(idsBefore);
    const [org] = await rawQuery<{ name: string }>(
      h.conn,
      `select name from users.organizations where slug = 'acme'`,
    );
    expect(org?.name).toBe('Acme Inc.');
    expect(await rolePermissions(['beta'])).toEqual({});
  });
});

/** Every permission a route of the platform requires, read from the services' source. */
async function permissionsRequiredByRoutes(): Promise<Set<string>> {
  const found = new Set<string>();
  for (const service of await readdir(path.join(root, 'services'))) {
    const dir = path.join(root, 'services', service, 'src');
    const files = (await readdir(dir, { recursive: true })).filter(
      (f) =>
        f.endsWith('.ts') &&
        !f.endsWith('.test.ts') &&
        !f.includes('test-harness') &&
        !f.endsWith('testing.ts'),
    );
    for (const file of files) {
      const text = await readFile(path.join(dir, file), 'utf8');
      for (const call of text.matchAll(/(?:requirePermissions|hasPermissions)\(([^)]*)\)/g)) {
        for (const literal of call[1]!.matchAll(/'([a-z][a-z0-9_-]*:[a-z][a-z0-9_-]*)'/g))
          found.add(literal[1]!);
      }
    }
  }
  return found;
}

describe('the demo data of a first start', () => {
  it("gives the demo organization's admin role every permission the platform defines", async () => {
    const required = await permissionsRequiredByRoutes();
    // The scan reads real routes (users, orgs, clients, keys), not an empty set.
    expect([...required]).toEqual(
      expect.arrayContaining(['users:read', 'orgs:write', 'clients:write', 'keys:write']),
    );
    expect([...ALL_PERMISSIONS].sort()).toEqual(expect.arrayContaining([...required].sort()));

    const first = await ensureDemoData(h.db, { adminEmail: 'demo-admin@example.com' });
    expect(first.created).toBe(true);
    expect(first.generatedPassword).toMatch(/^[A-Za-z0-9_-]{16}$/);
    const again = await ensureDemoData(h.db, { adminEmail: 'demo-admin@example.com' });
    expect(again).toEqual({ adminEmail: 'demo-admin@example.com', created: false });

    expect(await rolePermissions(['demo'])).toEqual({ 'demo/admin': [...ALL_PERMISSIONS].sort() });
    const demoAdmin = await membershipsOf('demo-admin@example.com');
    expect(demoAdmin).toMatchObject({ name: 'Administrator', emailVerified: true });
    expect(demoAdmin.memberships).toEqual([
      { org: 'demo', roles: ['admin'], permissions: [...ALL_PERMISSIONS].sort() },
    ]);
  });
});
