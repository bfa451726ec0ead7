import { mkdir, open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { createTokenVerifier, RevokedTokenSet } from '@tessera/auth-middleware';
import {
  buildAuthApp,
  ensureDemoClients,
  applyClientsSeed,
  authTables,
  authMigrations,
  loadAuthConfig,
  idTokenAlgorithmsFor,
  type AuthApp,
  type ClientsSeed,
} from '@tessera/auth-service';
import { connectRedis, followRevocations, traceRedis } from '@tessera/cache';
import {
  createSentrySink,
  createTelemetry,
  telemetryConfigFromEnv,
  TelemetryConfigError,
  type ErrorSink,
  type Telemetry,
  type TelemetryConfig,
} from '@tessera/telemetry';
import {
  applyMigrations,
  closeConnection,
  createDrizzle,
  traceConnection,
  openConnection,
  type SqlConnection,
} from '@tessera/db';
import { buildGatewayApp, defaultGatewayConfig, type Gateway } from '@tessera/gateway-service';
import { ConfigError, createLogger, loadConfig, type Logger } from '@tessera/kernel';
import {
  applyUsersSeed,
  buildUsersApp,
  ensureDemoData,
  usersMigrations,
  usersTables,
  type UsersApp,
} from '@tessera/users-service';
import { platformConfigSpec, type PlatformConfig } from './config.ts';
import { loadOrCreateMasterKey } from './master-key.ts';
import { readSeedFile } from './seed-file.ts';
import { reservePorts } from './port-reservations.ts';

/** What `startPlatform` reports for the banner (secrets only when generated now, to print once). */
export interface PlatformHandle {
  urls: { gateway: string; auth: string; users: string };
  /** The issuer (`TESSERA_PUBLIC_URL`): the origin clients must use, the gateway behind it. */
  publicUrl: string;
  admin: { email: string; generatedPassword?: string | undefined; created: boolean };
  demoServiceSecret?: string | undefined;
  masterKeySource: 'env' | 'file' | 'generated';
  database: 'embedded' | 'postgres';
  /** Where embedded data (PGlite, master key) lives. */
  dataDir: string;
  redis: boolean;
  /** Where traces are exported (OTLP/HTTP), or undefined when tracing is off. */
  tracesEndpoint: string | undefined;
  close(): Promise<void>;
}

/** Options for {@link startPlatform}: the environment, and a logger destination for tests. */
export interface PlatformOptions {
  env: Record<string, string | undefined>;
  logger?: Logger;
}

const SPA_ORIGINS = ['http://localhost:5173', 'http://127.0.0.1:5173'];

/**
 * Starts gateway, auth and users in this process, each on its own port, calling each other over
 * loopback HTTP as they do when deployed apart. Embedded PGlite under `<dataDir>/pg` unless
 * `DATABASE_URL` is set; Redis only with `REDIS_URL`. Applies migrations, seeds the demo data on
 * first start and the `TESSERA_SEED` file at every start.
 *
 * @example
 * const platform = await startPlatform({ env: process.env });
 * console.log(platform.urls.gateway);
 * await platform.close();
 */
export async function startPlatform(options: PlatformOptions): Promise<PlatformHandle> {
  const config: PlatformConfig = loadConfig(platformConfigSpec, options.env);
  const authConfig = loadAuthConfig(options.env);
  const telemetryConfig = readTelemetryConfig(options.env);
  const logger = options.logger ?? createLogger({ name: 'tessera', level: config.logLevel });
  const dataDir = path.resolve(config.dataDir);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const lock = config.databaseUrl ? undefined : await acquireLock(path.join(dataDir, 'tessera.pid'));
  const cleanups: Array<() => Promise<unknown>> = [];
  const cleanup = async () => {
    for (const step of cleanups.reverse())
      await step().catch((err: unknown) =>
        logger.error({ err: { message: (err as Error).message } }, 'shutdown step failed'),
      );
    await lock?.release();
  };
  try {
    const { key: masterKey, source: masterKeySource } = await loadOrCreateMasterKey(
      dataDir,
      config.masterKey,
    );
    const conn: SqlConnection = await openConnection({
      url: config.databaseUrl,
      dataDir: config.databaseUrl ? undefined : path.join(dataDir, 'pg'),
      onPoolError: (err) => logger.warn({ err: err.message }, 'idle database client failed'),
    });
    cleanups.push(() => closeConnection(conn));
    await applyMigrations(conn, usersMigrations);
    await applyMigrations(conn, authMigrations);
    const usersDb = createDrizzle(conn, usersTables);
    const authDb = createDrizzle(conn, authTables);
    // One tracer provider per service, so each appears as itself in traces though they share a process.
    const [usersObs, authObs, gatewayObs] = await Promise.all(
      ['users', 'auth', 'gateway'].map((service) => observability(service, telemetryConfig)),
    );
    cleanups.push(() => Promise.all([usersObs, authObs, gatewayObs].map((o) => o!.telemetry.shutdown())));
    const usersConn = traceConnection(conn, usersObs!.telemetry);
    const authConn = traceConnection(conn, authObs!.telemetry);

    const admin = await ensureDemoData(usersDb, {
      adminEmail: config.adminEmail,
      adminPassword: config.adminPassword,
    });
    const demo = await ensureDemoClients(authDb, {
      demoServiceSecret: config.demoServiceSecret,
      defaults: {
        defaultAudience: authConfig.apiAudience,
        accessTokenTtlSeconds: authConfig.accessTokenTtlSeconds,
        idTokenAlgorithms: idTokenAlgorithmsFor(authConfig.signingAlg),
      },
    });
    if (config.seedFile) {
      const seed = await readSeedFile(config.seedFile);
      await applyUsersSeed(usersDb, { organizations: seed.organizations, users: seed.users });
      const result = await applyClientsSeed(authDb, { clients: seed.clients } as ClientsSeed, {
        defaults: {
          defaultAudience: authConfig.apiAudience,
          accessTokenTtlSeconds: authConfig.accessTokenTtlSeconds,
          idTokenAlgorithms: idTokenAlgorithmsFor(authConfig.signingAlg),
        },
      });
      for (const [clientId, secret] of Object.entries(result.generatedSecrets)) {
        process.stdout.write(`seed: client ${clientId} secret (shown once): ${secret}\n`);
      }
      logger.info(
        { file: config.seedFile, clients: result.created.length + result.updated.length },
        'seed applied',
      );
    }

    let redis: Redis | undefined;
    const subscribers: Redis[] = [];
    if (config.redisUrl) {
      redis = await connectRedis(config.redisUrl, { connectionName: 'tessera' });
      cleanups.push(async () => redis?.disconnect());
    }
    const subscriber = async () => {
      if (!config.redisUrl) return undefined;
      const s = await connectRedis(config.redisUrl, { subscriber: true });
      subscribers.push(s);
      return s;
    };
    cleanups.push(async () => subscribers.forEach((s) => s.disconnect()));

    const [usersReservation, authReservation, gatewayReservation] = await reservePorts(config.host, [
      config.usersPort,
      config.authPort,
      config.gatewayPort,
    ]);
    const reservations = [usersReservation!, authReservation!, gatewayReservation!];
    cleanups.push(() => Promise.all(reservations.map((reservation) => reservation.release())));
    const [usersPort, authPort, gatewayPort] = reservations.map((reservation) => reservation.port);
    const loopback = (port: number) =>
      `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    const urls = { users: loopback(usersPort!), auth: loopback(authPort!), gateway: loopback(gatewayPort!) };
    // Access tokens auth revoked (ADR 0008), one in-memory set for users and the gateway: fed by
    // auth's Redis revocation feed with Redis, else by auth in process (see below).
    const revoked = new RevokedTokenSet({
      onEvict: () => logger.warn('revoked-token set full: the oldest revocation was dropped'),
    });
    const verifier = () =>
      createTokenVerifier({
        jwksUrl: `${urls.auth}/jwks.json`,
        issuer: authConfig.publicUrl,
        audience: authConfig.apiAudience,
        isRevoked: async (jti) => revoked.has(jti),
      });
    const usersSubscriber = await subscriber();

    const users: UsersApp = await buildUsersApp({
      db: createDrizzle(usersConn, usersTables),
      conn: usersConn,
      logger: logger.child({ service: 'users' }),
      verifier: verifier(),
      redis: redis && traceRedis(redis, usersObs!.telemetry),
      subscriber: usersSubscriber,
      telemetry: usersObs!.telemetry,
      errorSink: usersObs!.errorSink,
      adminOrg: config.adminOrg,
      metricsToken: config.metricsToken,
      // Auth is built below; a user is only deactivated through the API, once both listen.
      // A failure leaves the user's tokens to expire, as before: the deactivation itself stands.
      onUserDeactivated: async (userId) => {
        await auth.revokeUserGrants(userId).catch((err: unknown) => {
          logger.warn(
            { err: { message: (err as Error).message }, userId },
            'revoking a deactivated user’s grants failed',
          );
        });
      },
    });
    // The demo data and the seed were written to the database directly: authorization cached in
    // Redis by an earlier run (up to its TTL) may no longer match them.
    await users.authz.invalidateAll();
    const auth: AuthApp = await buildAuthApp({
      config: { ...authConfig, usersUrl: urls.users, port: authPort!, host: config.host },
      db: createDrizzle(authConn, authTables),
      conn: authConn,
      logger: logger.child({ service: 'auth' }),
      masterKey,
      redis: redis && traceRedis(redis, authObs!.telemetry),
      telemetry: authObs!.telemetry,
      errorSink: authObs!.errorSink,
      onAccessTokenRevoked: redis ? undefined : ({ jti, exp }) => revoked.add(jti, exp),
    });
    // Without Redis, the catch-up read (revocations made before this start) goes through auth's
    // own listing of its denylist: acceptable here, at the composition root, and only here; the
    // users service itself never reads auth's storage.
    const revocations = await followRevocations({
      sink: revoked,
      ...(redis ? { redis, subscriber: usersSubscriber } : { load: () => auth.revokedAccessTokens() }),
      logger,
    });
    cleanups.push(() => revocations.close());
    // Stop the public door first, then the services behind it, then the database.
    cleanups.push(
      () => users.app.close(),
      () => auth.close(),
    );
    await usersReservation!.release();
    await users.app.listen({ host: config.host, port: usersPort! });
    await authReservation!.release();
    await auth.app.listen({ host: config.host, port: authPort! });
    // Built once auth listens: the gateway reads the registered browser apps' origins from it.
    const gateway: Gateway = await buildGatewayApp({
      config: defaultGatewayConfig({
        pools: { auth: { blue: [urls.auth] }, users: { blue: [urls.users] } },
        cors: { token: SPA_ORIGINS, oauth: SPA_ORIGINS, api: SPA_ORIGINS, login: [] },
        metricsToken: config.metricsToken,
      }),
      logger: logger.child({ service: 'gateway' }),
      redis: redis && traceRedis(redis, gatewayObs!.telemetry),
      verifier: verifier(),
      telemetry: gatewayObs!.telemetry,
      errorSink: gatewayObs!.errorSink,
    });
    await gateway.checkHealth();
    cleanups.push(() => gateway.app.close());
    await gatewayReservation!.release();
    await gateway.app.listen({ host: config.host, port: gatewayPort! });
    return {
      urls,
      publicUrl: authConfig.publicUrl,
      admin: { email: admin.adminEmail, generatedPassword: admin.generatedPassword, created: admin.created },
      demoServiceSecret: demo.demoServiceSecret,
      masterKeySource,
      database: config.databaseUrl ? 'postgres' : 'embedded',
      dataDir: displayPath(dataDir),
      tracesEndpoint: telemetryConfig.tracesEndpoint,
      redis: Boolean(redis),
      close: cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** `./.data` for a directory below the working directory, the absolute path otherwise. */
function displayPath(dir: string): string {
  const relative = path.relative(process.cwd(), dir);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? `./${relative}` : dir;
}

/** The telemetry variables, as a `ConfigError` (one line naming the variable) when invalid. */
function readTelemetryConfig(env: NodeJS.ProcessEnv): TelemetryConfig {
  try {
    return telemetryConfigFromEnv(env);
  } catch (err) {
    if (err instanceof TelemetryConfigError) throw new ConfigError(err.variable, err.problem);
    throw err;
  }
}

/** A service's tracer provider and, with `SENTRY_DSN`, its error sink. */
async function observability(
  service: string,
  config: TelemetryConfig,
): Promise<{ telemetry: Telemetry; errorSink: ErrorSink | undefined }> {
  const telemetry = await createTelemetry({ service, config });
  const errorSink = config.sentryDsn ? await createSentrySink(config.sentryDsn, { service }) : undefined;
  return { telemetry, errorSink };
}

/**
 * One process at a time may open the embedded database (PGlite is single-process): a pid file
 * guards it; a stale file (its process gone) is taken over.
 */
async function acquireLock(file: string): Promise<{ release(): Promise<void> }> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(file, 'wx', 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      return { release: () => rm(file, { force: true }) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (pid && pid !== process.pid && isAlive(pid)) {
        throw new Error(
          `the embedded database in ${path.dirname(file)} is in use by process ${pid}; stop it first (or set TESSERA_DATA_DIR)`,
        );
      }
      await rm(file, { force: true });
    }
  }
  throw new Error(`cannot lock ${file}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export { acquireLock };
