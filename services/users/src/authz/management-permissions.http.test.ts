import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { rawQuery } from '@tessera/db';
import { startUsersHarness, type Harness } from '../test-harness.ts';

// The harness runs with the default administration organization, `demo`.
let h: Harness;
let admin: string;
let service: string;
beforeAll(async () => {
  h = await startUsersHarness();
  admin = await h.bearer({ permissions: ['users:read', 'users:write', 'orgs:read', 'orgs:write'] });
  service = await h.bearer({ sub: 'service:tessera-auth', scope: 'internal' });
});
afterAll(() => h.close());

const api = () => request(h.url);
const createOrg = async (slug: string) =>
  (await api().post('/v1/orgs').set('authorization', admin).send({ slug, name: slug }).expect(201)).body as {
    id: string;
  };

describe("management permissions (Tessera's own users, orgs, clients, keys)", () => {
  it('are refused on roles of any organization but the administration one, with nothing written', async () => {
    const tenant = await createOrg('tenant');
    const before = await h.count('roles');
    for (const permissions of [
      ['users:write'],
      ['docs:read', 'clients:write'],
      ['keys:write'],
      ['orgs:read'],
    ]) {
      const res = await api()
        .post(`/v1/orgs/${tenant.id}/roles`)
        .set('authorization', admin)
        .send({ name: 'owner', permissions });
      expect(res.status, permissions.join()).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.body.code).toBe('reserved_permission');
    }
    expect(await h.count('roles')).toBe(before);
    const role = await api()
      .post(`/v1/orgs/${tenant.id}/roles`)
      .set('authorization', admin)
      .send({ name: 'owner', permissions: ['docs:read', 'docs:write'] })
      .expect(201);
    const escalate = await api()
      .patch(`/v1/orgs/${tenant.id}/roles/${role.body.id}`)
      .set('authorization', admin)
      .send({ permissions: ['docs:read', 'users:write'] });
    expect(escalate.status).toBe(400);
    expect(escalate.body.code).toBe('reserved_permission');

    const demo = await createOrg('demo');
    await api()
      .post(`/v1/orgs/${demo.id}/roles`)
      .set('authorization', admin)
      .send({ name: 'admin', permissions: ['users:write', 'clients:write', 'keys:write'] })
      .expect(201);
  });

  it('never reach tokens or the effective permissions from another organization, even when already stored', async () => {
    const other = await createOrg('other-tenant');
    const role = await api()
      .post(`/v1/orgs/${other.id}/roles`)
      .set('authorization', admin)
      .send({ name: 'owner', permissions: ['docs:read'] })
      .expect(201);
    // A role stored before the rule existed (or written around the API).
    await rawQuery(
      h.conn,
      `insert into users.role_permissions (role_id, permission) values ($1, 'users:write')`,
      [role.body.id],
    );
    const user = await api()
      .post('/v1/users')
      .set('authorization', admin)
      .send({ email: 'eve@example.com', name: 'Eve', password: 'correct horse battery' })
      .expect(201);
    await api().put(`/v1/orgs/${other.id}/members/${user.body.id}`).set('authorization', admin).expect(204);
    await api()
      .put(`/v1/orgs/${other.id}/members/${user.body.id}/roles/${role.body.id}`)
      .set('authorization', admin)
      .expect(204);

    const authz = await api()
      .get(`/internal/users/${user.body.id}/authz`)
      .query({ org: other.id })
      .set('authorization', service)
      .expect(200);
    expect(authz.body.permissions).toEqual(['docs:read']);
    const view = await api()
      .get(`/v1/users/${user.body.id}?include=memberships`)
      .set('authorization', admin)
      .expect(200);
    expect(view.body.memberships[0].permissions).toEqual(['docs:read']);
  });
});
