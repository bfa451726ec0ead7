/**
 * Conditional requests on the user service (RFC 9110 §13): a read carries a strong ETag, a change
 * naming a stale version with If-Match is refused with 412 and writes nothing, and If-None-Match
 * on an unchanged resource answers 304.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { startUsersHarness, type Harness } from './test-harness.ts';

let h: Harness;
let admin: string;
beforeAll(async () => {
  h = await startUsersHarness();
  admin = await h.bearer({ permissions: ['users:read', 'users:write', 'orgs:read', 'orgs:write'] });
});
afterAll(() => h.close());

const api = () => request(h.url);

describe('conditional requests', () => {
  it('refuses a change made from a stale version with 412 and keeps the newer one (no lost update)', async () => {
    const created = await api()
      .post('/v1/users')
      .set('authorization', admin)
      .send({ email: 'etag@example.com', name: 'First' });
    const url = `/v1/users/${created.body.id}`;
    const read = await api().get(url).set('authorization', admin);
    const tag = read.headers.etag as string;
    expect(tag).toMatch(/^"[\w-]{27}"$/);
    expect((await api().get(url).set('authorization', admin)).headers.etag).toBe(tag);

    // One administrator saves with the version she read: accepted, and the version changes.
    const first = await api()
      .patch(url)
      .set('authorization', admin)
      .set('if-match', tag)
      .send({ name: 'Second' });
    expect(first.status).toBe(200);
    const newer = (await api().get(url).set('authorization', admin)).headers.etag as string;
    expect(newer).not.toBe(tag);

    // Another saves from the same, now stale, version: refused, nothing written.
    const stale = await api()
      .patch(url)
      .set('authorization', admin)
      .set('if-match', tag)
      .send({ name: 'Third' });
    expect(stale.status).toBe(412);
    expect(stale.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(stale.body.code).toBe('precondition_failed');
    expect((await api().get(url).set('authorization', admin)).body.name).toBe('Second');

    // A weak tag never matches for If-Match (strong comparison); a list matches on any member.
    const weak = await api()
      .patch(url)
      .set('authorization', admin)
      .set('if-match', `W/${newer}`)
      .send({ name: 'X' });
    expect(weak.status).toBe(412);
    const listed = await api()
      .patch(url)
      .set('authorization', admin)
      .set('if-match', `"nope", ${newer}`)
      .send({ name: 'Fourth' });
    expect(listed.status).toBe(200);

    // A deletion from a stale version is refused too; `*` only requires the resource to exist.
    expect((await api().delete(url).set('authorization', admin).set('if-match', tag)).status).toBe(412);
    expect((await api().delete(url).set('authorization', admin).set('if-match', '*')).status).toBe(204);
    const gone = await api().patch(url).set('authorization', admin).set('if-match', '*').send({ name: 'Y' });
    expect(gone.status).toBe(412);
  });

  it('refuses a change with If-None-Match naming the current version or *, and an action with If-Match', async () => {
    const created = await api()
      .post('/v1/users')
      .set('authorization', admin)
      .send({ email: 'etag-none@example.com', name: 'Kept' });
    const url = `/v1/users/${created.body.id}`;
    const tag = (await api().get(url).set('authorization', admin)).headers.etag as string;
    for (const condition of [tag, `W/${tag}`, '*']) {
      const res = await api()
        .patch(url)
        .set('authorization', admin)
        .set('if-none-match', condition)
        .send({ name: 'X' });
      expect(res.status, condition).toBe(412);
    }
    const other = await api()
      .patch(url)
      .set('authorization', admin)
      .set('if-none-match', '"other"')
      .send({ name: 'Y' });
    expect(other.status).toBe(200);
    // An action has no representation of its own to match: If-Match there can never hold.
    const action = await api().post(`${url}/disable`).set('authorization', admin).set('if-match', '*');
    expect(action.status).toBe(412);
    expect((await api().get(url).set('authorization', admin)).body.status).toBe('active');
  });

  it('tags a cached view (serialized once) by its content, and tags it anew when it changes', async () => {
    const created = await api()
      .post('/v1/users')
      .set('authorization', admin)
      .send({ email: 'etag-cached@example.com', name: 'Cached' });
    const url = `/v1/users/${created.body.id}?include=memberships`;
    const first = await api().get(url).set('authorization', admin);
    expect(first.headers.etag).toBe(
      `"${createHash('sha256').update(first.text).digest('base64url').slice(0, 27)}"`,
    );
    const hit = await api()
      .get(url)
      .set('authorization', admin)
      .set('if-none-match', first.headers.etag as string);
    expect(hit.status).toBe(304);
    await api().patch(`/v1/users/${created.body.id}`).set('authorization', admin).send({ name: 'Changed' });
    const changed = await api()
      .get(url)
      .set('authorization', admin)
      .set('if-none-match', first.headers.etag as string);
    expect(changed.status).toBe(200);
    expect(changed.body.name).toBe('Changed');
    expect(changed.headers.etag).not.toBe(first.headers.etag);
  });

  it('answers If-None-Match on an unchanged resource with 304 and no body', async () => {
    const created = await api()
      .post('/v1/users')
      .set('authorization', admin)
      .send({ email: 'etag-304@example.com', name: 'Same' });
    const url = `/v1/users/${created.body.id}`;
    const tag = (await api().get(url).set('authorization', admin)).headers.etag as string;
    const unchanged = await api().get(url).set('authorization', admin).set('if-none-match', tag);
    expect(unchanged.status).toBe(304);
    expect(unchanged.text ?? '').toBe('');
    expect(unchanged.headers.etag).toBe(tag);
    const weak = await api().get(url).set('authorization', admin).set('if-none-match', `W/${tag}`);
    expect(weak.status).toBe(304);
    const other = await api().get(url).set('authorization', admin).set('if-none-match', '"other"');
    expect(other.status).toBe(200);
  });
});
