/**
 * `npm run bench -- gateway`: GET /v1/users/{id}?include=memberships (L1-hit users instance)
 * (a) directly, (b) through a bare @fastify/http-proxy, (c) through the Tessera gateway with
 * Redis rate limiting (one EVALSHA per request) and the edge token check. Users, proxies and
 * autocannon each run in their own process.
 *
 * Three measurements: throughput and latency under load (autocannon, BENCH_CONNECTIONS, default
 * 32: on 2 cores every target is CPU-bound, so its p50 is mostly queueing, connections ÷ req/s);
 * during each of those runs the CPU time per request of the users, proxy and Redis processes
 * (from /proc, so it holds up on a machine other jobs keep busy, where req/s does not); and the
 * latency one request adds at light load (one request in flight, keep-alive, BENCH_LIGHT requests
 * per target and round, default 2000; µs from the client's clock).
 */
import { Client } from 'undici';
import { connectRedis } from '@tessera/cache';
import { createTestDatabase } from '@tessera/db/testing';
import { cpuUs, measure, pairwiseRatio, report, settings, type Run, type Target } from './lib.ts';
import { startServer } from './lib-process.ts';

const LIGHT_REQUESTS = Number(process.env.BENCH_LIGHT ?? 2000);

const medianOf = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

type CpuPerRequest = Record<string, number>;

/**
 * lib.ts's sideBySide (a warm-up of 2 s per target, then rounds of A B C … and per-target
 * medians) plus, per run, the CPU µs per request of each named process.
 */
async function sideBySideWithCpu(targets: Target[], pids: Record<string, number | undefined>) {
  for (const target of targets) await measure(target, 2);
  const runs = new Map<string, Array<Run & { cpu: CpuPerRequest }>>(targets.map((t) => [t.name, []]));
  for (let round = 0; round < settings.rounds; round++) {
    for (const target of targets) {
      const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuUs(pid)]));
      const run = await measure(target);
      const requests = run.rps * settings.duration;
      const cpu: CpuPerRequest = {};
      for (const [k, pid] of Object.entries(pids)) {
        const start = before[k];
        const end = cpuUs(pid);
        if (start !== undefined && end !== undefined && requests > 0)
          cpu[k] = Math.round((end - start) / requests);
      }
      runs.get(target.name)!.push({ ...run, cpu });
      process.stderr.write(
        `  round ${round + 1} ${target.name}: ${run.rps.toFixed(0)} req/s p50 ${run.p50} ms p99 ${run.p99} ms, CPU µs/req ${JSON.stringify(cpu)}${run.non2xx || run.errors ? ` (${run.non2xx} non-2xx, ${run.errors} errors)` : ''}\n`,
      );
    }
  }
  return targets.map((t) => {
    const list = runs.get(t.name)!;
    return {
      name: t.name,
      rps: medianOf(list.map((r) => r.rps)),
      p50: medianOf(list.map((r) => r.p50)),
      p99: medianOf(list.map((r) => r.p99)),
      non2xx: list.reduce((a, r) => a + r.non2xx, 0),
      errors: list.reduce((a, r) => a + r.errors, 0),
      cpuUsPerRequest: Object.fromEntries(
        Object.keys(pids).map((k) => [k, medianOf(list.map((r) => r.cpu[k] ?? 0))]),
      ),
      runs: list,
    };
  });
}

/** The Redis server's pid when it runs on this machine (for its CPU time), else undefined. */
async function redisPid(url: string): Promise<number | undefined> {
  const redis = await connectRedis(url);
  try {
    const pid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]);
    return cpuUs(pid) === undefined ? undefined : pid;
  } finally {
    redis.disconnect();
  }
}

/**
 * Latency at light load: one request at a time over one keep-alive connection, targets
 * alternated per round; per target the medians over rounds of p50 and p99 in µs.
 */
async function lightLoad(targets: Target[], requests: number, rounds: number) {
  const clients = targets.map((t) => new Client(new URL(t.url).origin, { pipelining: 1 }));
  const runs = targets.map(() => [] as Array<{ p50: number; p99: number }>);
  const once = async (i: number) => {
    const target = targets[i]!;
    const url = new URL(target.url);
    const started = process.hrtime.bigint();
    const res = await clients[i]!.request({
      method: 'GET',
      path: url.pathname + url.search,
      headers: target.headers,
    });
    await res.body.arrayBuffer();
    if (res.statusCode !== 200) throw new Error(`${target.name}: status ${res.statusCode}`);
    return Number(process.hrtime.bigint() - started) / 1000;
  };
  try {
    for (let i = 0; i < targets.length; i++) for (let n = 0; n < 200; n++) await once(i);
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < targets.length; i++) {
        const samples: number[] = [];
        for (let n = 0; n < requests; n++) samples.push(await once(i));
        samples.sort((a, b) => a - b);
        const run = { p50: Math.round(percentile(samples, 50)), p99: Math.round(percentile(samples, 99)) };
        runs[i]!.push(run);
        process.stderr.write(
          `  light round ${round + 1} ${targets[i]!.name}: p50 ${run.p50} µs p99 ${run.p99} µs\n`,
        );
      }
    }
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
  return targets.map((t, i) => ({
    name: t.name,
    p50Us: medianOf(runs[i]!.map((r) => r.p50)),
    p99Us: medianOf(runs[i]!.map((r) => r.p99)),
    runs: runs[i]!,
  }));
}

export default async function gatewayBench(): Promise<void> {
  const database = await createTestDatabase();
  const users = await startServer<{
    urls: Record<string, string>;
    token: string;
    jwksUrl: string;
    issuer: string;
  }>('./users-server.ts', {
    BENCH_DATABASE_URL: database.url,
  });
  const direct = new URL(users.info.urls.l1!);
  const proxies = await startServer<{ bare: number; gateway: number }>('./gateway-server.ts', {
    BENCH_UPSTREAM: direct.origin,
    BENCH_JWKS_URL: users.info.jwksUrl,
    BENCH_ISSUER: users.info.issuer,
  });
  try {
    const path = direct.pathname + direct.search;
    const headers = { authorization: `Bearer ${users.info.token}` };
    const targets: Target[] = [
      { name: '(a) direct', url: direct.href, headers },
      { name: '(b) bare @fastify/http-proxy', url: `http://127.0.0.1:${proxies.info.bare}${path}`, headers },
      { name: '(c) Tessera gateway', url: `http://127.0.0.1:${proxies.info.gateway}${path}`, headers },
    ];
    const summary = await sideBySideWithCpu(targets, {
      users: users.child.pid,
      proxies: proxies.child.pid,
      redis: await redisPid(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'),
    });
    const cpu = (name: string) => summary.find((s) => s.name === name)!.cpuUsPerRequest;
    const p50 = (name: string) => summary.find((s) => s.name === name)!.p50;
    const light = await lightLoad(targets, LIGHT_REQUESTS, settings.rounds);
    const lightP50 = (name: string) => light.find((s) => s.name === name)!.p50Us;
    process.stdout.write(
      [
        '',
        '| light load (1 in flight) | p50 µs | p99 µs |',
        '|---|---|---|',
        ...light.map((l) => `| ${l.name} | ${l.p50Us} | ${l.p99Us} |`),
        '',
      ].join('\n'),
    );
    await report('gateway', summary, {
      ratios: {
        'gateway / bare proxy (target >= 0.85)': pairwiseRatio(
          summary,
          '(c) Tessera gateway',
          '(b) bare @fastify/http-proxy',
        ),
        'gateway / direct': pairwiseRatio(summary, '(c) Tessera gateway', '(a) direct'),
      },
      addedP50MsOverDirect: p50('(c) Tessera gateway') - p50('(a) direct'),
      // Medians per run; `proxies` is the one process holding both (b) and (c), idle for (a).
      cpuUsPerRequest: {
        bareProxy: cpu('(b) bare @fastify/http-proxy').proxies,
        gateway: cpu('(c) Tessera gateway').proxies,
        gatewayPlusRedis: (cpu('(c) Tessera gateway').proxies ?? 0) + (cpu('(c) Tessera gateway').redis ?? 0),
        users: cpu('(a) direct').users,
      },
      lightLoad: {
        requestsPerRound: LIGHT_REQUESTS,
        summary: light,
        addedP50UsOverDirect: lightP50('(c) Tessera gateway') - lightP50('(a) direct'),
        addedP50UsOfBareProxyOverDirect: lightP50('(b) bare @fastify/http-proxy') - lightP50('(a) direct'),
      },
    });
  } finally {
    users.child.kill();
    proxies.child.kill();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await database.drop();
  }
}
