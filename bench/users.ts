/**
 * `npm run bench -- users [--only cache|tracing]`: GET /v1/users/{id}?include=memberships with a
 * valid token on real PostgreSQL and Redis.
 * - cache: three cache modes (L1 hit, L2 hit with L1 off, database with both off) beside a bare
 *   Fastify route returning the same JSON without auth or cache;
 * - tracing: the L1 and database modes with tracing off, on at 100 % and at 1 % sampling,
 *   exporting OTLP/HTTP to a receiver in this process.
 * The servers run in a child process; autocannon runs here.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTestDatabase } from '@tessera/db/testing';
import { pairwiseRatio, report, sideBySide, type Target } from './lib.ts';
import { startServer } from './lib-process.ts';

export default async function usersBench(args: string[] = []): Promise<void> {
  const only = args[args.indexOf('--only') + 1];
  if (args.includes('--only') && only !== 'cache' && only !== 'tracing') {
    throw new Error('usage: npm run bench -- users [--only cache|tracing]');
  }
  if (only !== 'tracing') await cacheBench();
  if (only !== 'cache') await tracingBench();
}

async function cacheBench(): Promise<void> {
  const database = await createTestDatabase();
  const { info, child } = await startServer<{ urls: Record<string, string>; token: string; pid: number }>(
    './users-server.ts',
    {
      BENCH_DATABASE_URL: database.url,
    },
  );
  try {
    const { urls, token, pid } = info;
    const auth = { authorization: `Bearer ${token}` };
    const targets: Target[] = [
      { name: 'bare route', url: urls.bare! },
      { name: 'L1 hit', url: urls.l1!, headers: auth },
      { name: 'L2 hit (L1 off)', url: urls.l2!, headers: auth },
      { name: 'database (L1, L2 off)', url: urls.db!, headers: auth },
    ];
    const summary = await sideBySide(targets);
    const rss = await idleRss(pid);
    await report('users', summary, {
      ratios: {
        'L1 hit / bare': pairwiseRatio(summary, 'L1 hit', 'bare route'),
        'L2 hit / bare': pairwiseRatio(summary, 'L2 hit (L1 off)', 'bare route'),
        'database / bare': pairwiseRatio(summary, 'database (L1, L2 off)', 'bare route'),
      },
      benchServerRssMb: rss,
    });
  } finally {
    child.kill();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await database.drop();
  }
}

async function idleRss(pid: number): Promise<number | undefined> {
  await new Promise((resolve) => setTimeout(resolve, 2000));
  try {
    const { readFile } = await import('node:fs/promises');
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
    return Math.round(kb / 1024);
  } catch {
    return undefined;
  }
}

/** An OTLP/HTTP endpoint that accepts and discards spans (counting the bytes), like a collector would. */
async function discardingReceiver(): Promise<{
  url: string;
  bytes: () => number;
  close: () => Promise<void>;
}> {
  let bytes = 0;
  const server = createServer((req, res) => {
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bytes: () => bytes,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function tracingBench(): Promise<void> {
  const database = await createTestDatabase();
  const receiver = await discardingReceiver();
  const children: Array<{ kill(): boolean }> = [];
  try {
    const target = async (name: string, mode: string): Promise<Target> => {
      const { info, child } = await startServer<{ urls: Record<string, string>; token: string; pid: number }>(
        './users-server.ts',
        { BENCH_DATABASE_URL: database.url, BENCH_OTLP_URL: receiver.url, BENCH_MODE: mode },
      );
      children.push(child);
      return {
        name,
        url: info.urls[mode]!,
        headers: { authorization: `Bearer ${info.token}` },
        pid: info.pid,
      };
    };
    const targets: Target[] = [];
    for (const [name, mode] of [
      ['L1 hit, tracing off', 'l1'],
      ['L1 hit, tracing 100%', 'l1-traced-100'],
      ['L1 hit, tracing 1%', 'l1-traced-1'],
      ['database, tracing off', 'db'],
      ['database, tracing 100%', 'db-traced-100'],
    ] as const) {
      targets.push(await target(name, mode));
    }
    const summary = await sideBySide(targets);
    await report('users-tracing', summary, {
      ratios: {
        'L1 100% / off': pairwiseRatio(summary, 'L1 hit, tracing 100%', 'L1 hit, tracing off'),
        'L1 1% / off': pairwiseRatio(summary, 'L1 hit, tracing 1%', 'L1 hit, tracing off'),
        'database 100% / off': pairwiseRatio(summary, 'database, tracing 100%', 'database, tracing off'),
      },
      // CPU of the server process per request (medians): the cost of tracing in CPU, robust when
      // other jobs make req/s swing.
      serverCpuUsPerRequest: Object.fromEntries(summary.map((s) => [s.name, s.serverCpuUsPerRequest])),
      otlpBytesReceived: receiver.bytes(),
    });
  } finally {
    for (const child of children) child.kill();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await receiver.close();
    await database.drop();
  }
}
