/**
 * The gateway's own OpenAPI 3.1 document: the blue/green admin call, health and metrics. The
 * proxied public surface is not repeated here: `info.description` says which prefixes go to which
 * service, and each service's own document describes its operations.
 */
import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import { ProblemDocumentSchema, TESSERA_VERSION } from '@tessera/kernel';
import { Type } from 'typebox';
import type { RouteEntry } from './routes.ts';

/**
 * Where the gateway serves its document. In the admin namespace `/_gateway/`, which the gateway
 * owns and never proxies, rather than at `/openapi.json`: that path stays with the route table
 * (today it is not routed and answers 404), so a future public `/openapi.json` (e.g. one merging
 * the services' documents, or one service's) needs only a route, and a configured route table
 * entry for `/openapi.json` is never shadowed by the gateway.
 */
export const OPENAPI_PATH = '/_gateway/openapi.json';

/** The security scheme name of the admin token in the document. */
export const ADMIN_SCHEME = 'adminToken';
export const METRICS_SCHEME = 'metricsToken';

const Color = Type.Union([Type.Literal('blue'), Type.Literal('green')]);

/**
 * The problem documents the gateway itself sends (kernel errors and token errors): RFC 9457 lets
 * problems carry extension members, but the gateway's carry none, so the schema is closed.
 */
const Problem = Type.Object(ProblemDocumentSchema.properties, { additionalProperties: false });

const bearerScheme = (description: string) => ({ type: 'http' as const, scheme: 'bearer', description });

const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: Problem } },
});

/** Route schema of `POST /_gateway/pools/{pool}/switch` (validation, serialization and the document). */
export const switchSchema = {
  summary: 'Switch a pool to its blue or green set',
  description:
    'Probes the target set (`/readyz` of each instance) and, when one instance is healthy, makes it the ' +
    "pool's active set: requests picked afterwards go there, requests in flight finish on the old set.",
  security: [{ [ADMIN_SCHEME]: [] }],
  params: Type.Object(
    { pool: Type.String({ minLength: 1, maxLength: 64, description: 'Pool name (`auth`, `users`, …)' }) },
    { additionalProperties: false },
  ),
  querystring: Type.Object(
    {
      to: Type.Union([Type.Literal('blue'), Type.Literal('green')], { description: 'The set to switch to' }),
    },
    { additionalProperties: false },
  ),
  response: {
    200: Type.Object(
      { pool: Type.String(), active: Color },
      { additionalProperties: false, description: 'Switched: the pool and its active set' },
    ),
    400: problem('`validation_failed`: a parameter is missing, unknown or invalid'),
    401: problem(
      '`missing_token` / `invalid_token`: no or a wrong admin token (checked before anything else)',
    ),
    404: problem('`pool_not_found`: no such pool'),
    409: problem('`target_unhealthy`: no instance of the target set is healthy; nothing changed'),
  },
};

/**
 * The swagger options: document header, the admin security scheme when the admin call exists, and
 * the kernel's `/livez`, `/readyz`, `/metrics`. Those are registered by `createHttpServer` before
 * the swagger plugin can see routes, so they are described here by hand (and checked against the
 * live routes by `openapi.test.ts`).
 */
export function gatewayOpenApi(options: {
  admin: boolean;
  /** Whether `/metrics` asks for `METRICS_TOKEN`. */
  metricsToken?: boolean;
}): NonNullable<FastifyDynamicSwaggerOptions['openapi']> {
  const schemes = {
    ...(options.admin
      ? {
          [ADMIN_SCHEME]: bearerScheme(
            'The gateway admin token (`GATEWAY_ADMIN_TOKEN`), not an OAuth access token.',
          ),
        }
      : {}),
    ...(options.metricsToken
      ? {
          [METRICS_SCHEME]: bearerScheme('The scrape token (`METRICS_TOKEN`), not an OAuth access token.'),
        }
      : {}),
  };
  return {
    openapi: '3.1.0',
    // `info.description` (the proxied prefixes) is added when the document is served: a reload
    // may change the route table.
    info: { title: 'Tessera gateway', version: TESSERA_VERSION },
    components: Object.keys(schemes).length > 0 ? { securitySchemes: schemes } : {},
    paths: {
      '/livez': {
        get: {
          summary: 'Liveness',
          responses: {
            200: {
              description: 'The process is up',
              content: { 'application/json': { schema: closed({ status: { const: 'ok' } }) } },
            },
          },
        },
      },
      '/readyz': {
        get: {
          summary: 'Readiness: every pool has a healthy instance in its active set',
          responses: {
            200: {
              description: 'Ready',
              content: { 'application/json': { schema: readiness(['ok', 'degraded']) } },
            },
            503: {
              description: 'Not ready: take this instance out of rotation',
              content: { 'application/json': { schema: readiness(['unavailable']) } },
            },
          },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics (OpenMetrics when asked for in `Accept`)',
          ...(options.metricsToken ? { security: [{ [METRICS_SCHEME]: [] }] } : {}),
          responses: {
            200: {
              description: 'Metrics exposition',
              content: {
                'text/plain': { schema: { type: 'string' } },
                'application/openmetrics-text': { schema: { type: 'string' } },
              },
            },
            ...(options.metricsToken
              ? { 401: problem('`unauthorized`: no or another bearer token than `METRICS_TOKEN`') }
              : {}),
          },
        },
      },
    },
  };
}

function closed(properties: Record<string, object>) {
  return {
    type: 'object' as const,
    properties,
    required: Object.keys(properties),
    additionalProperties: false,
  };
}

function readiness(statuses: string[]) {
  return closed({
    status: { enum: statuses },
    checks: closed({ upstreams: { enum: ['up', 'down'] } }),
  });
}

/**
 * `info.description`: what the gateway is and which prefixes of `routes` go to which service.
 *
 * @example
 * describeProxiedRoutes(DEFAULT_ROUTES); // '… - `users`: `/v1/users`, `/v1/orgs` …'
 */
export function describeProxiedRoutes(routes: readonly RouteEntry[]): string {
  const byPool = new Map<string, string[]>();
  for (const route of routes)
    byPool.set(route.pool, [...(byPool.get(route.pool) ?? []), `\`${route.prefix}\` (${route.routeClass})`]);
  const lines = [...byPool].map(([pool, prefixes]) => `- \`${pool}\`: ${prefixes.join(', ')}`);
  return [
    "The single public origin of Tessera. This document lists the gateway's own operations only: " +
      'the blue/green admin call (present when an admin token is configured), health and metrics.',
    'Every other path is proxied by prefix (longest first, at a segment boundary) to a service; the ' +
      "operations under these prefixes are described by that service's own OpenAPI document " +
      '(`/openapi.json` on the service). Paths under no prefix answer 404.',
    "The gateway's own refusals (404, 413 over the route class's body limit, 429, 503, 504) are " +
      'problem documents, except a 413 or 429 on `/oauth2/token`, `/oauth2/revoke`, `/oauth2/introspect` ' +
      'and `/oauth2/userinfo`, which is the OAuth error JSON those endpoints’ clients read ' +
      '(`{"error":"invalid_request"}`, `{"error":"temporarily_unavailable"}`), and a 4xx on the ' +
      'pages a person sees (the login route class, ' +
      '`/oauth2/authorize`, `/oauth2/logout`) to a client that asks for `text/html`, which is a ' +
      'small HTML page with the same status and headers.',
    ...(lines.length ? ['Proxied prefixes (route class) by service:', lines.join('\n')] : []),
  ].join('\n\n');
}
