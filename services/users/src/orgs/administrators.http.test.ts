import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawQuery } from '@tessera/db';
import { startUsersHarness, type Harness } from '../test-harness.ts';

// The administration organization (`demo` by default) must keep an active member holding
// orgs:write: otherwise nobody could give management rights back through the API.

let h: Harness;
let admin: string;
beforeAll(async () => {
  h = await startUsersHarness();
  admin = await h.bearer({ permissions: ['users:write', 'orgs:write', 'orgs:read', 'users:read'] });
});
afterAll(() => h.close());

interface Answer {
  status: number;
  /** The fields these tests read from a user, an organization, a role list or a problem document. */
  body: {
    id: string;
    code?: string;
    status?: string;
    slug?: string;
    items: Array<{ permissions: string[] }>;
  };
}

async function call(method: string, path: string, body?: object): Promise<Answer> {
  const res = await fetch(`${h.url}${path}`, {
    method,
    headers: { authorization: admin, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Answer['body'] };
}

async function expectLastAdministrator(method: string, path: string, body?: object) {
  const res = await call(method, path, body);
  expect(res.status).toBe(409);
  expect(res.body.code).toBe('last_administrator');
}

async function newUserInOrg(orgId: string, roleId?: string): Promise<string> {
  const user = await call('POST', '/v1/users', { email: `${randomUUID()}@example.com` });
  expect(user.status).toBe(201);
  expect((await call('PUT', `/v1/orgs/${orgId}/members/${user.body.id}`)).status).toBe(204);
  if (roleId)
    expect((await call('PUT', `/v1/orgs/${orgId}/members/${user.body.id}/roles/${roleId}`)).status).toBe(204);
  return user.body.id;
}

const assignments = async (roleId: string) =>
  Number(
    (
      await rawQuery<{ n: string }>(
        h.conn,
        'select count(*) as n from users.membership_roles where role_id = $1',
        [roleId],
      )
    )[0]!.n,
  );

describe('the last administrator of the administration organization', () => {
  let orgId: string;
  let roleId: string;
  let first: string;
  beforeAll(async () => {
    ({
      userId: first,
      orgId,
      roleId,
    } = await h.memberWithRole({
      email: `${randomUUID()}@example.com`,
      org: { slug: 'demo', name: 'Demo' },
      role: { name: 'admin', permissions: ['orgs:write', 'users:write'] },
    }));
  });

  it('cannot lose the role, its permission, the role itself, the membership, the account or the organization', async () => {
    await expectLastAdministrator('DELETE', `/v1/orgs/${orgId}/members/${first}/roles/${roleId}`);
    await expectLastAdministrator('PATCH', `/v1/orgs/${orgId}/roles/${roleId}`, {
      permissions: ['users:write'],
    });
    await expectLastAdministrator('DELETE', `/v1/orgs/${orgId}/roles/${roleId}`);
    await expectLastAdministrator('DELETE', `/v1/orgs/${orgId}/members/${first}`);
    await expectLastAdministrator('POST', `/v1/users/${first}/disable`);
    await expectLastAdministrator('DELETE', `/v1/users/${first}`);
    await expectLastAdministrator('PATCH', `/v1/orgs/${orgId}`, { slug: 'renamed' });
    await expectLastAdministrator('DELETE', `/v1/orgs/${orgId}`);
    // Nothing was written.
    expect(await assignments(roleId)).toBe(1);
    const role = await call('GET', `/v1/orgs/${orgId}/roles`);
    expect(role.body.items[0]?.permissions).toEqual(['orgs:write', 'users:write']);
    expect((await call('GET', `/v1/users/${first}`)).body.status).toBe('active');
    expect((await call('GET', `/v1/orgs/${orgId}`)).body.slug).toBe('demo');
    // Harmless changes still go through.
    expect((await call('PATCH', `/v1/orgs/${orgId}/roles/${roleId}`, { description: 'admins' })).status).toBe(
      200,
    );
    expect((await call('PATCH', `/v1/orgs/${orgId}`, { name: 'Demo Inc' })).status).toBe(200);
  });

  it('can be replaced: once another member holds the permission, the first one can go', async () => {
    const second = await newUserInOrg(orgId, roleId);
    expect((await call('DELETE', `/v1/orgs/${orgId}/members/${first}/roles/${roleId}`)).status).toBe(204);
    await expectLastAdministrator('DELETE', `/v1/orgs/${orgId}/members/${second}/roles/${roleId}`);
    // A disabled holder does not count: the first one gets the role back, the second is disabled.
    expect((await call('PUT', `/v1/orgs/${orgId}/members/${first}/roles/${roleId}`)).status).toBe(204);
    expect((await call('POST', `/v1/users/${second}/disable`)).status).toBe(200);
    await expectLastAdministrator('DELETE', `/v1/orgs/${orgId}/members/${first}/roles/${roleId}`);
    expect((await call('POST', `/v1/users/${second}/enable`)).status).toBe(200);
  });

  it('lets only one of two administrators removing each other at the same time succeed', async () => {
    const a = await newUserInOrg(orgId, roleId);
    const b = await newUserInOrg(orgId, roleId);
    // Leave exactly a and b as administrators.
    for (const row of await rawQuery<{ user_id: string }>(
      h.conn,
      `select m.user_id from users.memberships m join users.membership_roles r on r.membership_id = m.id
       where r.role_id = $1 and m.user_id not in ($2, $3)`,
      [roleId, a, b],
    )) {
      expect((await call('DELETE', `/v1/orgs/${orgId}/members/${row.user_id}/roles/${roleId}`)).status).toBe(
        204,
      );
    }
    const results = await Promise.all([
      call('DELETE', `/v1/orgs/${orgId}/members/${a}/roles/${roleId}`),
      call('DELETE', `/v1/orgs/${orgId}/members/${b}/roles/${roleId}`),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([204, 409]);
    expect(await assignments(roleId)).toBe(1);
  });

  it('leaves members without orgs:write and other organizations alone', async () => {
    const helpers = await call('POST', `/v1/orgs/${orgId}/roles`, {
      name: 'helpdesk',
      permissions: ['users:write'],
    });
    expect(helpers.status).toBe(201);
    const helper = await newUserInOrg(orgId, helpers.body.id);
    expect(
      (await call('DELETE', `/v1/orgs/${orgId}/members/${helper}/roles/${helpers.body.id}`)).status,
    ).toBe(204);
    expect((await call('DELETE', `/v1/users/${helper}`)).status).toBe(204);
    const other = await h.memberWithRole({
      email: `${randomUUID()}@example.com`,
      org: { slug: `other-${randomUUID().slice(0, 8)}`, name: 'Other' },
      role: { name: 'editor', permissions: ['docs:write'] },
    });
    expect((await call('DELETE', `/v1/orgs/${other.orgId}/members/${other.userId}`)).status).toBe(204);
    expect((await call('DELETE', `/v1/orgs/${other.orgId}`)).status).toBe(204);
  });
});
