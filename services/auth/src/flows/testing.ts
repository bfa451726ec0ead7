/**
 * Test support for the flows: the real auth service (`buildAuthApp` through `startAuthServer`:
 * migrated PostgreSQL or PGlite, key store, signer, client registry, token endpoint) listening on
 * 127.0.0.1 with the flows built from a test configuration, a clock tests move by hand, and an
 * in-memory user service whose users tests can disable or re-role. Not used outside tests.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import {
  applyMigrations,
  closeConnection,
  createDrizzle,
  openConnection,
  type SqlConnection,
} from '@tessera/db';
import { testKeyPrefix, TEST_REDIS_URL } from '@tessera/db/testing';
import type { Clock } from '@tessera/kernel';
import type {
  AccessTokenDenylist,
  AuthzContext,
  OAuthClient,
  UserProfile,
  UsersGateway,
} from '../contracts.ts';
import type { AuthCore } from '../app.ts';
import type { ClientInput } from '../clients/repository.ts';
import type { AuthDatabase } from '../db/database.ts';
import { authMigrations } from '../db/migrations.ts';
import * as schema from '../db/schema.ts';
import { FLOWS_METADATA } from '../flows-feature.ts';
import { createTestAuthDatabase, startAuthServer, type StartedAuthServer } from '../testing.ts';
import { createFlows, type Flows } from './plugin.ts';
import { DEFAULT_FLOW_CONFIG, type FlowConfig, type LoginGuardConfig } from './deps.ts';

/** A clock tests move by hand. */
export class TestClock implements Clock {
  #now: number;
  constructor(start = Date.now()) {
    this.#now = start;
  }
  now(): number {
    return this.#now;
  }
  advance(ms: number): void {
    this.#now += ms;
  }
}

/** A client registration for tests: a complete client (usable where an OAuthClient is) and valid registry input. */
export type TestClient = Omit<OAuthClient, 'jwks'> & { secret?: string };

/** A public first-party client with the flows' scopes, refresh tokens and sensible lifetimes. */
export function testClient(overrides: Partial<TestClient> & { clientId: string }): TestClient {
  return {
    name: `App ${overrides.clientId}`,
    type: 'public',
    tokenEndpointAuthMethod: 'none',
    redirectUris: ['http://127.0.0.1:5173/callback'],
    postLogoutRedirectUris: ['http://127.0.0.1:5173/'],
    grantTypes: ['authorization_code', 'refresh_token'],
    scopes: ['openid', 'profile', 'email', 'offline_access', 'users:read'],
    audiences: ['tessera-api'],
    accessTokenTtlSeconds: 600,
    refreshTokenIdleTtlSeconds: 3600,
    refreshTokenAbsoluteTtlSeconds: 86_400,
    firstParty: true,
    ...overrides,
  };
}

/** A user of the fake user service. */
export interface TestUser {
  profile: UserProfile;
  password: string;
  organizations: Array<{ id: string; slug: string; name: string; roles: string[]; permissions: string[] }>;
}

/** The user service's internal API, in memory; counts credential checks. */
export class MemoryUsers implements UsersGateway {
  readonly byId = new Map<string, TestUser>();
  verifications = 0;

  add(email: string, password: string, organizations: TestUser['organizations'] = []): TestUser {
    const id = randomUUID();
    const user: TestUser = {
      profile: {
        id,
        email,
        emailVerified: true,
        name: `User ${email.split('@')[0] ?? ''}`,
        status: 'active',
        passwordChangedAt: null,
        updatedAt: new Date().toISOString(),
      },
      password,
      organizations,
    };
    this.byId.set(id, user);
    return user;
  }

  verifyCredentials(email: string, password: string): Promise<{ userId: string } | undefined> {
    this.verifications += 1;
    const user = [...this.byId.values()].find((u) => u.profile.email === email.toLowerCase());
    const ok = user && user.password === password && user.profile.status === 'active';
    return Promise.resolve(ok ? { userId: user.profile.id } : undefined);
  }

  getUser(userId: string): Promise<UserProfile | undefined> {
    return Promise.resolve(this.byId.get(userId)?.profile);
  }

  listOrganizations(userId: string): Promise<Array<{ id: string; slug: string; name: string }>> {
    const orgs = this.byId.get(userId)?.organizations ?? [];
    return Promise.resolve(orgs.map(({ id, slug, name }) => ({ id, slug, name })));
  }

  getAuthz(userId: string, orgId: string): Promise<AuthzContext | undefined> {
    const org = this.byId.get(userId)?.organizations.find((o) => o.id === orgId);
    return Promise.resolve(
      org ? { userId, orgId, orgSlug: org.slug, roles: org.roles, permissions: org.permissions } : undefined,
    );
  }
}

/** Registers clients in the real client registry. */
export class TestClients {
  readonly #server: () => StartedAuthServer;
  constructor(server: () => StartedAuthServer) {
    this.#server = server;
  }
  async add(client: TestClient): Promise<TestClient> {
    const input: ClientInput = client;
    await this.#server().auth.clients.create(input);
    return client;
  }
  /** Creates or updates (by id), as a seed file applied again does. */
  async upsert(client: TestClient): Promise<void> {
    await this.#server().auth.clients.upsert(client);
  }
  async delete(clientId: string): Promise<boolean> {
    return this.#server().auth.clients.delete(clientId);
  }
}

/** A running auth server with the flows, built from a test configuration. */
export interface FlowServer {
  url: string;
  conn: SqlConnection;
  db: AuthDatabase;
  clock: TestClock;
  clients: TestClients;
  users: MemoryUsers;
  denylist: AccessTokenDenylist;
  flows: Flows;
  redis: Redis | undefined;
  redisKeyPrefix: string | undefined;
  close(): Promise<void>;
}

/** Options of {@link startFlowServer}. */
export interface FlowServerOptions {
  config?: Partial<Omit<FlowConfig, 'issuer' | 'loginGuard'>> & { loginGuard?: Partial<LoginGuardConfig> };
  /** Keep Redis-backed state (login counters, denylist) in the test Redis under a key prefix of its own. */
  redis?: boolean;
  /** Real PostgreSQL (default, a fresh database) or embedded PGlite in memory. */
  driver?: 'pg' | 'pglite';
}

async function openDatabase(
  driver: 'pg' | 'pglite',
): Promise<{ conn: SqlConnection; db: AuthDatabase; drop: () => Promise<void> }> {
  if (driver === 'pg') return createTestAuthDatabase();
  const conn = await openConnection({});
  await applyMigrations(conn, authMigrations);
  return {
    conn,
    db: createDrizzle(conn, schema) as unknown as AuthDatabase,
    drop: () => closeConnection(conn),
  };
}

/**
 * Starts the auth service (issuer = its own `http://127.0.0.1:<port>`) on a fresh database with
 * the flows built from `options.config` (login guard delays shortened), a {@link TestClock} and
 * {@link MemoryUsers}.
 */
export async function startFlowServer(options: FlowServerOptions = {}): Promise<FlowServer> {
  const database = await openDatabase(options.driver ?? 'pg');
  const clock = new TestClock();
  const users = new MemoryUsers();
  const redis = options.redis ? new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 }) : undefined;
  const redisKeyPrefix = redis ? testKeyPrefix('flows') : undefined;
  let flows: Flows | undefined;
  let core: AuthCore | undefined;
  const started = await startAuthServer({
    db: database.db,
    conn: database.conn,
    clock,
    users,
    redis,
    redisKeyPrefix,
    masterKey: randomBytes(32),
    features: [
      (authCore) => {
        core = authCore;
        const config: FlowConfig = {
          ...DEFAULT_FLOW_CONFIG,
          ...options.config,
          loginGuard: {
            ...DEFAULT_FLOW_CONFIG.loginGuard,
            baseDelayMs: 5,
            maxDelayMs: 20,
            ...options.config?.loginGuard,
          },
          issuer: authCore.issuer,
        };
        flows = createFlows({ ...authCore, config });
        const metadata: Record<string, unknown> = { ...FLOWS_METADATA };
        for (const name of ['authorization_endpoint', 'userinfo_endpoint', 'end_session_endpoint'] as const) {
          metadata[name] = `${authCore.issuer}${FLOWS_METADATA[name]}`;
        }
        return { ...flows, metadata };
      },
    ],
  });
  if (!flows || !core) throw new Error('the flows feature was not built');
  const server: FlowServer = {
    url: started.url,
    conn: database.conn,
    db: database.db,
    clock,
    clients: new TestClients(() => started),
    users,
    denylist: core.denylist,
    flows,
    redis,
    redisKeyPrefix,
    async close() {
      await started.close();
      if (redis && redisKeyPrefix) {
        const keys = await redis.keys(`${redisKeyPrefix}*`);
        if (keys.length > 0) await redis.del(...keys);
        redis.disconnect();
      }
      await database.drop();
    },
  };
  return server;
}

/** A PKCE verifier and its S256 challenge. */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomUUID().replaceAll('-', '') + randomUUID().replaceAll('-', '');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** The hidden CSRF token of a hosted page. */
export function csrfOf(html: string): string {
  const match = /name="csrf" value="([^"]+)"/.exec(html);
  if (!match?.[1]) throw new Error('no csrf field on the page');
  return match[1];
}

/** The value of one query parameter of a Location header. */
export function queryOf(location: string | undefined, base = 'http://x'): URLSearchParams {
  if (!location) throw new Error('no Location header');
  return new URL(location, base).searchParams;
}
