import { describe, expect, it } from 'vitest';
import { TraceFlags, type SpanContext } from '@opentelemetry/api';
import { newTraceId } from './ids.ts';
import { samplingPolicy, traceIdWithinRatio } from './sampling.ts';

const id = (tail: string) => `${'a'.repeat(32 - tail.length)}${tail}`;
const parent = (sampled: boolean): SpanContext => ({
  traceId: id('1'),
  spanId: 'b'.repeat(16),
  traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
  isRemote: true,
});

describe('traceIdWithinRatio', () => {
  it('reads the rightmost 52 bits of the trace id as a fraction', () => {
    expect(traceIdWithinRatio(id('0000000000000'), 0.01)).toBe(true);
    expect(traceIdWithinRatio(id('fffffffffffff'), 0.99)).toBe(false);
    expect(traceIdWithinRatio(id('7ffffffffffff'), 0.5)).toBe(true);
    expect(traceIdWithinRatio(id('8000000000000'), 0.5)).toBe(false);
    // The leading bits do not count: only the random part of a W3C trace id decides.
    expect(traceIdWithinRatio(`fffffffffffffffffff${'0'.repeat(13)}`, 0.01)).toBe(true);
  });

  it('samples everything at 1 and nothing at 0', () => {
    expect(traceIdWithinRatio(id('fffffffffffff'), 1)).toBe(true);
    expect(traceIdWithinRatio(id('0000000000000'), 0)).toBe(false);
  });

  it('samples about the ratio of random trace ids', () => {
    let sampled = 0;
    for (let i = 0; i < 20_000; i++) if (traceIdWithinRatio(newTraceId(), 0.1)) sampled++;
    expect(sampled).toBeGreaterThan(1_600);
    expect(sampled).toBeLessThan(2_400);
  });
});

describe('samplingPolicy', () => {
  it('follows a parent for the parentbased samplers, whatever the root sampler says', () => {
    const sampled = samplingPolicy('parentbased_traceidratio', 0);
    expect(sampled(parent(true), id('fffffffffffff'))).toBe(true);
    expect(samplingPolicy('parentbased_always_on', 1)(parent(false), id('0'))).toBe(false);
    expect(samplingPolicy('parentbased_always_off', 1)(parent(true), id('0'))).toBe(true);
  });

  it('applies the root sampler to roots', () => {
    const sampled = samplingPolicy('parentbased_traceidratio', 0.5);
    expect(sampled(undefined, id('0000000000001'))).toBe(true);
    expect(sampled(undefined, id('f000000000000'))).toBe(false);
    expect(samplingPolicy('parentbased_always_on', 0)(undefined, id('f'))).toBe(true);
    expect(samplingPolicy('parentbased_always_off', 1)(undefined, id('0'))).toBe(false);
  });

  it('ignores the parent for the samplers that are not parent based', () => {
    expect(samplingPolicy('traceidratio', 0.5)(parent(false), id('0000000000001'))).toBe(true);
    expect(samplingPolicy('traceidratio', 0.5)(parent(true), id('f000000000000'))).toBe(false);
    expect(samplingPolicy('always_off', 1)(parent(true), id('0'))).toBe(false);
    expect(samplingPolicy('always_on', 0)(parent(false), id('0'))).toBe(true);
  });
});
