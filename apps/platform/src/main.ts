/**
 * `npm start`: the whole platform in one process (gateway 8080, auth 8081, users 8082) on
 * embedded PostgreSQL under ./.data, or on DATABASE_URL / REDIS_URL when set.
 */
// First: sizes libuv's thread pool before anything can start it (packages/kernel/src/thread-pool.ts).
import '@tessera/kernel/size-thread-pool';
import { createErrorReporter, createLogger, onShutdown, reportProcessErrors } from '@tessera/kernel';
import { startPlatform } from './platform.ts';
import { startupFailureLine } from './startup-error.ts';

// No `service` on the root: each service's child logger adds its own (one key, not two).
const logger = createLogger({
  name: 'tessera',
  level: process.env.LOG_LEVEL ?? 'info',
  base: { service: undefined },
});
let platform;
try {
  platform = await startPlatform({ env: process.env, logger });
} catch (err) {
  process.stderr.write(`${startupFailureLine(err)}\n`);
  process.exit(1);
}
const { urls } = platform;
const lines = [
  '',
  'Tessera is running.',
  `  public origin (issuer)   ${platform.publicUrl}  ← gateway listening on ${urls.gateway}`,
  `  OpenID discovery         ${platform.publicUrl}/.well-known/openid-configuration`,
  `  auth service             ${urls.auth}`,
  `  users service            ${urls.users}`,
  `  metrics (Prometheus)     ${urls.gateway}/metrics  ${urls.auth}/metrics  ${urls.users}/metrics`,
  `  health                   /livez and /readyz on each of those ports`,
  `  traces                   ${platform.tracesEndpoint ? `OTLP/HTTP to ${platform.tracesEndpoint}` : 'off (set OTEL_EXPORTER_OTLP_ENDPOINT; see docs/observability.md)'}`,
  `  database                 ${platform.database === 'embedded' ? `embedded PostgreSQL (PGlite) in ${platform.dataDir}` : 'PostgreSQL from DATABASE_URL'}${platform.redis ? ', Redis from REDIS_URL' : ''}`,
];
if (platform.admin.generatedPassword) {
  lines.push(
    '',
    `  admin user ${platform.admin.email}, password (shown once): ${platform.admin.generatedPassword}`,
  );
} else if (platform.admin.created) {
  lines.push('', `  admin user ${platform.admin.email} created with TESSERA_ADMIN_PASSWORD`);
}
if (platform.demoServiceSecret) {
  lines.push(`  demo-service client secret (shown once): ${platform.demoServiceSecret}`);
}
if (platform.masterKeySource === 'generated') {
  lines.push(
    '',
    `  note: a master key was generated into ${platform.dataDir}/master.key (0600). In production set TESSERA_MASTER_KEY.`,
  );
}
lines.push('', 'Press Ctrl-C to stop.', '');
process.stdout.write(lines.join('\n'));
const shutdown = onShutdown(logger, [() => platform.close()]);
// Errors inside requests are reported by each service; these are the ones outside any request.
reportProcessErrors(createErrorReporter({ service: 'tessera', logger }), shutdown);
