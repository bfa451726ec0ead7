/**
 * `npm run start:gateway`: the gateway alone. The only file of this service that reads the
 * environment (with instrument.ts, imported first).
 */
// First: sizes libuv's thread pool before anything can start it (packages/kernel/src/thread-pool.ts).
import '@tessera/kernel/size-thread-pool';
import { errorSink, telemetry } from './instrument.ts';
import { createTokenVerifier, RevokedTokenSet } from '@tessera/auth-middleware';
import { connectRedis, followRevocations, traceRedis } from '@tessera/cache';
import {
  ConfigError,
  createLogger,
  errorReporterOf,
  loadConfigOrExit,
  onShutdown,
  reportProcessErrors,
} from '@tessera/kernel';
import { buildGatewayApp } from './app.ts';
import { gatewayConfigFromEnv, gatewayConfigSpec } from './config.ts';

const env = loadConfigOrExit(gatewayConfigSpec, process.env);
const readConfig = () => {
  try {
    return gatewayConfigFromEnv(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
};
const logger = createLogger({ name: 'gateway', level: env.logLevel });
const redis = env.redisUrl
  ? await connectRedis(env.redisUrl, { connectionName: 'tessera-gateway' })
  : undefined;
const subscriber = env.redisUrl ? await connectRedis(env.redisUrl, { subscriber: true }) : undefined;
// The edge check refuses tokens auth revoked too (ADR 0008): an in-memory set fed by auth's feed.
const revoked = new RevokedTokenSet({
  onEvict: () => logger.warn('revoked-token set full: the oldest revocation was dropped'),
});
const verifier = createTokenVerifier({
  jwksUrl: env.jwksUrl,
  issuer: env.publicUrl.replace(/\/+$/, ''),
  audience: env.apiAudience,
  isRevoked: async (jti) => revoked.has(jti),
});
const revocations = redis
  ? await followRevocations({
      sink: revoked,
      redis,
      subscriber,
      logger,
    })
  : undefined;
const gateway = await buildGatewayApp({
  config: readConfig(),
  logger,
  redis: redis && traceRedis(redis, telemetry),
  verifier,
  telemetry,
  errorSink,
});
await gateway.app.listen({ host: env.host, port: env.port });
process.on('SIGHUP', () => {
  const refused = (err: unknown) =>
    logger.error(
      { err: { message: (err as Error).message } },
      'gateway: reload refused; keeping the running configuration',
    );
  try {
    gateway.reload(gatewayConfigFromEnv(env)).catch(refused);
  } catch (err) {
    refused(err);
  }
});
const shutdown = onShutdown(logger, [
  () => gateway.app.close(),
  async () => revocations?.close(),
  async () => {
    redis?.disconnect();
    subscriber?.disconnect();
  },
  () => telemetry.shutdown(),
]);
reportProcessErrors(errorReporterOf(gateway.app)!, shutdown);
