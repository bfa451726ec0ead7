/**
 * The auth service's environment: one spec, validated at start (`loadAuthConfig` in `main.ts`,
 * the only place that reads `process.env`). Everything else receives the parsed {@link AuthConfig}.
 */
import {
  ConfigError,
  envEnum,
  envInt,
  envList,
  envOptionalString,
  envString,
  envUrl,
  loadConfig,
  type ConfigOf,
} from '@tessera/kernel';

/** Signing algorithms the issuer can be configured with (ARCHITECTURE: ES256 default). */
export const SIGNING_ALGORITHMS = ['ES256', 'EdDSA', 'RS256'] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

/** The environment variables of the auth service. */
export const authConfigSpec = {
  port: envInt('AUTH_PORT', { default: 8081, min: 0, max: 65535 }),
  host: envString('AUTH_HOST', { default: '127.0.0.1' }),
  databaseUrl: envUrl('AUTH_DATABASE_URL', {
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
  masterKey: envOptionalString('TESSERA_MASTER_KEY', { secret: true }),
  signingAlg: envEnum('TESSERA_SIGNING_ALG', SIGNING_ALGORITHMS, { default: 'ES256' }),
  usersUrl: envUrl('TESSERA_USERS_URL', { default: 'http://127.0.0.1:8082', protocols: ['http:', 'https:'] }),
  apiAudience: envString('TESSERA_API_AUDIENCE', { default: 'tessera-api', maxLength: 200 }),
  accessTokenTtlSeconds: envInt('AUTH_ACCESS_TOKEN_TTL', { default: 600, min: 60, max: 3600 }),
  idTokenTtlSeconds: envInt('AUTH_ID_TOKEN_TTL', { default: 3600, min: 60, max: 86_400 }),
  sessionTtlSeconds: envInt('AUTH_SESSION_TTL', { default: 28_800, min: 60, max: 30 * 86_400 }),
  keyPropagationSeconds: envInt('AUTH_KEY_PROPAGATION_SECONDS', { default: 900, min: 0, max: 7 * 86_400 }),
  signingKeyMaxAgeDays: envInt('TESSERA_SIGNING_KEY_MAX_AGE_DAYS', { default: 90, min: 1, max: 3650 }),
  logLevel: envEnum('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, {
    default: 'info',
  }),
  corsOrigins: envList('CORS_ORIGINS', { default: [] }),
  metricsToken: envOptionalString('METRICS_TOKEN', { secret: true }),
};

/** Parsed configuration of the auth service. */
export interface AuthConfig {
  port: number;
  host: string;
  /** `AUTH_DATABASE_URL`, else `DATABASE_URL`; undefined = embedded PGlite (all-in-one only). */
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  /** The issuer (`TESSERA_PUBLIC_URL`), without a trailing slash. */
  publicUrl: string;
  /** Base64 text of the 32-byte master key; `main.ts` refuses to start without it. */
  masterKey: string | undefined;
  signingAlg: SigningAlgorithm;
  usersUrl: string;
  /** The audience of Tessera's own APIs (service tokens, admin API). */
  apiAudience: string;
  /** Default access token lifetime for new clients. */
  accessTokenTtlSeconds: number;
  idTokenTtlSeconds: number;
  sessionTtlSeconds: number;
  /** How long a new signing key is published in JWKS before it signs (ADR 0002). */
  keyPropagationSeconds: number;
  /** Recommended rotation period of a signing key; an alert fires before it passes without a successor. */
  signingKeyMaxAgeDays: number;
  logLevel: ConfigOf<typeof authConfigSpec>['logLevel'];
  corsOrigins: string[];
  /** Bearer token `/metrics` requires (`METRICS_TOKEN`); unset: open. */
  metricsToken?: string | undefined;
}

/** The longest lifetime any token signed by this issuer can have (keys stay published this long after retiring). */
export const MAX_TOKEN_TTL_SECONDS = 86_400;

/**
 * Reads and validates the auth service's environment; throws `ConfigError` naming the variable.
 *
 * @example
 * const config = loadAuthConfig(process.env);
 */
export function loadAuthConfig(env: Record<string, string | undefined>): AuthConfig {
  const raw = loadConfig(authConfigSpec, env);
  const publicUrl = raw.publicUrl.replace(/\/+$/, '');
  const parsed = new URL(publicUrl);
  if (parsed.search || parsed.hash)
    throw new ConfigError('TESSERA_PUBLIC_URL', 'must have no query or fragment');
  return {
    port: raw.port,
    host: raw.host,
    databaseUrl: raw.databaseUrl ?? raw.sharedDatabaseUrl,
    redisUrl: raw.redisUrl,
    publicUrl,
    masterKey: raw.masterKey,
    signingAlg: raw.signingAlg,
    usersUrl: raw.usersUrl,
    apiAudience: raw.apiAudience,
    accessTokenTtlSeconds: raw.accessTokenTtlSeconds,
    idTokenTtlSeconds: raw.idTokenTtlSeconds,
    sessionTtlSeconds: raw.sessionTtlSeconds,
    keyPropagationSeconds: raw.keyPropagationSeconds,
    signingKeyMaxAgeDays: raw.signingKeyMaxAgeDays,
    logLevel: raw.logLevel,
    corsOrigins: raw.corsOrigins,
    metricsToken: raw.metricsToken,
  };
}

/**
 * The configuration with every default, for tests and embedded use; `overrides` replace fields.
 *
 * @example
 * const config = defaultAuthConfig({ publicUrl: 'http://127.0.0.1:4000' });
 */
export function defaultAuthConfig(overrides: Partial<AuthConfig> = {}): AuthConfig {
  return { ...loadAuthConfig({}), ...overrides };
}
