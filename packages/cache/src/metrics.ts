import { Counter, Histogram, type Registry } from 'prom-client';

/** The cache metrics, created once per registry and shared by every cache in it (label `cache`). */
export interface CacheMetrics {
  requests: Counter<'cache' | 'level' | 'result'>;
  loadDuration: Histogram<'cache'>;
  invalidations: Counter<'cache' | 'direction'>;
}

const perRegistry = new WeakMap<Registry, CacheMetrics>();

/**
 * Returns the cache metrics registered in `registry` (creating them on first use).
 *
 * @example
 * const metrics = cacheMetrics(registry);
 * metrics.requests.inc({ cache: 'authz', level: 'l1', result: 'hit' });
 */
export function cacheMetrics(registry: Registry): CacheMetrics {
  let metrics = perRegistry.get(registry);
  if (!metrics) {
    metrics = {
      requests: new Counter({
        name: 'tessera_cache_requests_total',
        help: 'Cache lookups by cache, level (l1, l2) and result (hit, miss, error).',
        labelNames: ['cache', 'level', 'result'] as const,
        registers: [registry],
      }),
      loadDuration: new Histogram({
        name: 'tessera_cache_load_duration_seconds',
        help: 'Time spent in the loader (the database) after a miss on every level.',
        labelNames: ['cache'] as const,
        buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
        registers: [registry],
      }),
      invalidations: new Counter({
        name: 'tessera_cache_invalidations_total',
        help: 'Invalidations sent to and received from other instances over pub/sub.',
        labelNames: ['cache', 'direction'] as const,
        registers: [registry],
      }),
    };
    perRegistry.set(registry, metrics);
  }
  return metrics;
}
