import {
  context,
  INVALID_SPAN_CONTEXT,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import type { TelemetryConfig } from './config.ts';
import type { SpanExporter } from '@opentelemetry/sdk-trace';

/** Options for {@link createTelemetry}. */
export interface TelemetryOptions {
  /** Short service name (`users`, `auth`, `gateway`); the resource's `service.name` is `tessera-<service>`. */
  service: string;
  version?: string;
  /** Defaults to `<hostname>:<pid>:<random>` so two instances on one host differ. */
  instanceId?: string;
  config: TelemetryConfig;
  /** Tests pass an exporter; otherwise OTLP/HTTP to `config.tracesEndpoint`. */
  exporter?: SpanExporter;
}

/** A header carrier: Node's incoming headers or a plain record. */
export type HeaderCarrier = Record<string, string | string[] | undefined>;

/**
 * One service's tracing. When tracing is off every member is a cheap no-op and `enabled` is
 * false, so callers skip installing hooks and wrappers altogether (no overhead).
 */
export interface Telemetry {
  readonly enabled: boolean;
  readonly service: string;
  readonly tracer: Tracer;
  /**
   * Runs `fn` inside a new active span; records an exception and error status when it throws.
   *
   * @example
   * const ok = await telemetry.span('password.verify', {}, () => verify(hash, password));
   */
  span<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T> | T): Promise<T>;
  /** Starts a span (child of the active one) without activating it. */
  startSpan(name: string, kind: SpanKind, attributes?: Attributes, parent?: Context): Span;
  /**
   * Starts the SERVER span of an incoming request, continuing the W3C trace context in `headers`
   * when there is one. Unsampled requests get a non-recording span that still carries trace and
   * span ids, so calls made on their behalf propagate the decision.
   */
  startServerSpan(headers: HeaderCarrier, name: string): Span;
  /** Writes `traceparent`/`tracestate` for `ctx` (default: the active context) into `headers`. */
  inject(headers: Record<string, string>, ctx?: Context): void;
  /** The active trace id, when a sampled or recording span is active. */
  traceId(): string | undefined;
  /** Flushes and stops the exporter. */
  shutdown(): Promise<void>;
}

/**
 * Telemetry that records nothing: `span` just calls `fn`.
 *
 * @example
 * const telemetry = disabledTelemetry('users');
 */
export function disabledTelemetry(service: string): Telemetry {
  const tracer = trace.getTracer('tessera-disabled');
  const noop = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
  return {
    enabled: false,
    service,
    tracer,
    span: async (_name, _attributes, fn) => fn(noop),
    startSpan: () => noop,
    startServerSpan: () => noop,
    inject: () => undefined,
    traceId: () => undefined,
    shutdown: async () => undefined,
  };
}

export async function runInSpan<T>(
  tracer: Tracer,
  name: string,
  attributes: Attributes,
  fn: (span: Span) => Promise<T> | T,
): Promise<T> {
  return tracer.startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      markError(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

/**
 * Records `err` on `span` as an exception event (type and message only: no stack, since library
 * messages may embed SQL parameters) and sets the error status.
 *
 * @example
 * markError(span, err);
 */
export function markError(span: Span, err: unknown): void {
  const type = err instanceof Error ? err.name : typeof err;
  const code = (err as { code?: unknown } | null)?.code;
  span.setAttribute('error.type', typeof code === 'string' ? code : type);
  span.setStatus({ code: SpanStatusCode.ERROR, message: type });
}

export { SpanKind, SpanStatusCode, context, trace, propagation };
export type { Attributes, Context, Span, Tracer };
