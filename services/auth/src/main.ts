/**
 * `npm run start:auth`: the auth service alone (production, one service per process). Reads the
 * environment, connects PostgreSQL (and Redis when configured), applies migrations, starts.
 */
// First: sizes libuv's thread pool before anything can start it (packages/kernel/src/thread-pool.ts).
import '@tessera/kernel/size-thread-pool';
import { errorSink, telemetry } from './instrument.ts';
import { createLogger, errorReporterOf, onShutdown, reportProcessErrors } from '@tessera/kernel';
import {
  applyMigrations,
  closeConnection,
  createDrizzle,
  openConnection,
  traceConnection,
} from '@tessera/db';
import { connectRedis, followUserDeactivations, traceRedis } from '@tessera/cache';
import { buildAuthApp } from './app.ts';
import { loadAuthConfig } from './config.ts';
import type { AuthDatabase } from './db/database.ts';
import { authMigrations } from './db/migrations.ts';
import * as schema from './db/schema.ts';

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

let config;
try {
  config = loadAuthConfig(process.env);
} catch (err) {
  fail(err instanceof Error ? err.message : 'config: invalid');
}
if (!config.masterKey) fail('config: TESSERA_MASTER_KEY is required but not set (openssl rand -base64 32)');
const masterKey = Buffer.from(config.masterKey, 'base64');
if (masterKey.length !== 32) fail('config: TESSERA_MASTER_KEY must be 32 bytes encoded as base64');
if (!config.databaseUrl) fail('config: AUTH_DATABASE_URL or DATABASE_URL is required but not set');

const logger = createLogger({ name: 'auth', level: config.logLevel });
const conn = await openConnection({
  url: config.databaseUrl,
  onPoolError: (err) => logger.warn({ err: err.name }, 'idle database client failed'),
});
await applyMigrations(conn, authMigrations);
const tracedConn = traceConnection(conn, telemetry);
const db = createDrizzle(tracedConn, schema) as unknown as AuthDatabase;
const redis = config.redisUrl
  ? await connectRedis(config.redisUrl, { connectionName: 'tessera-auth' })
  : undefined;

const auth = await buildAuthApp({
  config,
  db,
  conn: tracedConn,
  logger,
  masterKey,
  redis: redis && traceRedis(redis, telemetry),
  telemetry,
  errorSink,
});
// Users the user service disabled or deleted: their grants are revoked here (ADR 0008 addendum).
const subscriber = config.redisUrl ? await connectRedis(config.redisUrl, { subscriber: true }) : undefined;
const deactivations =
  redis && subscriber
    ? await followUserDeactivations({
        redis,
        subscriber,
        onUser: (userId) => auth.revokeUserGrants(userId),
        logger,
      })
    : undefined;
await auth.app.listen({ host: config.host, port: config.port });
logger.info({ issuer: config.publicUrl, alg: config.signingAlg }, 'auth service started');

const shutdown = onShutdown(logger, [
  () => auth.close(),
  async () => deactivations?.close(),
  async () => {
    redis?.disconnect();
    subscriber?.disconnect();
  },
  () => closeConnection(conn),
  () => telemetry.shutdown(),
]);
reportProcessErrors(errorReporterOf(auth.app)!, shutdown);
