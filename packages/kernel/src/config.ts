/**
 * Environment configuration: each service declares one spec of typed variables; `loadConfig`
 * validates them all at start and a bad or missing value becomes one line naming the variable.
 */

/** Thrown by {@link loadConfig}; `message` is the single line printed before exit code 1. */
export class ConfigError extends Error {
  readonly variable: string;
  constructor(variable: string, problem: string) {
    super(`config: ${variable} ${problem}`);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

/** One environment variable: its name, how to parse it, and whether it is secret (never echoed). */
export interface EnvVar<T> {
  readonly name: string;
  readonly secret: boolean;
  read(raw: string | undefined): T;
}

interface Common<T> {
  default?: T;
  secret?: boolean;
}

function variable<T>(
  name: string,
  options: Common<T> & { optional?: boolean },
  parse: (raw: string) => T,
): EnvVar<T> {
  return {
    name,
    secret: options.secret ?? false,
    read(raw) {
      if (raw === undefined || raw === '') {
        if (options.default !== undefined) return options.default;
        if (options.optional) return undefined as T;
        throw new ConfigError(name, 'is required but not set');
      }
      return parse(raw);
    },
  };
}

/**
 * A string variable with optional length bounds and pattern.
 *
 * @example
 * const spec = { level: envString('LOG_LEVEL', { default: 'info' }) };
 */
export function envString(
  name: string,
  options: Common<string> & { minLength?: number; maxLength?: number; pattern?: RegExp } = {},
): EnvVar<string> {
  return variable(name, options, (raw) => {
    if (options.minLength !== undefined && raw.length < options.minLength)
      throw new ConfigError(name, `must be at least ${options.minLength} characters`);
    if (options.maxLength !== undefined && raw.length > options.maxLength)
      throw new ConfigError(name, `must be at most ${options.maxLength} characters`);
    if (options.pattern && !options.pattern.test(raw))
      throw new ConfigError(name, `must match ${String(options.pattern)}`);
    return raw;
  });
}

/**
 * An optional string variable (undefined when unset).
 *
 * @example
 * const spec = { dsn: envOptionalString('SENTRY_DSN', { secret: true }) };
 */
export function envOptionalString(
  name: string,
  options: { secret?: boolean } = {},
): EnvVar<string | undefined> {
  return variable<string | undefined>(name, { ...options, optional: true }, (raw) => raw);
}

/**
 * An integer variable with bounds.
 *
 * @example
 * const spec = { port: envInt('USERS_PORT', { default: 8082, min: 0, max: 65535 }) };
 */
export function envInt(
  name: string,
  options: Common<number> & { min?: number; max?: number } = {},
): EnvVar<number> {
  return variable(name, options, (raw) => {
    if (!/^-?\d+$/.test(raw)) throw new ConfigError(name, `must be an integer, got "${raw.slice(0, 40)}"`);
    const value = Number(raw);
    if (options.min !== undefined && value < options.min)
      throw new ConfigError(name, `must be >= ${options.min}`);
    if (options.max !== undefined && value > options.max)
      throw new ConfigError(name, `must be <= ${options.max}`);
    return value;
  });
}

/**
 * A boolean variable: true/false/1/0/yes/no.
 *
 * @example
 * const spec = { failOpen: envBool('RATE_LIMIT_FAIL_OPEN', { default: true }) };
 */
export function envBool(name: string, options: Common<boolean> = {}): EnvVar<boolean> {
  return variable(name, options, (raw) => {
    const value = raw.toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(value)) return true;
    if (['false', '0', 'no', 'off'].includes(value)) return false;
    throw new ConfigError(name, 'must be true or false');
  });
}

/**
 * One of a fixed set of values.
 *
 * @example
 * const spec = { alg: envEnum('TESSERA_SIGNING_ALG', ['ES256', 'EdDSA', 'RS256'] as const, { default: 'ES256' }) };
 */
export function envEnum<const V extends string>(
  name: string,
  values: readonly V[],
  options: Common<V> = {},
): EnvVar<V> {
  return variable(name, options, (raw) => {
    if (!(values as readonly string[]).includes(raw))
      throw new ConfigError(name, `must be one of ${values.join(', ')}`);
    return raw as V;
  });
}

/**
 * A URL variable restricted to some protocols; the value is never echoed when `secret` (URLs carry passwords).
 *
 * @example
 * const spec = { db: envUrl('DATABASE_URL', { optional: true, protocols: ['postgres:', 'postgresql:'], secret: true }) };
 */
export function envUrl<O extends boolean = false>(
  name: string,
  options: Common<string> & { optional?: O; protocols?: string[] } = {},
): EnvVar<O extends true ? string | undefined : string> {
  return variable(name, options, (raw) => {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new ConfigError(name, 'must be an absolute URL');
    }
    if (options.protocols && !options.protocols.includes(url.protocol))
      throw new ConfigError(name, `must use ${options.protocols.join(' or ')}`);
    return raw;
  });
}

/**
 * A comma-separated list.
 *
 * @example
 * const spec = { origins: envList('CORS_ORIGINS', { default: [] }) };
 */
export function envList(name: string, options: Common<string[]> = {}): EnvVar<string[]> {
  return variable(name, options, (raw) =>
    raw
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  );
}

/** The typed result of a spec. */
export type ConfigOf<S extends Record<string, EnvVar<unknown>>> = {
  [K in keyof S]: ReturnType<S[K]['read']>;
};

/**
 * Reads every variable of `spec` from `env`; throws {@link ConfigError} on the first bad one.
 *
 * @example
 * const config = loadConfig({ port: envInt('PORT', { default: 8080 }) }, process.env);
 */
export function loadConfig<S extends Record<string, EnvVar<unknown>>>(
  spec: S,
  env: Record<string, string | undefined>,
): ConfigOf<S> {
  const out: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(spec)) out[key] = entry.read(env[entry.name]);
  return out as ConfigOf<S>;
}

/**
 * Loads config in a `main.ts`: on a {@link ConfigError} prints its one line to stderr and exits 1.
 *
 * @example
 * const config = loadConfigOrExit(usersConfigSpec, process.env);
 */
export function loadConfigOrExit<S extends Record<string, EnvVar<unknown>>>(
  spec: S,
  env: Record<string, string | undefined>,
): ConfigOf<S> {
  try {
    return loadConfig(spec, env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}
