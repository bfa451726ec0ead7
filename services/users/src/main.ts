/**
 * `npm run start:users`: the user service alone, in production mode (real PostgreSQL required).
 * The only file of this service that reads the environment.
 */
import { createTokenVerifier } from '@tessera/auth-middleware';
import { connectRedis } from '@tessera/cache';
import { applyMigrations, closeConnection, createDrizzle, openConnection } from '@tessera/db';
import { createLogger, loadConfigOrExit, onShutdown } from '@tessera/kernel';
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
const verifier = createTokenVerifier({
  jwksUrl: config.jwksUrl,
  issuer: config.publicUrl.replace(/\/+$/, ''),
  audience: config.apiAudience,
});
const { app } = await buildUsersApp({
  db: createDrizzle(conn, schema),
  conn,
  logger,
  verifier,
  redis,
  subscriber,
  corsOrigins: config.corsOrigins,
  cache: { l1TtlMs: config.authzL1TtlMs, l2TtlSeconds: config.authzL2TtlSeconds },
});
await app.listen({ host: config.host, port: config.port });
onShutdown(logger, [
  () => app.close(),
  async () => {
    redis?.disconnect();
    subscriber?.disconnect();
  },
  () => closeConnection(conn),
]);
