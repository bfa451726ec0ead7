/** Test-only: a user service on a fresh PostgreSQL database, with a local token issuer. */
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import { Writable } from 'node:stream';
import { createTokenVerifier } from '@tessera/auth-middleware';
import { createTestIssuer, type TestIssuer } from '@tessera/auth-middleware/testing';
import { connectRedis } from '@tessera/cache';
import {
  applyMigrations,
  closeConnection,
  createDrizzle,
  openConnection,
  rawQuery,
  type SqlConnection,
} from '@tessera/db';
import { createTestDatabase, TEST_REDIS_URL, testKeyPrefix } from '@tessera/db/testing';
import { createLogger, type HttpServer } from '@tessera/kernel';
import { buildUsersApp, type UsersApp } from './app.ts';
import type { UsersDb } from './db/database.ts';
import { schema } from './db/schema.ts';
import { usersMigrations } from './migrations.ts';

export interface Harness {
  app: HttpServer;
  url: string;
  db: UsersDb;
  conn: SqlConnection;
  issuer: TestIssuer;
  users: UsersApp;
  /** Bearer header for a token with these claims (`sub` defaults to the client `client:test-admin`). */
  bearer(claims?: Record<string, unknown>): Promise<string>;
  count(table: string): Promise<number>;
  /**
   * Through the API, as an administrator: creates a user, an organization and a role with
   * `permissions`, and makes the user a member holding that role.
   */
  memberWithRole(input: MemberWithRole): Promise<{ userId: string; orgId: string; roleId: string }>;
  close(): Promise<void>;
}

/** What {@link Harness.memberWithRole} creates. */
export interface MemberWithRole {
  email: string;
  password?: string;
  org: { slug: string; name: string };
  role: { name: string; permissions: string[] };
}

export async function startUsersHarness(options: { redis?: boolean } = {}): Promise<Harness> {
  const database = await createTestDatabase();
  const conn = await openConnection({ url: database.url });
  await applyMigrations(conn, usersMigrations);
  const issuer = await createTestIssuer();
  const db = createDrizzle(conn, schema);
  let redis: Redis | undefined;
  let subscriber: Redis | undefined;
  if (options.redis) {
    redis = await connectRedis(TEST_REDIS_URL);
    subscriber = await connectRedis(TEST_REDIS_URL, { subscriber: true });
  }
  const logger = createLogger({
    name: 'users',
    level: 'warn',
    destination: new Writable({ write: (_c, _e, cb) => cb() }),
  });
  const users = await buildUsersApp({
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
    keyPrefix: testKeyPrefix('users'),
  });
  await users.app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(users.app.server.address() as AddressInfo).port}`;
  return {
    app: users.app,
    url,
    db,
    conn,
    issuer,
    users,
    // Without a `sub`, an administration client's token: a random user id would be refused on
    // writes (its user does not exist; see users/active-user-check.ts).
    bearer: async (claims = {}) => `Bearer ${await issuer.mint({ sub: 'client:test-admin', ...claims })}`,
    async memberWithRole({ email, password, org, role }) {
      const admin = `Bearer ${await issuer.mint({
        sub: 'client:test-admin',
        permissions: ['users:write', 'orgs:write'],
      })}`;
      const call = async (method: string, path: string, status: number, body?: object) => {
        const res = await fetch(`${url}${path}`, {
          method,
          headers: { authorization: admin, ...(body ? { 'content-type': 'application/json' } : {}) },
          ...(body ? { body: JSON.stringify(body) } : {}),
        });
        if (res.status !== status) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
        return status === 204 ? undefined : ((await res.json()) as { id: string });
      };
      const userId = (await call('POST', '/v1/users', 201, { email, ...(password ? { password } : {}) }))!.id;
      const orgId = (await call('POST', '/v1/orgs', 201, org))!.id;
      const roleId = (await call('POST', `/v1/orgs/${orgId}/roles`, 201, role))!.id;
      await call('PUT', `/v1/orgs/${orgId}/members/${userId}`, 204);
      await call('PUT', `/v1/orgs/${orgId}/members/${userId}/roles/${roleId}`, 204);
      return { userId, orgId, roleId };
    },
    count: async (table) =>
      Number((await rawQuery<{ n: string }>(conn, `select count(*) as n from users.${table}`))[0]!.n),
    async close() {
      await users.app.close();
      redis?.disconnect();
      subscriber?.disconnect();
      await issuer.close();
      await closeConnection(conn);
      await database.drop();
    },
  };
}
