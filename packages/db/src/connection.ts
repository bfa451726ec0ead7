import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { EMBEDDED_SETTINGS, initialiseDataDirInChild, isInitialisedDataDir } from './embedded-init.ts';

/**
 * A connection to PostgreSQL: a `pg` pool on a real server, or one embedded PGlite instance
 * (real PostgreSQL compiled to WASM) that every service of the all-in-one process shares.
 *
 * @example
 * const conn = await openConnection({ url: 'postgres://postgres@127.0.0.1:5432/test' });
 * await ping(conn);
 * await closeConnection(conn);
 */
export type SqlConnection =
  { readonly kind: 'pg'; readonly pool: pg.Pool } | { readonly kind: 'pglite'; readonly pglite: PGlite };

/** Options for {@link openConnection}: `url` selects a real server, otherwise PGlite in `dataDir` (memory when absent). */
export interface ConnectionOptions {
  url?: string | undefined;
  dataDir?: string | undefined;
  poolMax?: number;
  statementTimeoutMs?: number;
  /** Called when an idle pool client fails (server restart, network): the pool drops it and recovers. */
  onPoolError?: (err: Error) => void;
}

/**
 * Opens a pool on `url`, or an embedded PGlite database persisted under `dataDir`.
 *
 * @example
 * const embedded = await openConnection({ dataDir: './.data/pg' });
 */
export async function openConnection(options: ConnectionOptions): Promise<SqlConnection> {
  if (options.url) {
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolMax ?? 10,
      statement_timeout: options.statementTimeoutMs ?? 10_000,
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: 30_000,
    });
    pool.on('error', (err) => options.onPoolError?.(err));
    return { kind: 'pg', pool };
  }
  // Loaded on demand: the WASM build is only needed in embedded mode.
  const { PGlite: Embedded } = await import('@electric-sql/pglite');
  if (options.dataDir && !isInitialisedDataDir(options.dataDir))
    await initialiseDataDirInChild(options.dataDir);
  const pglite = options.dataDir
    ? await Embedded.create({ dataDir: options.dataDir, ...EMBEDDED_SETTINGS })
    : await Embedded.create(EMBEDDED_SETTINGS);
  return { kind: 'pglite', pglite };
}

/**
 * Runs `select 1`; rejects when the database is unreachable. Used by `/readyz`.
 *
 * @example
 * await ping(conn).then(() => 'up', () => 'down');
 */
export async function ping(conn: SqlConnection, timeoutMs = 2_000): Promise<void> {
  await withTimeout(rawQuery(conn, 'select 1'), timeoutMs, 'database ping timed out');
}

/**
 * Runs one parameterised SQL statement outside Drizzle (migrations bookkeeping, health, tests).
 *
 * @example
 * const rows = await rawQuery<{ n: number }>(conn, 'select $1::int as n', [1]);
 */
export async function rawQuery<R = Record<string, unknown>>(
  conn: SqlConnection,
  sql: string,
  params: unknown[] = [],
): Promise<R[]> {
  if (conn.kind === 'pg') {
    const result = await conn.pool.query(sql, params);
    return result.rows as R[];
  }
  const result = await conn.pglite.query<R>(sql, params);
  return result.rows;
}

/**
 * Closes the pool, or closes PGlite cleanly (flushing its data directory).
 *
 * @example
 * process.once('SIGTERM', () => void closeConnection(conn));
 */
export async function closeConnection(conn: SqlConnection): Promise<void> {
  if (conn.kind === 'pg') await conn.pool.end();
  else if (!conn.pglite.closed) await conn.pglite.close();
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
