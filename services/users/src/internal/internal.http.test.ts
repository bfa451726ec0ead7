import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { startUsersHarness, type Harness } from '../test-harness.ts';

let h: Harness;
let admin: string;
let service: string;
let userId: string;
let orgId: string;
let roleId: string;
beforeAll(async () => {
  h = await startUsersHarness({ redis: true });
  admin = await h.bearer({ permissions: ['users:read', 'users:write', 'orgs:read', 'orgs:write'] });
  service = await h.bearer({ sub: 'service:tessera-auth', scope: 'internal' });
  ({ userId, orgId, roleId } = await h.memberWithRole({
    email: 'login@example.com',
    password: 'a-good-passphrase',
    org: { slug: 'internal', name: 'I' },
    role: { name: 'viewer', permissions: ['docs:read'] },
  }));
});
afterAll(() => h.close());

const verify = (email: string, password: string, auth = service) =>
  request(h.url).post('/internal/credentials/verify').set('authorization', auth).send({ email, password });

describe('internal API', () => {
  it('requires a token with scope internal', async () => {
    expect((await verify('login@example.com', 'a-good-passphrase', admin)).status).toBe(403);
    expect((await request(h.url).get(`/internal/users/${userId}`)).status).toBe(401);
  });

  it('verifies credentials case-insensitively on the email and answers a uniform failure otherwise', async () => {
    const ok = await verify('LOGIN@example.com', 'a-good-passphrase');
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ userId });
    const wrongPassword = await verify('login@example.com', 'wrong-passphrase');
    const unknownEmail = await verify('nobody@example.com', 'a-good-passphrase');
    expect(wrongPassword.status).toBe(401);
    expect(unknownEmail.status).toBe(401);
    expect(wrongPassword.body.code).toBe(unknownEmail.body.code);
    expect(wrongPassword.body.detail).toBe(unknownEmail.body.detail);
  });

  it('takes about the same time whether or not the email exists', async () => {
    const time = async (email: string) => {
      const started = performance.now();
      await verify(email, 'wrong-passphrase');
      return performance.now() - started;
    };
    await time('nobody@example.com');
    // Seven interleaved pairs: a median of four swung past the bounds on a machine busy with other test files.
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 7; i++) {
      known.push(await time('login@example.com'));
      unknown.push(await time(`nobody${i}@example.com`));
    }
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const ratio = median(unknown) / median(known);
    expect(ratio).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(2);
  });

  it('refuses a disabled user with the same failure', async () => {
    const id = (
      await request(h.url)
        .post('/v1/users')
        .set('authorization', admin)
        .send({ email: 'off@example.com', password: 'a-good-passphrase' })
    ).body.id;
    await request(h.url).post(`/v1/users/${id}/disable`).set('authorization', admin).expect(200);
    expect((await verify('off@example.com', 'a-good-passphrase')).status).toBe(401);
  });

  it('describes a user and their organizations', async () => {
    const user = await request(h.url).get(`/internal/users/${userId}`).set('authorization', service);
    expect(user.body).toMatchObject({ id: userId, email: 'login@example.com', status: 'active' });
    expect(typeof user.body.passwordChangedAt).toBe('string');
    const orgs = await request(h.url).get(`/internal/users/${userId}/orgs`).set('authorization', service);
    expect(orgs.body).toEqual({ organizations: [{ id: orgId, slug: 'internal', name: 'I' }] });
  });

  it('serves authz from the cache and reflects role changes after invalidation', async () => {
    const authz = () =>
      request(h.url)
        .get(`/internal/users/${userId}/authz`)
        .query({ org: orgId })
        .set('authorization', service);
    expect((await authz()).body).toEqual({
      userId,
      orgId,
      orgSlug: 'internal',
      roles: ['viewer'],
      permissions: ['docs:read'],
    });
    const metrics = async () => (await request(h.url).get('/metrics')).text;
    await authz();
    expect(await metrics()).toMatch(
      /tessera_cache_requests_total\{cache="users",level="l1",result="hit",service="users"\} [1-9]/,
    );
    await request(h.url)
      .patch(`/v1/orgs/${orgId}/roles/${roleId}`)
      .set('authorization', admin)
      .send({ permissions: ['docs:read', 'docs:write'] })
      .expect(200);
    expect((await authz()).body.permissions).toEqual(['docs:read', 'docs:write']);
    await request(h.url)
      .delete(`/v1/orgs/${orgId}/members/${userId}/roles/${roleId}`)
      .set('authorization', admin)
      .expect(204);
    expect((await authz()).body.roles).toEqual([]);
  });

  it('invalidates cached authz when the password changes', async () => {
    const invalidated: string[] = [];
    const original = h.users.authz.invalidateUser.bind(h.users.authz);
    h.users.authz.invalidateUser = async (id, orgIds) => {
      invalidated.push(id);
      return original(id, orgIds);
    };
    await request(h.url)
      .patch(`/v1/users/${userId}`)
      .set('authorization', admin)
      .send({ password: 'another-passphrase' })
      .expect(200);
    expect(invalidated).toEqual([userId]);
  });

  it('answers 404 for a user who is not a member', async () => {
    const res = await request(h.url)
      .get(`/internal/users/${userId}/authz`)
      .query({ org: '0193a000-0000-7000-8000-000000000000' })
      .set('authorization', service);
    expect(res.status).toBe(404);
  });
});
