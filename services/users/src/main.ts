/**
 * `npm run start:users`: the user service alone, in production mode (real PostgreSQL required).
 * The only file of this service that reads the environment (with instrument.ts, imported first).
 */
// First: sizes libuv's thread pool before anything can start it (packages/kernel/src/thread-pool.ts).
import '@tessera/kernel/size-thread-pool';
import { errorSink, telemetry } from './instrument.ts';
import { createTokenVerifier, RevokedTokenSet } from '@tessera/auth-middleware';
import {
  announceUserDeactivated,
  connectRedis,
  followRevocations,
  traceRedis,
  USERS_REDIS_KEY_PREFIX,
} from '@tessera/cache';
import {
  applyMigrations,
  closeConnection,
  createDrizzle,
  openConnection,
  traceConnection,
} from '@tessera/db';
import {
  createLogger,
  errorReporterOf,
  loadConfigOrExit,
  onShutdown,
  reportProcessErrors,
} from '@tessera/kernel';
import { buildUsersApp } from './app.ts';
import { usersConfigSpec } from './config.ts';
import { schema } from './db/schema.ts';
import { usersMigrations } from './migrations.ts';

const config = loadConfigOrExit(usersConfigSpec, process.env);
const databaseUrl = config.databaseUrl ?? config.sharedDatabaseUrl;
if (!databaseUrl) {
  process.stderr.write(
    'config: DATABASE_URL (or USERS_DATABASE_URL) is required when the user service runs alone\n',
  );
  process.exit(1);
}
const logger = createLogger({ name: 'users', level: config.logLevel });
const conn = await openConnection({
  url: databaseUrl,
  onPoolError: (err) => logger.warn({ err: err.message }, 'idle database client failed'),
});
await applyMigrations(conn, usersMigrations);
const redis = config.redisUrl
  ? await connectRedis(config.redisUrl, { connectionName: 'tessera-users' })
  : undefined;
const subscriber = config.redisUrl ? await connectRedis(config.redisUrl, { subscriber: true }) : undefined;
// Access tokens auth revoked (ADR 0008): an in-memory set fed by auth's revocation feed, so the
// check adds no I/O per request.
const revoked = new RevokedTokenSet({
  onEvict: () => logger.warn('revoked-token set full: the oldest revocation was dropped'),
});
const verifier = createTokenVerifier({
  jwksUrl: config.jwksUrl,
  issuer: config.publicUrl.replace(/\/+$/, ''),
  audience: config.apiAudience,
  isRevoked: async (jti) => revoked.has(jti),
});
const revocations = redis
  ? await followRevocations({
      sink: revoked,
      redis,
      subscriber,
      logger,
    })
  : undefined;
if (!revocations)
  logger.warn('no REDIS_URL: access tokens revoked at auth stay accepted here until they expire');
const tracedConn = traceConnection(conn, telemetry);
const { app } = await buildUsersApp({
  db: createDrizzle(tracedConn, schema),
  conn: tracedConn,
  logger,
  verifier,
  redis: redis && traceRedis(redis, telemetry),
  subscriber,
  corsOrigins: config.corsOrigins,
  metricsToken: config.metricsToken,
  adminOrg: config.adminOrg,
  cache: { l1TtlMs: config.authzL1TtlMs, l2TtlSeconds: config.authzL2TtlSeconds },
  telemetry,
  errorSink,
  // Auth, deployed apart, revokes the user's grants when told (ADR 0008 addendum).
  onUserDeactivated: redis
    ? (userId) =>
        announceUserDeactivated(redis, USERS_REDIS_KEY_PREFIX, userId).catch((err: unknown) => {
          // The deactivation stands; the user's tokens then last until they expire, as before.
          logger.warn(
            { err: err instanceof Error ? err.message : 'error', userId },
            'announcing a deactivated user failed',
          );
        })
    : undefined,
});
await app.listen({ host: config.host, port: config.port });
const shutdown = onShutdown(logger, [
  () => app.close(),
  async () => revocations?.close(),
  async () => {
    redis?.disconnect();
    subscriber?.disconnect();
  },
  () => closeConnection(conn),
  () => telemetry.shutdown(),
]);
reportProcessErrors(errorReporterOf(app)!, shutdown);
