import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  trace,
  TraceFlags,
  type TextMapGetter,
} from '@opentelemetry/api';
import { newSpanId, newTraceId, PooledIdGenerator } from './ids.ts';
import { policySampler, samplingPolicy, validSpanContext } from './sampling.ts';
import {
  disabledTelemetry,
  runInSpan,
  type HeaderCarrier,
  type Telemetry,
  type TelemetryOptions,
} from './telemetry.ts';

const headerGetter: TextMapGetter<HeaderCarrier> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};
let contextManagerInstalled = false;

/** Installs the AsyncLocalStorage context manager and W3C propagator once per process (every provider shares them). */
async function ensureContextManager(): Promise<void> {
  if (contextManagerInstalled) return;
  const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
  const { W3CTraceContextPropagator } = await import('@opentelemetry/core');
  if (contextManagerInstalled) return;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  contextManagerInstalled = true;
}

/**
 * Creates one service's tracer provider (its own resource, so several services can share a
 * process and still appear as themselves), or a disabled telemetry when no OTLP endpoint is set.
 *
 * @example
 * const telemetry = createTelemetry({ service: 'users', config: telemetryConfigFromEnv(process.env) });
 */
export async function createTelemetry(options: TelemetryOptions): Promise<Telemetry> {
  let exporter = options.exporter;
  if (!exporter && options.config.tracesEndpoint) {
    // Loaded only when tracing is on: a process without an endpoint never loads the SDK.
    const { OTLPTraceExporter } =
      options.config.protocol === 'http/json'
        ? await import('@opentelemetry/exporter-trace-otlp-http')
        : await import('@opentelemetry/exporter-trace-otlp-proto');
    exporter = new OTLPTraceExporter({ url: options.config.tracesEndpoint, timeoutMillis: 5_000 });
  }
  if (!exporter) return disabledTelemetry(options.service);
  await ensureContextManager();
  const sdk = await import('@opentelemetry/sdk-trace');
  const { resourceFromAttributes } = await import('@opentelemetry/resources');
  const { sampler, samplerRatio } = options.config;
  const sampled = samplingPolicy(sampler, samplerRatio);
  const ids = new PooledIdGenerator();
  const provider = new sdk.TracerProvider({
    resource: resourceFromAttributes({
      'service.name': `tessera-${options.service}`,
      'service.namespace': 'tessera',
      'service.version': options.version ?? '0.1.0',
      'service.instance.id': options.instanceId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
    }),
    sampler: policySampler(sdk.SamplingDecision, sampled, `${sampler}{${samplerRatio}}`),
    idGenerator: ids,
    spanLimits: { attributeValueLengthLimit: 2_048, attributeCountLimit: 64 },
    spanProcessors: [
      new sdk.BatchSpanProcessor({ exporter, scheduledDelayMillis: 1_000, maxQueueSize: 8_192 }),
    ],
  });
  const tracer = provider.getTracer(`tessera-${options.service}`, options.version ?? '0.1.0');
  return {
    enabled: true,
    service: options.service,
    tracer,
    span: async (name, attributes, fn) => {
      // Inside an unsampled trace a child would not be recorded either: skip making one.
      const active = trace.getActiveSpan();
      if (active && !active.isRecording()) return fn(active);
      return runInSpan(tracer, name, attributes, fn);
    },
    startSpan: (name, kind, attributes, parent) =>
      tracer.startSpan(name, { kind, ...(attributes ? { attributes } : {}) }, parent ?? context.active()),
    startServerSpan: (headers, name) => {
      // Sampling is decided here, before the SDK is involved: an unsampled request (99 % of them
      // at 1 %) gets a bare non-recording span carrying its ids for propagation, which costs a
      // fraction of the SDK's span start.
      const caller =
        headers.traceparent === undefined
          ? ROOT_CONTEXT
          : propagation.extract(ROOT_CONTEXT, headers, headerGetter);
      const parent = validSpanContext(caller);
      const traceId = parent?.traceId ?? newTraceId();
      if (!sampled(parent, traceId)) {
        return trace.wrapSpanContext({
          traceId,
          spanId: newSpanId(),
          traceFlags: TraceFlags.NONE,
          ...(parent?.traceState ? { traceState: parent.traceState } : {}),
        });
      }
      if (!parent) ids.useTraceIdOnce(traceId);
      return tracer.startSpan(name, { kind: SpanKind.SERVER }, caller);
    },
    inject: (headers, ctx) => {
      propagation.inject(ctx ?? context.active(), headers, {
        set: (carrier, key, value) => {
          carrier[key] = value;
        },
      });
    },
    traceId: () => {
      const spanContext = trace.getActiveSpan()?.spanContext();
      return spanContext && trace.isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
    },
    shutdown: () => provider.shutdown(),
  };
}
