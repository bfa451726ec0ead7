import { TraceFlags, trace, type Context, type SpanContext } from '@opentelemetry/api';
import type { Sampler, SamplingDecision, SamplingResult } from '@opentelemetry/sdk-trace';
import type { SamplerName } from './config.ts';

/** Decides whether a span with this parent (absent for a root) and trace id is sampled. */
export type SamplingPolicy = (parent: SpanContext | undefined, traceId: string) => boolean;

// 52 bits: the most a double holds exactly, all from the random part of a W3C trace id.
const RATIO_BITS = 52;
const RATIO_SCALE = 2 ** RATIO_BITS;

/**
 * Whether `traceId` falls within `ratio`: its rightmost 52 bits (random in a W3C trace id) read
 * as a fraction. A function of the trace id alone, so every service and every span of one trace
 * reaches the same answer.
 *
 * @example
 * traceIdWithinRatio('4bf92f3577b34da6a3ce929d0e0e4736', 0.01);
 */
export function traceIdWithinRatio(traceId: string, ratio: number): boolean {
  if (ratio >= 1) return true;
  if (ratio <= 0) return false;
  return Number.parseInt(traceId.slice(-RATIO_BITS / 4), 16) < ratio * RATIO_SCALE;
}

/**
 * The policy behind an `OTEL_TRACES_SAMPLER` name, with the specification's semantics: the
 * `parentbased_*` samplers follow a valid parent's sampled flag and apply the named root sampler
 * only to roots; the others ignore the parent.
 *
 * @example
 * const sampled = samplingPolicy('parentbased_traceidratio', 0.01);
 * sampled(undefined, traceId);
 */
export function samplingPolicy(name: SamplerName, ratio: number): SamplingPolicy {
  const parentBased = name.startsWith('parentbased_');
  const root = name.replace('parentbased_', '');
  const rootSampled: (traceId: string) => boolean =
    root === 'always_on'
      ? () => true
      : root === 'always_off'
        ? () => false
        : (id) => traceIdWithinRatio(id, ratio);
  if (!parentBased) return (_parent, traceId) => rootSampled(traceId);
  return (parent, traceId) =>
    parent ? (parent.traceFlags & TraceFlags.SAMPLED) !== 0 : rootSampled(traceId);
}

/** The valid span context of `ctx`'s span, if any. */
export function validSpanContext(ctx: Context): SpanContext | undefined {
  const spanContext = trace.getSpanContext(ctx);
  return spanContext && trace.isSpanContextValid(spanContext) ? spanContext : undefined;
}

/**
 * The SDK sampler applying `policy`: the same decisions the server's fast path makes before it
 * involves the SDK at all.
 */
export function policySampler(
  decisions: typeof SamplingDecision,
  policy: SamplingPolicy,
  description: string,
): Sampler {
  return {
    shouldSample(ctx: Context, traceId: string): SamplingResult {
      const parent = validSpanContext(ctx);
      return {
        decision: policy(parent, traceId) ? decisions.RECORD_AND_SAMPLED : decisions.NOT_RECORD,
        ...(parent?.traceState ? { traceState: parent.traceState } : {}),
      };
    },
    toString: () => description,
  };
}
