/**
 * The proxy side of `npm run bench -- gateway`: a bare @fastify/http-proxy and the Tessera
 * gateway (Redis rate limiting + edge token check) in front of one users instance. Prints one
 * JSON line with both ports when ready. `BENCH_GATEWAY_MODULE` (an absolute path to the
 * `index.ts` of a copy of another revision's `services/gateway/src`, in a directory whose
 * `node_modules` resolves the workspace packages) benchmarks that gateway instead: before/after
 * figures with the same command.
 */
// As the gateway's main.ts does: libuv's pool sized to the spare cores (ADR 0014), for both proxies here.
import '@tessera/kernel/size-thread-pool';
import Fastify from 'fastify';
import proxy from '@fastify/http-proxy';
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { createTokenVerifier } from '@tessera/auth-middleware';
import { connectRedis } from '@tessera/cache';
import { createLogger } from '@tessera/kernel';
import type * as GatewayService from '@tessera/gateway-service';

const { buildGatewayApp, defaultGatewayConfig } = (await import(
  process.env.BENCH_GATEWAY_MODULE ?? '@tessera/gateway-service'
)) as typeof GatewayService;

const upstream = process.env.BENCH_UPSTREAM!;
const jwksUrl = process.env.BENCH_JWKS_URL!;
const issuer = process.env.BENCH_ISSUER!;
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const bare = Fastify();
await bare.register(proxy, { upstream, prefix: '/v1/users', rewritePrefix: '/v1/users' });
await bare.listen({ host: '127.0.0.1', port: 0 });

const redis = process.env.BENCH_NO_REDIS ? undefined : await connectRedis(redisUrl);
const base = defaultGatewayConfig({ pools: {} });
const limit = { limit: 100_000_000, windowSeconds: 60 };
const gateway = await buildGatewayApp({
  config: defaultGatewayConfig({
    pools: { users: { blue: [upstream] } },
    rateLimits: {
      ...base.rateLimits,
      perIp: { ...base.rateLimits.perIp, api: { name: 'api-ip', ...limit } },
      perClient: { name: 'client', ...limit },
      perUser: { name: 'user', ...limit },
    },
  }),
  logger: createLogger({
    name: 'bench',
    level: 'silent',
    destination: new Writable({ write: (_c, _e, cb) => cb() }),
  }),
  redis,
  redisKeyPrefix: `bench:gw:${process.pid}:`,
  verifier: createTokenVerifier({ jwksUrl, issuer, audience: 'tessera-api' }),
});
await gateway.app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(
  JSON.stringify({
    bare: (bare.server.address() as AddressInfo).port,
    gateway: (gateway.app.server.address() as AddressInfo).port,
  }) + '\n',
);
process.on('SIGINT', () => process.exit(0));
