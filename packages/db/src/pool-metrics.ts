import { Gauge, type Registry } from 'prom-client';
import type { SqlConnection } from './connection.ts';

/**
 * Registers `tessera_db_pool_connections{state}` (total, idle, waiting), read from the pool at
 * scrape time. An embedded PGlite database is one connection with no queue.
 *
 * @example
 * registerPoolMetrics(conn, metrics.registry);
 */
export function registerPoolMetrics(conn: SqlConnection, registry: Registry): void {
  if (registry.getSingleMetric('tessera_db_pool_connections')) return;
  new Gauge({
    name: 'tessera_db_pool_connections',
    help: 'Database connections of this service, by state (total, idle, waiting = callers queued for one).',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      if (conn.kind === 'pg') {
        this.set({ state: 'total' }, conn.pool.totalCount);
        this.set({ state: 'idle' }, conn.pool.idleCount);
        this.set({ state: 'waiting' }, conn.pool.waitingCount);
      } else {
        this.set({ state: 'total' }, conn.pglite.closed ? 0 : 1);
        this.set({ state: 'idle' }, 0);
        this.set({ state: 'waiting' }, 0);
      }
    },
  });
}
