/**
 * `npm run bench -- idle-rss`: idle resident memory of the all-in-one process that `npm start`
 * runs (foundation issue target: ≤ 250 MB). Starts the platform with exactly the node command of
 * the `start` script, waits for its banner plus 8 s, reads `VmRSS`, and stops it with SIGTERM —
 * on embedded PGlite twice (first start, which creates and seeds the data directory, then a second
 * start on the same data) and, when `DATABASE_URL` is set, once on PostgreSQL (in a database
 * `tessera_idle_rss` it drops and creates on that server).
 * `BENCH_ROUNDS` (default 3) repeats each case; the median is reported.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const root = fileURLToPath(new URL('..', import.meta.url));
const BANNER = 'Tessera is running.';

/** The node arguments of the `start` script's last command (`node <flags> apps/platform/src/main.ts`). */
function startCommandArgs(): string[] {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const last = pkg.scripts.start!.split('&&').at(-1)!.trim().split(/\s+/);
  if (last[0] !== 'node') throw new Error(`unexpected start script: ${pkg.scripts.start}`);
  return last.slice(1);
}

async function idleRssMb(env: Record<string, string>, settleMs: number): Promise<number> {
  const child = spawn(process.execPath, startCommandArgs(), {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'warn', GATEWAY_PORT: '0', AUTH_PORT: '0', USERS_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error('no banner within 120 s')), 120_000);
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => {
        out += chunk;
        if (out.includes(BANNER)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => reject(new Error(`npm start's process exited with ${String(code)}`)));
    });
    await new Promise((resolve) => setTimeout(resolve, settleMs));
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
    return Math.round(kb / 1024);
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}

/** A fresh, empty database beside DATABASE_URL's, so each PostgreSQL start migrates and seeds it. */
async function freshDatabase(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('drop database if exists tessera_idle_rss');
    await client.query('create database tessera_idle_rss');
  } finally {
    await client.end();
  }
  const fresh = new URL(url);
  fresh.pathname = '/tessera_idle_rss';
  return fresh.href;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export default async function idleRss(): Promise<void> {
  if (process.platform !== 'linux') throw new Error('idle-rss reads /proc and runs on Linux only');
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const settleMs = 8_000;
  const cases: Record<string, number[]> = { 'PGlite, first start': [], 'PGlite, second start': [] };
  if (process.env.DATABASE_URL) cases['PostgreSQL (DATABASE_URL)'] = [];
  for (let round = 0; round < rounds; round++) {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tessera-rss-'));
    const embedded = { TESSERA_DATA_DIR: dataDir, DATABASE_URL: '', REDIS_URL: '' };
    try {
      cases['PGlite, first start']!.push(await idleRssMb(embedded, settleMs));
      cases['PGlite, second start']!.push(await idleRssMb(embedded, settleMs));
      if (process.env.DATABASE_URL) {
        cases['PostgreSQL (DATABASE_URL)']!.push(
          await idleRssMb(
            { TESSERA_DATA_DIR: dataDir, DATABASE_URL: await freshDatabase(process.env.DATABASE_URL) },
            settleMs,
          ),
        );
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  const rows = Object.entries(cases).map(([name, values]) => ({ name, medianMb: median(values), values }));
  process.stdout.write(
    `\n| case | idle RSS (MB, median) | rounds |\n| --- | --- | --- |\n${rows
      .map((r) => `| ${r.name} | ${r.medianMb} | ${r.values.join(', ')} |`)
      .join('\n')}\n\nnode ${startCommandArgs().join(' ')}; target ≤ 250 MB\n`,
  );
  await writeFile(
    path.join(root, 'bench/results/idle-rss.json'),
    `${JSON.stringify({ at: new Date().toISOString(), node: process.version, cpus: os.cpus().length, command: startCommandArgs(), settleMs, rows }, null, 2)}\n`,
  );
}
