import { describe, expect, it } from 'vitest';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import type { SamplerName } from './config.ts';
import { createTelemetry } from './sdk.ts';

const PARENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN = '00f067aa0ba902b7';

async function telemetryWith(sampler: SamplerName, samplerRatio: number) {
  const exporter = new InMemorySpanExporter();
  const telemetry = await createTelemetry({
    service: `server-span-${sampler}-${samplerRatio}`,
    config: { tracesEndpoint: undefined, sampler, samplerRatio, sentryDsn: undefined },
    exporter,
  });
  return { telemetry, exporter };
}

describe('startServerSpan', () => {
  it('continues a sampled caller: recording, same trace, the caller as parent', async () => {
    const { telemetry } = await telemetryWith('parentbased_traceidratio', 0);
    const span = telemetry.startServerSpan({ traceparent: `00-${PARENT_TRACE}-${PARENT_SPAN}-01` }, 'GET');
    expect(span.isRecording()).toBe(true);
    expect(span.spanContext().traceId).toBe(PARENT_TRACE);
    expect((span as unknown as ReadableSpan).parentSpanContext?.spanId).toBe(PARENT_SPAN);
    expect((span as unknown as ReadableSpan).kind).toBe(SpanKind.SERVER);
    span.end();
    await telemetry.shutdown();
  });

  it('keeps an unsampled caller unsampled, with the trace id and a new span id to propagate', async () => {
    const { telemetry } = await telemetryWith('parentbased_traceidratio', 1);
    const span = telemetry.startServerSpan(
      { traceparent: `00-${PARENT_TRACE}-${PARENT_SPAN}-00`, tracestate: 'vendor=abc' },
      'GET',
    );
    expect(span.isRecording()).toBe(false);
    const ctx = span.spanContext();
    expect(ctx.traceId).toBe(PARENT_TRACE);
    expect(ctx.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(ctx.spanId).not.toBe(PARENT_SPAN);
    expect(ctx.traceFlags).toBe(0);
    expect(ctx.traceState?.get('vendor')).toBe('abc');
    const headers: Record<string, string> = {};
    telemetry.inject(headers, trace.setSpan(ROOT_CONTEXT, span));
    expect(headers.traceparent).toBe(`00-${PARENT_TRACE}-${ctx.spanId}-00`);
    await telemetry.shutdown();
  });

  it('gives an unsampled root valid ids, and a sampled root a recording span', async () => {
    const never = await telemetryWith('parentbased_traceidratio', 0);
    const unsampled = never.telemetry.startServerSpan({}, 'GET');
    expect(unsampled.isRecording()).toBe(false);
    expect(trace.isSpanContextValid(unsampled.spanContext())).toBe(true);
    await never.telemetry.shutdown();
    const always = await telemetryWith('always_on', 1);
    const sampled = always.telemetry.startServerSpan({}, 'GET');
    expect(sampled.isRecording()).toBe(true);
    expect(sampled.spanContext().traceFlags).toBe(1);
    sampled.end();
    await always.telemetry.shutdown();
  });

  it('ignores a malformed traceparent and starts a new trace', async () => {
    const { telemetry } = await telemetryWith('always_on', 1);
    const span = telemetry.startServerSpan({ traceparent: 'garbage' }, 'GET');
    expect(span.isRecording()).toBe(true);
    expect(span.spanContext().traceId).not.toBe(PARENT_TRACE);
    expect((span as unknown as ReadableSpan).parentSpanContext).toBeUndefined();
    span.end();
    await telemetry.shutdown();
  });

  it('decides roots the way the SDK decides their children, so a ratio sampler never splits a trace', async () => {
    const { telemetry } = await telemetryWith('traceidratio', 0.5);
    let recorded = 0;
    for (let i = 0; i < 400; i++) {
      const server = telemetry.startServerSpan({}, 'GET');
      const child = telemetry.startSpan(
        'child',
        SpanKind.INTERNAL,
        undefined,
        trace.setSpan(ROOT_CONTEXT, server),
      );
      expect(child.isRecording()).toBe(server.isRecording());
      if (server.isRecording()) recorded++;
      child.end();
      server.end();
    }
    expect(recorded).toBeGreaterThan(120);
    expect(recorded).toBeLessThan(280);
    await telemetry.shutdown();
  });
});
