import { envEnum, envInt, envOptionalString, envString, envUrl, type ConfigOf } from '@tessera/kernel';

/** The all-in-one process's own variables (each service's variables also apply; see .env.example). */
export const platformConfigSpec = {
  dataDir: envString('TESSERA_DATA_DIR', { default: './.data' }),
  host: envString('TESSERA_HOST', { default: '127.0.0.1' }),
  gatewayPort: envInt('GATEWAY_PORT', { default: 8080, min: 0, max: 65535 }),
  authPort: envInt('AUTH_PORT', { default: 8081, min: 0, max: 65535 }),
  usersPort: envInt('USERS_PORT', { default: 8082, min: 0, max: 65535 }),
  databaseUrl: envUrl('DATABASE_URL', {
    optional: true,
    protocols: ['postgres:', 'postgresql:'],
    secret: true,
  }),
  redisUrl: envUrl('REDIS_URL', { optional: true, protocols: ['redis:', 'rediss:'], secret: true }),
  masterKey: envOptionalString('TESSERA_MASTER_KEY', { secret: true }),
  adminEmail: envString('TESSERA_ADMIN_EMAIL', {
    default: 'admin@example.com',
    maxLength: 254,
    pattern: /^[^@\s]+@[^@\s]+$/,
  }),
  adminPassword: envOptionalString('TESSERA_ADMIN_PASSWORD', { secret: true }),
  demoServiceSecret: envOptionalString('TESSERA_DEMO_SERVICE_SECRET', { secret: true }),
  seedFile: envOptionalString('TESSERA_SEED'),
  metricsToken: envOptionalString('METRICS_TOKEN', { secret: true }),
  adminOrg: envString('TESSERA_ADMIN_ORG', { default: 'demo', maxLength: 64 }),
  logLevel: envEnum('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, {
    default: 'info',
  }),
};

/** Parsed platform configuration. */
export type PlatformConfig = ConfigOf<typeof platformConfigSpec>;
