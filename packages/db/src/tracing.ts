import type { Transaction } from '@electric-sql/pglite';
import type pg from 'pg';
import { clientSpan, sanitizeSql, sqlOperation, type Telemetry } from '@tessera/telemetry';
import type { SqlConnection } from './connection.ts';

type QueryFn = (...args: unknown[]) => Promise<unknown>;

/**
 * A view of `conn` whose every statement runs in a CLIENT span of `telemetry`'s service
 * (`db.system.name: postgresql`, statement text with string literals masked, never parameter
 * values). The underlying pool or PGlite instance is shared, not copied: services of the
 * all-in-one process each take their own view of one connection. Returns `conn` itself when
 * tracing is off.
 *
 * @example
 * const traced = traceConnection(conn, telemetry);
 * const db = createDrizzle(traced, schema);
 */
export function traceConnection(conn: SqlConnection, telemetry: Telemetry): SqlConnection {
  if (!telemetry.enabled) return conn;
  const traced = (target: object, method: 'query' | 'exec') =>
    tracedQuery(telemetry, (target as Record<string, QueryFn>)[method]!.bind(target));
  if (conn.kind === 'pg') {
    const pool = conn.pool;
    const attributes = serverAttributes(pool.options.host, pool.options.port);
    const wrapClient = (client: pg.PoolClient): pg.PoolClient =>
      overlay(client, { query: tracedQuery(telemetry, client.query.bind(client) as QueryFn, attributes) });
    const view = overlay(pool, {
      query: tracedQuery(telemetry, pool.query.bind(pool) as QueryFn, attributes),
      connect: async () => wrapClient(await pool.connect()),
    });
    return { kind: 'pg', pool: view };
  }
  const pglite = conn.pglite;
  const wrapTx = (tx: Transaction): Transaction =>
    overlay(tx, { query: traced(tx, 'query'), exec: traced(tx, 'exec') });
  const view = overlay(pglite, {
    query: traced(pglite, 'query'),
    exec: traced(pglite, 'exec'),
    transaction: <T>(fn: (tx: Transaction) => Promise<T>) => pglite.transaction((tx) => fn(wrapTx(tx))),
  });
  return { kind: 'pglite', pglite: view };
}

function tracedQuery(
  telemetry: Telemetry,
  query: QueryFn,
  attributes: Record<string, string | number> = {},
): QueryFn {
  return (...args: unknown[]) => {
    const first = args[0];
    const text =
      typeof first === 'string'
        ? first
        : typeof (first as { text?: unknown } | null)?.text === 'string'
          ? (first as { text: string }).text
          : '';
    // A callback-style call (pg's `query(text, cb)`) is passed through untraced.
    if (typeof args[args.length - 1] === 'function') return query(...args);
    return clientSpan(
      telemetry,
      sqlOperation(text),
      {
        'db.system.name': 'postgresql',
        'db.operation.name': sqlOperation(text),
        'db.query.text': sanitizeSql(text),
        ...attributes,
      },
      () => query(...args),
    );
  };
}

function serverAttributes(
  host: string | undefined,
  port: number | undefined,
): Record<string, string | number> {
  return { 'server.address': host ?? '127.0.0.1', 'server.port': port ?? 5432 };
}

/**
 * A proxy of `target` where `overrides` replace members and every other method stays bound to
 * the real object (so private fields and `instanceof` keep working).
 */
function overlay<T extends object>(target: T, overrides: Record<string, unknown>): T {
  const bound = new Map<PropertyKey, { fn: unknown; boundFn: unknown }>();
  return new Proxy(target, {
    get(obj, prop) {
      if (typeof prop === 'string' && Object.hasOwn(overrides, prop)) return overrides[prop];
      const value: unknown = Reflect.get(obj, prop, obj);
      if (typeof value !== 'function') return value;
      const cached = bound.get(prop);
      if (cached?.fn === value) return cached.boundFn;
      const boundFn = (value as (...a: unknown[]) => unknown).bind(obj);
      bound.set(prop, { fn: value, boundFn });
      return boundFn;
    },
  });
}
