import type { Redis } from 'ioredis';
import swagger from '@fastify/swagger';
import { fastifyAuth, type TokenVerifier } from '@tessera/auth-middleware';
import { createTwoLevelCache } from '@tessera/cache';
import { pendingMigrations, ping, registerPoolMetrics, type SqlConnection } from '@tessera/db';
import type { ErrorSink, Telemetry } from '@tessera/telemetry';
import {
  createHttpMetrics,
  createHttpServer,
  handleConditionalRequests,
  keepResponsesPrivate,
  refuseUndeclaredInput,
  type HttpServer,
  type Logger,
  type ReadinessCheck,
} from '@tessera/kernel';
import { createAuthzService, type AuthzService } from './authz/authz-service.ts';
import type { UsersDb } from './db/database.ts';
import { internalRoutes } from './internal/routes.ts';
import { requireActiveUserOnUserWrites } from './users/active-user-check.ts';
import { usersMigrations } from './migrations.ts';
import { orgRoutes } from './orgs/routes.ts';
import { userRoutes } from './users/routes.ts';
import { warmPasswordVerifier } from './passwords/passwords.ts';

/** Everything the user service runs on; tests pass real or test instances. */
export interface UsersDeps {
  db: UsersDb;
  conn: SqlConnection;
  logger: Logger;
  verifier: TokenVerifier;
  /** Redis for the L2 cache and invalidation; absent = L1 only. */
  redis?: Redis | undefined;
  /** A second connection for pub/sub. */
  subscriber?: Redis | undefined;
  keyPrefix?: string;
  corsOrigins?: string[];
  /** Bearer token `/metrics` requires (`METRICS_TOKEN`); unset: open. */
  metricsToken?: string | undefined;
  cache?: { l1TtlMs?: number; l1Max?: number; l2TtlSeconds?: number; l1?: boolean; l2?: boolean };
  /** Tracing for this service; `conn`, `db` and `redis` should be the traced views (see main.ts). */
  telemetry?: Telemetry | undefined;
  /** Sentry-compatible sink for error reports, besides the log. */
  errorSink?: ErrorSink | undefined;
  /** Slug of the organization whose roles may hold management permissions (default `demo`). */
  adminOrg?: string | undefined;
  /**
   * Told when a user is disabled or deleted, after the change is committed: the all-in-one
   * platform revokes the user's grants at auth, so their access tokens stop working everywhere
   * (through the revocation feed) instead of at expiry.
   */
  onUserDeactivated?: ((userId: string) => Promise<void>) | undefined;
}

/** The built service: the Fastify app and the authz service (the benchmark and tests reach in). */
export interface UsersApp {
  app: HttpServer;
  authz: AuthzService;
}

/**
 * Builds the user service: `/v1/users`, `/v1/orgs`, `/internal/*`, health and metrics.
 *
 * @example
 * const { app } = await buildUsersApp({ db, conn, logger, verifier, redis, subscriber });
 * await app.listen({ host: '127.0.0.1', port: 8082 });
 */
export async function buildUsersApp(deps: UsersDeps): Promise<UsersApp> {
  const metrics = createHttpMetrics({ service: 'users' }, { exemplars: deps.telemetry?.enabled ?? false });
  const readiness: ReadinessCheck[] = [
    {
      name: 'postgres',
      critical: true,
      check: async () => {
        await ping(deps.conn);
        if ((await pendingMigrations(deps.conn, usersMigrations)) > 0) throw new Error('migrations pending');
      },
    },
  ];
  if (deps.redis) {
    const redis = deps.redis;
    readiness.push({ name: 'redis', critical: false, check: async () => void (await redis.ping()) });
  }
  const app = createHttpServer({
    name: 'users',
    logger: deps.logger,
    metrics,
    readiness,
    corsOrigins: deps.corsOrigins ?? [],
    metricsToken: deps.metricsToken,
    telemetry: deps.telemetry,
    errorSink: deps.errorSink,
  });
  registerPoolMetrics(deps.conn, metrics.registry);
  const options = deps.cache ?? {};
  const cache = createTwoLevelCache<unknown>({
    name: 'users',
    keyPrefix: deps.keyPrefix ?? 'tessera:users:',
    l1: options.l1 === false ? false : { max: options.l1Max ?? 10_000, ttlMs: options.l1TtlMs ?? 5_000 },
    l2: options.l2 === false ? false : { ttlSeconds: options.l2TtlSeconds ?? 300 },
    redis: deps.redis,
    subscriber: deps.subscriber,
    logger: deps.logger,
    registry: metrics.registry,
  });
  const authz = createAuthzService(deps.db, cache, deps.telemetry, deps.adminOrg ?? 'demo');
  await warmPasswordVerifier();
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Tessera user service',
        version: '0.1.0',
        description: 'Users, organizations, roles and permissions.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT (RFC 9068 at+jwt)' },
        },
      },
      security: [{ bearer: [] }],
    },
  });
  await app.register(fastifyAuth, { verifier: deps.verifier });
  requireActiveUserOnUserWrites(app, deps.db);
  await app.register(async (api) => {
    // A route without a query or body schema refuses input there instead of ignoring it.
    refuseUndeclaredInput(api);
    // Answers about people, for one caller: no cache keeps them.
    keepResponsesPrivate(api);
    // ETags on reads; If-Match on writes refuses a change made from a stale version (412).
    handleConditionalRequests(api);
    await api.register(userRoutes, { db: deps.db, authz, onUserDeactivated: deps.onUserDeactivated });
    await api.register(orgRoutes, { db: deps.db, authz });
  });
  await app.register(internalRoutes, { db: deps.db, authz, telemetry: deps.telemetry });
  app.get('/openapi.json', { logLevel: 'warn' }, async () => app.swagger());
  app.addHook('onClose', async () => cache.close());
  return { app, authz };
}
