/**
 * `npm run bench -- login`: what a sign-in costs the platform. Every hosted-login POST makes the
 * auth service call the user service's `POST /internal/credentials/verify`, which runs one
 * argon2id verification (OWASP parameters: 19 MiB, 2 iterations, 1 lane) — a dummy one when the
 * email is unknown, so both answers take the same time. Targets, side by side:
 * - the user service verifying the right password (200);
 * - the user service with an unknown email (401 expected: the dummy verification);
 * - the limit: a bare Fastify route running only the same argon2id verification.
 * The servers run in a child process on real PostgreSQL; autocannon runs here.
 */
import { createTestDatabase } from '@tessera/db/testing';
import { pairwiseRatio, report, sideBySide, type Target } from './lib.ts';
import { startServer } from './lib-process.ts';

interface LoginServerInfo {
  verifyUrl: string;
  limitUrl: string;
  token: string;
  email: string;
  password: string;
  pid: number;
}

export default async function loginBench(): Promise<void> {
  const database = await createTestDatabase();
  const { info, child } = await startServer<LoginServerInfo>('./login-server.ts', {
    BENCH_DATABASE_URL: database.url,
  });
  try {
    const json = { 'content-type': 'application/json' };
    const internal = { ...json, authorization: `Bearer ${info.token}` };
    const targets: Target[] = [
      {
        name: 'user service, right password',
        url: info.verifyUrl,
        method: 'POST',
        headers: internal,
        body: JSON.stringify({ email: info.email, password: info.password }),
        pid: info.pid,
      },
      {
        name: 'user service, unknown email (401 expected)',
        url: info.verifyUrl,
        method: 'POST',
        headers: internal,
        body: JSON.stringify({ email: 'nobody@example.com', password: info.password }),
        pid: info.pid,
      },
      {
        name: 'limit: bare argon2id verify',
        url: info.limitUrl,
        method: 'POST',
        headers: json,
        body: JSON.stringify({ password: info.password }),
        pid: info.pid,
      },
    ];
    const summary = await sideBySide(targets);
    const failed = summary.filter((s) => !s.name.includes('401 expected') && s.non2xx + s.errors > 0);
    if (failed.length > 0) throw new Error(`failed requests in ${failed.map((s) => s.name).join(', ')}`);
    await report('login', summary, {
      ratios: {
        'right password / limit': pairwiseRatio(
          summary,
          'user service, right password',
          'limit: bare argon2id verify',
        ),
        'unknown email / right password': pairwiseRatio(
          summary,
          'user service, unknown email (401 expected)',
          'user service, right password',
        ),
      },
    });
  } finally {
    child.kill();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await database.drop();
  }
}
