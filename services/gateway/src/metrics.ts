import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Gateway metrics, registered in the service's registry. */
export function createGatewayMetrics(registry: Registry) {
  return {
    upstreamRequests: new Counter({
      name: 'tessera_upstream_requests_total',
      help: 'Requests forwarded to upstreams, by pool and status (or error kind).',
      labelNames: ['upstream', 'status'] as const,
      registers: [registry],
    }),
    upstreamDuration: new Histogram({
      name: 'tessera_upstream_request_duration_seconds',
      help: 'Time to the upstream response headers, by pool.',
      labelNames: ['upstream'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
      registers: [registry],
    }),
    upstreamErrors: new Counter({
      name: 'tessera_upstream_errors_total',
      help: 'Upstream failures by pool and kind: connection, timeout, body (the response broke off after its headers were relayed).',
      labelNames: ['upstream', 'kind'] as const,
      registers: [registry],
    }),
    retries: new Counter({
      name: 'tessera_upstream_retries_total',
      help: 'Idempotent requests retried on another instance after a connection failure.',
      labelNames: ['upstream'] as const,
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'tessera_rate_limited_total',
      help: 'Requests refused with 429, by policy.',
      labelNames: ['policy'] as const,
      registers: [registry],
    }),
    rateLimiterErrors: new Counter({
      name: 'tessera_rate_limiter_errors_total',
      help: 'Rate-limit decisions that failed because Redis was unavailable, by outcome (fail_open, fail_closed).',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    circuit: new Gauge({
      name: 'tessera_upstream_circuit_state',
      help: 'Circuit state per instance: 0 closed, 1 half-open, 2 open.',
      labelNames: ['upstream', 'instance'] as const,
      registers: [registry],
    }),
    healthy: new Gauge({
      name: 'tessera_upstream_healthy',
      help: 'Last active health check per instance: 1 healthy, 0 not.',
      labelNames: ['upstream', 'instance', 'color'] as const,
      registers: [registry],
    }),
  };
}

export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;
