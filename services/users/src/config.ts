import {
  envEnum,
  envInt,
  envList,
  envOptionalString,
  envString,
  envUrl,
  type ConfigOf,
} from '@tessera/kernel';

/** The user service's environment variables (read only by main.ts and the platform). */
export const usersConfigSpec = {
  port: envInt('USERS_PORT', { default: 8082, min: 0, max: 65535 }),
  host: envString('USERS_HOST', { default: '127.0.0.1' }),
  databaseUrl: envUrl('USERS_DATABASE_URL', {
    optional: true,
    protocols: ['postgres:', 'postgresql:'],
    secret: true,
  }),
  sharedDatabaseUrl: envUrl('DATABASE_URL', {
    optional: true,
    protocols: ['postgres:', 'postgresql:'],
    secret: true,
  }),
  redisUrl: envUrl('REDIS_URL', { optional: true, protocols: ['redis:', 'rediss:'], secret: true }),
  publicUrl: envUrl('TESSERA_PUBLIC_URL', {
    default: 'http://localhost:8080',
    protocols: ['http:', 'https:'],
  }),
  jwksUrl: envUrl('TESSERA_JWKS_URL', {
    default: 'http://127.0.0.1:8081/jwks.json',
    protocols: ['http:', 'https:'],
  }),
  apiAudience: envString('TESSERA_API_AUDIENCE', { default: 'tessera-api', maxLength: 200 }),
  logLevel: envEnum('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, {
    default: 'info',
  }),
  corsOrigins: envList('CORS_ORIGINS', { default: [] }),
  metricsToken: envOptionalString('METRICS_TOKEN', { secret: true }),
  adminOrg: envString('TESSERA_ADMIN_ORG', { default: 'demo', maxLength: 64 }),
  authzL1TtlMs: envInt('USERS_AUTHZ_L1_TTL_MS', { default: 5_000, min: 0, max: 600_000 }),
  authzL2TtlSeconds: envInt('USERS_AUTHZ_L2_TTL_SECONDS', { default: 300, min: 1, max: 86_400 }),
};

/** Parsed user-service configuration. */
export type UsersConfig = ConfigOf<typeof usersConfigSpec>;
