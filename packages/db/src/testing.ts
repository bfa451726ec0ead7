import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { closeConnection, openConnection, type SqlConnection } from './connection.ts';

/** The server tests run against; `DATABASE_URL` overrides it. */
export const TEST_DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** The Redis tests run against; `REDIS_URL` overrides it. */
export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Creates a fresh, empty database on the test server so a test file is isolated from every other
 * file running in parallel. Call `drop()` in `afterAll`.
 *
 * @example
 * const testDb = await createTestDatabase();
 * const conn = await openConnection({ url: testDb.url });
 * afterAll(() => testDb.drop());
 */
export async function createTestDatabase(): Promise<{
  url: string;
  name: string;
  drop: () => Promise<void>;
}> {
  const name = `tessera_t_${randomBytes(6).toString('hex')}`;
  await adminQuery(`create database "${name}"`);
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () => adminQuery(`drop database if exists "${name}" with (force)`),
  };
}

/**
 * A Redis key prefix unique to one test file, so files can share one Redis.
 *
 * @example
 * const cache = createTwoLevelCache({ keyPrefix: testKeyPrefix('cache') , ... });
 */
export function testKeyPrefix(label = 't'): string {
  return `test:${label}:${randomBytes(6).toString('hex')}:`;
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * The two drivers a repository suite runs on (HOUSE-STYLE rule 12), for `describe.each`: each
 * entry opens a fresh connection — PostgreSQL in a new database of its own, PGlite in memory — and
 * registers its cleanup (drop, close) in `cleanups`, which the file runs in `afterAll`.
 *
 * @example
 * const cleanups: Array<() => Promise<void>> = [];
 * afterAll(async () => { for (const c of cleanups.reverse()) await c(); });
 * describe.each(testDrivers(cleanups))('repository on %s', (_name, open) => { ... });
 */
export function testDrivers(
  cleanups: Array<() => Promise<void>>,
): Array<[name: string, open: () => Promise<SqlConnection>]> {
  return [
    [
      'PostgreSQL',
      async () => {
        const database = await createTestDatabase();
        const conn = await openConnection({ url: database.url });
        cleanups.push(
          () => database.drop(),
          () => closeConnection(conn),
        );
        return conn;
      },
    ],
    [
      'PGlite',
      async () => {
        const conn = await openConnection({});
        cleanups.push(() => closeConnection(conn));
        return conn;
      },
    ],
  ];
}
