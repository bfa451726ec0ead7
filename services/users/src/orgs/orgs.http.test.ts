import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { startUsersHarness, type Harness } from '../test-harness.ts';

let h: Harness;
let admin: string;
beforeAll(async () => {
  h = await startUsersHarness({ redis: true });
  admin = await h.bearer({ permissions: ['users:read', 'users:write', 'orgs:read', 'orgs:write'] });
});
afterAll(() => h.close());

const api = () => request(h.url);

describe('organizations API', () => {
  it('creates, reads, renames and deletes an organization; a taken slug is 409', async () => {
    const org = await api().post('/v1/orgs').set('authorization', admin).send({ slug: 'acme', name: 'Acme' });
    expect(org.status).toBe(201);
    expect(
      (await api().post('/v1/orgs').set('authorization', admin).send({ slug: 'acme', name: 'Other' })).status,
    ).toBe(409);
    expect((await api().get(`/v1/orgs/${org.body.id}`).set('authorization', admin)).body.slug).toBe('acme');
    expect(
      (await api().patch(`/v1/orgs/${org.body.id}`).set('authorization', admin).send({ name: 'Acme Inc' }))
        .body.name,
    ).toBe('Acme Inc');
    const list = await api().get('/v1/orgs').set('authorization', admin);
    expect(list.body.items.some((o: { slug: string }) => o.slug === 'acme')).toBe(true);
    expect((await api().delete(`/v1/orgs/${org.body.id}`).set('authorization', admin)).status).toBe(204);
    expect((await api().get(`/v1/orgs/${org.body.id}`).set('authorization', admin)).status).toBe(404);
  });

  it('rejects invalid slugs and unknown fields', async () => {
    for (const body of [
      { slug: 'Bad Slug', name: 'x' },
      { slug: 'ok', name: 'x', id: 'x' },
      { slug: '-x', name: 'x' },
    ]) {
      expect((await api().post('/v1/orgs').set('authorization', admin).send(body)).status).toBe(400);
    }
  });

  it('requires orgs:write to change organizations', async () => {
    const reader = await h.bearer({ permissions: ['orgs:read'] });
    expect(
      (await api().post('/v1/orgs').set('authorization', reader).send({ slug: 'x1', name: 'x' })).status,
    ).toBe(403);
  });

  it('adds and removes members, and cascades memberships when a user is deleted', async () => {
    const org = (
      await api().post('/v1/orgs').set('authorization', admin).send({ slug: 'members', name: 'M' })
    ).body;
    const user = (await api().post('/v1/users').set('authorization', admin).send({ email: 'm@example.com' }))
      .body;
    await api().put(`/v1/orgs/${org.id}/members/${user.id}`).set('authorization', admin).expect(204);
    await api().put(`/v1/orgs/${org.id}/members/${user.id}`).set('authorization', admin).expect(204);
    expect(
      (await api().get(`/v1/orgs/${org.id}/members`).set('authorization', admin)).body.items,
    ).toHaveLength(1);
    await api().delete(`/v1/orgs/${org.id}/members/${user.id}`).set('authorization', admin).expect(204);
    expect(
      (await api().delete(`/v1/orgs/${org.id}/members/${user.id}`).set('authorization', admin)).status,
    ).toBe(404);
    await api().put(`/v1/orgs/${org.id}/members/${user.id}`).set('authorization', admin).expect(204);
    await api().delete(`/v1/users/${user.id}`).set('authorization', admin).expect(204);
    expect(
      (await api().get(`/v1/orgs/${org.id}/members`).set('authorization', admin)).body.items,
    ).toHaveLength(0);
    expect(
      (await api().put(`/v1/orgs/${org.id}/members/${user.id}`).set('authorization', admin)).status,
    ).toBe(404);
  });

  it('creates roles with permissions atomically and rejects malformed permissions without a partial write', async () => {
    const org = (await api().post('/v1/orgs').set('authorization', admin).send({ slug: 'roles', name: 'R' }))
      .body;
    const before = await h.count('roles');
    const bad = await api()
      .post(`/v1/orgs/${org.id}/roles`)
      .set('authorization', admin)
      .send({ name: 'x', permissions: ['ok:read', 'NOT VALID'] });
    expect(bad.status).toBe(400);
    expect(await h.count('roles')).toBe(before);
    // A description may break lines, not reorder what is shown (bidirectional overrides).
    for (const description of ['Admin\u202eniM', 'x\u2067y', 'x\u0085y']) {
      const refused = await api()
        .post(`/v1/orgs/${org.id}/roles`)
        .set('authorization', admin)
        .send({ name: 'described', description, permissions: [] });
      expect(refused.status, JSON.stringify(description)).toBe(400);
    }
    expect(await h.count('roles')).toBe(before);
    const role = await api()
      .post(`/v1/orgs/${org.id}/roles`)
      .set('authorization', admin)
      .send({ name: 'viewer', permissions: ['docs:read'] });
    expect(role.status).toBe(201);
    expect(role.body.permissions).toEqual(['docs:read']);
    expect(
      (
        await api()
          .post(`/v1/orgs/${org.id}/roles`)
          .set('authorization', admin)
          .send({ name: 'viewer', permissions: [] })
      ).status,
    ).toBe(409);
    const updated = await api()
      .patch(`/v1/orgs/${org.id}/roles/${role.body.id}`)
      .set('authorization', admin)
      .send({ permissions: ['docs:read', 'docs:write'] });
    expect(updated.body.permissions).toEqual(['docs:read', 'docs:write']);
    expect((await api().get(`/v1/orgs/${org.id}/roles`).set('authorization', admin)).body.items).toHaveLength(
      1,
    );
  });

  it('refuses to assign a role of another organization', async () => {
    const a = (await api().post('/v1/orgs').set('authorization', admin).send({ slug: 'org-a', name: 'A' }))
      .body;
    const b = (await api().post('/v1/orgs').set('authorization', admin).send({ slug: 'org-b', name: 'B' }))
      .body;
    const roleOfB = (
      await api()
        .post(`/v1/orgs/${b.id}/roles`)
        .set('authorization', admin)
        .send({ name: 'r', permissions: [] })
    ).body;
    const user = (
      await api().post('/v1/users').set('authorization', admin).send({ email: 'cross@example.com' })
    ).body;
    await api().put(`/v1/orgs/${a.id}/members/${user.id}`).set('authorization', admin).expect(204);
    expect(
      (await api().put(`/v1/orgs/${a.id}/members/${user.id}/roles/${roleOfB.id}`).set('authorization', admin))
        .status,
    ).toBe(404);
  });
});
