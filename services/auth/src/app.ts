/**
 * `buildAuthApp(deps)`: the auth service from its dependencies. It builds the core (keys,
 * clients, signer, denylist, users gateway), registers the core routes, then every feature
 * (`features`, by default the user-facing flows) with the core handed to it. See WIRING.md.
 */
import swagger from '@fastify/swagger';
import type { Redis } from 'ioredis';
import type { JSONWebKeySet } from 'jose';
import {
  createHttpMetrics,
  apiErrorResponses,
  createHttpServer,
  handleConditionalRequests,
  keepResponsesPrivate,
  refuseUndeclaredInput,
  systemClock,
  TESSERA_VERSION,
  type Clock,
  type HttpServer,
  type Logger,
  type ReadinessCheck,
} from '@tessera/kernel';
import { pendingMigrations, ping, registerPoolMetrics, type SqlConnection } from '@tessera/db';
import { disabledTelemetry, type ErrorSink, type Telemetry } from '@tessera/telemetry';
import { createTokenVerifier, fastifyAuth, requireActiveUserOnWrites } from '@tessera/auth-middleware';
import type {
  AccessTokenDenylist,
  ClientLookup,
  GrantHandler,
  RefreshTokenStore,
  TokenSigner,
  UsersGateway,
} from './contracts.ts';
import type { AuthConfig } from './config.ts';
import type { AuthDatabase } from './db/database.ts';
import { authMigrations } from './db/migrations.ts';
import { registerClientAdminRoutes } from './clients/admin-routes.ts';
import { registerClientOriginsRoute } from './clients/origins-route.ts';
import { CachedClientLookup } from './clients/registry.ts';
import { ClientRepository } from './clients/repository.ts';
import { registerKeyAdminRoutes } from './keys/admin-routes.ts';
import type { KeyStore } from './keys/key-store.ts';
import { SigningKeys } from './keys/signing-keys.ts';
import { createClientAuthenticator } from './oauth/client-auth.ts';
import { buildMetadata, DEFAULT_SCOPES_SUPPORTED } from './oauth/discovery/metadata.ts';
import { registerDiscoveryRoutes } from './oauth/discovery/route.ts';
import { INTROSPECTION_PATH } from './oauth/introspect/route.ts';
import { registerOAuthEndpoints } from './oauth/plugin.ts';
import { REVOCATION_PATH } from './oauth/revoke/route.ts';
import { createClientCredentialsGrant } from './oauth/token/grants/client-credentials.ts';
import { TOKEN_PATH } from './oauth/token/route.ts';
import { IdSetDenylist } from './tokens/denylist.ts';
import { RevocationAnnouncer, type RevocationListener } from './tokens/revocation-announcer.ts';
import { DbIdSet, RedisIdSet, type ExpiringIdSet } from './tokens/once-store.ts';
import { JwtTokenSigner } from './tokens/signer.ts';
import { revokedAccessTokens, usedClientAssertions } from './tokens/table.ts';
import { LocalAccessTokenVerifier } from './tokens/verifier.ts';
import { HttpUsersGateway } from './users-gateway.ts';
import { tracedSigner } from './tracing.ts';
import { flowsFeature } from './flows-feature.ts';
import { createAuthMetrics, registerSigningKeyMetrics, type AuthMetrics } from './metrics.ts';
import { GrantFamilies } from './grants/families.ts';

/** What features receive: the core's services. */
export interface AuthCore {
  db: AuthDatabase;
  clock: Clock;
  config: AuthConfig;
  /** The issuer (`config.publicUrl`). */
  issuer: string;
  logger: Logger;
  clients: ClientLookup;
  users: UsersGateway;
  signer: TokenSigner;
  denylist: AccessTokenDenylist;
  /** The `/jwks.json` document (cached in memory by the key store). */
  jwks: () => Promise<JSONWebKeySet>;
  redis: Redis | undefined;
  redisKeyPrefix: string;
  /** Business metrics (tokens issued, logins, reuse detections, revocations). */
  metrics: AuthMetrics;
  telemetry: Telemetry;
}

/** A feature's contribution; `createFlows(...)` returns this shape. */
export interface AuthFeature {
  /** Registers its routes (called inside `app.register`, so in its own scope). */
  routes?: (app: HttpServer) => Promise<void>;
  /** Token endpoint grant handlers. */
  grantHandlers?: GrantHandler[];
  /** For introspection and revocation of refresh tokens (the first feature that has one wins). */
  refreshTokenStore?: RefreshTokenStore;
  /** Discovery metadata members this feature implements (authorization_endpoint, ...). */
  metadata?: Record<string, unknown>;
  /** Deletes expired state; `buildAuthApp` runs it every `purgeIntervalMs` and logs what it returns. */
  purgeExpired?: () => Promise<unknown>;
}

export type AuthFeatureFactory = (core: AuthCore) => AuthFeature;

/** Dependencies of {@link buildAuthApp}. */
export interface AuthAppDeps {
  config: AuthConfig;
  db: AuthDatabase;
  logger: Logger;
  /** 32 bytes; encrypts signing keys at rest. */
  masterKey: Buffer;
  /** For `/readyz` (database reachable, migrations applied); absent = no readiness checks. */
  conn?: SqlConnection | undefined;
  clock?: Clock | undefined;
  /** Denylist, assertion replay guard and login counters; absent = database + in-process. */
  redis?: Redis | undefined;
  /** Prefix of every Redis key this service writes (default `tessera:auth:`). */
  redisKeyPrefix?: string | undefined;
  /** Default: {@link HttpUsersGateway} to `config.usersUrl`. */
  users?: UsersGateway | undefined;
  /** Default: `[flowsFeature]` (login, consent, authorize, logout, userinfo, code and refresh grants). */
  features?: AuthFeatureFactory[] | undefined;
  scopesSupported?: string[] | undefined;
  trustProxy?: boolean | string | string[] | undefined;
  /** How often key rows are re-read (default 30 s). */
  keyRefreshIntervalMs?: number | undefined;
  /** How often features purge expired state (default 5 min). */
  purgeIntervalMs?: number | undefined;
  /** Tracing for this service; `conn`, `db` and `redis` should be the traced views (see main.ts). */
  telemetry?: Telemetry | undefined;
  /** Sentry-compatible sink for error reports, besides the log. */
  errorSink?: ErrorSink | undefined;
  /**
   * Told of every deny-listed access token, in process (the all-in-one platform feeds its resource
   * servers' revoked-token sets with it; with Redis the same goes out on the revocation feed too).
   */
  onAccessTokenRevoked?: RevocationListener | undefined;
}

/** The built service and its parts (for the CLI, tests and the all-in-one process). */
export interface AuthApp {
  app: HttpServer;
  core: AuthCore;
  /** The primary key store (access tokens; ID tokens by default). */
  keys: KeyStore;
  /** Both key sets: the primary one and the RS256 ID-token set (JWKS, rotation, listing). */
  signingKeys: SigningKeys;
  clients: ClientRepository;
  clientLookup: CachedClientLookup;
  /** Revoked access tokens a verifier may still accept: the catch-up read for a resource server starting later (ADR 0008). */
  revokedAccessTokens(): Promise<Array<{ jti: string; exp: number }>>;
  /**
   * Revokes every grant of a user who was disabled or deleted: refresh tokens stop working and the
   * access tokens go on the denylist (and out on the revocation feed). Returns the grants revoked.
   */
  revokeUserGrants(userId: string): Promise<number>;
  /** Stops timers and closes the app and the users gateway's pool (the database and Redis belong to the caller). */
  close(): Promise<void>;
}

/** Skew verifiers may allow, added to a retired key's publication (RFC 9068 §4 checks, SECURITY 17). */
const CLOCK_SKEW_S = 60;
/** Clients' access tokens live at most this long (`clients/repository.ts` enforces it). */
const MAX_ACCESS_TOKEN_TTL_S = 3600;

/**
 * Builds the auth service. Migrations must be applied first (`applyMigrations(conn, authMigrations)`);
 * the first build creates the signing key.
 *
 * @example
 * const auth = await buildAuthApp({ config, db, conn, logger, masterKey });
 * await auth.app.listen({ host: config.host, port: config.port });
 */
export async function buildAuthApp(deps: AuthAppDeps): Promise<AuthApp> {
  if (deps.masterKey.length !== 32) throw new TypeError('buildAuthApp: masterKey must be 32 bytes');
  const { config, db, logger } = deps;
  const clock = deps.clock ?? systemClock;
  const issuer = config.publicUrl;
  const redisKeyPrefix = deps.redisKeyPrefix ?? 'tessera:auth:';
  const stops: Array<() => void> = [];
  const telemetry = deps.telemetry ?? disabledTelemetry('auth');
  const httpMetrics = createHttpMetrics({ service: 'auth' }, { exemplars: telemetry.enabled });
  const metrics = createAuthMetrics(httpMetrics.registry);

  const signingKeys = SigningKeys.create({
    db,
    masterKey: deps.masterKey,
    clock,
    alg: config.signingAlg,
    propagationSeconds: config.keyPropagationSeconds,
    retentionSeconds: Math.max(MAX_ACCESS_TOKEN_TTL_S, config.idTokenTtlSeconds) + CLOCK_SKEW_S,
    logger,
    ...(deps.keyRefreshIntervalMs === undefined ? {} : { refreshIntervalMs: deps.keyRefreshIntervalMs }),
  });
  await signingKeys.init();
  const keys = signingKeys.primary;
  registerSigningKeyMetrics(httpMetrics.registry, signingKeys, config.signingKeyMaxAgeDays * 86_400);

  const clients = new ClientRepository(db, clock, {
    defaultAudience: config.apiAudience,
    accessTokenTtlSeconds: config.accessTokenTtlSeconds,
    idTokenAlgorithms: signingKeys.idTokenAlgorithms(),
  });
  const clientLookup = new CachedClientLookup(clients);
  const signer = tracedSigner(
    new JwtTokenSigner({ keys, idTokenKeys: (alg) => signingKeys.idTokenStore(alg), issuer, clock }),
    telemetry,
  );
  const idSet = (name: string, table: typeof revokedAccessTokens): ExpiringIdSet => {
    if (deps.redis) return new RedisIdSet(deps.redis, `${redisKeyPrefix}${name}:`, clock);
    const set = new DbIdSet(db, table, clock);
    stops.push(
      set.startSweeping(10 * 60_000, (err) =>
        logger.warn({ err: err instanceof Error ? err.name : 'error' }, `${name} sweep failed`),
      ),
    );
    return set;
  };
  const revocations = new RevocationAnnouncer({
    db,
    clock,
    redis: deps.redis,
    keyPrefix: redisKeyPrefix,
    listener: deps.onAccessTokenRevoked,
  });
  const denylist = new IdSetDenylist(idSet('denied', revokedAccessTokens), revocations);
  const replay = idSet('assertions', usedClientAssertions);

  let ownUsers: HttpUsersGateway | undefined;
  let users: UsersGateway;
  if (deps.users) {
    users = deps.users;
  } else {
    ownUsers = new HttpUsersGateway({
      baseUrl: config.usersUrl,
      signer,
      audience: config.apiAudience,
      clock,
      telemetry,
    });
    users = ownUsers;
  }

  const core: AuthCore = {
    db,
    clock,
    config,
    issuer,
    logger,
    clients: clientLookup,
    users,
    signer,
    denylist,
    jwks: () => signingKeys.publicJwks(),
    redis: deps.redis,
    redisKeyPrefix,
    metrics,
    telemetry,
  };
  const features = (deps.features ?? [flowsFeature]).map((factory) => factory(core));
  const grants: GrantHandler[] = [
    ...features.flatMap((feature) => feature.grantHandlers ?? []),
    createClientCredentialsGrant({ signer, defaultAudience: config.apiAudience }),
  ];
  const refreshTokens = features.find((feature) => feature.refreshTokenStore)?.refreshTokenStore;
  for (const feature of features) {
    const purge = feature.purgeExpired;
    if (!purge) continue;
    const timer = setInterval(
      () => {
        purge().then(
          (counts) => logger.info({ purged: counts }, 'expired state purged'),
          (err: unknown) =>
            logger.warn({ err: err instanceof Error ? err.name : 'error' }, 'purge of expired state failed'),
        );
      },
      deps.purgeIntervalMs ?? 5 * 60_000,
    );
    timer.unref();
    stops.push(() => clearInterval(timer));
  }

  const readiness: ReadinessCheck[] = [];
  const conn = deps.conn;
  if (conn) {
    registerPoolMetrics(conn, httpMetrics.registry);
    readiness.push({ name: 'postgres', critical: true, check: () => ping(conn) });
    readiness.push({
      name: 'migrations',
      critical: true,
      check: async () => {
        if ((await pendingMigrations(conn, authMigrations)) > 0) throw new Error('pending migrations');
      },
    });
  }
  const redis = deps.redis;
  if (redis) readiness.push({ name: 'redis', critical: false, check: async () => void (await redis.ping()) });

  const app = createHttpServer({
    name: 'auth',
    logger,
    corsOrigins: config.corsOrigins,
    metricsToken: config.metricsToken,
    hsts: issuer.startsWith('https:'),
    readiness,
    metrics: httpMetrics,
    telemetry,
    errorSink: deps.errorSink,
    ...(deps.trustProxy === undefined ? {} : { trustProxy: deps.trustProxy }),
  });
  // Registered before any route so every route's schema lands in the document (`/openapi.json`).
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Tessera auth service',
        version: TESSERA_VERSION,
        description:
          'OAuth 2.1 / OpenID Connect provider (discovery, authorization, token, revocation, introspection, ' +
          'userinfo, logout, hosted login and consent) and the admin API for clients and signing keys.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT (RFC 9068 at+jwt)' },
          clientSecretBasic: { type: 'http', scheme: 'basic' },
        },
      },
    },
  });
  app.get('/openapi.json', { logLevel: 'warn', schema: { hide: true } }, async () => app.swagger());

  const verifier = new LocalAccessTokenVerifier({ keys, issuer, clock });
  const authenticator = createClientAuthenticator({
    clients: clientLookup,
    assertionAudiences: [
      issuer,
      `${issuer}${TOKEN_PATH}`,
      `${issuer}${INTROSPECTION_PATH}`,
      `${issuer}${REVOCATION_PATH}`,
    ],
    replay,
    clock,
  });
  await app.register(async (scope) =>
    registerOAuthEndpoints(scope, {
      authenticator,
      grants,
      verifier,
      denylist,
      refreshTokens,
      issuer,
      metrics,
    }),
  );

  const metadata = buildMetadata({
    issuer,
    grantTypes: grants.map((grant) => grant.grantType),
    signingAlg: config.signingAlg,
    idTokenSigningAlgs: signingKeys.idTokenAlgorithms(),
    scopesSupported: deps.scopesSupported ?? DEFAULT_SCOPES_SUPPORTED,
    extra: Object.assign({}, ...features.map((feature) => feature.metadata ?? {})) as Record<string, unknown>,
  });
  registerDiscoveryRoutes(app, { metadata, jwks: () => signingKeys.publicJwks() });
  registerClientOriginsRoute(app, () => clients.list());

  // Grants revoked from outside the token flows: a disabled or deleted user's (the user service
  // tells the composition root), a deleted client's (the admin API).
  const grantRevocations = new GrantFamilies(db, clock, denylist, logger, metrics);
  const adminVerifier = createTokenVerifier({
    keys: verifier.getKey,
    issuer,
    audience: config.apiAudience,
    algorithms: ['ES256', 'EdDSA', 'RS256'],
    isRevoked: (jti) => denylist.has(jti),
    now: () => clock.now(),
  });
  await app.register(async (scope) => {
    await scope.register(fastifyAuth, { verifier: adminVerifier });
    // A removed administrator must not register a client (or rotate a key) with a token that has
    // minutes left: every write checks the user with the user service first.
    requireActiveUserOnWrites(scope, async (userId) => (await users.getUser(userId))?.status === 'active');
    refuseUndeclaredInput(scope);
    keepResponsesPrivate(scope);
    handleConditionalRequests(scope);
    // The admin API's document: bearer tokens, and problem documents for its errors.
    scope.addHook('onRoute', (route) => {
      route.schema = {
        security: [{ bearer: [] }],
        ...route.schema,
        response: { ...apiErrorResponses, ...(route.schema?.response as object | undefined) },
      };
    });
    registerClientAdminRoutes(scope, clients, (clientId) => grantRevocations.revokeClient(clientId));
    registerKeyAdminRoutes(scope, signingKeys);
  });

  for (const feature of features) {
    const routes = feature.routes;
    if (routes) await app.register(async (scope) => routes(scope));
  }

  return {
    app,
    core,
    keys,
    signingKeys,
    clients,
    clientLookup,
    revokedAccessTokens: () => revocations.list(),
    revokeUserGrants: (userId) => grantRevocations.revokeUser(userId, 'user_inactive'),
    async close() {
      for (const stop of stops) stop();
      await app.close();
      await ownUsers?.close();
    },
  };
}
