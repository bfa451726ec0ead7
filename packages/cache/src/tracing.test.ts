import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { TEST_REDIS_URL, testKeyPrefix } from '@tessera/db/testing';
import { createTelemetry, disabledTelemetry, type Telemetry } from '@tessera/telemetry';
import { connectRedis } from './redis.ts';
import { traceRedis } from './tracing.ts';

const exporter = new InMemorySpanExporter();
const prefix = testKeyPrefix('trace');
let telemetry: Telemetry;
let redis: Redis;

beforeAll(async () => {
  telemetry = await createTelemetry({
    service: 'cache-test',
    config: { tracesEndpoint: undefined, sampler: 'always_on', samplerRatio: 1, sentryDsn: undefined },
    exporter,
  });
  redis = await connectRedis(TEST_REDIS_URL);
  if (redis.status !== 'ready') throw new Error(`Redis is not reachable at ${TEST_REDIS_URL}`);
});

afterAll(async () => {
  await redis.del(`${prefix}k`);
  redis.disconnect();
  await telemetry.shutdown();
});

describe('traceRedis', () => {
  it('returns the client itself when tracing is off', () => {
    expect(traceRedis(redis, disabledTelemetry('x'))).toBe(redis);
  });

  it('makes one CLIENT span per command and per Lua command, without keys or values', async () => {
    const traced = traceRedis(redis, telemetry);
    traced.defineCommand('tesseraEcho', { numberOfKeys: 1, lua: 'return ARGV[1]' });
    await telemetry.span('request', {}, async () => {
      await traced.set(`${prefix}k`, 'secret-value', 'EX', 10);
      expect(await traced.get(`${prefix}k`)).toBe('secret-value');
      const scripted = traced as unknown as { tesseraEcho(k: string, v: string): Promise<string> };
      expect(await scripted.tesseraEcho(`${prefix}k`, 'another-secret')).toBe('another-secret');
    });
    await traced.get(`${prefix}k`); // outside any trace: not recorded
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const spans = exporter.getFinishedSpans();
    const request = spans.find((s) => s.name === 'request')!;
    const commands = spans.filter((s) => s.attributes['db.system.name'] === 'redis');
    expect(commands.map((s) => s.name)).toEqual(['SET', 'GET', 'TESSERAECHO']);
    for (const span of commands) expect(span.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    const recorded = JSON.stringify(spans.map((s) => [s.name, s.attributes]));
    expect(recorded).not.toContain('secret');
    expect(recorded).not.toContain(prefix);
  });
});
