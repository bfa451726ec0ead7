import pino, { type Logger, type LoggerOptions } from 'pino';

/** pino's logger type, re-exported so packages depend on the kernel, not on pino directly. */
export type { Logger };

const SECRET_KEYS = [
  'authorization',
  'cookie',
  'set-cookie',
  'password',
  'newPassword',
  'currentPassword',
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'code_verifier',
  'client_secret',
  'client_assertion',
  'secret',
  'privateKey',
  'private_key',
  'masterKey',
  'x-tessera-service-token',
];

/**
 * Paths pino replaces with `[redacted]`: secrets at the top level, one and two levels down,
 * and in the request/response headers Fastify logs.
 */
export const REDACT_PATHS: string[] = [
  ...SECRET_KEYS.map((key) => `["${key}"]`),
  ...SECRET_KEYS.map((key) => `*["${key}"]`),
  ...SECRET_KEYS.map((key) => `*.*["${key}"]`),
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
];

/** Options for {@link createLogger}. */
export interface LoggerConfig {
  name: string;
  level?: string;
  /** Where lines go (defaults to stdout); tests pass a stream to read what was logged. */
  destination?: pino.DestinationStream;
  base?: Record<string, unknown>;
}

/**
 * A pino JSON logger with secrets redacted (authorization, cookies, passwords, tokens, secrets).
 *
 * @example
 * const log = createLogger({ name: 'users', level: 'info' });
 * log.info({ userId }, 'user created');
 */
export function createLogger(config: LoggerConfig): Logger {
  const options: LoggerOptions = {
    name: config.name,
    level: config.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { service: config.name, ...config.base },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  return config.destination ? pino(options, config.destination) : pino(options);
}
