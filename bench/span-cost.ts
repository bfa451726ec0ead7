/**
 * `npm run bench -- span-cost`: the CPU one recorded span costs in the OpenTelemetry SDK the
 * services use (`@opentelemetry/sdk-trace`, `BatchSpanProcessor`, the services' settings), with
 * the attributes of Tessera's server span: once handed to an exporter that drops it, once exported
 * as OTLP/HTTP protobuf to a receiver in this process that reads and discards the bodies (so the
 * figure includes the receiver's share, as a collector on the same machine would take). CPU time
 * of the whole process (all threads) per span, three rounds of 20,000 spans after a warm-up. This
 * is the floor of what tracing a request at 100 % sampling can cost; the tracing section of
 * docs/benchmarks.md compares it with the cost per request of the users benchmark.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanKind } from '@opentelemetry/api';
import { BatchSpanProcessor, TracerProvider, type SpanExporter } from '@opentelemetry/sdk-trace';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { machine } from './lib.ts';

const SPANS = 20_000;

const dropping: SpanExporter = {
  export: (_spans, done) => done({ code: 0 }),
  shutdown: async () => {},
};

async function cpuPerSpan(exporter: SpanExporter): Promise<number[]> {
  const provider = new TracerProvider({
    spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: 1_000, maxQueueSize: 8_192 })],
  });
  const tracer = provider.getTracer('span-cost');
  const round = async () => {
    const before = process.cpuUsage();
    for (let i = 0; i < SPANS; i++) {
      const span = tracer.startSpan('GET', { kind: SpanKind.SERVER });
      span.setAttributes({
        'http.request.method': 'GET',
        'url.path': '/v1/users/0193a000-0000-7000-8000-000000000000',
        'url.scheme': 'http',
        'network.peer.address': '127.0.0.1',
        'user_agent.original': 'autocannon',
      });
      span.updateName('GET /v1/users/:id');
      span.setAttribute('http.route', '/v1/users/:id');
      span.setAttribute('http.response.status_code', 200);
      span.end();
      // Let the batch processor's timer and the export run, as between requests.
      if (i % 500 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await provider.forceFlush();
    const used = process.cpuUsage(before);
    return Math.round(((used.user + used.system) / SPANS) * 10) / 10;
  };
  await round();
  const rounds = [await round(), await round(), await round()];
  await provider.shutdown();
  return rounds;
}

export default async function spanCost(): Promise<void> {
  const receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/v1/traces`;
  try {
    const dropped = await cpuPerSpan(dropping);
    const exported = await cpuPerSpan(new OTLPTraceExporter({ url, timeoutMillis: 5_000 }));
    process.stdout.write(
      `${machine()}\nCPU µs per recorded span: dropped ${dropped.join(' / ')}; exported as OTLP protobuf ${exported.join(' / ')}\n`,
    );
  } finally {
    receiver.close();
  }
}
