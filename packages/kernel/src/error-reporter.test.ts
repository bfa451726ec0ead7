import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { createSentrySink, createTelemetry, type Telemetry } from '@tessera/telemetry';
import { createHttpServer, type HttpServer } from './http.ts';
import { createLogger } from './logger.ts';

const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.secret-token-body.signature';
const COOKIE = 'tessera_session=cookie-secret-value';

/** A Sentry-compatible ingestion endpoint: keeps the event items of every envelope. */
async function fakeSentry(): Promise<{
  dsn: string;
  events: Array<Record<string, unknown>>;
  close(): Promise<void>;
}> {
  const events: Array<Record<string, unknown>> = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url?.startsWith('/api/1/envelope/')) {
        const lines = Buffer.concat(chunks).toString('utf8').split('\n').filter(Boolean);
        for (let i = 1; i + 1 < lines.length; i += 2) {
          const header = JSON.parse(lines[i]!) as { type?: string };
          if (header.type === 'event') events.push(JSON.parse(lines[i + 1]!) as Record<string, unknown>);
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    dsn: `http://publickey@127.0.0.1:${port}/1`,
    events,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let app: HttpServer;
let url = '';
let telemetry: Telemetry;
const lines: string[] = [];
const exporter = new InMemorySpanExporter();
let sentry: Awaited<ReturnType<typeof fakeSentry>>;

beforeAll(async () => {
  sentry = await fakeSentry();
  telemetry = await createTelemetry({
    service: 'reporting',
    config: { tracesEndpoint: undefined, sampler: 'always_on', samplerRatio: 1, sentryDsn: undefined },
    exporter,
  });
  app = createHttpServer({
    name: 'reporting',
    logger: createLogger({
      name: 'reporting',
      level: 'info',
      destination: new Writable({
        write(chunk: Buffer, _e, cb) {
          lines.push(chunk.toString());
          cb();
        },
      }),
    }),
    telemetry,
    errorSink: await createSentrySink(sentry.dsn, { service: 'reporting' }),
    readiness: [
      {
        name: 'db',
        critical: true,
        check: async () => {
          throw new Error('down');
        },
      },
    ],
  });
  app.get('/boom', async (request) => {
    // What the auth middleware would have set after verifying a token.
    (request as unknown as { auth: unknown }).auth = { sub: 'user-42', client_id: 'client-7' };
    throw new Error('database exploded');
  });
  app.get('/gone', async (_request, reply) => reply.code(502).send({ upstream: 'failed' }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await app.close();
  await telemetry.shutdown();
  await sentry.close();
});

const reports = () =>
  lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'error reported');

describe('error reporting', () => {
  it('reports a route that throws exactly once, with context and no secrets, and answers problem+json 500', async () => {
    const res = await fetch(`${url}/boom`, {
      headers: { authorization: `Bearer ${TOKEN}`, cookie: COOKIE, 'x-request-id': 'req-boom-1' },
    });
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 500, code: 'internal', requestId: 'req-boom-1' });
    expect(JSON.stringify(body)).not.toContain('exploded');

    await expect.poll(() => reports().length).toBe(1);
    const [report] = reports();
    expect(report).toMatchObject({
      level: 'error',
      kind: 'request',
      service: 'reporting',
      requestId: 'req-boom-1',
      method: 'GET',
      route: '/boom',
      status: 500,
      userId: 'user-42',
      clientId: 'client-7',
      err: { type: 'Error', message: 'database exploded' },
    });
    expect(report!.traceId).toMatch(/^[0-9a-f]{32}$/);
    const logged = lines.join('\n');
    expect(logged).not.toContain(TOKEN);
    expect(logged).not.toContain('cookie-secret-value');

    // The same report, once, in the Sentry-compatible sink.
    await expect.poll(() => sentry.events.length, { timeout: 5_000 }).toBe(1);
    const event = sentry.events[0]!;
    expect(event).toMatchObject({
      user: { id: 'user-42' },
      tags: {
        service: 'reporting',
        kind: 'request',
        route: '/boom',
        client_id: 'client-7',
        trace_id: report!.traceId,
      },
      contexts: { request: { request_id: 'req-boom-1', trace_id: report!.traceId } },
    });
    expect(JSON.stringify(event)).toContain('database exploded');
    expect(JSON.stringify(event)).not.toContain(TOKEN);
    expect(JSON.stringify(event)).not.toContain('cookie-secret-value');

    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/tessera_errors_reported_total\{[^}]*kind="request"[^}]*\} 1\b/);
  });

  it('reports a 5xx answered without a throw once, and never a readiness 503', async () => {
    const before = reports().length;
    const res = await fetch(`${url}/gone`);
    expect(res.status).toBe(502);
    await expect.poll(() => reports().length).toBe(before + 1);
    expect(reports().at(-1)).toMatchObject({ route: '/gone', status: 502, err: { type: 'HttpError' } });
    // A readiness 503 is an answer (take this instance out of rotation), not an error to report.
    expect((await fetch(`${url}/readyz`)).status).toBe(503);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(reports()).toHaveLength(before + 1);
  });

  it('reports an unhandled rejection once, then shuts down with exit code 1', () => {
    const script = fileURLToPath(new URL('./testing/crash-on-rejection.ts', import.meta.url));
    const result = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 15_000 });
    expect(result.status).toBe(1);
    const logged = result.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const crashReports = logged.filter((l) => l.msg === 'error reported');
    expect(crashReports).toHaveLength(1);
    expect(crashReports[0]).toMatchObject({
      kind: 'unhandled_rejection',
      service: 'crasher',
      err: { message: 'nobody awaited me' },
    });
    expect(logged.some((l) => l.msg === 'stopped')).toBe(true);
  });
});

describe('metrics exemplars', () => {
  it('links latency samples to their trace in OpenMetrics scrapes and keeps the Prometheus format intact', async () => {
    await fetch(`${url}/gone`, { headers: { traceparent: `00-${'ab'.repeat(16)}-${'cd'.repeat(8)}-01` } });
    const open = await fetch(`${url}/metrics`, {
      headers: { accept: 'application/openmetrics-text;version=1.0.0,text/plain;q=0.5' },
    });
    expect(open.headers.get('content-type')).toContain('application/openmetrics-text');
    const text = await open.text();
    expect(text.trimEnd().endsWith('# EOF')).toBe(true);
    expect(text).toMatch(
      new RegExp(
        `http_request_duration_seconds_bucket\\{[^}]*route="/gone"[^}]*\\} \\d+ # \\{trace_id="${'ab'.repeat(16)}"\\}`,
      ),
    );
    // prom-client renames counters while rendering OpenMetrics; a plain scrape still sees *_total.
    const count = (text: string) =>
      Number(/http_request_duration_seconds_count\{[^}]*route="\/gone"[^}]*\} (\d+)/.exec(text)?.[1]);
    const before = count(await (await fetch(`${url}/metrics`)).text());
    // An unsampled trace (flags 00) is still measured, just without an exemplar.
    await fetch(`${url}/gone`, { headers: { traceparent: `00-${'ef'.repeat(16)}-${'cd'.repeat(8)}-00` } });
    const plain = await (await fetch(`${url}/metrics`)).text();
    expect(count(plain)).toBe(before + 1);
    expect(plain).toContain('# TYPE http_requests_total counter');
    expect(plain).not.toContain('# {trace_id=');
  });
});
