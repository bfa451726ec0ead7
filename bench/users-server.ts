/**
 * The user-service side of `npm run bench -- users`, in its own process so the load generator
 * does not share its event loop: one user service per cache mode, plus a bare Fastify route
 * returning the same JSON. Prints one JSON line with the URLs and a token when ready.
 */
import Fastify from 'fastify';
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { createTokenVerifier } from '@tessera/auth-middleware';
import { createTestIssuer } from '@tessera/auth-middleware/testing';
import { connectRedis } from '@tessera/cache';
import { applyMigrations, createDrizzle, openConnection, rawQuery } from '@tessera/db';
import { createLogger } from '@tessera/kernel';
import { applyUsersSeed, buildUsersApp, usersMigrations, usersTables } from '@tessera/users-service';

const databaseUrl = process.env.BENCH_DATABASE_URL!;
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const conn = await openConnection({ url: databaseUrl, poolMax: 16 });
await applyMigrations(conn, usersMigrations);
const db = createDrizzle(conn, usersTables);
// A user in 5 organizations with 2 roles each, 3 permissions per role.
await applyUsersSeed(db, {
  organizations: Array.from({ length: 5 }, (_, i) => ({
    slug: `bench-${i}`,
    name: `Bench ${i}`,
    roles: [
      { name: 'reader', permissions: ['users:read', 'orgs:read', 'docs:read'] },
      { name: 'writer', permissions: ['users:write', 'orgs:write', 'docs:write'] },
    ],
  })),
  users: [
    {
      email: 'bench@example.com',
      name: 'Bench',
      memberships: Array.from({ length: 5 }, (_, i) => ({ org: `bench-${i}`, roles: ['reader', 'writer'] })),
    },
  ],
});
const [{ id: userId }] = (await rawQuery<{ id: string }>(
  conn,
  `select id from users.users where email = 'bench@example.com'`,
)) as [{ id: string }];
const issuer = await createTestIssuer();
const token = await issuer.mint({ sub: userId, permissions: ['users:read'] }, { expiresIn: 3600 });
const logger = createLogger({
  name: 'bench',
  level: 'silent',
  destination: new Writable({ write: (_c, _e, cb) => cb() }),
});
const urls: Record<string, string> = {};
for (const [mode, cache] of [
  ['l1', { l1TtlMs: 3_600_000 }],
  ['l2', { l1: false }],
  ['db', { l1: false, l2: false }],
] as const) {
  const redis = await connectRedis(redisUrl);
  const subscriber = await connectRedis(redisUrl, { subscriber: true });
  const { app } = await buildUsersApp({
    db,
    conn,
    logger,
    verifier: createTokenVerifier({
      jwksUrl: issuer.jwksUrl,
      issuer: issuer.issuer,
      audience: 'tessera-api',
    }),
    redis,
    subscriber,
    keyPrefix: `bench:${mode}:`,
    cache,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  urls[mode] =
    `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/v1/users/${userId}?include=memberships`;
}
const sample = await (await fetch(urls.l1!, { headers: { authorization: `Bearer ${token}` } })).json();
const bare = Fastify();
bare.get('/v1/users/:id', async () => sample);
await bare.listen({ host: '127.0.0.1', port: 0 });
urls.bare = `http://127.0.0.1:${(bare.server.address() as AddressInfo).port}/v1/users/${userId}?include=memberships`;
process.stdout.write(
  JSON.stringify({ urls, token, pid: process.pid, jwksUrl: issuer.jwksUrl, issuer: issuer.issuer }) + '\n',
);
