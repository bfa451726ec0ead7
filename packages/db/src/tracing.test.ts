import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { createTelemetry, disabledTelemetry, type Telemetry } from '@tessera/telemetry';
import { closeConnection, openConnection, rawQuery, type SqlConnection } from './connection.ts';
import { traceConnection } from './tracing.ts';
import { createTestDatabase } from './testing.ts';

const exporter = new InMemorySpanExporter();
let telemetry: Telemetry;
const connections: SqlConnection[] = [];
let drop: () => Promise<void>;

beforeAll(async () => {
  telemetry = await createTelemetry({
    service: 'db-test',
    config: { tracesEndpoint: undefined, sampler: 'always_on', samplerRatio: 1, sentryDsn: undefined },
    exporter,
  });
  const database = await createTestDatabase();
  drop = database.drop;
  connections.push(await openConnection({ url: database.url }), await openConnection({}));
});

afterAll(async () => {
  for (const conn of connections) await closeConnection(conn);
  await telemetry.shutdown();
  await drop();
});

const spans = async () => {
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  return exporter.getFinishedSpans();
};

describe('traceConnection', () => {
  it('returns the connection itself when tracing is off', () => {
    expect(traceConnection(connections[0]!, disabledTelemetry('x'))).toBe(connections[0]);
  });

  it.each(['pg', 'pglite'] as const)(
    'on %s: one CLIENT span per statement inside the active trace, text without parameter values',
    async (kind) => {
      exporter.reset();
      const conn = traceConnection(
        connections.find((c) => c.kind === kind)!,
        telemetry,
      );
      await rawQuery(conn, 'select 1'); // no active span: not traced
      await telemetry.span('request', {}, async () => {
        await rawQuery(conn, "select $1::text as secret, 'literal' as l", ['p@ssw0rd-value']);
      });
      const finished = await spans();
      const statement = finished.find((s) => s.name === 'SELECT');
      const parent = finished.find((s) => s.name === 'request');
      expect(finished.filter((s) => s.name === 'SELECT')).toHaveLength(1);
      expect(statement?.parentSpanContext?.spanId).toBe(parent?.spanContext().spanId);
      expect(statement?.attributes).toMatchObject({
        'db.system.name': 'postgresql',
        'db.operation.name': 'SELECT',
        'db.query.text': "select $1::text as secret, '?' as l",
      });
      expect(JSON.stringify(finished.map((s) => s.attributes))).not.toContain('p@ssw0rd-value');
    },
  );

  it('traces statements inside PGlite transactions too', async () => {
    exporter.reset();
    const conn = traceConnection(
      connections.find((c) => c.kind === 'pglite')!,
      telemetry,
    );
    if (conn.kind !== 'pglite') throw new Error('expected PGlite');
    await telemetry.span('request', {}, () => conn.pglite.transaction((tx) => tx.query('select 2')));
    expect((await spans()).some((s) => s.name === 'SELECT')).toBe(true);
  });
});
