import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** The HTTP RED metrics every server records, by route template and status. */
export interface HttpMetrics {
  registry: Registry;
  requests: Counter<'method' | 'route' | 'status_code'>;
  duration: Histogram<'method' | 'route' | 'status_code'>;
}

/**
 * A fresh Prometheus registry with process metrics (event-loop lag, heap, GC, CPU) and the HTTP
 * request counter and duration histogram. One per service, never the global registry, so several
 * services can live in one process.
 *
 * @example
 * const metrics = createHttpMetrics({ service: 'users' });
 * await metrics.registry.metrics();
 */
export function createHttpMetrics(labels: { service: string }): HttpMetrics {
  const registry = new Registry();
  registry.setDefaultLabels(labels);
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests served, by route template and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration in seconds, by route template and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  return { registry, requests, duration };
}
