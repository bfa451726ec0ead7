/**
 * Shared benchmark helpers (BENCHMARKING.md): autocannon runs alternated A B A B after a warm-up,
 * medians and pairwise ratios, a markdown table, raw JSON under bench/results/.
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import autocannon from 'autocannon';

/** One target: a name and how autocannon should call it. */
export interface Target {
  name: string;
  url: string;
  headers?: Record<string, string>;
  method?: 'GET' | 'POST';
  body?: string;
  /** The server process: each run then also records its CPU µs per request (robust on a busy machine). */
  pid?: number;
}

/** CPU time (user + system) of a process in µs, from /proc (Linux, 100 ticks/s); undefined elsewhere. */
export function cpuUs(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return undefined;
  }
}

/** One measured run. */
export interface Run {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  /** CPU µs per request of the target's server process, when its pid is known. */
  cpuUsPerRequest?: number;
}

/** Settings from the environment: BENCH_DURATION (s, default 8), BENCH_ROUNDS (default 3), BENCH_CONNECTIONS (default 32). */
export const settings = {
  duration: Number(process.env.BENCH_DURATION ?? 8),
  rounds: Number(process.env.BENCH_ROUNDS ?? 3),
  connections: Number(process.env.BENCH_CONNECTIONS ?? 32),
};

/** Medians of one target's runs. */
export interface TargetSummary {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  runs: Run[];
  /** Median CPU µs per request of the target's server process (targets with a pid). */
  serverCpuUsPerRequest?: number | undefined;
}

/** Runs autocannon once against a target. */
export async function measure(target: Target, duration = settings.duration): Promise<Run> {
  const cpuBefore = cpuUs(target.pid);
  const result = await autocannon({
    url: target.url,
    method: target.method ?? 'GET',
    headers: target.headers,
    body: target.body,
    connections: settings.connections,
    duration,
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    ...perRequestCpu(cpuBefore, cpuUs(target.pid), result.requests.total),
  };
}

function perRequestCpu(before: number | undefined, after: number | undefined, requests: number) {
  if (before === undefined || after === undefined || requests === 0) return {};
  return { cpuUsPerRequest: Math.round((after - before) / requests) };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/**
 * Warms every target up, then runs rounds of A B C ... and returns per-target medians.
 *
 * @example
 * const summary = await sideBySide([bare, tessera]);
 */
export async function sideBySide(targets: Target[]): Promise<TargetSummary[]> {
  for (const target of targets) await measure(target, 2);
  const runs = new Map<string, Run[]>(targets.map((t) => [t.name, []]));
  for (let round = 0; round < settings.rounds; round++) {
    // Each round starts one target later, so no target always follows the same neighbour (the
    // one after the fastest target inherited its GC debt and ran slower in every round).
    const order = targets.map((_, i) => targets[(i + round) % targets.length]!);
    for (const target of order) {
      const run = await measure(target);
      runs.get(target.name)!.push(run);
      process.stderr.write(
        `  round ${round + 1} ${target.name}: ${run.rps.toFixed(0)} req/s p50 ${run.p50} ms p99 ${run.p99} ms${run.cpuUsPerRequest === undefined ? '' : `, ${run.cpuUsPerRequest} CPU µs/req`}${run.non2xx || run.errors ? ` (${run.non2xx} non-2xx, ${run.errors} errors)` : ''}\n`,
      );
    }
  }
  return targets.map((t) => {
    const list = runs.get(t.name)!;
    return {
      name: t.name,
      rps: median(list.map((r) => r.rps)),
      p50: median(list.map((r) => r.p50)),
      p99: median(list.map((r) => r.p99)),
      serverCpuUsPerRequest: list.every((r) => r.cpuUsPerRequest !== undefined)
        ? median(list.map((r) => r.cpuUsPerRequest!))
        : undefined,
      non2xx: list.reduce((a, r) => a + r.non2xx, 0),
      errors: list.reduce((a, r) => a + r.errors, 0),
      runs: list,
    };
  });
}

/** Median of the per-round ratios a/b of req/s. */
export function pairwiseRatio(summary: TargetSummary[], a: string, b: string): number {
  const ra = summary.find((s) => s.name === a)!.runs;
  const rb = summary.find((s) => s.name === b)!.runs;
  return median(ra.map((r, i) => r.rps / rb[i]!.rps));
}

/** The machine line every result carries. */
export function machine(): string {
  return `Node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB`;
}

/** Writes raw results to bench/results/<name>.json and prints a markdown table. */
export async function report(
  name: string,
  summary: TargetSummary[],
  extra: Record<string, unknown>,
): Promise<void> {
  const file = new URL(`./results/${name}.json`, import.meta.url);
  await writeFile(
    file,
    JSON.stringify(
      { date: new Date().toISOString(), machine: machine(), settings, summary, ...extra },
      null,
      2,
    ) + '\n',
  );
  const rows = summary.map(
    (s) => `| ${s.name} | ${s.rps.toFixed(0)} | ${s.p50} | ${s.p99} | ${s.non2xx + s.errors} |`,
  );
  process.stdout.write(
    [
      '',
      `| target | req/s | p50 ms | p99 ms | non-2xx+errors |`,
      '|---|---|---|---|---|',
      ...rows,
      '',
      JSON.stringify(extra, null, 2),
      '',
    ].join('\n'),
  );
}
