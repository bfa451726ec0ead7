import { afterAll, describe, expect, it } from 'vitest';
import { applyMigrations, createDrizzle } from '@tessera/db';
import { testDrivers } from '@tessera/db/testing';
import { uuidv7 } from '@tessera/kernel';
import { schema } from '../db/schema.ts';
import { usersMigrations } from '../migrations.ts';
import { addMember, assignRole, createRole, insertOrganization } from '../orgs/repository.ts';
import { loadUserWithMemberships } from '../users/load-user-view.ts';
import { insertUser } from '../users/repository.ts';

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

// HOUSE-STYLE rule 12: one repository suite, run against both drivers.
describe.each(testDrivers(cleanups))('loadMemberships on %s', (_name, open) => {
  it('loads a user with every membership in the same number of statements (at most 2) for 1 and for 50 memberships', async () => {
    const conn = await open();
    await applyMigrations(conn, usersMigrations);
    let statements = 0;
    const db = createDrizzle(conn, schema, { onQuery: () => statements++ });
    const seedUser = async (memberships: number) => {
      const user = await insertUser(db, { email: `u${uuidv7()}@example.com` });
      for (let i = 0; i < memberships; i++) {
        const org = await insertOrganization(db, { slug: `o-${uuidv7()}`, name: `Org ${i}` });
        const reader = await createRole(db, org.id, {
          name: 'reader',
          permissions: ['projects:read', 'billing:read'],
        });
        const writer = await createRole(db, org.id, { name: 'writer', permissions: ['projects:write'] });
        await addMember(db, org.id, user.id);
        await assignRole(db, org.id, user.id, reader.id);
        await assignRole(db, org.id, user.id, writer.id);
      }
      return user.id;
    };
    const one = await seedUser(1);
    const fifty = await seedUser(50);
    // The route's own loader behind GET /v1/users/{id}?include=memberships: the user row, then
    // every membership with its roles and permissions.
    const count = async (userId: string) => {
      statements = 0;
      const view = await loadUserWithMemberships(db, userId, 'demo');
      expect(view?.id).toBe(userId);
      return { statements, memberships: view?.memberships ?? [] };
    };
    const small = await count(one);
    const large = await count(fifty);
    expect(small.memberships).toHaveLength(1);
    expect(large.memberships).toHaveLength(50);
    expect(large.memberships[0]!.permissions).toEqual(['billing:read', 'projects:read', 'projects:write']);
    expect(large.memberships[0]!.roles.map((r) => r.name).sort()).toEqual(['reader', 'writer']);
    expect(large.statements).toBe(small.statements);
    expect(large.statements).toBeLessThanOrEqual(2);
  }, 120_000);
});
