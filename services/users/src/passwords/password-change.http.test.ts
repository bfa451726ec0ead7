/**
 * A password change through the self-service route (PATCH /v1/users/me) drops the user's cached
 * authz, observed through the internal authz endpoint on the two-level cache (real Redis).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { rawQuery } from '@tessera/db';
import { startUsersHarness, type Harness } from '../test-harness.ts';

let h: Harness;
let service: string;
let userId: string;
let orgId: string;
let roleId: string;
let self: string;
const firstPassword = 'first-passphrase-of-mine';

beforeAll(async () => {
  h = await startUsersHarness({ redis: true });
  service = await h.bearer({ sub: 'service:tessera-auth', scope: 'internal' });
  ({ userId, orgId, roleId } = await h.memberWithRole({
    email: 'self-change@example.com',
    password: firstPassword,
    org: { slug: 'self-change', name: 'Self change' },
    role: { name: 'reader', permissions: ['docs:read'] },
  }));
  self = await h.bearer({ sub: userId });
});
afterAll(() => h.close());

const authz = async () =>
  (
    await request(h.url)
      .get(`/internal/users/${userId}/authz`)
      .query({ org: orgId })
      .set('authorization', service)
      .expect(200)
  ).body as { permissions: string[] };

/** Grants the role a permission behind the service's back: no invalidation, so a cached copy goes stale. */
async function grantBehindTheCache(permission: string): Promise<void> {
  await rawQuery(
    h.conn,
    `insert into users.permissions (name) values ('${permission}') on conflict do nothing`,
  );
  await rawQuery(
    h.conn,
    `insert into users.role_permissions (role_id, permission) values ('${roleId}', '${permission}')`,
  );
}

const changeOwnPassword = (password: string, currentPassword: string) =>
  request(h.url).patch('/v1/users/me').set('authorization', self).send({ password, currentPassword });

describe('PATCH /v1/users/me with a new password', () => {
  it('invalidates the cached authz of the user', async () => {
    expect((await authz()).permissions).toEqual(['docs:read']);
    await grantBehindTheCache('docs:write');
    // The cache is really in play: the change made behind its back is not seen yet.
    expect((await authz()).permissions).toEqual(['docs:read']);
    // A refused change (wrong current password) changes nothing and drops nothing.
    expect((await changeOwnPassword('second-passphrase-of-mine', 'not-my-password')).status).toBe(403);
    expect((await authz()).permissions).toEqual(['docs:read']);

    const changed = await changeOwnPassword('second-passphrase-of-mine', firstPassword);
    expect(changed.status, changed.text).toBe(200);
    expect((await authz()).permissions).toEqual(['docs:read', 'docs:write']);
    const verified = await request(h.url)
      .post('/internal/credentials/verify')
      .set('authorization', service)
      .send({ email: 'self-change@example.com', password: 'second-passphrase-of-mine' });
    expect(verified.body).toEqual({ userId });
  });

  it('takes 8 to 128 characters counted as characters: 128 emoji are accepted, 129 and 7 refused', async () => {
    const current = 'second-passphrase-of-mine';
    expect((await changeOwnPassword('🔐'.repeat(129), current)).status).toBe(400);
    expect((await changeOwnPassword('🔐'.repeat(7), current)).status).toBe(400);
    const max = await changeOwnPassword('🔐'.repeat(128), current);
    expect(max.status, max.text).toBe(200);
    const verified = await request(h.url)
      .post('/internal/credentials/verify')
      .set('authorization', service)
      .send({ email: 'self-change@example.com', password: '🔐'.repeat(128) });
    expect(verified.body).toEqual({ userId });
  });
});

describe('writes made outside the API (a seed applied at start)', () => {
  it('are seen once every cached entry is dropped with invalidateAll', async () => {
    const before = (await authz()).permissions;
    await grantBehindTheCache('docs:export');
    expect((await authz()).permissions).toEqual(before);
    await h.users.authz.invalidateAll();
    expect((await authz()).permissions).toEqual([...before, 'docs:export'].sort());
  });
});
