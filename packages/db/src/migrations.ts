import { readMigrationFiles } from 'drizzle-orm/migrator';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { rawQuery, type SqlConnection } from './connection.ts';

/**
 * Where a service keeps its migrations: the folder drizzle-kit generated, and the schema that
 * holds its bookkeeping table (each service owns one schema, so each tracks its own migrations).
 */
export interface MigrationSet {
  folder: string;
  schema: string;
}

const TABLE = '__migrations';

/**
 * Applies pending migrations in order, each in a transaction (same SQL on PGlite and PostgreSQL).
 * Concurrent starts on a real server are serialised by an advisory lock.
 *
 * @example
 * await applyMigrations(conn, { folder: new URL('../migrations', import.meta.url).pathname, schema: 'users' });
 */
export async function applyMigrations(conn: SqlConnection, set: MigrationSet): Promise<void> {
  const config = { migrationsFolder: set.folder, migrationsSchema: set.schema, migrationsTable: TABLE };
  if (conn.kind === 'pglite') {
    await migratePglite(drizzlePglite({ client: conn.pglite }), config);
    return;
  }
  const client = await conn.pool.connect();
  try {
    await client.query('select pg_advisory_lock(hashtext($1))', [`tessera:migrate:${set.schema}`]);
    try {
      await migratePg(drizzlePg({ client }), config);
    } finally {
      await client.query('select pg_advisory_unlock(hashtext($1))', [`tessera:migrate:${set.schema}`]);
    }
  } finally {
    client.release();
  }
}

/**
 * Counts the migrations in `set.folder` that the database has not applied yet (0 = up to date).
 * `/readyz` answers 503 while this is above zero.
 *
 * @example
 * if ((await pendingMigrations(conn, set)) > 0) reply.code(503);
 */
export async function pendingMigrations(conn: SqlConnection, set: MigrationSet): Promise<number> {
  const files = readMigrationFiles({ migrationsFolder: set.folder });
  const exists = await rawQuery<{ present: boolean }>(conn, `select to_regclass($1) is not null as present`, [
    `"${set.schema}"."${TABLE}"`,
  ]);
  if (!exists[0]?.present) return files.length;
  const applied = await rawQuery<{ hash: string }>(conn, `select hash from "${set.schema}"."${TABLE}"`);
  const done = new Set(applied.map((row) => row.hash));
  return files.filter((file) => !done.has(file.hash)).length;
}
