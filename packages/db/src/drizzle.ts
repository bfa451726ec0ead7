import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import type { SqlConnection } from './connection.ts';

/** A Drizzle database over either driver; repositories are written once against this type. */
export type Database<TSchema extends Record<string, unknown>> = PgDatabase<PgQueryResultHKT, TSchema>;

/** Options for {@link createDrizzle}. */
export interface DrizzleOptions {
  /** Called with the SQL text of every statement (never its parameters): statement counting, tracing. */
  onQuery?: (sql: string) => void;
}

/**
 * Wraps a connection in Drizzle with the given table schema (for relational queries).
 *
 * @example
 * const db = createDrizzle(conn, schema, { onQuery: () => count++ });
 * const user = await db.query.users.findFirst({ where: eq(users.id, id) });
 */
export function createDrizzle<TSchema extends Record<string, unknown>>(
  conn: SqlConnection,
  schema: TSchema,
  options: DrizzleOptions = {},
): Database<TSchema> {
  const onQuery = options.onQuery;
  const logger = onQuery ? { logQuery: (query: string) => onQuery(query) } : undefined;
  if (conn.kind === 'pg') {
    return drizzlePg({ client: conn.pool, schema, ...(logger ? { logger } : {}) });
  }
  return drizzlePglite({ client: conn.pglite, schema, ...(logger ? { logger } : {}) });
}
