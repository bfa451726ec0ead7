import { readFileSync } from 'node:fs';
import { Type, type Static, type TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import {
  ConfigError,
  envBool,
  envEnum,
  envInt,
  envList,
  envOptionalString,
  envString,
  envUrl,
  type ConfigOf,
} from '@tessera/kernel';
import type { GatewayConfig } from './app.ts';
import { DEFAULT_ROUTES, type RouteEntry } from './routes.ts';

/** The gateway's environment variables. */
export const gatewayConfigSpec = {
  port: envInt('GATEWAY_PORT', { default: 8080, min: 0, max: 65535 }),
  host: envString('GATEWAY_HOST', { default: '127.0.0.1' }),
  authUpstreams: envList('GATEWAY_AUTH_UPSTREAMS', { default: ['http://127.0.0.1:8081'] }),
  usersUpstreams: envList('GATEWAY_USERS_UPSTREAMS', { default: ['http://127.0.0.1:8082'] }),
  configFile: envOptionalString('GATEWAY_CONFIG'),
  redisUrl: envUrl('REDIS_URL', { optional: true, protocols: ['redis:', 'rediss:'], secret: true }),
  trustedProxies: envList('TRUSTED_PROXIES', { default: [] }),
  failOpen: envBool('RATE_LIMIT_FAIL_OPEN', { default: true }),
  tlsCertFile: envOptionalString('TLS_CERT_FILE'),
  tlsKeyFile: envOptionalString('TLS_KEY_FILE'),
  publicUrl: envUrl('TESSERA_PUBLIC_URL', {
    default: 'http://localhost:8080',
    protocols: ['http:', 'https:'],
  }),
  jwksUrl: envUrl('TESSERA_JWKS_URL', {
    default: 'http://127.0.0.1:8081/jwks.json',
    protocols: ['http:', 'https:'],
  }),
  apiAudience: envString('TESSERA_API_AUDIENCE', { default: 'tessera-api', maxLength: 200 }),
  adminToken: envOptionalString('GATEWAY_ADMIN_TOKEN', { secret: true }),
  metricsToken: envOptionalString('METRICS_TOKEN', { secret: true }),
  corsOrigins: envList('CORS_ORIGINS', { default: [] }),
  timeoutMs: envInt('GATEWAY_UPSTREAM_TIMEOUT_MS', { default: 10_000, min: 100, max: 120_000 }),
  clientOriginsRefreshMs: envInt('GATEWAY_CLIENT_ORIGINS_REFRESH_MS', {
    default: 30_000,
    min: 0,
    max: 3_600_000,
  }),
  logLevel: envEnum('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, {
    default: 'info',
  }),
};
export type GatewayEnv = ConfigOf<typeof gatewayConfigSpec>;

const Policy = Type.Object(
  {
    name: Type.String({ maxLength: 64 }),
    limit: Type.Integer({ minimum: 1 }),
    windowSeconds: Type.Integer({ minimum: 1, maximum: 86_400 }),
  },
  { additionalProperties: false },
);
const ClassMap = <T extends TSchema>(t: T) =>
  Type.Object({ token: t, login: t, oauth: t, api: t }, { additionalProperties: false });
const PoolName = Type.String({ minLength: 1, maxLength: 64 });
/**
 * One route table entry: a path prefix (`/segment/…`: path characters only, no empty segment, no
 * trailing slash; it matches at a segment boundary) → a pool and a route class.
 */
const Route = Type.Object(
  {
    prefix: Type.String({ minLength: 1, maxLength: 200, pattern: "^(/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)+$" }),
    pool: PoolName,
    routeClass: Type.Union([
      Type.Literal('token'),
      Type.Literal('login'),
      Type.Literal('oauth'),
      Type.Literal('api'),
    ]),
  },
  { additionalProperties: false },
);

/** The JSON file named by GATEWAY_CONFIG (every member optional; reloaded on SIGHUP). */
export const GatewayFile = Type.Object(
  {
    /** Replaces the whole default route table (DEFAULT_ROUTES); every entry's pool must exist. */
    routes: Type.Optional(Type.Array(Route, { maxItems: 200 })),
    pools: Type.Optional(
      Type.Record(
        Type.String({ maxLength: 64 }),
        Type.Object(
          {
            blue: Type.Array(Type.String({ format: 'uri', maxLength: 500 }), { maxItems: 64 }),
            green: Type.Optional(
              Type.Array(Type.String({ format: 'uri', maxLength: 500 }), { maxItems: 64 }),
            ),
            active: Type.Optional(Type.Union([Type.Literal('blue'), Type.Literal('green')])),
          },
          { additionalProperties: false },
        ),
      ),
    ),
    cors: Type.Optional(
      Type.Partial(ClassMap(Type.Array(Type.String({ maxLength: 300 }), { maxItems: 500 }))),
    ),
    rateLimits: Type.Optional(
      Type.Object(
        {
          perIp: Type.Optional(Type.Partial(ClassMap(Policy))),
          perClient: Type.Optional(Policy),
          perUser: Type.Optional(Policy),
        },
        { additionalProperties: false },
      ),
    ),
    bodyLimits: Type.Optional(Type.Partial(ClassMap(Type.Integer({ minimum: 0, maximum: 10_485_760 })))),
  },
  { additionalProperties: false },
);
export type GatewayFile = Static<typeof GatewayFile>;

/** Defaults: strict on credentials (login, token), generous on the API; 64 KiB bodies, 16 KiB on login. */
export function defaultGatewayConfig(
  overrides: Partial<GatewayConfig> & Pick<GatewayConfig, 'pools'>,
): GatewayConfig {
  return {
    routes: DEFAULT_ROUTES,
    trustedProxies: [],
    cors: { token: [], login: [], oauth: [], api: [] },
    rateLimits: {
      perIp: {
        token: { name: 'token-ip', limit: 120, windowSeconds: 60 },
        login: { name: 'login-ip', limit: 30, windowSeconds: 60 },
        oauth: { name: 'oauth-ip', limit: 600, windowSeconds: 60 },
        api: { name: 'api-ip', limit: 1200, windowSeconds: 60 },
      },
      perClient: { name: 'client', limit: 6000, windowSeconds: 60 },
      perUser: { name: 'user', limit: 1200, windowSeconds: 60 },
      failOpen: true,
    },
    bodyLimits: { token: 16_384, login: 16_384, oauth: 16_384, api: 65_536 },
    timeoutMs: 10_000,
    healthIntervalMs: 2_000,
    breaker: { failureThreshold: 3, openMs: 5_000 },
    ...overrides,
  };
}

const checkFile = Compile(GatewayFile);

/**
 * Builds the gateway config from the environment and the optional GATEWAY_CONFIG file.
 *
 * @example
 * const config = gatewayConfigFromEnv(loadConfigOrExit(gatewayConfigSpec, process.env));
 */
export function gatewayConfigFromEnv(env: GatewayEnv): GatewayConfig {
  let file: GatewayFile = {};
  if (env.configFile) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(env.configFile, 'utf8'));
    } catch (err) {
      throw new ConfigError(
        'GATEWAY_CONFIG',
        `cannot be read as JSON (${(err as Error).message.slice(0, 80)})`,
      );
    }
    if (!checkFile.Check(parsed))
      throw new ConfigError(
        'GATEWAY_CONFIG',
        'does not match the gateway config schema (services/gateway/README.md)',
      );
    file = parsed;
  }
  const tls = tlsFiles(env);
  const pools = file.pools ?? {
    auth: { blue: upstreamList('GATEWAY_AUTH_UPSTREAMS', env.authUpstreams) },
    users: { blue: upstreamList('GATEWAY_USERS_UPSTREAMS', env.usersUpstreams) },
  };
  const base = defaultGatewayConfig({ pools, routes: routeTable(file.routes, pools) });
  const corsDefault = env.corsOrigins;
  return {
    ...base,
    trustedProxies: env.trustedProxies,
    cors: {
      token: file.cors?.token ?? corsDefault,
      login: file.cors?.login ?? [],
      oauth: file.cors?.oauth ?? corsDefault,
      api: file.cors?.api ?? corsDefault,
    },
    rateLimits: {
      perIp: { ...base.rateLimits.perIp, ...file.rateLimits?.perIp },
      perClient: file.rateLimits?.perClient ?? base.rateLimits.perClient,
      perUser: file.rateLimits?.perUser ?? base.rateLimits.perUser,
      failOpen: env.failOpen,
    },
    bodyLimits: { ...base.bodyLimits, ...file.bodyLimits },
    timeoutMs: env.timeoutMs,
    clientOriginsRefreshMs: env.clientOriginsRefreshMs,
    adminToken: env.adminToken,
    metricsToken: env.metricsToken,
    https: tls && { cert: readTls('TLS_CERT_FILE', tls.cert), key: readTls('TLS_KEY_FILE', tls.key) },
  };
}

/** Upstream URLs from the environment: http(s) only, at least one (else `new URL` fails the start with a stack trace). */
function upstreamList(variable: string, urls: string[]): string[] {
  if (urls.length === 0) throw new ConfigError(variable, 'must list at least one http(s) URL');
  for (const url of urls) {
    if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol))
      throw new ConfigError(
        variable,
        `must be a comma-separated list of http(s) URLs, got ${JSON.stringify(url.slice(0, 100))}`,
      );
  }
  return urls;
}

/** Both TLS files or neither: one without the other would silently serve plain HTTP. */
function tlsFiles(env: GatewayEnv): { cert: string; key: string } | undefined {
  const { tlsCertFile: cert, tlsKeyFile: key } = env;
  if (cert && !key) throw new ConfigError('TLS_KEY_FILE', 'is required when TLS_CERT_FILE is set');
  if (key && !cert) throw new ConfigError('TLS_CERT_FILE', 'is required when TLS_KEY_FILE is set');
  return cert && key ? { cert, key } : undefined;
}

function readTls(variable: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(variable, `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** The file's route table (checked against the pools; one entry per prefix), or the default one. */
function routeTable(routes: RouteEntry[] | undefined, pools: Record<string, unknown>): RouteEntry[] {
  if (!routes) return DEFAULT_ROUTES;
  const seen = new Set<string>();
  for (const route of routes) {
    if (!Object.hasOwn(pools, route.pool))
      throw new ConfigError(
        'GATEWAY_CONFIG',
        `route ${JSON.stringify(route.prefix)} names pool ${JSON.stringify(route.pool)}, which is not in pools`,
      );
    if (seen.has(route.prefix))
      throw new ConfigError('GATEWAY_CONFIG', `route ${JSON.stringify(route.prefix)} is listed twice`);
    seen.add(route.prefix);
  }
  return routes;
}
