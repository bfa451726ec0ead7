/**
 * `npm run start:gateway`: the gateway alone. The only file of this service that reads the
 * environment (with instrument.ts, imported first).
 */
import { errorSink, telemetry } from './instrument.ts';
import { createTokenVerifier } from '@tessera/auth-middleware';
import { connectRedis, traceRedis } from '@tessera/cache';
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
const verifier = createTokenVerifier({
  jwksUrl: env.jwksUrl,
  issuer: env.publicUrl.replace(/\/+$/, ''),
  audience: env.apiAudience,
});
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
  async () => redis?.disconnect(),
  () => telemetry.shutdown(),
]);
reportProcessErrors(errorReporterOf(gateway.app)!, shutdown);
