import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { startUsersHarness, type Harness } from '../test-harness.ts';

let h: Harness;
let admin: string;
beforeAll(async () => {
  h = await startUsersHarness();
  admin = await h.bearer({ permissions: ['users:read', 'users:write', 'orgs:read', 'orgs:write'] });
});
afterAll(() => h.close());

const create = (body: object, auth = admin) =>
  request(h.url).post('/v1/users').set('authorization', auth).send(body);

describe('users API', () => {
  it('creates a user, never returns the password hash, and reads it back', async () => {
    const res = await create({ email: 'Alice@Example.com', password: 'a-long-passphrase', name: 'Alice' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      email: 'Alice@Example.com',
      name: 'Alice',
      status: 'active',
      emailVerified: false,
    });
    expect(JSON.stringify(res.body)).not.toMatch(/argon2|password/i);
    expect(res.headers.location).toBe(`/v1/users/${res.body.id}`);
    const read = await request(h.url).get(`/v1/users/${res.body.id}`).set('authorization', admin);
    expect(read.status).toBe(200);
    expect(read.body.id).toBe(res.body.id);
    // About a person, for one caller: no cache may keep any of these answers.
    expect(res.headers['cache-control']).toBe('no-store');
    expect(read.headers['cache-control']).toBe('no-store');
    const list = await request(h.url).get('/v1/users').set('authorization', admin);
    expect(list.headers['cache-control']).toBe('no-store');
  });

  it('accepts names that need zero-width joiners (emoji sequences, Persian)', async () => {
    for (const [email, name] of [
      ['family@example.com', '\u{1F468}\u200d\u{1F469}\u200d\u{1F467} Family'],
      ['persian@example.com', 'می\u200cخواهم'],
    ]) {
      const res = await create({ email, name });
      expect(res.status, name).toBe(201);
      expect(res.body.name).toBe(name);
    }
  });

  it('answers 409 for an email that differs only in case', async () => {
    await create({ email: 'dup@example.com' });
    const before = await h.count('users');
    const res = await create({ email: 'DUP@example.com' });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('email_taken');
    expect(await h.count('users')).toBe(before);
  });

  it('rejects bad input with 400 problem+json and writes nothing', async () => {
    const before = await h.count('users');
    const cases: Array<[string, object | string]> = [
      ['unknown field', { email: 'x@example.com', admin: true }],
      ['wrong type', { email: 'x@example.com', name: 42 }],
      ['over-long name', { email: 'x@example.com', name: 'n'.repeat(201) }],
      ['control character in name', { email: 'x@example.com', name: 'Eve\u001b[31m' }],
      ['C1 control character in name', { email: 'x@example.com', name: 'Eve\u0085' }],
      ['bidirectional override in name', { email: 'x@example.com', name: 'Eve\u202egnp.exe' }],
      ['bidirectional isolate in name', { email: 'x@example.com', name: 'Eve\u2067x' }],
      ['zero-width space only as name', { email: 'x@example.com', name: '\u200b\u200b' }],
      ['direction mark in name', { email: 'x@example.com', name: 'Eve\u200fx' }],
      ['line break in name', { email: 'x@example.com', name: 'Eve\nAdmin' }],
      ['blank name', { email: 'x@example.com', name: '   ' }],
      ['over-long password', { email: 'x@example.com', password: 'p'.repeat(129) }],
      ['invalid email', { email: 'not-an-email' }],
      ['email local part over 64 characters', { email: `${'a'.repeat(65)}@example.com` }],
      ['status set by client', { email: 'x@example.com', status: 'disabled' }],
      ['short password', { email: 'x@example.com', password: 'short' }],
      ['common password', { email: 'x@example.com', password: 'password123' }],
      ['malformed json', '{"email":'],
    ];
    for (const [label, body] of cases) {
      const req = request(h.url)
        .post('/v1/users')
        .set('authorization', admin)
        .set('content-type', 'application/json');
      const res = await req.send(typeof body === 'string' ? body : JSON.stringify(body));
      expect(res.status, label).toBe(400);
      expect(res.headers['content-type'], label).toContain('application/problem+json');
    }
    expect(await h.count('users')).toBe(before);
  });

  it('refuses SQL metacharacters in filters with 400, and treats the characters an address may hold as data', async () => {
    const before = await h.count('users');
    for (const prefix of ["' OR 1=1 --", '\\', "'; drop table users.users; --", 'a"b', 'x;y', 'a b', '(a)']) {
      const res = await request(h.url)
        .get('/v1/users')
        .query({ email_prefix: prefix })
        .set('authorization', admin);
      expect(res.status, prefix).toBe(400);
      expect(res.headers['content-type'], prefix).toContain('application/problem+json');
    }
    expect(await h.count('users')).toBe(before);
    // `'`, `%` and `_` may appear in addresses: they are matched literally, never as SQL or LIKE wildcards.
    const quoted = (await create({ email: "o'hara_x%y@example.com" })).body;
    const list = async (prefix: string) =>
      (await request(h.url).get('/v1/users').query({ email_prefix: prefix }).set('authorization', admin)).body
        .items as Array<{ id: string }>;
    expect((await list("o'hara_x%")).map((u) => u.id)).toEqual([quoted.id]);
    expect(await list('%')).toEqual([]);
    expect(await list('_')).toEqual([]);
    expect(await list("o'harA_X%Y@")).toHaveLength(1);
    expect(await h.count('users')).toBe(before + 1);
    const path = await request(h.url)
      .get(`/v1/users/${encodeURIComponent("1' OR '1'='1")}`)
      .set('authorization', admin);
    expect(path.status).toBe(400);
    expect(await h.count('users')).toBeGreaterThan(0);
  });

  it('answers 404 for a missing user', async () => {
    const res = await request(h.url)
      .get('/v1/users/0193a000-0000-7000-8000-000000000000')
      .set('authorization', admin);
    expect(res.status).toBe(404);
    expect(res.body.code).toBe('user_not_found');
  });

  it('pages through users with a stable cursor and filters by email prefix and status', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await create({ email: `page${i}@paging.example` })).body.id);
    await request(h.url).post(`/v1/users/${ids[1]}/disable`).set('authorization', admin).expect(200);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const res = await request(h.url)
        .get('/v1/users')
        .query({ email_prefix: 'PAGE', limit: 2, ...(cursor ? { cursor } : {}) })
        .set('authorization', admin);
      expect(res.status).toBe(200);
      seen.push(...res.body.items.map((u: { id: string }) => u.id));
      cursor = res.body.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(ids);
    const disabled = await request(h.url)
      .get('/v1/users')
      .query({ email_prefix: 'page', status: 'disabled' })
      .set('authorization', admin);
    expect(disabled.body.items.map((u: { id: string }) => u.id)).toEqual([ids[1]]);
    expect(
      (await request(h.url).get('/v1/users').query({ limit: 201 }).set('authorization', admin)).status,
    ).toBe(400);
    expect(
      (await request(h.url).get('/v1/users').query({ cursor: 'zzzz' }).set('authorization', admin)).status,
    ).toBe(400);
  });

  it('filters users by organization', async () => {
    const org = await request(h.url)
      .post('/v1/orgs')
      .set('authorization', admin)
      .send({ slug: 'filter-org', name: 'F' });
    const member = await create({ email: 'member@filter.example' });
    await create({ email: 'outsider@filter.example' });
    await request(h.url)
      .put(`/v1/orgs/${org.body.id}/members/${member.body.id}`)
      .set('authorization', admin)
      .expect(204);
    const res = await request(h.url).get('/v1/users').query({ org: org.body.id }).set('authorization', admin);
    expect(res.body.items.map((u: { email: string }) => u.email)).toEqual(['member@filter.example']);
  });

  it('requires users:read to list and users:write to create', async () => {
    expect((await request(h.url).get('/v1/users')).status).toBe(401);
    const reader = await h.bearer({ permissions: ['users:read'] });
    expect((await request(h.url).get('/v1/users').set('authorization', reader)).status).toBe(200);
    const res = await create({ email: 'nope@example.com' }, reader);
    expect(res.status).toBe(403);
    expect(res.headers['www-authenticate']).toContain('insufficient_scope');
  });

  it('lets a user read and update their own profile but not someone else’s', async () => {
    const me = (await create({ email: 'self@example.com', password: 'my-old-passphrase' })).body;
    const other = (await create({ email: 'other@example.com' })).body;
    const token = await h.bearer({ sub: me.id });
    expect((await request(h.url).get('/v1/users/me').set('authorization', token)).body.email).toBe(
      'self@example.com',
    );
    expect((await request(h.url).get(`/v1/users/${me.id}`).set('authorization', token)).status).toBe(200);
    expect((await request(h.url).get(`/v1/users/${other.id}`).set('authorization', token)).status).toBe(403);
    const renamed = await request(h.url)
      .patch('/v1/users/me')
      .set('authorization', token)
      .send({ name: 'Me' });
    expect(renamed.body.name).toBe('Me');
    for (const body of [
      { status: 'disabled' },
      { emailVerified: true },
      { id: other.id },
      { roles: ['admin'] },
      { email: 'x@example.com' },
      { currentPassword: 'my-old-passphrase' },
    ]) {
      expect((await request(h.url).patch('/v1/users/me').set('authorization', token).send(body)).status).toBe(
        400,
      );
    }
    const wrong = await request(h.url)
      .patch('/v1/users/me')
      .set('authorization', token)
      .send({ password: 'a-new-passphrase', currentPassword: 'wrong-one!' });
    expect(wrong.status).toBe(403);
    const ok = await request(h.url)
      .patch('/v1/users/me')
      .set('authorization', token)
      .send({ password: 'a-new-passphrase', currentPassword: 'my-old-passphrase' });
    expect(ok.status).toBe(200);
    // `me` is not an id: other methods on it are 405 with Allow, not a uuid error or a delete.
    for (const method of ['delete', 'post', 'put'] as const) {
      const res = await request(h.url)[method]('/v1/users/me').set('authorization', token);
      expect(res.status, method).toBe(405);
      expect(res.headers.allow).toBe('GET, HEAD, PATCH');
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
    expect((await request(h.url).get('/v1/users/me').set('authorization', token)).status).toBe(200);
  });

  it('marks a changed email address unverified unless the same update says otherwise', async () => {
    const user = (await create({ email: 'verify-me@example.com' })).body;
    const patch = (body: object) =>
      request(h.url).patch(`/v1/users/${user.id}`).set('authorization', admin).send(body).expect(200);
    expect((await patch({ emailVerified: true })).body.emailVerified).toBe(true);
    expect((await patch({ email: 'VERIFY-ME@example.com' })).body.emailVerified).toBe(true);
    expect((await patch({ email: 'someone-else@example.com' })).body.emailVerified).toBe(false);
    expect((await patch({ email: 'third@example.com', emailVerified: true })).body.emailVerified).toBe(true);
  });

  it('disables, enables and deletes a user', async () => {
    const user = (await create({ email: 'lifecycle@example.com' })).body;
    expect(
      (await request(h.url).post(`/v1/users/${user.id}/disable`).set('authorization', admin)).body.status,
    ).toBe('disabled');
    expect(
      (await request(h.url).post(`/v1/users/${user.id}/enable`).set('authorization', admin)).body.status,
    ).toBe('active');
    expect((await request(h.url).delete(`/v1/users/${user.id}`).set('authorization', admin)).status).toBe(
      204,
    );
    expect((await request(h.url).get(`/v1/users/${user.id}`).set('authorization', admin)).status).toBe(404);
    expect((await request(h.url).delete(`/v1/users/${user.id}`).set('authorization', admin)).status).toBe(
      404,
    );
  });

  it('refuses to let an administrator disable or delete the account they are signed in with', async () => {
    const me = (await create({ email: 'sole-admin@example.com' })).body;
    const self = await h.bearer({ sub: me.id, permissions: ['users:read', 'users:write'] });
    const disable = await request(h.url).post(`/v1/users/${me.id}/disable`).set('authorization', self);
    expect(disable.status).toBe(409);
    expect(disable.body.code).toBe('cannot_disable_self');
    const remove = await request(h.url).delete(`/v1/users/${me.id}`).set('authorization', self);
    expect(remove.status).toBe(409);
    expect(remove.body.code).toBe('cannot_delete_self');
    const still = await request(h.url).get(`/v1/users/${me.id}`).set('authorization', admin);
    expect(still.body.status).toBe('active');
    // Another administrator can.
    expect((await request(h.url).delete(`/v1/users/${me.id}`).set('authorization', admin)).status).toBe(204);
  });

  it("refuses writes with a disabled or deleted user's still-unexpired token", async () => {
    const dave = (await create({ email: 'dave@example.com', password: 'a-long-passphrase' })).body;
    const daves = await h.bearer({ sub: dave.id, permissions: ['users:read', 'users:write'] });
    const write = () => create({ email: 'made-by-dave@example.com' }, daves);
    await request(h.url).post(`/v1/users/${dave.id}/disable`).set('authorization', admin).expect(200);
    for (const res of [
      await write(),
      await request(h.url).post(`/v1/users/${dave.id}/enable`).set('authorization', daves),
      await request(h.url).patch('/v1/users/me').set('authorization', daves).send({ name: 'Still here' }),
    ]) {
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
    expect(
      (await request(h.url).get('/v1/users?email_prefix=made-by').set('authorization', admin)).body.items,
    ).toEqual([]);
    await request(h.url).post(`/v1/users/${dave.id}/enable`).set('authorization', admin).expect(200);
    expect((await write()).status).toBe(201);
    await request(h.url).delete(`/v1/users/${dave.id}`).set('authorization', admin).expect(204);
    expect((await create({ email: 'after-delete@example.com' }, daves)).status).toBe(401);
  });

  it('returns every organization, role and effective permission with include=memberships', async () => {
    const user = (await create({ email: 'graph@example.com' })).body;
    const org = (
      await request(h.url)
        .post('/v1/orgs')
        .set('authorization', admin)
        .send({ slug: 'graph-org', name: 'Graph' })
    ).body;
    const role = (
      await request(h.url)
        .post(`/v1/orgs/${org.id}/roles`)
        .set('authorization', admin)
        .send({ name: 'editor', permissions: ['docs:write', 'docs:read'] })
    ).body;
    await request(h.url).put(`/v1/orgs/${org.id}/members/${user.id}`).set('authorization', admin).expect(204);
    await request(h.url)
      .put(`/v1/orgs/${org.id}/members/${user.id}/roles/${role.id}`)
      .set('authorization', admin)
      .expect(204);
    const res = await request(h.url)
      .get(`/v1/users/${user.id}?include=memberships`)
      .set('authorization', admin);
    expect(res.body.memberships).toEqual([
      {
        organization: { id: org.id, slug: 'graph-org', name: 'Graph' },
        roles: [{ id: role.id, name: 'editor' }],
        permissions: ['docs:read', 'docs:write'],
      },
    ]);
  });

  it('serves the full view from the cache yet shows role and profile changes right after they are made', async () => {
    const user = (await create({ email: 'cached@example.com' })).body;
    const org = (
      await request(h.url)
        .post('/v1/orgs')
        .set('authorization', admin)
        .send({ slug: 'cached-org', name: 'C' })
    ).body;
    const role = (
      await request(h.url)
        .post(`/v1/orgs/${org.id}/roles`)
        .set('authorization', admin)
        .send({ name: 'r', permissions: ['a:read'] })
    ).body;
    await request(h.url).put(`/v1/orgs/${org.id}/members/${user.id}`).set('authorization', admin).expect(204);
    await request(h.url)
      .put(`/v1/orgs/${org.id}/members/${user.id}/roles/${role.id}`)
      .set('authorization', admin)
      .expect(204);
    const view = () =>
      request(h.url).get(`/v1/users/${user.id}?include=memberships`).set('authorization', admin);
    expect((await view()).body.memberships[0].permissions).toEqual(['a:read']);
    expect((await view()).body.memberships[0].permissions).toEqual(['a:read']);
    await request(h.url)
      .patch(`/v1/orgs/${org.id}/roles/${role.id}`)
      .set('authorization', admin)
      .send({ permissions: ['a:read', 'a:write'] })
      .expect(200);
    expect((await view()).body.memberships[0].permissions).toEqual(['a:read', 'a:write']);
    await request(h.url)
      .patch(`/v1/users/${user.id}`)
      .set('authorization', admin)
      .send({ name: 'Renamed' })
      .expect(200);
    expect((await view()).body.name).toBe('Renamed');
    await request(h.url)
      .delete(`/v1/orgs/${org.id}/members/${user.id}`)
      .set('authorization', admin)
      .expect(204);
    expect((await view()).body.memberships).toEqual([]);
  });
});
