/**
 * `npm run bench -- gateway`: GET /v1/users/{id}?include=memberships (L1-hit users instance)
 * (a) directly, (b) through a bare @fastify/http-proxy, (c) through the Tessera gateway with
 * Redis rate limiting (one EVALSHA per request) and the edge token check. Users, proxies and
 * autocannon each run in their own process.
 */
import { createTestDatabase } from '@tessera/db/testing';
import { pairwiseRatio, report, sideBySide, type Target } from './lib.ts';
import { startServer } from './lib-process.ts';

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
    const summary = await sideBySide(targets);
    const p50 = (name: string) => summary.find((s) => s.name === name)!.p50;
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
    });
  } finally {
    users.child.kill();
    proxies.child.kill();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await database.drop();
  }
}
