/**
 * `npm run start:users`: the user service starts alone in production mode on real PostgreSQL and
 * Redis (its own fresh database, its own Redis database), applies its migrations, answers its
 * health endpoints and OpenAPI document, and stops with exit code 0 on SIGTERM.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createTestDatabase, TEST_REDIS_URL } from '@tessera/db/testing';
import { freePort } from './support/platform.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
/** A Redis database no other test file uses (the service's key prefix is not configurable). */
const REDIS_DATABASE = 7;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Environment of a production start: only what the test sets, nothing inherited that configures Tessera. */
function serviceEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) =>
        !/^(USERS_|DATABASE_URL|REDIS_URL|TESSERA_|OTEL_|SENTRY_|LOG_LEVEL|CORS_ORIGINS)/.test(name),
    ),
  );
  return { ...inherited, NODE_ENV: 'production', LOG_LEVEL: 'warn', ...env };
}

function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('the user service started alone (node services/users/src/main.ts)', () => {
  it('migrates a fresh database, turns ready, serves /livez and /openapi.json, and exits 0 on SIGTERM', async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const redisUrl = new URL(TEST_REDIS_URL);
    redisUrl.pathname = `/${REDIS_DATABASE}`;
    const port = await freePort();
    const child = spawn(process.execPath, ['services/users/src/main.ts'], {
      cwd: root,
      env: serviceEnv({
        DATABASE_URL: database.url,
        REDIS_URL: redisUrl.toString(),
        USERS_HOST: '127.0.0.1',
        USERS_PORT: String(port),
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    // Whatever happens below, the process does not outlive the test.
    cleanups.push(async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exitOf(child);
      }
    });
    const base = `http://127.0.0.1:${port}`;

    const deadline = Date.now() + 30_000;
    let ready: Response | undefined;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode}:\n${output}`);
      ready = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
      if (ready?.status === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(ready?.status, `not ready within 30 s:\n${output}`).toBe(200);
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

    const exited = exitOf(child);
    child.kill('SIGTERM');
    expect(await within(exited, 15_000, 'exit after SIGTERM'), output).toBe(0);
    // Nothing above warn in production logs on a clean start and stop.
    expect(output).not.toMatch(/"level":(50|60)/);
  }, 60_000);

  it('refuses to start alone without a database: exit code 1 and one line naming DATABASE_URL', () => {
    const result = spawnSync(process.execPath, ['services/users/src/main.ts'], {
      cwd: root,
      env: serviceEnv({}),
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      'config: DATABASE_URL (or USERS_DATABASE_URL) is required when the user service runs alone',
    ]);
  });
});
