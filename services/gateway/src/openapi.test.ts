/**
 * The gateway's own OpenAPI document (`/_gateway/openapi.json`): served, complete for the
 * gateway's operations, silent about the catch-all, closed schemas only, true to the live answers,
 * and outside the proxied surface (no upstream, no rate limit, no edge token check).
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import request from 'supertest';
import { Compile } from 'typebox/compile';
import type { TSchema } from 'typebox';
import { createTokenVerifier } from '@tessera/auth-middleware';
import { createTestIssuer, type TestIssuer } from '@tessera/auth-middleware/testing';
import { buildGatewayApp, type Gateway, type GatewayConfig } from './app.ts';
import { defaultGatewayConfig } from './config.ts';
import { OPENAPI_PATH } from './openapi.ts';
import { DEFAULT_ROUTES } from './routes.ts';
import { quietLogger, startUpstream, type Upstream } from './test-upstream.ts';

interface Content {
  schema: Record<string, unknown>;
}
interface Operation {
  parameters?: Array<{ in: string; name: string; required?: boolean }>;
  security?: Array<Record<string, string[]>>;
  responses: Record<string, { description: string; content?: Record<string, Content> }>;
}
interface Document {
  openapi: string;
  info: { title: string; description?: string };
  components?: { securitySchemes?: Record<string, unknown> };
  paths: Record<string, Record<string, Operation>>;
}

const SWITCH = '/_gateway/pools/{pool}/switch';
const ADMIN_TOKEN = 'an-admin-token-for-tests';
const servers: Upstream[] = [];
const gateways: Gateway[] = [];
let issuer: TestIssuer | undefined;

async function upstream(name: string): Promise<Upstream> {
  const state = await startUpstream(name);
  servers.push(state);
  return state;
}

async function gateway(
  config: Partial<GatewayConfig> & Pick<GatewayConfig, 'pools'>,
  edge = false,
): Promise<Gateway> {
  if (edge) issuer ??= await createTestIssuer();
  const gw = await buildGatewayApp({
    config: defaultGatewayConfig({ healthIntervalMs: 60_000, clientOriginsRefreshMs: 0, ...config }),
    logger: quietLogger,
    verifier:
      edge && issuer
        ? createTokenVerifier({ jwksUrl: issuer.jwksUrl, issuer: issuer.issuer, audience: 'tessera-api' })
        : undefined,
  });
  await gw.app.ready();
  gateways.push(gw);
  return gw;
}

async function documentOf(gw: Gateway): Promise<Document> {
  const res = await request(gw.app.server).get(OPENAPI_PATH);
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  return res.body as Document;
}

/**
 * Every object schema anywhere in `node` (operations, components, nested subschemas) that does
 * not say `additionalProperties: false`, as JSON pointers; `checked` counts the object schemas seen.
 */
function openObjects(node: unknown, at = '#'): { checked: number; open: string[] } {
  const result = { checked: 0, open: [] as string[] };
  const visit = (value: unknown, pointer: string) => {
    if (Array.isArray(value)) return value.forEach((item, i) => visit(item, `${pointer}/${i}`));
    if (value === null || typeof value !== 'object') return;
    const schema = value as Record<string, unknown>;
    const { type, properties } = schema;
    const isObject =
      type === 'object' ||
      (Array.isArray(type) && type.includes('object')) ||
      (properties !== null && typeof properties === 'object');
    if (isObject) {
      result.checked++;
      if (schema.additionalProperties !== false) result.open.push(pointer);
    }
    for (const [key, child] of Object.entries(schema))
      visit(child, `${pointer}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`);
  };
  visit(node, at);
  return result;
}

/** Whether a live answer is one the operation documents: status, media type and body schema. */
function expectDocumented(operation: Operation, label: string, res: request.Response): Content | undefined {
  const documented = operation.responses[String(res.status)];
  expect(documented, `${label}: status ${res.status} is documented`).toBeDefined();
  const mediaType = String(res.headers['content-type']).split(';', 1)[0]!;
  const content = documented?.content?.[mediaType];
  expect(content, `${label}: ${mediaType} is documented for ${res.status}`).toBeDefined();
  if (content && mediaType.endsWith('json')) {
    const body: unknown = res.body;
    expect(Compile(content.schema as TSchema).Check(body), `${label}: ${JSON.stringify(body)}`).toBe(true);
  }
  return content;
}

afterEach(async () => {
  for (const gw of gateways.splice(0)) await gw.app.close();
  for (const server of servers.splice(0)) await server.close();
});
afterAll(async () => {
  await issuer?.close();
});

describe('gateway OpenAPI document', () => {
  it('is served at /_gateway/openapi.json as OpenAPI 3.1.0 naming each proxied prefix and its service', async () => {
    const users = await upstream('users');
    const auth = await upstream('auth');
    const gw = await gateway({ pools: { auth: { blue: [auth.url] }, users: { blue: [users.url] } } });
    const doc = await documentOf(gw);
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBe('Tessera gateway');
    const description = doc.info.description ?? '';
    expect(description).toContain("service's own OpenAPI document");
    for (const route of DEFAULT_ROUTES) {
      const line = description.split('\n').find((l) => l.startsWith(`- \`${route.pool}\`:`));
      expect(line, route.prefix).toContain(`\`${route.prefix}\` (${route.routeClass})`);
    }
    // A HEAD works too (Fastify's implicit HEAD route), and `/openapi.json` itself is left to the
    // route table: not in it by default, so a 404 that no upstream sees.
    expect((await request(gw.app.server).head(OPENAPI_PATH)).status).toBe(200);
    const root = await request(gw.app.server).get('/openapi.json');
    expect(root.status).toBe(404);
    expect((root.body as { code?: string }).code).toBe('not_found');
    expect([...users.hits, ...auth.hits].map((hit) => hit.url)).toEqual([]);
    // The description follows the route table across a reload.
    await gw.reload(
      defaultGatewayConfig({
        pools: { auth: { blue: [auth.url] }, users: { blue: [users.url] } },
        routes: DEFAULT_ROUTES.filter((route) => route.pool === 'auth'),
        healthIntervalMs: 60_000,
      }),
    );
    const reloaded = (await documentOf(gw)).info.description ?? '';
    expect(reloaded).toContain('`/oauth2/token` (token)');
    expect(reloaded).not.toContain('/v1/users');
  });

  it('lists the admin switch with its parameters, security and responses when an admin token is configured', async () => {
    const gw = await gateway({
      pools: { users: { blue: [(await upstream('users')).url] } },
      adminToken: ADMIN_TOKEN,
    });
    const doc = await documentOf(gw);
    expect(Object.keys(doc.paths).sort()).toEqual(['/livez', '/metrics', '/readyz', SWITCH].sort());
    const operation = doc.paths[SWITCH]?.post;
    expect(Object.keys(doc.paths[SWITCH] ?? {})).toEqual(['post']);
    expect(operation?.security).toEqual([{ adminToken: [] }]);
    expect(doc.components?.securitySchemes?.adminToken).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(
      (operation?.parameters ?? []).map((p) => `${p.in}:${p.name}:${String(p.required)}`).sort(),
    ).toEqual(['path:pool:true', 'query:to:true']);
    expect(Object.keys(operation?.responses ?? {}).sort()).toEqual(['200', '400', '401', '404', '409']);
    expect(Object.keys(operation?.responses['200']?.content ?? {})).toEqual(['application/json']);
    for (const status of ['400', '401', '404', '409'])
      expect(Object.keys(operation?.responses[status]?.content ?? {}), status).toEqual([
        'application/problem+json',
      ]);
  });

  it('describes what the switch really answers: status, media type, body and problem code', async () => {
    const blue = await upstream('blue');
    const green = await upstream('green');
    const authBlue = await upstream('auth-blue');
    const authGreen = await upstream('auth-green');
    authGreen.ready = false;
    const gw = await gateway({
      pools: {
        users: { blue: [blue.url], green: [green.url] },
        auth: { blue: [authBlue.url], green: [authGreen.url] },
      },
      adminToken: ADMIN_TOKEN,
    });
    const operation = (await documentOf(gw)).paths[SWITCH]!.post!;
    const post = (path: string, token?: string) => {
      const req = request(gw.app.server).post(path);
      return token ? req.set('authorization', `Bearer ${token}`) : req;
    };
    const cases: Array<[label: string, res: request.Response, status: number, code?: string]> = [
      ['no token', await post('/_gateway/pools/users/switch?to=green'), 401, 'missing_token'],
      ['wrong token', await post('/_gateway/pools/users/switch?to=green', 'nope'), 401, 'invalid_token'],
      [
        'bad target',
        await post('/_gateway/pools/users/switch?to=purple', ADMIN_TOKEN),
        400,
        'validation_failed',
      ],
      [
        'unknown pool',
        await post('/_gateway/pools/nope/switch?to=green', ADMIN_TOKEN),
        404,
        'pool_not_found',
      ],
      [
        'unhealthy target',
        await post('/_gateway/pools/auth/switch?to=green', ADMIN_TOKEN),
        409,
        'target_unhealthy',
      ],
      ['switch', await post('/_gateway/pools/users/switch?to=green', ADMIN_TOKEN), 200],
    ];
    for (const [label, res, status, code] of cases) {
      expect(res.status, label).toBe(status);
      expectDocumented(operation, label, res);
      if (code) {
        expect((res.body as { code?: string }).code, label).toBe(code);
        expect(operation.responses[String(status)]?.description, label).toContain(`\`${code}\``);
      }
    }
    expect(cases.at(-1)?.[1].body).toEqual({ pool: 'users', active: 'green' });
  });

  it('has no admin operation or scheme without an admin token, and never lists the catch-all or itself', async () => {
    const gw = await gateway({ pools: { users: { blue: [(await upstream('users')).url] } } });
    const doc = await documentOf(gw);
    // Exactly the kernel's routes: no `/*`, no `/`, no `/_gateway/openapi.json`, no switch.
    expect(Object.keys(doc.paths).sort()).toEqual(['/livez', '/metrics', '/readyz']);
    expect(doc.components?.securitySchemes).toBeUndefined();
  });

  it('documents /livez, /readyz (ready and not) and /metrics as they answer', async () => {
    const users = await upstream('users');
    const gw = await gateway({ pools: { users: { blue: [users.url] } } });
    const doc = await documentOf(gw);
    for (const path of ['/livez', '/readyz', '/metrics']) {
      const res = await request(gw.app.server).get(path);
      expect(res.status, path).toBe(200);
      expectDocumented(doc.paths[path]!.get!, path, res);
    }
    const openMetrics = await request(gw.app.server)
      .get('/metrics')
      .set('accept', 'application/openmetrics-text');
    expectDocumented(doc.paths['/metrics']!.get!, '/metrics (OpenMetrics)', openMetrics);
    users.ready = false;
    await gw.checkHealth();
    const down = await request(gw.app.server).get('/readyz');
    expect(down.status).toBe(503);
    expectDocumented(doc.paths['/readyz']!.get!, '/readyz down', down);
  });

  it('documents the scrape token and the 401 of /metrics when METRICS_TOKEN is set', async () => {
    const users = await upstream('users');
    const gw = await gateway({ pools: { users: { blue: [users.url] } }, metricsToken: 'doc-metrics-token' });
    const doc = await documentOf(gw);
    const refused = await request(gw.app.server).get('/metrics');
    expect(refused.status).toBe(401);
    expectDocumented(doc.paths['/metrics']!.get!, '/metrics without the token', refused);
    expect(doc.paths['/metrics']!.get!.security).toEqual([{ metricsToken: [] }]);
    const open = await documentOf(await gateway({ pools: { users: { blue: [users.url] } } }));
    expect(open.paths['/metrics']!.get!.security).toBeUndefined();
  });

  it('closes every object schema in the document (additionalProperties: false)', async () => {
    // The checker can fail: open objects anywhere (nested, typeless with properties, in components) are found.
    expect(
      openObjects({
        paths: {
          '/x': {
            get: {
              responses: {
                200: {
                  content: {
                    'application/json': {
                      schema: {
                        type: 'object',
                        additionalProperties: false,
                        properties: { a: { anyOf: [{ type: 'object' }, { type: 'null' }] } },
                      },
                    },
                  },
                },
              },
            },
          },
        },
        components: { schemas: { B: { properties: {}, additionalProperties: true } } },
      }),
    ).toEqual({
      checked: 3,
      open: [
        '#/paths/~1x/get/responses/200/content/application~1json/schema/properties/a/anyOf/0',
        '#/components/schemas/B',
      ],
    });
    const gw = await gateway({
      pools: { users: { blue: [(await upstream('users')).url] } },
      adminToken: ADMIN_TOKEN,
    });
    const { checked, open } = openObjects(await documentOf(gw));
    // The switch's 200 and four problems, /livez, /readyz's two answers and their `checks` (the
    // switch's params and query are listed as parameters with scalar schemas).
    expect(checked).toBeGreaterThanOrEqual(10);
    expect(open).toEqual([]);
  });

  it('is the gateway’s own answer: never proxied, rate limited or token-checked, and it shadows no route', async () => {
    const users = await upstream('users');
    const auth = await upstream('auth');
    const one = { limit: 1, windowSeconds: 60 };
    const defaults = defaultGatewayConfig({ pools: {} });
    const gw = await gateway(
      {
        pools: { auth: { blue: [auth.url] }, users: { blue: [users.url] } },
        // A route table that also proxies a public `/openapi.json` (e.g. a future aggregate).
        routes: [...DEFAULT_ROUTES, { prefix: '/openapi.json', pool: 'users', routeClass: 'oauth' }],
        rateLimits: {
          ...defaults.rateLimits,
          perIp: {
            token: { name: 'token-ip', ...one },
            login: { name: 'login-ip', ...one },
            oauth: { name: 'oauth-ip', ...one },
            api: { name: 'api-ip', ...one },
          },
        },
      },
      true,
    );
    for (let i = 0; i < 3; i++) {
      const res = await request(gw.app.server).get(OPENAPI_PATH);
      expect(res.status).toBe(200);
      expect(res.headers.ratelimit).toBeUndefined();
      expect((res.body as Document).openapi).toBe('3.1.0');
    }
    expect([...users.hits, ...auth.hits].map((hit) => hit.url)).toEqual([]);
    // The edge is on for proxied paths: the token check on /v1/*, the limit on a second request.
    expect((await request(gw.app.server).get('/v1/users')).status).toBe(401);
    const proxied = await request(gw.app.server).get('/openapi.json');
    expect(proxied.status).toBe(200);
    expect(proxied.body).toEqual({ from: 'users', url: '/openapi.json' });
    expect(users.hits.map((hit) => hit.url)).toEqual(['/openapi.json']);
    expect((await request(gw.app.server).get('/openapi.json')).status).toBe(429);
  });
});
