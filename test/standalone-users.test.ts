/**
 * `npm run start:users`: the user service starts alone in production mode on real PostgreSQL and
 * Redis (its own fresh database, its own Redis database), applies its migrations, answers its
 * health endpoints and OpenAPI document, and stops with exit code 0 on SIGTERM.
 */
import { afterEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createTestDatabase } from '@tessera/db/testing';
import {
  errorLogLines,
  redisDatabaseUrl,
  runAlone,
  onFreshPorts,
  startService,
  terminate,
  waitReady,
} from './support/standalone.ts';

/** A Redis database no other test file uses (the service's key prefix is not configurable). */
const REDIS_DATABASE = 7;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('the user service started alone (node services/users/src/main.ts)', () => {
  it('migrates a fresh database, turns ready, serves /livez and /openapi.json, and exits 0 on SIGTERM', async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const { users, ready } = await onFreshPorts(1, async ([port]) => {
      const users = startService('users', port!, {
        DATABASE_URL: database.url,
        REDIS_URL: redisDatabaseUrl(REDIS_DATABASE),
        USERS_HOST: '127.0.0.1',
        USERS_PORT: String(port),
      });
      // Whatever happens below, the process does not outlive the test.
      cleanups.push(() => users.kill());
      return { users, ready: await waitReady(users) };
    });
    const base = users.base;

    expect(ready?.status, `not ready within 30 s:\n${users.output()}`).toBe(200);
    // Both dependencies really in use: PostgreSQL (migrations applied) and Redis.
    expect(await ready!.json()).toEqual({ status: 'ok', checks: { postgres: 'up', redis: 'up' } });

    const live = await fetch(`${base}/livez`, { signal: AbortSignal.timeout(5_000) });
    expect(live.status).toBe(200);
    const openapi = await fetch(`${base}/openapi.json`, { signal: AbortSignal.timeout(5_000) });
    expect(openapi.status).toBe(200);
    const doc = (await openapi.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/users', '/v1/orgs']));
    // The API is protected: no token, 401 problem document.
    const anonymous = await fetch(`${base}/v1/users`, { signal: AbortSignal.timeout(5_000) });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('content-type')).toMatch(/^application\/problem\+json/);

    // The migrations were applied to the database it was given.
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const tables = await client.query<{ table_name: string }>(
        "select table_name from information_schema.tables where table_schema = 'users' order by 1",
      );
      expect(tables.rows.map((r) => r.table_name)).toEqual(
        expect.arrayContaining(['users', 'organizations', 'memberships', 'roles', 'membership_roles']),
      );
    } finally {
      await client.end();
    }

    expect(await terminate(users), users.output()).toBe(0);
    // Nothing above warn in production logs on a clean start and stop.
    expect(errorLogLines(users.output())).toEqual([]);
  }, 60_000);

  it('with Redis unreachable: starts degraded, serves, and still stops at once with exit 0 on SIGTERM', async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const { users, ready } = await onFreshPorts(1, async ([port]) => {
      const users = startService('users', port!, {
        DATABASE_URL: database.url,
        // Nothing listens on port 1: every Redis command fails, the subscriber keeps reconnecting.
        REDIS_URL: 'redis://127.0.0.1:1',
        USERS_HOST: '127.0.0.1',
        USERS_PORT: String(port),
      });
      cleanups.push(() => users.kill());
      return { users, ready: await waitReady(users) };
    });
    expect(ready?.status, `not ready within 30 s:\n${users.output()}`).toBe(200);
    expect(await ready!.json()).toEqual({ status: 'degraded', checks: { postgres: 'up', redis: 'down' } });
    const anonymous = await fetch(`${users.base}/v1/users`, { signal: AbortSignal.timeout(5_000) });
    expect(anonymous.status).toBe(401);
    // Shutdown must not wait for Redis (the cache used to wait for its offline subscriber: 15 s, exit 1).
    const started = Date.now();
    expect(await terminate(users, 5_000), users.output()).toBe(0);
    expect(Date.now() - started).toBeLessThan(3_000);
  }, 60_000);

  it('refuses to start alone without a database: exit code 1 and one line naming DATABASE_URL', () => {
    const result = runAlone('users', {});
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      'config: DATABASE_URL (or USERS_DATABASE_URL) is required when the user service runs alone',
    ]);
  });
});
