/**
 * `npm run bench -- users`: GET /v1/users/{id}?include=memberships with a valid token, in three
 * cache modes (L1 hit, L2 hit with L1 off, database with both off) on real PostgreSQL and Redis,
 * beside a bare Fastify route returning the same JSON without auth or cache. The servers run in a
 * child process; autocannon runs here.
 */
import { createTestDatabase } from '@tessera/db/testing';
import { pairwiseRatio, report, sideBySide, type Target } from './lib.ts';
import { startServer } from './lib-process.ts';

export default async function usersBench(): Promise<void> {
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
