/**
 * Test support for the auth service: a fresh migrated database per test file and a listening
 * server whose issuer is its own URL (openid-client and the login form's Origin check need that).
 * Not used outside tests.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { createLogger } from '@tessera/kernel';
import {
  applyMigrations,
  closeConnection,
  createDrizzle,
  openConnection,
  type SqlConnection,
} from '@tessera/db';
import { createTestDatabase } from '@tessera/db/testing';
import { buildAuthApp, type AuthApp, type AuthAppDeps } from './app.ts';
import { defaultAuthConfig, type AuthConfig } from './config.ts';
import type { AuthDatabase } from './db/database.ts';
import { authMigrations } from './db/migrations.ts';
import * as schema from './db/schema.ts';

/** A migrated database of its own. */
export interface TestAuthDatabase {
  conn: SqlConnection;
  db: AuthDatabase;
  drop(): Promise<void>;
}

/**
 * Creates a database on the test server, applies the auth migrations, and returns it.
 *
 * @example
 * const database = await createTestAuthDatabase();
 * afterAll(() => database.drop());
 */
export async function createTestAuthDatabase(): Promise<TestAuthDatabase> {
  const testDb = await createTestDatabase();
  const conn = await openConnection({ url: testDb.url, poolMax: 5 });
  await applyMigrations(conn, authMigrations);
  const db = createDrizzle(conn, schema) as unknown as AuthDatabase;
  return {
    conn,
    db,
    async drop() {
      await closeConnection(conn);
      await testDb.drop();
    },
  };
}

/** A running auth service. */
export interface StartedAuthServer {
  /** `http://127.0.0.1:<port>`, also the issuer. */
  url: string;
  auth: AuthApp;
  close(): Promise<void>;
}

/** What {@link startAuthServer} needs: the deps of `buildAuthApp` with a partial config and defaults for the rest. */
export type TestServerDeps = Omit<AuthAppDeps, 'config' | 'logger' | 'masterKey'> &
  Partial<Pick<AuthAppDeps, 'logger' | 'masterKey'>> & { config?: Partial<AuthConfig> };

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Picks a free loopback port, builds the service with `publicUrl = http://127.0.0.1:<port>`, and
 * listens on it.
 *
 * @example
 * const server = await startAuthServer({ db: database.db, features: [] });
 * await request(server.url).get('/.well-known/openid-configuration').expect(200);
 */
export async function startAuthServer(deps: TestServerDeps): Promise<StartedAuthServer> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const auth = await buildAuthApp({
      ...deps,
      config: defaultAuthConfig({ ...deps.config, publicUrl: url, port, host: '127.0.0.1' }),
      logger: deps.logger ?? createLogger({ name: 'auth', level: 'silent' }),
      masterKey: deps.masterKey ?? randomBytes(32),
    });
    try {
      await auth.app.listen({ host: '127.0.0.1', port });
      return { url, auth, close: () => auth.close() };
    } catch (err) {
      await auth.close();
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 3) throw err;
    }
  }
}
