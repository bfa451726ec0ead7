import { describe, expect, it } from 'vitest';
import { newSpanId, newTraceId, PooledIdGenerator } from './ids.ts';

describe('trace and span ids', () => {
  it('are lowercase hex of the W3C lengths and do not repeat, across many pool refills', () => {
    const traceIds = new Set<string>();
    const spanIds = new Set<string>();
    for (let i = 0; i < 5_000; i++) {
      const traceId = newTraceId();
      const spanId = newSpanId();
      expect(traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(spanId).toMatch(/^[0-9a-f]{16}$/);
      traceIds.add(traceId);
      spanIds.add(spanId);
    }
    expect(traceIds.size).toBe(5_000);
    expect(spanIds.size).toBe(5_000);
  });

  it('hand a pre-decided trace id to the SDK exactly once', () => {
    const ids = new PooledIdGenerator();
    const decided = newTraceId();
    ids.useTraceIdOnce(decided);
    expect(ids.generateTraceId()).toBe(decided);
    expect(ids.generateTraceId()).not.toBe(decided);
  });
});
