import { hostname } from 'node:os';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The platform's version, reported by `tessera_build_info`. */
export const TESSERA_VERSION = '0.1.0';

/** The HTTP RED metrics every server records, by route template and status. */
export interface HttpMetrics {
  registry: Registry;
  requests: Counter<'method' | 'route' | 'status_code'>;
  duration: Histogram<'method' | 'route' | 'status_code'>;
  /** Durations carry the trace id as an exemplar (OpenMetrics scrapes show it). */
  exemplars: boolean;
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
export function createHttpMetrics(
  labels: { service: string },
  options: { exemplars?: boolean; version?: string } = {},
): HttpMetrics {
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
    // Registered below: prom-client refuses exemplars on a registry created in Prometheus format,
    // though it prints them whenever a scrape renders OpenMetrics (see renderMetrics).
    registers: [],
    enableExemplars: options.exemplars ?? false,
  });
  registry.registerMetric(duration);
  new Gauge({
    name: 'tessera_build_info',
    help: 'Always 1; labels say which version runs in which instance (host:pid).',
    labelNames: ['version', 'instance'] as const,
    registers: [registry],
  }).set({ version: options.version ?? TESSERA_VERSION, instance: `${hostname()}:${process.pid}` }, 1);
  return { registry, requests, duration, exemplars: options.exemplars ?? false };
}

const scrapes = new WeakMap<Registry, Promise<unknown>>();

interface SwitchableRegistry {
  setContentType(type: string): void;
  metrics(): Promise<string>;
  getMetricsAsArray(): Array<{ type?: unknown; name: string }>;
}

/**
 * Renders `registry` for a scrape: Prometheus text by default, OpenMetrics (with exemplars) when
 * the scraper's `Accept` asks for it. prom-client switches format per registry and renames
 * counters while rendering OpenMetrics, so scrapes of one registry run one at a time and the
 * names are restored afterwards.
 *
 * @example
 * const { contentType, body } = await renderMetrics(registry, request.headers.accept);
 */
export async function renderMetrics(
  registry: Registry,
  accept: string | undefined,
): Promise<{ contentType: string; body: string }> {
  const openMetrics = accept?.includes('application/openmetrics-text') ?? false;
  // prom-client types a registry's format as fixed; this one switches it for one scrape.
  const switchable = registry as unknown as SwitchableRegistry;
  const render = async () => {
    if (!openMetrics) return { contentType: registry.contentType, body: await registry.metrics() };
    const counters = switchable
      .getMetricsAsArray()
      .filter((m) => m.type === 'counter')
      .map((m) => [m, m.name] as const);
    switchable.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    try {
      return { contentType: Registry.OPENMETRICS_CONTENT_TYPE, body: await switchable.metrics() };
    } finally {
      switchable.setContentType(Registry.PROMETHEUS_CONTENT_TYPE);
      for (const [metric, name] of counters) metric.name = name;
    }
  };
  const previous = scrapes.get(registry) ?? Promise.resolve();
  const next = previous.then(render, render);
  scrapes.set(registry, next);
  return next;
}
