import {
  context,
  INVALID_SPAN_CONTEXT,
  SpanKind,
  trace,
  type Attributes,
  type Span,
} from '@opentelemetry/api';
import { markError, type Telemetry } from './telemetry.ts';

/**
 * Statement text safe to record: string literals become `'?'`, so a statement that inlines a
 * value (rare: Drizzle sends parameters separately) cannot leak it. Parameters are never recorded.
 *
 * @example
 * sanitizeSql("select 1 where email = 'a@b'"); // "select 1 where email = '?'"
 */
export function sanitizeSql(sql: string): string {
  return sql.replace(/'(?:[^']|'')*'/g, "'?'").slice(0, 2_048);
}

/** The first keyword of a statement (`SELECT`, `INSERT`, `WITH`...), used as the span name. */
export function sqlOperation(sql: string): string {
  const match = /^\s*([A-Za-z]+)/.exec(sql);
  return (match?.[1] ?? 'SQL').toUpperCase();
}

/**
 * Runs a client call (SQL statement, Redis command, outgoing HTTP request) inside a CLIENT span
 * that is a child of the active span; a call with no active trace, or in an unsampled one,
 * records nothing.
 *
 * @example
 * await clientSpan(telemetry, 'GET', { 'db.system.name': 'redis' }, () => redis.get(key));
 */
export function clientSpan<T>(
  telemetry: Telemetry,
  name: string,
  attributes: Attributes,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = context.active();
  // Outside a trace, or inside one that is not sampled, a leaf call records nothing: no span to
  // create, no context to switch (propagation still carries the caller's unsampled context).
  if (!trace.getSpan(parent)?.isRecording()) return fn(trace.wrapSpanContext(INVALID_SPAN_CONTEXT));
  const span = telemetry.startSpan(name, SpanKind.CLIENT, attributes, parent);
  return context
    .with(trace.setSpan(parent, span), () => fn(span))
    .then(
      (value) => {
        span.end();
        return value;
      },
      (err: unknown) => {
        markError(span, err);
        span.end();
        throw err;
      },
    );
}
