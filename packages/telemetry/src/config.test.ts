import { describe, expect, it } from 'vitest';
import { telemetryConfigFromEnv, TelemetryConfigError } from './config.ts';
import { sanitizeSql, sqlOperation } from './client-spans.ts';
import { createTelemetry } from './sdk.ts';
import { context, SpanKind, trace } from './telemetry.ts';

describe('telemetryConfigFromEnv', () => {
  it('is off without an endpoint and samples parent-based at ratio 1 by default', () => {
    expect(telemetryConfigFromEnv({})).toEqual({
      tracesEndpoint: undefined,
      sampler: 'parentbased_traceidratio',
      samplerRatio: 1,
      sentryDsn: undefined,
      protocol: 'http/protobuf',
    });
  });

  it('derives the traces URL from the base endpoint, or takes the traces endpoint as is', () => {
    expect(
      telemetryConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).tracesEndpoint,
    ).toBe('http://collector:4318/v1/traces');
    expect(
      telemetryConfigFromEnv({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://tempo.example/otlp/traces',
      }).tracesEndpoint,
    ).toBe('https://tempo.example/otlp/traces');
    expect(
      telemetryConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' })
        .tracesEndpoint,
    ).toBeUndefined();
  });

  it('names the variable when a value is invalid', () => {
    const problem = (env: NodeJS.ProcessEnv) => {
      try {
        telemetryConfigFromEnv(env);
      } catch (err) {
        expect(err).toBeInstanceOf(TelemetryConfigError);
        return (err as TelemetryConfigError).variable;
      }
      return undefined;
    };
    expect(problem({ OTEL_TRACES_SAMPLER_ARG: '1.5' })).toBe('OTEL_TRACES_SAMPLER_ARG');
    expect(problem({ OTEL_TRACES_SAMPLER_ARG: 'half' })).toBe('OTEL_TRACES_SAMPLER_ARG');
    expect(problem({ OTEL_TRACES_SAMPLER: 'sometimes' })).toBe('OTEL_TRACES_SAMPLER');
    expect(problem({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toBe('OTEL_EXPORTER_OTLP_ENDPOINT');
    expect(problem({ SENTRY_DSN: 'not a url' })).toBe('SENTRY_DSN');
    expect(problem({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toBe('OTEL_EXPORTER_OTLP_PROTOCOL');
  });
});

describe('span helpers', () => {
  it('masks string literals in statement text and names the operation', () => {
    expect(sanitizeSql("select * from users where email = 'ada@example.com' and note = 'it''s'")).toBe(
      "select * from users where email = '?' and note = '?'",
    );
    expect(sqlOperation('  with x as (select 1) select * from x')).toBe('WITH');
  });

  it('is disabled, with a no-op span runner, when no endpoint is configured', async () => {
    const telemetry = await createTelemetry({
      service: 'off',
      config: telemetryConfigFromEnv({}),
    });
    expect(telemetry.enabled).toBe(false);
    expect(await telemetry.span('x', {}, () => 42)).toBe(42);
    expect(telemetry.traceId()).toBeUndefined();
  });
});

describe('business spans', () => {
  it('are recorded inside a sampled trace and skipped inside an unsampled one', async () => {
    const { InMemorySpanExporter } = await import('@opentelemetry/sdk-trace');
    const run = async (sampler: 'always_on' | 'parentbased_always_off') => {
      const exporter = new InMemorySpanExporter();
      const telemetry = await createTelemetry({
        service: `spans-${sampler}`,
        config: { tracesEndpoint: undefined, sampler, samplerRatio: 1, sentryDsn: undefined },
        exporter,
      });
      const root = telemetry.startSpan('request', SpanKind.SERVER);
      const value = await context.with(trace.setSpan(context.active(), root), () =>
        telemetry.span('step', {}, () => 7),
      );
      root.end();
      expect(value).toBe(7);
      // The batch processor exports every second (shutting down would clear the in-memory exporter).
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      const names = exporter.getFinishedSpans().map((s) => s.name);
      await telemetry.shutdown();
      return names;
    };
    expect(await run('always_on')).toEqual(['step', 'request']);
    expect(await run('parentbased_always_off')).toEqual([]);
  });
});
