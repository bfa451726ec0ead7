/**
 * The user-service side of `npm run bench -- users`, in its own process so the load generator
 * does not share its event loop: one user service per cache mode, plus a bare Fastify route
 * returning the same JSON. Prints one JSON line with the URLs and a token when ready.
 */
// As the users service's main.ts does: libuv's pool sized to the spare cores (ADR 0014).
import '@tessera/kernel/size-thread-pool';
import Fastify from 'fastify';
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { createTokenVerifier } from '@tessera/auth-middleware';
import { createTestIssuer } from '@tessera/auth-middleware/testing';
import { connectRedis, traceRedis } from '@tessera/cache';
import { applyMigrations, createDrizzle, openConnection, rawQuery, traceConnection } from '@tessera/db';
import { createLogger } from '@tessera/kernel';
import { createTelemetry, disabledTelemetry, type Telemetry } from '@tessera/telemetry';
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
// BENCH_OTLP_URL set: the same modes again with tracing on (100 % and 1 % sampling), exporting there.
const otlp = process.env.BENCH_OTLP_URL;
const tracing = (ratio: number) =>
  createTelemetry({
    service: `users-bench-${ratio}`,
    config: {
      tracesEndpoint: `${otlp}/v1/traces`,
      sampler: 'parentbased_traceidratio',
      samplerRatio: ratio,
      sentryDsn: undefined,
    },
  });
// BENCH_MODE: only that one mode (the tracing comparison runs each in its own process, so one
// server's span export never runs during another's measurement).
const only = process.env.BENCH_MODE;
const allModes: Array<[string, Record<string, unknown>, () => Promise<Telemetry>]> = otlp
  ? [
      ['l1', { l1TtlMs: 3_600_000 }, async () => disabledTelemetry('users')],
      ['l1-traced-100', { l1TtlMs: 3_600_000 }, () => tracing(1)],
      ['l1-traced-1', { l1TtlMs: 3_600_000 }, () => tracing(0.01)],
      ['db', { l1: false, l2: false }, async () => disabledTelemetry('users')],
      ['db-traced-100', { l1: false, l2: false }, () => tracing(1)],
    ]
  : [
      ['l1', { l1TtlMs: 3_600_000 }, async () => disabledTelemetry('users')],
      ['l2', { l1: false }, async () => disabledTelemetry('users')],
      ['db', { l1: false, l2: false }, async () => disabledTelemetry('users')],
    ];
const modes = allModes.filter(([mode]) => !only || mode === only);
for (const [mode, cache, makeTelemetry] of modes) {
  const telemetry = await makeTelemetry();
  const redis = await connectRedis(redisUrl);
  const subscriber = await connectRedis(redisUrl, { subscriber: true });
  const traced = traceConnection(conn, telemetry);
  const { app } = await buildUsersApp({
    db: createDrizzle(traced, usersTables),
    conn: traced,
    telemetry,
    logger,
    verifier: createTokenVerifier({
      jwksUrl: issuer.jwksUrl,
      issuer: issuer.issuer,
      audience: 'tessera-api',
    }),
    redis: traceRedis(redis, telemetry),
    subscriber,
    keyPrefix: `bench:${mode}:`,
    cache,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  urls[mode] =
    `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/v1/users/${userId}?include=memberships`;
}
const first = Object.values(urls)[0]!;
const sample = await (await fetch(first, { headers: { authorization: `Bearer ${token}` } })).json();
const bare = Fastify();
bare.get('/v1/users/:id', async () => sample);
await bare.listen({ host: '127.0.0.1', port: 0 });
urls.bare = `http://127.0.0.1:${(bare.server.address() as AddressInfo).port}/v1/users/${userId}?include=memberships`;
process.stdout.write(
  JSON.stringify({ urls, token, pid: process.pid, jwksUrl: issuer.jwksUrl, issuer: issuer.issuer }) + '\n',
);
// A clean exit on SIGINT, so a server started with --cpu-prof writes its profile.
process.on('SIGINT', () => process.exit(0));
